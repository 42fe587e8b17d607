"""report.json and report.csv: the report model as a documented JSON structure, and one CSV row
per trial (docs/report.md describes both).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path
from typing import Any

from tunenet import diagnosis as dx
from tunenet.diagnosis.imbalance import ClassBalance
from tunenet.reporting.confusion import confusion_dict
from tunenet.reporting.model import Baseline, Failures, RunReport, TrialReport, plain
from tunenet.reporting.sections import hp_names
from tunenet.runs import TrialStatus

REPORT_FORMAT_VERSION = 1  # of report.json; the run directory's own is runs.FORMAT_VERSION


def report_dict(report: RunReport) -> dict[str, Any]:
    """The JSON structure of one run's report (documented in docs/report.md)."""
    manifest = report.run.manifest or {}
    s = report.settings
    return {
        "format_version": REPORT_FORMAT_VERSION,
        "run": {
            "name": report.run.name,
            "path": str(report.run.path),
            "status": manifest.get("status"),
            "stopped_by": manifest.get("stopped_by"),  # time_budget | no_gain | null
            "data": manifest.get("data"),
            "model": manifest.get("model"),  # a custom model's builder: {builder: {spec, ...}}
            "started_at": manifest.get("started_at"),
            "finished_at": manifest.get("finished_at"),
        },
        "objective": {
            **report.objective.to_dict(),  # name, direction
            "column": report.objective.column,
            "source": report.objective.source,
        },
        "settings": {
            name: {"value": setting.value, "source": setting.source}
            for name, setting in (
                ("target_error", s.target_error),
                ("bias_threshold", s.bias_threshold),
                ("variance_threshold", s.variance_threshold),
                ("epoch_limit", s.epoch_limit),
            )
        },
        "counts": report.counts,
        "best_trial": report.best.trial_id if report.best else None,
        "verdict": report.verdict,
        "headline": report.headline,
        "tied_for_best": _tie_dict(report),
        "simplest_tied": report.simplest_tied.to_dict() if report.simplest_tied else None,
        "kept": {"rule": report.kept, "trial_id": report.kept_trial},
        "classes": _balance_dict(report.balance),
        "trials": [_trial_dict(t) for t in report.trials],
        "effects": [_effect_dict(e) for e in report.effects],
        "capacity": _capacity_dict(report.capacity) if report.capacity else None,
        "baselines": [_baseline_dict(b) for b in report.baselines],
        "baselines_note": report.baselines_note,
        "confusion": confusion_dict(report.confusion),
        "learning_curve": _learning_curve_dict(report.learning_curve),
        "plots": [p.relative_to(report.report_dir).as_posix() for p in report.plots],
        "warnings": list(report.run.warnings),
    }


def _tie_dict(report: RunReport) -> dict[str, Any] | None:
    """The trials sharing the best objective (the best first) and how the best was picked."""
    if report.best is None or not report.tied_with:
        return None
    return {"trials": [report.best.trial_id, *report.tied_with], "chosen": report.tie_choice}


def _balance_dict(balance: ClassBalance | None) -> dict[str, Any] | None:
    """The best model's classes: imbalance, recall per class, the test against the majority."""
    if balance is None:
        return None
    test = balance.majority
    return {
        "imbalanced": balance.imbalanced,
        "imbalance_ratio": balance.ratio,
        "imbalance_split": balance.ratio_split,
        "split": balance.split,
        "per_class_recall": [
            {"label": r.label, "n": r.n, "recall": r.recall, "recall_ci": _interval(r.recall_ci)}
            for r in balance.recalls
        ],
        "low_recall": list(balance.low_recall),
        "majority": None
        if test is None
        else {
            "label": test.majority,
            "split": test.split,
            "n": test.n,
            "error": test.error,
            "majority_error": test.majority_error,
            "majority_only": test.majority_only,
            "model_only": test.model_only,
            "test": "exact McNemar (two-sided binomial on the discordant rows)",
            "p_value": test.p_value,
            "distinguishable": test.distinguishable,
            "better": test.better,
        },
        "balanced": _balanced_dict(balance),
    }


def _balanced_dict(balance: ClassBalance) -> dict[str, Any] | None:
    """A class-weighted run's balanced error against the majority answer's (1 - 1/k)."""
    found = balance.balanced if balance.weighted else None
    if found is None:
        return None
    return {
        "split": found.split,
        "n": found.n,
        "error": found.error,
        "half_width": found.half_width,
        "majority_error": found.majority_error,
        "better": found.better,
    }


def _trial_dict(t: TrialReport) -> dict[str, Any]:
    fit = t.fit
    return {
        "trial_id": t.trial_id,
        "rank": t.rank,
        "status": t.status,
        "hyperparameters": t.hyperparameters,
        "epochs_trained": t.epochs_trained,
        "best_epoch": t.best_epoch,
        "stopped_early": t.stopped_early,
        "objective": t.objective,
        "train_error": t.train_error,
        "val_error": t.val_error,
        "test_error": t.test_error,
        "train_error_ci": _interval(t.train_error_ci),
        "val_error_ci": _interval(t.val_error_ci),
        "test_error_ci": _interval(t.test_error_ci),
        "intervals_source": t.intervals_source,
        "avoidable_bias": fit.avoidable_bias if fit else None,
        "bias_ci": _interval(fit.bias_ci) if fit else None,
        "variance": fit.variance if fit else None,
        "variance_ci": _interval(fit.variance_ci) if fit else None,
        "high_bias": fit.high_bias if fit else None,
        "high_variance": fit.high_variance if fit else None,
        "label": t.label,
        "uncertain": list(fit.uncertain) if fit else [],
        "reason": fit.reason if fit else None,
        "explanation": fit.explanation if fit else None,
        "findings": [_finding_dict(f) for f in t.findings],
        "recommendations": [
            {
                "key": r.key,
                "action": r.action,
                "value": plain(r.value),
                "text": r.text,
                "evidence": r.evidence,
                "agrees": r.agrees,
            }
            for r in t.recommendations
        ],
        "message": t.message,
    }


def _finding_dict(f: dx.Finding) -> dict[str, Any]:
    """kind, epoch, text; a training-dynamics finding adds its evidence (layer, the measured
    value and what it measures, the threshold it crossed) and its advice in config keys."""
    found: dict[str, Any] = {"kind": f.kind, "epoch": f.epoch, "text": f.text}
    if isinstance(f, dx.DynamicsFinding):
        found.update(
            layer=f.layer,
            value=f.value if f.value is not None and math.isfinite(f.value) else None,
            measure=f.measure,
            threshold=f.threshold,
            advice=[
                {"key": r.key, "action": r.action, "value": plain(r.value), "text": r.text}
                for r in f.advice
            ],
        )
    return found


def _interval(ci: dx.Interval | None) -> list[float] | None:
    """[low, high] of a 95% interval, or None."""
    return [float(ci[0]), float(ci[1])] if ci is not None else None


def _plus_minus(ci: object) -> float | None:
    """Half the width of a [low, high] interval: report.csv's `*_pm` columns."""
    return dx.half_width(ci) if isinstance(ci, list) else None  # type: ignore[arg-type]


def _capacity_dict(curve: dx.CapacityCurve) -> dict[str, Any]:
    return {
        "steps": [
            {
                "trial_id": step.trial_id,
                "status": step.status,
                "layers": step.layers,
                "widths": list(step.widths) if step.widths is not None else None,
                "size": step.size,
                "label": step.label,
                "objective": step.objective,
                "train_error": step.train_error,
                "val_error": step.val_error,
            }
            for step in curve.steps
        ],
        "best_trial": curve.best,
        "stopped_after": curve.stopped_after,
        "min_delta": curve.min_delta,
    }


def _learning_curve_dict(curve: dx.LearningCurve | None) -> dict[str, Any] | None:
    """learning_curve.csv's rows and whether more data is likely to help (docs/guide.md)."""
    if curve is None:
        return None
    return {
        "more_data_helps": curve.more_data_helps,
        "reason": curve.reason,
        "gap": curve.gap,
        "gap_ci": _interval(curve.gap_ci),
        "val_drop": curve.val_drop,
        "val_drop_ci": _interval(curve.val_drop_ci),
        "val_slope": curve.val_slope,
        "val_slope_ci": _interval(curve.val_slope_ci),
        "rows": [
            {
                "fraction": point.fraction,
                "examples": point.examples,
                "train_error": point.train_error,
                "train_error_ci": _interval(point.train_error_ci),
                "val_error": point.val_error,
                "val_error_ci": _interval(point.val_error_ci),
                "seconds": point.seconds,
            }
            for point in curve.points
        ],
    }


def _baseline_dict(baseline: Baseline) -> dict[str, Any]:
    return {
        "model": baseline.model,
        "train_error": baseline.train_error,
        "val_error": baseline.val_error,
        "test_error": baseline.test_error,
        "seconds": baseline.seconds,
    }


def _effect_dict(effect: dx.HpEffect) -> dict[str, Any]:
    """One hyperparameter: importance, significance, corrected p-value and test for the
    objective at the top level, the same for the train error and the gap in `by_target`, then
    the mean objective per value."""
    test = effect.tests.get("objective")
    return {
        "hyperparameter": effect.hyperparameter,
        "importance": test.importance if test else None,
        "significant": effect.significant,
        "p_value": test.p_value if test else None,
        "test": test.test if test else None,
        "correction": test.correction if test else None,
        "trials": test.trials if test else None,
        "by_target": {t: _effect_test_dict(effect.tests.get(t)) for t in dx.TARGETS[1:]},
        "aliases": list(effect.aliases),
        "kind": effect.kind,
        "binned": effect.binned,
        "best_value": effect.best_value,
        "spread": effect.spread,
        "rows": [
            {"value": r.value, "trials": r.trials, "mean_objective": r.mean_objective}
            for r in effect.rows
        ],
    }


def _effect_test_dict(test: dx.EffectTest | None) -> dict[str, Any] | None:
    """A `by_target` entry; null when the hyperparameter had one value among those trials."""
    if test is None:
        return None
    return {
        "importance": test.importance,
        "significant": test.significant,
        "p_value": test.p_value,
        "test": test.test,
        "best_value": test.best_value,
        "trials": test.trials,
        "consistent": test.consistent,
    }


def render_json(
    reports: list[RunReport], failures: Failures | None = None, base: Path | None = None
) -> str:
    """One run: its report object. A directory of runs: {format_version, runs, reports}."""
    if len(reports) == 1 and not failures:
        document: dict[str, Any] = report_dict(reports[0])
    else:
        document = {
            "format_version": REPORT_FORMAT_VERSION,
            "runs": [_summary_dict(r) for r in reports]
            + [_failure_dict(p, m) for p, m in failures or []],
            "reports": [report_dict(r) for r in reports],
        }
    return json.dumps(_json_safe(document), indent=2, allow_nan=False) + "\n"


def _json_safe(value: Any) -> Any:
    """Recursively unwrap numpy scalars and turn NaN/inf into null (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return plain(value)


def _summary_dict(report: RunReport) -> dict[str, Any]:
    best = report.best
    return {
        "name": report.run.name,
        "path": str(report.run.path),
        "status": (report.run.manifest or {}).get("status"),
        "trials": report.total_trials,
        "completed": report.counts.get(TrialStatus.COMPLETED, 0),
        "best_trial": best.trial_id if best else None,
        "objective": report.objective.name,
        "best_objective": best.objective if best else None,
        "verdict": report.headline,
        "error": None,
    }


def _failure_dict(path: Path, message: str) -> dict[str, Any]:
    keys = ("trials", "completed", "best_trial", "objective", "best_objective", "verdict")
    return {
        "name": path.name,
        "path": str(path),
        "status": "unreadable",
        **dict.fromkeys(keys),
        "error": message,
    }


CSV_TAIL = (
    "epochs_trained",
    "best_epoch",
    "stopped_early",
    "objective",
    "train_error",
    "train_error_pm",
    "val_error",
    "val_error_pm",
    "test_error",
    "test_error_pm",
    "avoidable_bias",
    "bias_pm",
    "variance",
    "variance_pm",
    "label",
    "uncertain",
    "reason",
    "findings",
    "recommendations",
    "message",
)


def render_csv(
    reports: list[RunReport], failures: Failures | None = None, base: Path | None = None
) -> str:
    """One row per trial; several runs get a leading `run` column. Lists are joined with "; ".
    Runs that could not be read have no row. Text that a spreadsheet would run as a formula is
    quoted (`spreadsheet_cell`)."""
    many = len(reports) > 1
    hp_columns = list(dict.fromkeys(f"hp.{n}" for r in reports for n in hp_names(r)))
    header = (["run"] if many else []) + ["rank", "trial_id", "status", *hp_columns, *CSV_TAIL]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for report in reports:
        for trial in report.trials:
            values = _trial_dict(trial)
            row = {k: v for k, v in values.items() if k in header}
            for name in ("train_error", "val_error", "test_error", "bias", "variance"):
                row[f"{name}_pm"] = _plus_minus(values[f"{name}_ci"])
            row["uncertain"] = "; ".join(values["uncertain"])
            row.update({f"hp.{k}": v for k, v in trial.hyperparameters.items()})
            row["findings"] = "; ".join(f.text for f in trial.findings)
            row["recommendations"] = "; ".join(r.text for r in trial.recommendations)
            if many:
                row["run"] = report.run.name
            writer.writerow({k: spreadsheet_cell(v) for k, v in row.items()})
    return buffer.getvalue()


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as it is: a text cell that would start a formula gets a
    leading single quote (numbers, negative ones included, stay numbers); None is empty."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value
