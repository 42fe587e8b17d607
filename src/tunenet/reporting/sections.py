"""The report's sections as plain lines and table cells, shared by every renderer: what the
run is, the settings used, the best trial, its recommendations, the capacity curve, the trials
table and the summary of several runs. Renderers only lay these out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pandas as pd

from tunenet import diagnosis as dx
from tunenet.diagnosis.verdict import (
    balance_majority_sentence,
    ratio_text,
    recall_text,
    tie_text,
)
from tunenet.reporting.confusion import confusion_lines
from tunenet.reporting.model import Failures, RunReport, TrialReport
from tunenet.reporting.simplest import simplest_lines
from tunenet.runs import TrialStatus, config_value

SHORT_FINDINGS = {
    "diverged": "diverged at epoch {epoch}",
    "still_improving": "still improving at epoch {epoch}",
    "overfitting": "overfitting from epoch {epoch}",
    "stopped_early": "stopped early at epoch {epoch}",
    # training dynamics (layers.csv, diagnosis/dynamics.py)
    "vanishing_gradients": "vanishing gradients at epoch {epoch}",
    "exploding_gradients": "exploding gradients at epoch {epoch}",
    "dead_units": "dead units at epoch {epoch}",
    "saturated_units": "saturated units at epoch {epoch}",
}
Cell = tuple[str, Any]  # (text shown, value to sort by)
SUMMARY_HEADER = ["run", "status", "trials", "best trial", "best objective", "verdict"]
CAPACITY_PLOT = "capacity.png"  # shown in the capacity section, not with the other plots


# Sections about what happened inside training (dynamics findings, learning curve, confusion
# matrix): (title, lines of a run's report; empty when the run has nothing to show). Every
# renderer shows each non-empty one under its title, after the best trial.
InsightSection = tuple[str, Callable[[RunReport], list[str]]]
INSIGHT_SECTIONS: list[InsightSection] = []


def insight_sections(report: RunReport) -> list[tuple[str, list[str]]]:
    """The non-empty insight sections of a run: (title, lines)."""
    shown = [(title, lines(report)) for title, lines in INSIGHT_SECTIONS]
    return [(title, lines) for title, lines in shown if lines]


STOPPED_BY = {  # manifest.json stopped_by: the search key that ended the search early
    "time_budget": "search.time_budget (the time budget ran out)",
    "no_gain": "search.stop_after_no_gain (no gain beyond the noise)",
}


def _stopped(manifest: dict) -> str:
    reason = STOPPED_BY.get(str(manifest.get("stopped_by")))
    return f", ended early by {reason}" if reason else ""


def about_lines(report: RunReport) -> list[str]:
    manifest = report.run.manifest or {}
    lines = [f"status {manifest.get('status', 'unknown (no manifest.json)')}{_stopped(manifest)}"]
    data = manifest.get("data")
    if isinstance(data, dict) and data.get("source"):
        sizes = data.get("sizes") if isinstance(data.get("sizes"), dict) else {}
        split = "".join(f"; {k} {v}" for k, v in sizes.items())
        lines.append(f"data {data['source']} ({data.get('task', 'task unknown')}{split})")
    builder = builder_line(report)
    if builder:
        lines.append(builder)
    o = report.objective
    lines.append(f"objective {o.name}, {o.goal} (source: {o.source})")
    return lines


def builder_line(report: RunReport) -> str | None:
    """Which builder made a custom model (manifest.json `model.builder`, else resolved.yaml):
    "model custom, built by /path/lstm.py:build (sha256 1a2b3c4d5e6f), which reads
    regularization.dropout"; None for the dense and CNN families."""
    recorded = config_value(report.run.manifest, "model.builder")[1]
    recorded = recorded if isinstance(recorded, dict) else {}
    if not recorded and config_value(report.run.resolved, "model.kind")[1] != "custom":
        return None
    spec = recorded.get("spec") or config_value(report.run.resolved, "model.build")[1]
    sha = recorded.get("sha256")
    digest = f"sha256 {sha[:12]}" if isinstance(sha, str) and sha else "sha256 not recorded"
    reads = recorded.get("reads")
    if isinstance(reads, list):
        used = ", ".join(str(key) for key in reads) or "no regularization key"
        digest += f"), which reads {used}"
    else:
        digest += ")"
    return f"model custom, built by {spec or 'an unrecorded builder'} ({digest}"


def setting_lines(report: RunReport) -> list[str]:
    s = report.settings
    limit = s.epoch_limit.value if s.epoch_limit.value is not None else "unknown"
    return [
        f"target error {s.target_error.value:.4g} ({s.target_error.source}), "
        f"bias threshold {s.bias_threshold.value:g} ({s.bias_threshold.source}), "
        f"variance threshold {s.variance_threshold.value:g} ({s.variance_threshold.source})",
        f"epoch limit {limit} ({s.epoch_limit.source})",
    ]


def shown_note(report: RunReport) -> str:
    """After the trials table's title when `--top` cut it: " (best 10 of 40)"; else ""."""
    if len(report.trials) < report.total_trials:
        return f" (best {len(report.trials)} of {report.total_trials})"
    return ""


def hp_names(report: RunReport) -> list[str]:
    return [c[len("hp.") :] for c in report.run.trials.columns if c.startswith("hp.")]


def short_findings(trial: TrialReport) -> str:
    """The findings in a few words; a failed trial's message when it has no finding."""
    if not trial.findings and trial.message:
        return trial.message if len(trial.message) <= 80 else trial.message[:77] + "..."
    return "; ".join(SHORT_FINDINGS[f.kind].format(epoch=f.epoch) for f in trial.findings)


def next_step(trial: TrialReport) -> str:
    if not trial.recommendations:
        return ""
    rec = trial.recommendations[0]
    return f"{rec.action} {rec.key}" + (
        f" to {dx.format_value(rec.value)}" if rec.value is not None else ""
    )


def trial_columns(report: RunReport) -> list[tuple[str, str, Callable[[TrialReport], Cell]]]:
    """(header, kind, cell) of the trials table in markdown and HTML: the diagnosis first, the
    hyperparameters after it. Columns of kind "num" sort as numbers."""

    def hp_cell(name: str) -> Callable[[TrialReport], Cell]:
        return lambda t: (dx.format_value(t.hyperparameters.get(name)), t.hyperparameters.get(name))

    def text(value: str) -> Cell:
        return value, value

    columns: list[tuple[str, str, Callable[[TrialReport], Cell]]] = [
        ("rank", "num", lambda t: (str(t.rank or ""), t.rank)),
        ("trial", "text", lambda t: text(t.trial_id)),
        ("status", "text", lambda t: text(t.status)),
        (report.objective.name, "num", lambda t: (dx.format_value(t.objective), t.objective)),
        ("train error", "num", lambda t: (error_cell(t, "train"), t.train_error)),
        ("val error", "num", lambda t: (error_cell(t, "val"), t.val_error)),
    ]
    if any(t.test_error is not None for t in report.trials):
        columns.append(("test error", "num", lambda t: (error_cell(t, "test"), t.test_error)))
    columns += [
        ("bias", "num", lambda t: (bias_cell(t), t.fit.avoidable_bias if t.fit else None)),
        ("variance", "num", lambda t: (variance_cell(t), t.fit.variance if t.fit else None)),
        ("diagnosis", "text", lambda t: text(label_cell(t))),
        ("findings", "text", lambda t: text(short_findings(t))),
        ("next", "text", lambda t: text(next_step(t))),
    ]
    for name in hp_names(report):
        kind = "num" if _numeric_hp(report, name) else "text"
        columns.append((name, kind, hp_cell(name)))
    return columns


def error_cell(t: TrialReport, split: str) -> str:
    """A split's error (train, val, test) with its ±, half the 95% interval: "12.5% ± 3.1";
    "12.5%" without an interval."""
    return dx.percent_ci(getattr(t, f"{split}_error"), getattr(t, f"{split}_error_ci"))


def bias_cell(t: TrialReport) -> str:
    """ "+13.0 pts ± 2.6"; below zero "1.0 pts below target ± 1.9"."""
    return dx.bias_words(t.fit.avoidable_bias, t.fit.bias_ci) if t.fit else ""


def variance_cell(t: TrialReport) -> str:
    return dx.points_ci(t.fit.variance, t.fit.variance_ci) if t.fit else ""


def label_cell(t: TrialReport) -> str:
    """The label, with the parts inside the noise: "high bias (variance uncertain)",
    "uncertain (bias, variance)"."""
    label = t.label or ""
    parts = t.fit.uncertain if t.fit and label in dx.FIT_LABELS else ()
    if not parts:
        return label
    if label == dx.UNCERTAIN:
        return f"{label} ({', '.join(parts)})"
    return f"{label} ({' and '.join(parts)} uncertain)"


def intervals_line(report: RunReport) -> str:
    """Where the ± of the errors comes from, or why there is none."""
    sources = sorted({t.intervals_source for t in report.trials if t.intervals_source})
    if not sources:
        return (
            "no intervals: the run records no split sizes (trials.csv train_n, val_n; "
            "manifest.json data.sizes; regression: trials.csv *_error_se), so the labels use "
            "the measured errors alone"
        )
    return (
        f"± is half the 95% interval ({', '.join(sources)}); a lopsided one (near 0 or 100%) "
        "is written [low, high]; high bias or high variance is asserted only where its "
        "interval clears zero"
    )


def _numeric_hp(report: RunReport, name: str) -> bool:
    column = report.run.trials[f"hp.{name}"]
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def best_lines(report: RunReport, hyperparameters: bool = True, balance: bool = True) -> list[str]:
    """Plain lines about the best trial (shared by markdown, table and `best_trial_text`);
    `balance`: with its classes (`balance_lines`) after the first line."""
    best = report.best
    if best is None:
        return ["No completed trial."]
    train, val = error_cell(best, "train"), error_cell(best, "val")
    errors = f"train error {train}, validation error {val}"
    if best.test_error is not None:
        errors += ", test error " + error_cell(best, "test")
    score = f"{report.objective.name} {dx.format_value(best.objective)}"
    name = best.trial_id
    if report.tied_with:
        name += f" ({tie_text(report.tied_with, report.tie_choice)})"
    lines = [f"Best trial {name}: {score}; {errors}.", *simplest_lines(report)]
    if balance:
        lines += balance_lines(report)
    if hyperparameters and best.hyperparameters:
        lines.append(
            "Hyperparameters: "
            + ", ".join(f"{k}={dx.format_value(v)}" for k, v in best.hyperparameters.items())
        )
    if best.fit:
        lines.append(f"Diagnosis: {label_cell(best)}; {best.fit.explanation}.")
        if best.fit.reason:
            lines.append(f"{reason_title(best.fit)}: {best.fit.reason}.")
    # training-dynamics findings have their own section (dynamics_lines)
    lines += [f"Finding: {f.text}." for f in best.findings if f.kind not in dx.DYNAMICS_KINDS]
    return lines


def balance_lines(report: RunReport) -> list[str]:
    """The best model's classes, near the top of every format: where they are imbalanced, the
    warning and each class's recall; where it is no better than always answering the majority
    class, that. Empty otherwise (balanced classes, a model clearly better than the majority)."""
    balance = report.balance
    if balance is None:
        return []
    lines = []
    if balance.imbalanced:
        lines.append(
            f"Classes are imbalanced ({ratio_text(balance)}): accuracy alone hides a small "
            "class's errors."
        )
        lines.append(recall_text(balance)[0].upper() + recall_text(balance)[1:] + ".")
    said = balance_majority_sentence(balance)
    if said:
        lines.append(said)
    return lines


def baseline_lines(report: RunReport) -> list[str]:
    """The best network beside the reference baselines (docs/report.md), best first:
    "Baselines: your network 21.5% validation error; logistic 25.2%, boosting 29.9%, majority
    35.0%."; then how they were fitted when it matters. Empty for a run without baselines.csv."""
    fitted = sorted(
        (b for b in report.baselines if b.val_error is not None), key=lambda b: b.val_error or 0
    )
    if not fitted:
        return []
    best = report.best
    network = (
        f"your network {dx.percent(best.val_error)} validation error"
        if best is not None and best.val_error is not None
        else "no network with a validation error yet"
    )
    references = ", ".join(f"{b.model} {dx.percent(b.val_error)}" for b in fitted)
    lines = [f"Baselines: {network}; {references}."]
    if report.baselines_note:
        lines.append(f"Baselines {report.baselines_note}.")
    return lines


def reason_title(fit: dx.FitDiagnosis) -> str:
    """What a fit's `reason` explains: "Not learning", "Uncertain" or "Note"."""
    if fit.label == dx.NOT_LEARNING:
        return "Not learning"
    return "Uncertain" if fit.uncertain else "Note"


def recommendation_lines(trial: TrialReport) -> list[str]:
    lines = []
    for rec in trial.recommendations:
        line = rec.text
        if rec.evidence:
            verb = {True: "agrees", False: "disagrees", None: "says"}[rec.agrees]
            line += f" The search {verb}: {rec.evidence}."
        lines.append(line)
    return lines


def effects_about(report: RunReport) -> str:
    """How to read the effects: what importance and the tests mean."""
    name = report.objective.name
    return (
        f"Whether each hyperparameter moved {name}, the train error (bias) and the "
        "train-to-validation gap (variance) by more than the noise: yes with its importance "
        "(the share of the spread among completed trials its values explain beyond noise, 0 to "
        "1), or no; then the p-value after Holm's correction over the hyperparameters "
        f"(yes: p < {dx.ALPHA:g}). Below, the mean {name} per value (or range)."
    )


def effect_summary(report: RunReport) -> tuple[list[str], list[list[Cell]]]:
    """(header, rows) of the effects table: one row per hyperparameter, a cell per target
    ("yes, 0.82 (p < 0.001)", "no (p = 0.61)", "not tested") and the name of the significance
    test behind the objective's cell (its p-value is in that cell)."""
    header = [
        "hyperparameter",
        report.objective.name,
        "train error (bias)",
        "gap (variance)",
        f"significance test for {report.objective.name}",
    ]
    rows = []
    for effect in report.effects:
        cells = [_effect_cell(effect.tests.get(target)) for target in dx.TARGETS]
        test = effect.test or ""
        rows.append([(effect.hyperparameter, effect.hyperparameter), *cells, (test, test)])
    return header, rows


def _effect_cell(test: dx.EffectTest | None) -> Cell:
    if test is None:
        return "one value", None
    if test.p_value is None:
        return "not tested", None
    if not test.significant:  # an importance the test did not back is noise: not shown
        return f"no ({dx.p_text(test.p_value)})", test.importance
    importance = "importance ?" if test.importance is None else f"{test.importance:.2f}"
    return f"yes, {importance} ({dx.p_text(test.p_value)})", test.importance


def effect_caption(effect: dx.HpEffect) -> str:
    """After the hyperparameter's name above its table of means: the best value only when the
    difference is larger than the noise."""
    if effect.significant:
        text = f"best: {effect.best_value}; larger than the noise, {dx.p_text(effect.p_value)}"
    elif effect.p_value is None:
        text = "not tested: " + (effect.test or "").removeprefix("none (").removesuffix(")")
    else:
        text = f"no difference larger than the noise, {dx.p_text(effect.p_value)}"
    if effect.aliases:
        text += f"; changed with {', '.join(effect.aliases)} in every trial"
    return text


def capacity_plot(report: RunReport) -> Path | None:
    return next((p for p in report.plots if p.name == CAPACITY_PLOT), None)


def other_plots(report: RunReport) -> list[Path]:
    """The plots of the Plots section: all but the capacity curve, shown in its own section."""
    return [p for p in report.plots if p.name != CAPACITY_PLOT]


def capacity_about(curve: dx.CapacityCurve) -> str:
    return (
        "The capacity search grows the network one step per trial, units (filters) per layer "
        "first, then layers. Size: layers × units per layer (widths joined with - when they "
        f"differ); hidden units: their sum. min_delta {curve.min_delta:g} (search.min_delta)."
    )


def capacity_line(report: RunReport) -> str:
    assert report.capacity is not None
    return dx.capacity_sentence(report.capacity)


def capacity_table(report: RunReport) -> tuple[list[str], list[list[Cell]]]:
    """(header, rows of (text, sort value)) of the capacity table, in trial order."""
    curve = report.capacity
    assert curve is not None
    header = ["trial", "size", "hidden units", report.objective.name, "train error", "val error"]
    rows = []
    for step in curve.steps:
        notes = []
        if step.trial_id == curve.best:
            notes.append("best")
        if step.trial_id == curve.stopped_after:
            notes.append("growth stopped paying after this step")
        if step.status != TrialStatus.COMPLETED:
            notes.append(step.status)
        rows.append(
            [
                (step.trial_id, step.trial_id),
                (step.label, step.size),
                (dx.format_value(step.size), step.size),
                (dx.format_value(step.objective), step.objective),
                (dx.percent(step.train_error), step.train_error),
                (dx.percent(step.val_error), step.val_error),
                ("; ".join(notes), "; ".join(notes)),
            ]
        )
    return [*header, "note"], rows


def texts(rows: list[list[Cell]]) -> list[list[str]]:
    return [[text for text, _ in row] for row in rows]


def summary_rows(reports: list[RunReport], failures: Failures | None) -> list[list[str]]:
    rows = []
    for r in reports:
        best = r.best
        objective = f"{r.objective.name} {dx.format_value(best.objective)}" if best else ""
        trials = f"{r.counts.get(TrialStatus.COMPLETED, 0)}/{r.total_trials} completed"
        status = (r.run.manifest or {}).get("status", "unknown")
        rows.append(
            [r.run.name, str(status), trials, best.trial_id if best else "", objective, r.headline]
        )
    rows += [[p.name, "unreadable", "", "", "", m] for p, m in failures or []]
    return rows


# ------------------------------------------------- training dynamics (docs/dynamics.md)


def dynamics_lines(report: RunReport) -> list[str]:
    """The best trial's training-dynamics findings with their evidence and advice, or one line
    with the measured numbers when its layers looked healthy; empty without layers.csv rows."""
    best = report.best
    if best is None or report.run.layers is None:
        return []
    rows = dx.trial_layers(report.run.layers, best.trial_id)
    measured = dx.dynamics_summary(rows, best.best_epoch)
    if measured is None:
        return []
    found = [f for f in best.findings if isinstance(f, dx.DynamicsFinding)]
    kinds = set(rows["kind"].astype(str).str.lower()) if "kind" in rows.columns else set()
    # a custom model's layers.csv holds its recurrent cells and other layers too
    what = "Dense/Conv2D layers" if kinds <= {"dense", "conv2d"} else "layers with weights"
    lines = [
        f"Trial {best.trial_id}, {measured.layers} {what}, measured at each epoch "
        "end on a fixed probe batch of up to 256 training examples (layers.csv)."
    ]
    for finding in found:
        lines.append(f"Finding: {finding.text}.")
        lines += [f"  Advice: {advice.text}" for advice in finding.advice]
    if not found:
        lines.append(_healthy_line(measured))
    return lines


def _healthy_line(m: dx.DynamicsSummary) -> str:
    """No finding: what was measured against each threshold."""
    parts = []
    if m.gradient_ratio is not None:
        parts.append(
            f"first hidden / output layer gradient norm {m.gradient_ratio:.2g} "
            f"(vanishing below {dx.VANISHING_RATIO:g})"
        )
    if m.growth is not None:
        parts.append(
            f"largest gradient-norm growth over the first epoch {m.growth:.2g}-fold "
            f"(exploding from {dx.EXPLODING_GROWTH:g}-fold)"
        )
    if m.dead is not None:
        parts.append(
            f"at most {m.dead:.0%} of a layer's units dead (threshold {dx.DEAD_SHARE:.0%})"
        )
    if m.saturated is not None:
        parts.append(
            f"at most {m.saturated:.0%} of a layer's units saturated "
            f"(threshold {dx.SATURATED_SHARE:.0%})"
        )
    head = f"Layers looked healthy at epoch {m.epoch} (no threshold crossed): "
    return head + "; ".join(parts) + "."


INSIGHT_SECTIONS.append(("Training dynamics", dynamics_lines))


# ---------------------------------------------------------------- learning curve (docs/guide.md)


def learning_curve_lines(report: RunReport) -> list[str]:
    """Whether more data is likely to help (learning_curve.csv), with its reason, then the
    curve; empty when `tunenet learning-curve` has not been run."""
    curve = report.learning_curve
    if curve is None:
        return []
    reason = curve.reason[:1].upper() + curve.reason[1:]
    lines = [f"More data helps: {dx.verdict_word(curve.more_data_helps)}. {reason}"]
    for p in curve.points:
        train = dx.percent_ci(p.train_error, p.train_error_ci) or "missing"
        val = dx.percent_ci(p.val_error, p.val_error_ci) or "missing"
        lines.append(
            f"{p.examples:,} training examples (fraction {p.fraction:g}): train error {train}, "
            f"validation error {val}."
        )
    lines.append(
        "The best trial retrained on growing fractions of the training split (tunenet "
        "learning-curve, learning_curve.csv); ± is half the 95% interval; the trend is a "
        "weighted line of validation error on log2(examples) over every fraction, its points "
        "taken as independent (conservative: they share the validation examples)."
    )
    return lines


INSIGHT_SECTIONS.append(("Learning curve (will more data help?)", learning_curve_lines))


# ---------------------------------------------------------------- confusion matrix


def confusion_section(report: RunReport) -> list[str]:
    """The per-class errors of the model best/ holds (best/confusion.json; see
    reporting/confusion.py): the best trial's, or the simplest tied one's under search.keep."""
    best = report.best.trial_id if report.best else None
    held = report.kept_trial or best
    lines = confusion_lines(report.confusion, held)
    if report.kept == "simplest_tied" and report.confusion and report.confusion.trial_id == held:
        lines.insert(0, f"Of trial {held}, the model best/ holds (search.keep), not trial {best}.")
    return lines


INSIGHT_SECTIONS.append(("Confusion matrix", confusion_section))
