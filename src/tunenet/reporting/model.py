"""The report model: one `RunReport` per run, built once, that every renderer reads.

The flow: `runs.find_runs` → `runs.load_run` → `resolve_settings` (thresholds, with their
source) → `build_report` (calls `diagnosis`) → the renderers (terminal, markdown, csv/json, html,
plots). Never imports TensorFlow, Keras, matplotlib or Rich. `docs/report.md` documents the rules.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tunenet import diagnosis as dx
from tunenet.config.objective import Objective
from tunenet.config.sections import DiagnosisConfig
from tunenet.diagnosis.imbalance import ClassBalance, with_imbalance_advice
from tunenet.errors import RunDirError, TunenetError
from tunenet.reporting.confusion import ConfusionReport, class_balance, confusion_report
from tunenet.reporting.context import advice_contexts, present, trial_context
from tunenet.reporting.noise import (
    chance,
    chance_loss,
    is_regression,
    log_loss,
    trial_intervals,
    validation_size,
)
from tunenet.reporting.simplest import keeping
from tunenet.runs import Run, RunDir, TrialStatus, find_runs, load_run
from tunenet.runs import config_value as _config_value
from tunenet.runs.cells import integer, number
from tunenet.runs.objective import declared_objective
from tunenet.runs.simplest import SimplestTied

# Columns of epochs.csv that are not Keras metrics.
NOT_METRICS = {"trial_id", "execution", "epoch", "learning_rate", "lr", "seconds"}
THRESHOLD_OPTIONS = {
    "target_error": "--target-error",
    "bias_threshold": "--bias-threshold",
    "variance_threshold": "--variance-threshold",
}
# search.min_delta when resolved.yaml does not say (the schema's default).
DEFAULT_MIN_DELTA = 0.001
Failures = list[tuple[Path, str]]  # the runs that could not be read: (path, message)


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class Setting:
    """A value used by the diagnosis and where it came from (an option, a file, the default)."""

    value: Any
    source: str
    interval: tuple[float, float] | None = None  # the value's own noise (a baseline's error)


@dataclass(frozen=True)
class Settings:
    target_error: Setting
    bias_threshold: Setting
    variance_threshold: Setting
    epoch_limit: Setting

    def thresholds(self) -> dx.Thresholds:
        return dx.Thresholds(
            self.target_error.value,
            self.bias_threshold.value,
            self.variance_threshold.value,
            self.target_error.interval,
        )


def resolve_settings(
    run: Run,
    *,
    target_error: float | None = None,
    bias_threshold: float | None = None,
    variance_threshold: float | None = None,
) -> Settings:
    """Thresholds from the options, else the run's resolved.yaml (`diagnosis.*`), else the
    schema's defaults; `target_error: auto` (the default) is the lowest validation error of
    baselines.csv. The epoch limit from resolved.yaml's `training.epochs` when present.

    Raises:
        TunenetError: an option is outside [0, 1].
    """
    options = {
        "target_error": target_error,
        "bias_threshold": bias_threshold,
        "variance_threshold": variance_threshold,
    }
    for name, value in options.items():
        if value is not None and value != "auto" and not 0 <= value <= 1:
            raise TunenetError(
                f"{THRESHOLD_OPTIONS[name]} {value}: expected a fraction between 0 and 1 "
                "(0.13 means 13 %)."
            )
    from_file, config = _file_thresholds(run)
    chosen = {}
    for name, value in options.items():
        if value is not None and value != "auto":
            chosen[name] = Setting(float(value), THRESHOLD_OPTIONS[name])
        elif value == "auto" or getattr(config, name) == "auto":  # target_error: given or set
            chosen[name] = _auto_target_error(run)
        else:
            source = "resolved.yaml" if name in from_file else "default"
            chosen[name] = Setting(float(getattr(config, name)), source)
    return Settings(**chosen, epoch_limit=_epoch_limit(run))


def _auto_target_error(run: Run) -> Setting:
    """`target_error: auto`: the lowest validation error of the run's baselines (docs/report.md);
    0 for a run without them (older runs, hand-written ones). Measured on the validation rows,
    it is noisy too: its interval (classification: Wilson on the validation size; regression:
    normal from baselines.csv's `val_error_se`) enters the bias interval."""
    found = [b for b in reference_baselines(run) if b.val_error is not None]
    weighted = _config_value(run.resolved, "training.class_weight")[1] not in (None, False)
    if weighted:  # the majority's accuracy is no weighted model's: logistic and boosting are
        found = [b for b in found if b.model != "majority"] or found
    if not found:
        return Setting(0.0, "auto, but no baselines.csv: 0")
    best = min(found, key=lambda b: b.val_error)  # type: ignore[arg-type, return-value]
    source = f"auto: {best.title}'s validation error (baselines.csv)"
    if weighted and best.model != "majority":
        source = f"auto: {best.title}'s validation error, weighted by training.class_weight"
    if is_regression(run):
        interval = dx.error_ci(best.val_error, None, best.val_error_se)
        basis = "from its standard error (baselines.csv val_error_se)"
    else:
        n = validation_size(run)
        interval = dx.error_ci(best.val_error, n)
        basis = f"on {n} examples"
    if interval is not None:
        source += f", ± {(interval[1] - interval[0]) * 50:.1f} pts {basis}, counted in bias"
    return Setting(best.val_error, source, interval)


def _file_thresholds(run: Run) -> tuple[set[str], DiagnosisConfig]:
    found, section = _config_value(run.resolved, "diagnosis")
    if not found or not isinstance(section, dict):
        return set(), DiagnosisConfig()
    try:
        return set(section), DiagnosisConfig.model_validate(section)
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        run.warnings.append(
            f"{RunDir(run.path).resolved_file}: invalid diagnosis section ({error}); "
            "using the default thresholds."
        )
        return set(), DiagnosisConfig()


@dataclass(frozen=True)
class Baseline:
    """One reference model of baselines.csv (docs/report.md)."""

    model: str
    train_error: float | None
    val_error: float | None
    test_error: float | None
    seconds: float | None
    # regression: standard errors of the errors; classification: log losses (None: unknown,
    # as in files written before these columns)
    train_error_se: float | None = None
    val_error_se: float | None = None
    test_error_se: float | None = None
    train_log_loss: float | None = None
    val_log_loss: float | None = None
    val_log_loss_se: float | None = None

    @property
    def title(self) -> str:
        """The model in words: "logistic regression", "the majority class"."""
        return BASELINE_TITLES.get(self.model, self.model)


BASELINE_TITLES = {
    "majority": "the majority class",
    "mean": "the mean",
    "logistic": "logistic regression",
    "linear": "linear regression",
    "boosting": "gradient boosting",
}


BASELINE_EXTRAS = (
    "train_error_se",
    "val_error_se",
    "test_error_se",
    "train_log_loss",
    "val_log_loss",
    "val_log_loss_se",
)


def reference_baselines(run: Run) -> list[Baseline]:
    """The run's baselines.csv rows, in file order (empty without the file)."""
    if run.baselines is None:
        return []
    return [
        Baseline(
            model=str(row["model"]),
            train_error=number(row["train_error"]),
            val_error=number(row["val_error"]),
            test_error=number(row["test_error"]),
            seconds=number(row["seconds"]),
            **{name: number(row.get(name)) for name in BASELINE_EXTRAS},
        )
        for _, row in run.baselines.iterrows()
    ]


def baselines_note(run: Run) -> str | None:
    """How the baselines were fitted when it matters (manifest.json's `baselines`): on a
    subsample of the training split, with capped work, or with a model left out; else None."""
    found, fitted = _config_value(run.manifest, "baselines")
    if run.baselines is None or not found or not isinstance(fitted, dict):
        return None
    notes = []
    rows, total = integer(fitted.get("fitted_rows")), integer(fitted.get("train_rows"))
    if rows is not None and total is not None and rows < total:
        notes.append(f"fitted on {rows:,} of {total:,} training rows (to take seconds)")
    for key, prefix in (("notes", ""), ("skipped", "left out: ")):
        texts = fitted.get(key)
        if isinstance(texts, list) and texts:
            notes.append(prefix + "; ".join(map(str, texts)))
    return "; ".join(notes) or None


def _epoch_limit(run: Run) -> Setting:
    found, epochs = _config_value(run.resolved, "training.epochs")
    if found and isinstance(epochs, int) and not isinstance(epochs, bool):
        return Setting(epochs, "resolved.yaml training.epochs")
    return Setting(None, "not recorded: a trial not stopped early counts as having reached it")


# ---------------------------------------------------------------- building the report


@dataclass(frozen=True)
class RunObjective(Objective):
    """A run's objective (name, direction: which value is better), the trials.csv column holding
    its values, and where its name was read (manifest.json, resolved.yaml or trials.csv)."""

    column: str
    source: str


@dataclass
class TrialReport:
    """Everything the report says about one trial."""

    trial_id: str
    rank: int | None
    status: str
    hyperparameters: dict[str, Any]
    epochs_trained: int | None
    best_epoch: int | None
    stopped_early: bool | None
    objective: float | None
    train_error: float | None
    val_error: float | None
    test_error: float | None
    fit: dx.FitDiagnosis | None
    findings: list[dx.Finding]
    recommendations: list[dx.Recommendation]
    message: str | None
    # 95% intervals of the errors (None: the run records no split size or standard error)
    train_error_ci: dx.Interval | None = None
    val_error_ci: dx.Interval | None = None
    test_error_ci: dx.Interval | None = None
    intervals_source: str | None = None  # where the sizes behind them came from

    @property
    def label(self) -> str | None:
        """One of `dx.LABELS`: the status of a diverged, failed or pruned trial, `diverged` for
        a completed trial whose curve diverged, else the fit's label; None for an interrupted
        trial or one without errors."""
        return dx.trial_label(self.status, self.fit, self.findings)


@dataclass
class RunReport:
    """One run's report. `trials` are ordered by rank (unranked trials last, by id) and cut to
    `--top`; `counts`, `effects` and the verdict cover every trial."""

    run: Run
    objective: RunObjective
    settings: Settings
    trials: list[TrialReport]
    total_trials: int
    counts: dict[str, int]
    best: TrialReport | None
    effects: list[dx.HpEffect]
    verdict: str
    headline: str
    metric: str | None
    capacity: dx.CapacityCurve | None = None
    plots: list[Path] = field(default_factory=list)
    baselines: list[Baseline] = field(default_factory=list)
    baselines_note: str | None = None
    confusion: ConfusionReport | None = None  # best/confusion.json, per-class errors
    # learning_curve.csv's curve and whether more data is likely to help (docs/guide.md)
    learning_curve: dx.LearningCurve | None = None
    # the best model's classes: recall per class, against the majority class (docs/report.md)
    balance: ClassBalance | None = None
    tied_with: list[str] = field(default_factory=list)  # other trials with the best objective
    tie_choice: str | None = None  # how the best trial was picked among them
    # the fewest-parameters trial tied with the best, and the model best/ holds (search.keep)
    simplest_tied: SimplestTied | None = None
    kept: str = "best"  # "best" or "simplest_tied"
    kept_trial: str | None = None  # the trial whose model best/ holds

    @property
    def report_dir(self) -> Path:
        return RunDir(self.run.path).report_dir


def load_reports(
    path: Path,
    *,
    target_error: float | None = None,
    bias_threshold: float | None = None,
    variance_threshold: float | None = None,
    top: int | None = None,
) -> tuple[list[RunReport], Failures]:
    """Reports of every run under `path`, and (path, message) of the runs that could not be read.

    Raises:
        RunDirError: `path` is one run and cannot be read, or no run under it can.
    """
    run_dirs = find_runs(path)
    reports, failures = [], []
    for run_dir in run_dirs:
        try:
            run = load_run(run_dir)
        except RunDirError as error:
            if len(run_dirs) == 1:
                raise
            failures.append((run_dir, str(error)))
            continue
        settings = resolve_settings(
            run,
            target_error=target_error,
            bias_threshold=bias_threshold,
            variance_threshold=variance_threshold,
        )
        reports.append(build_report(run, settings, top))
    if not reports:
        raise RunDirError(f"{path}: no run could be read:\n" + "\n".join(m for _, m in failures))
    return reports, failures


def build_report(run: Run, settings: Settings, top: int | None = None) -> RunReport:
    """Diagnose every trial of a run and summarize the search."""
    objective = resolve_objective(run)
    trials = run.trials
    ranks = dx.rank(trials, objective, objective.column)
    effects = dx.hp_effects(
        trials,
        objective,
        objective.column,
        sizes=_config_value(run.manifest, "data.sizes")[1],  # where trials.csv has no *_n
        task="regression" if is_regression(run) else _config_value(run.manifest, "data.task")[1],
    )
    evidence = _tested(dx.search_evidence(trials, objective, objective.column), effects)
    curves = {tid: curve for tid, curve in run.epochs.groupby("trial_id")}
    integral = _integral_hp_columns(trials)
    reports = [
        _trial_report(row, ranks[index], run, settings, objective, curves, integral)
        for index, row in trials.iterrows()
    ]
    _advise(reports, run, settings, evidence)  # causes need every trial's fit first
    saved = str(_config_value(run.manifest, "best_trial")[1])  # the model in best/
    reports.sort(key=lambda t: (t.rank is None, t.rank or 0, t.trial_id != saved, t.trial_id))
    best = reports[0] if reports and reports[0].rank == 1 else None
    tied = [t.trial_id for t in reports[1:] if best is not None and t.rank == 1]
    kept = str(_config_value(run.manifest, "kept.trial_id")[1] or saved)  # search.keep's pick
    tie_choice = _tie_choice(best, saved, kept) if tied else None
    statuses = trials["status"].value_counts()
    known = [status.value for status in TrialStatus]  # in the order reports count them
    order = [s for s in known if s in statuses] + sorted(set(statuses.index) - set(known))
    counts = {"trials": len(reports), **{s: int(statuses[s]) for s in order}}
    capacity = capacity_curve(run, objective) if is_capacity_run(run) else None
    learning_curve = _learning_curve(run, settings.variance_threshold.value)
    if best is not None and learning_curve is not None:
        best.recommendations = _cite_learning_curve(best.recommendations, learning_curve)
    confusion = confusion_report(run)
    weights = _config_value(run.resolved, "training.class_weight")[1]
    balance = class_balance(confusion, best.trial_id if best else None, weights, objective.name)
    if best is not None and balance is not None:  # class weights first where accuracy hides
        first = best.label not in (dx.NOT_LEARNING, TrialStatus.DIVERGED.value)  # else: cause 1st
        best.recommendations = with_imbalance_advice(best.recommendations, balance, first)
    return RunReport(
        run=run,
        objective=objective,
        settings=settings,
        trials=reports[:top] if top else reports,
        total_trials=len(reports),
        counts=counts,
        best=best,
        effects=effects,
        verdict=_verdict(
            reports, best, counts, effects, objective, capacity, balance, tied, tie_choice
        ),
        headline=_headline(best, counts, tied, balance),
        metric=_main_metric(run.epochs),
        capacity=capacity,
        baselines=reference_baselines(run),
        baselines_note=baselines_note(run),
        confusion=confusion,
        learning_curve=learning_curve,
        balance=balance,
        tied_with=tied,
        tie_choice=tie_choice,
        **keeping(run, best, objective),
    )


def _tie_choice(best: TrialReport | None, saved: str, kept: str) -> str:
    """How the best trial was picked among those sharing the best objective."""
    if best is not None and best.trial_id == saved:
        return "the one saved in best/" if kept == saved else "the search's best"
    return "the first by trial id"


def _cite_learning_curve(
    recommendations: list[dx.Recommendation], curve: dx.LearningCurve
) -> list[dx.Recommendation]:
    """The best trial's "more data" advice with the learning curve's answer, its test."""
    word = dx.verdict_word(curve.more_data_helps)
    text = f" The learning curve (tunenet learning-curve) says {word}: {curve.reason}"
    return [
        dataclasses.replace(rec, text=rec.text + text) if rec.key == "data.limit" else rec
        for rec in recommendations
    ]


def _learning_curve(run: Run, variance_threshold: float) -> dx.LearningCurve | None:
    """The run's learning_curve.csv (written by `tunenet learning-curve`) and its verdict."""
    if run.learning_curve is None or run.learning_curve.empty:
        return None
    regression = is_regression(run)
    return dx.learning_curve(run.learning_curve, not regression, variance_threshold)


def _tested(evidence: dict, effects: list) -> dict:
    """Only what the search showed beyond the noise may back or reorder the advice; each kept
    key carries its clearest test's p-value (per-layer columns: the smallest)."""
    tested = {}
    for key, found in evidence.items():
        p_values = [
            effect.p_value for effect in effects
            if effect.significant and (effect.hyperparameter == key
                                       or effect.hyperparameter.startswith(key + "."))
        ]  # fmt: skip
        if p_values:
            tested[key] = dataclasses.replace(found, p_value=min(p_values))
    return tested


def _advise(
    reports: list[TrialReport], run: Run, settings: Settings, evidence: dict[str, dx.Evidence]
) -> None:
    """Each trial's recommendations, with what the other trials say (reporting/context.py):
    which trials of the same size fit, how many are tied at the top; none for a pruned trial."""
    target = settings.target_error.value
    contexts = advice_contexts(reports, run, number(target), _model_size)
    for report in reports:
        context = contexts.get(report.trial_id)
        if report.status != TrialStatus.PRUNED and context is not None:
            report.recommendations = dx.recommend(report.fit, report.findings, context, evidence)


def resolve_objective(run: Run) -> RunObjective:
    """Name and direction from manifest.json, else resolved.yaml's `search.objective`; the values
    from trials.csv's `objective` column, else the column named like the objective, else
    `val_error` (minimized)."""
    declared = declared_objective(run.manifest, run.resolved)
    name = declared.name if declared else None
    direction = declared.direction if declared else None
    source = declared.source if declared else "trials.csv"
    columns = run.trials.columns
    if "objective" in columns and run.trials["objective"].notna().any():
        name = name or _matching_metric(run.trials) or "objective"
        return _run_objective(name, direction, "objective", source)
    if name and name in columns:
        return _run_objective(name, direction, name, source)
    return RunObjective("val_error", "min", "val_error", "trials.csv has no objective column")


def _run_objective(name: str, direction: Any, column: str, source: str) -> RunObjective:
    """The direction when declared (min or max), else guessed from the name."""
    chosen = Objective.named(name, direction)
    return RunObjective(chosen.name, chosen.direction, column, source)


def _matching_metric(trials: pd.DataFrame) -> str | None:
    """The metric column whose values equal the objective column (no manifest to say which)."""
    objective = trials["objective"].to_numpy(dtype=float)
    for column in trials.columns:
        if column.startswith("val_") and pd.api.types.is_numeric_dtype(trials[column]):
            values = trials[column].to_numpy(dtype=float)
            if np.allclose(objective, values, equal_nan=True):
                return column
    return None


def _trial_report(
    row: pd.Series,
    rank: float,
    run: Run,
    settings: Settings,
    objective: RunObjective,
    curves: dict[str, pd.DataFrame],
    integral: set[str],
) -> TrialReport:
    curve = curves.get(row["trial_id"], run.epochs.iloc[0:0])
    stopped_early = row.get("stopped_early") if "stopped_early" in row.index else None
    intervals = trial_intervals(row, run)
    # a pruned trial was cut short: its errors are shown, but no bias/variance verdict or advice
    pruned = row["status"] == TrialStatus.PRUNED
    findings = dx.curve_findings(
        curve,
        status=row["status"],
        best_epoch=integer(row.get("best_epoch")),
        epochs_trained=integer(row.get("epochs_trained")),
        stopped_early=stopped_early,
        epoch_limit=settings.epoch_limit.value,
        chance_loss=chance_loss(run),
    )
    fit = dx.fit_diagnosis(
        row["train_error"],
        row["val_error"],
        settings.thresholds(),
        intervals.noise,
        chance(run),
        log_loss(row),
    )
    fit = None if pruned else dx.with_curve(fit, findings)  # a diverged curve labels it
    hyperparameters = {
        column[len("hp.") :]: plain(row[column], column in integral)
        for column in row.index
        if column.startswith("hp.") and present(row[column])
    }
    context = trial_context(row, run)
    layers = dx.trial_layers(run.layers, row["trial_id"])  # training dynamics (layers.csv)
    findings += dx.dynamics_findings(layers, integer(row.get("best_epoch")), context)
    recommendations: list[dx.Recommendation] = []  # _advise, once every fit is known
    return TrialReport(
        trial_id=row["trial_id"],
        rank=None if pd.isna(rank) else int(rank),
        status=row["status"],
        hyperparameters=hyperparameters,
        epochs_trained=integer(row.get("epochs_trained"))
        or (int(curve["epoch"].max()) if len(curve) else None),
        best_epoch=integer(row.get("best_epoch")),
        stopped_early=stopped_early,
        objective=number(row.get(objective.column)),
        train_error=number(row["train_error"]),
        val_error=number(row["val_error"]),
        test_error=number(row.get("test_error")),
        fit=fit,
        findings=findings,
        recommendations=recommendations,
        message=str(row["message"]) if present(row.get("message")) else None,
        train_error_ci=intervals.train,
        val_error_ci=intervals.val,
        test_error_ci=intervals.test,
        intervals_source=intervals.source,
    )


def _integral_hp_columns(trials: pd.DataFrame) -> set[str]:
    """hp. columns holding whole numbers only (read as floats when some trials leave them empty)."""
    integral = set()
    for column in trials.columns:
        if column.startswith("hp.") and pd.api.types.is_float_dtype(trials[column]):
            values = trials[column].dropna()
            if len(values) and (values == values.round()).all():
                integral.add(column)
    return integral


def _main_metric(epochs: pd.DataFrame) -> str | None:
    """accuracy, else mae, else the first metric logged for both training and validation."""
    metrics = [
        c
        for c in epochs.columns
        if c not in NOT_METRICS and c != "loss" and not c.startswith("val_")
    ]
    paired = [m for m in metrics if f"val_{m}" in epochs.columns]
    for preferred in ("accuracy", "mae"):
        if preferred in paired:
            return preferred
    return paired[0] if paired else None


def _verdict(
    reports: list[TrialReport],
    best: TrialReport | None,
    counts: dict[str, int],
    effects: list[dx.HpEffect],
    objective: RunObjective,
    capacity: dx.CapacityCurve | None = None,
    balance: ClassBalance | None = None,
    tied: list[str] | None = None,
    tie_choice: str | None = None,
) -> str:
    labels = [t.label for t in reports if t.status == TrialStatus.COMPLETED and t.label]
    return dx.verdict(
        counts=counts,
        objective=objective.name,
        best_id=best.trial_id if best else None,
        best_objective=best.objective if best else None,
        best_fit=best.fit if best else None,
        best_findings=best.findings if best else [],
        best_test_error=best.test_error if best else None,
        labels=labels,
        effects=effects,
        top_recommendation=best.recommendations[0] if best and best.recommendations else None,
        capacity=capacity,
        balance=balance,
        tied_with=tied or [],
        tie_choice=tie_choice,
    )


def _headline(
    best: TrialReport | None,
    counts: dict[str, int],
    tied: list[str] | None = None,
    balance: ClassBalance | None = None,
) -> str:
    if not counts.get("trials"):
        return "no trials yet"
    if best is None:
        return "no completed trial"
    name = best.trial_id + (f" (tied with {', '.join(tied)})" if tied else "")
    text = f"best {name}: {best.label or 'errors not recorded'}"
    if balance is not None and balance.majority_like:
        text += ", no better than the majority class"
    kinds = [f.kind for f in best.findings if f.kind in ("still_improving", "overfitting")]
    if kinds:
        text += f", {kinds[0].replace('_', ' ')}"
    if best.recommendations:
        rec = best.recommendations[0]
        text += f"; next: {rec.action} {rec.key}"
    return text


# ---------------------------------------------------------------- the capacity curve


def is_capacity_run(run: Run) -> bool:
    """manifest.json's `strategy`, else resolved.yaml's `search.strategy`, is `capacity`."""
    strategy = (run.manifest or {}).get("strategy")
    if not strategy:
        strategy = _config_value(run.resolved, "search.strategy")[1]
    return strategy == "capacity"


def capacity_curve(run: Run, objective: RunObjective) -> dx.CapacityCurve:
    """Every trial of the run (not cut to `--top`) in trial order, with its model size, and
    where growth stopped paying by resolved.yaml's `search.min_delta` (default 0.001)."""
    found, min_delta = _config_value(run.resolved, "search.min_delta")
    if not found or number(min_delta) is None:  # a bool is no number
        min_delta = DEFAULT_MIN_DELTA
    rows = sorted(
        (row for _, row in run.trials.iterrows()), key=lambda row: _trial_order(row["trial_id"])
    )
    steps = [
        dx.CapacityStep(
            trial_id=row["trial_id"],
            status=row["status"],
            **_model_size(row, run),
            objective=number(row.get(objective.column))
            if row["status"] == TrialStatus.COMPLETED
            else None,
            train_error=number(row["train_error"]),
            val_error=number(row["val_error"]),
        )
        for row in rows
    ]
    return dx.capacity_curve(steps, objective, float(min_delta))


def _trial_order(trial_id: str) -> tuple[int, float, str]:
    """Numeric ids ("00", "7", "12") by number, others after them by text."""
    try:
        return 0, float(trial_id), trial_id
    except ValueError:
        return 1, 0.0, trial_id


def _model_size(row: pd.Series, run: Run) -> dict[str, Any]:
    """`layers` and per-layer `widths` of one trial: `hp.model.layers` and `hp.model.units.<i>`
    (`hp.model.filters.<i>` for a CNN), else the fixed values of resolved.yaml (`model.layers`,
    `model.units`, `model.filters`; `model.filters_growth` for blocks after the first); both
    None (unknown) for a custom model."""

    def tried(key: str) -> Any:
        column = f"hp.{key}"
        return row[column] if column in row.index and present(row[column]) else None

    def fixed(key: str) -> Any:
        found, value = _config_value(run.resolved, key)
        return value if found else None

    kind = tried("model.kind") or fixed("model.kind")
    if kind == "custom":  # the builder's own layers: their size is trials.csv's `params` alone
        return {"layers": None, "widths": None}
    if not isinstance(kind, str):
        columns = [str(c) for c in row.index]
        cnn = any(c.startswith("hp.model.filters.") for c in columns) and not any(
            c.startswith("hp.model.units.") for c in columns
        )
        kind = "cnn" if cnn else "dense"
    width_key = "model.filters" if kind == "cnn" else "model.units"
    layers = integer(tried("model.layers"))
    if layers is None and _whole(fixed("model.layers")):
        layers = int(fixed("model.layers"))
    growth = number(fixed("model.filters_growth")) if kind == "cnn" else None
    base = fixed(width_key)

    def width(index: int) -> int | None:
        value = integer(tried(f"{width_key}.{index}"))
        if value is not None:
            return value
        first = integer(tried(f"{width_key}.0"))
        if growth and first is not None:  # as cnn.filters_of
            return max(1, int(round(first * growth**index)))
        if _whole(base):
            return int(base) if not growth else max(1, int(round(int(base) * growth**index)))
        return None

    if layers is None:  # no layer count known: the per-layer columns the trial has
        layers_seen = 0
        while integer(tried(f"{width_key}.{layers_seen}")) is not None:
            layers_seen += 1
        layers = layers_seen or None
    if layers == 0:
        return {"layers": 0, "widths": ()}
    widths = [width(i) for i in range(layers or 0)]
    known = tuple(w for w in widths if w is not None) if widths else None
    return {"layers": layers, "widths": known if known and len(known) == len(widths) else None}


def _whole(value: object) -> bool:
    """A whole number (not a bool): a fixed `model.layers` or width in resolved.yaml."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return False
    return math.isfinite(value) and float(value).is_integer()


# ---------------------------------------------------------------- small value helpers


def plain(value: object, integral: bool = False) -> Any:
    """A JSON-friendly Python value: numpy scalars unwrapped, NaN/inf → None."""
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        if not math.isfinite(value):
            return None
        return int(value) if integral else float(value)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value
