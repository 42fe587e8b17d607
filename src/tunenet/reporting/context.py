"""What the advice knows of one trial and of its run (`dx.TrialContext`), from the run's files.

The trial's own values come from its `hp.` columns, over resolved.yaml's fixed values; the
learning rate's searched space from resolved.yaml, the features' scales from manifest.json
(`data.feature_scales`), a custom model's builder from manifest.json (`model.builder`); the
run's facts (trials that fit, ties at the top) from every trial's diagnosis. `docs/report.md`
(Per trial: recommendations) says what each fact changes.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from tunenet import diagnosis as dx
from tunenet.reporting.noise import is_regression
from tunenet.runs import Run, TrialStatus
from tunenet.runs import config_value as _config_value
from tunenet.runs.cells import integer, number

if TYPE_CHECKING:
    from tunenet.reporting.model import TrialReport

# Keras' float32 errors: an interval ending a hair from zero still includes it (labels.TOLERANCE)
TIE_TOLERANCE = 1e-6
# `_model_size` of reporting/model.py: {"layers": int | None, "widths": tuple | None}
SizeOf = Callable[[pd.Series, Run], Mapping[str, Any]]


def trial_context(row: pd.Series, run: Run) -> dx.TrialContext:
    """The trial's own values (hp. columns) over the run's fixed config values, with what the
    run's files say of its data and learning rate."""
    values: dict[str, object] = {}
    hp_columns = [str(c) for c in row.index if str(c).startswith("hp.")]  # once, not per key
    keys = dx.NUMERIC_KEYS + dx.CATEGORICAL_KEYS + dx.CONTEXT_KEYS + params_keys(run, hp_columns)
    for key in keys:
        found, value = _config_value(run.resolved, key)
        if found and not isinstance(value, (list, dict)):
            values[key] = value
        columns = dx.key_columns(hp_columns, key)
        tried = [row[c] for c in columns if present(row[c])]
        if tried:
            values[key] = tried[0] if columns == [f"hp.{key}"] else tried
    source = data_source(run)
    shape = _config_value(run.manifest, "data.input_shape")[1]
    ratio, features = feature_scales(run)
    return dx.TrialContext(
        values,
        dx.image_source(source, shape),
        source,
        trial_id=str(row["trial_id"]),
        rate_space=rate_space(run),
        scale_ratio=ratio,
        scale_features=features,
        val_error=number(row.get("val_error")),
        best_epoch=integer(row.get("best_epoch")),
        epochs_trained=integer(row.get("epochs_trained")),
        builder=model_builder(run),
    )


def params_keys(run: Run, hp_columns: Sequence[str]) -> tuple[str, ...]:
    """A custom model's `model.params.<name>` keys: its hp columns', then resolved.yaml's."""
    fixed = _config_value(run.resolved, "model.params")[1]
    names = [f"model.params.{name}" for name in fixed] if isinstance(fixed, dict) else []
    return tuple(dict.fromkeys([*dx.params_keys(hp_columns), *names]))


def model_builder(run: Run) -> dx.ModelBuilder | None:
    """A custom model's builder (resolved.yaml `model.kind: custom`, or manifest.json
    `model.builder`): its spec and the regularization keys its source reads (None: unknown);
    None for the dense and CNN families."""
    recorded = _config_value(run.manifest, "model.builder")[1]
    if _config_value(run.resolved, "model.kind")[1] != "custom" and not isinstance(recorded, dict):
        return None
    recorded = recorded if isinstance(recorded, dict) else {}
    spec = recorded.get("spec") or _config_value(run.resolved, "model.build")[1]
    reads = recorded.get("reads")
    return dx.ModelBuilder(
        str(spec) if isinstance(spec, str) and spec else None,
        tuple(str(key) for key in reads) if isinstance(reads, list) else None,
    )


def data_source(run: Run) -> str | None:
    """`data.source` from resolved.yaml, else manifest.json (None: unknown)."""
    found, source = _config_value(run.resolved, "data.source")
    if not found:
        found, source = _config_value(run.manifest, "data.source")
    return source if found and isinstance(source, str) else None


def rate_space(run: Run) -> dx.RateSpace | None:
    """resolved.yaml's `optimizer.learning_rate` when searched: a range `{min, max, sampling}`
    or a choice (a list, or `{values: [...]}`) of two values or more; None when fixed."""
    found, space = _config_value(run.resolved, "optimizer.learning_rate")
    if not found:
        return None
    if isinstance(space, dict) and "values" in space:
        space = space["values"]
    if isinstance(space, list):
        rates = sorted({rate for value in space if (rate := _positive(value)) is not None})
        return dx.RateSpace(rates[0], rates[-1], values=tuple(rates)) if len(rates) > 1 else None
    if isinstance(space, dict):
        low, high = _positive(space.get("min")), _positive(space.get("max"))
        if low is not None and high is not None and low < high:
            return dx.RateSpace(low, high, log=space.get("sampling") == "log")
    return None


def feature_scales(run: Run) -> tuple[float | None, tuple[str, str] | None]:
    """manifest.json `data.feature_scales`: the largest / smallest standard deviation among
    the numeric input features, and their names (None: not recorded)."""
    scales = _config_value(run.manifest, "data.feature_scales")[1]
    if not isinstance(scales, dict):
        return None, None
    names = (scales.get("largest"), scales.get("smallest"))
    features = (str(names[0]), str(names[1])) if all(n is not None for n in names) else None
    return number(scales.get("ratio")), features


def advice_contexts(
    reports: Sequence[TrialReport],
    run: Run,
    target_error: float | None,
    size_of: SizeOf,
) -> dict[str, dx.TrialContext]:
    """Each trial's context with the run's facts, once every trial's fit is known: the
    trials that fit (completed, learning, no high bias asserted, not diverged) with their size,
    and how many completed trials are tied with the best."""
    rows = {str(row["trial_id"]): row for _, row in run.trials.iterrows()}
    contexts = {
        tid: dataclasses.replace(
            trial_context(row, run), target_error=target_error, size=trial_size(row, run, size_of)
        )
        for tid, row in rows.items()
    }
    fitting = tuple(
        _peer(trial, contexts[trial.trial_id])
        for trial in reports
        if trial.trial_id in contexts and contexts[trial.trial_id].size is not None and _fits(trial)
    )
    completed = tuple(
        _peer(trial, contexts[trial.trial_id])
        for trial in reports
        if trial.trial_id in contexts and trial.status == TrialStatus.COMPLETED
    )
    tied = tied_at_top(reports, proportions=not is_regression(run))
    facts = dx.RunFacts(fitting, tied, completed)
    return {tid: dataclasses.replace(ctx, run=facts) for tid, ctx in contexts.items()}


def trial_size(row: pd.Series, run: Run, size_of: SizeOf) -> dx.TrialSize | None:
    """trials.csv's `params` when recorded, and the hidden layers and their total units."""
    size = size_of(row, run)
    layers, widths = size.get("layers"), size.get("widths")
    params = integer(row.get("params")) if "params" in row.index else None
    units = sum(widths) if widths is not None else (0 if layers == 0 else None)
    if params is None and units is None:
        return None
    label = dx.size_label(layers, widths)
    if label == "?" and params is not None:  # a custom model: its parameters alone
        label = f"{params:,} parameters"
    return dx.TrialSize(params, layers, units, label)


def tied_at_top(reports: Sequence[TrialReport], proportions: bool = True) -> int:
    """Completed trials tied with the best (rank 1): equal objectives, or a validation-error
    difference whose 95% interval includes zero (Newcombe; regression: standard errors)."""
    best = next((t for t in reports if t.rank == 1), None)
    if best is None:
        return 0
    return sum(
        1 for t in reports if t.status == TrialStatus.COMPLETED and _tied(t, best, proportions)
    )


def _tied(trial: TrialReport, best: TrialReport, proportions: bool) -> bool:
    if trial.rank == 1:
        return True
    if trial.val_error is None or best.val_error is None:
        return False
    ci = dx.difference_ci(
        trial.val_error, trial.val_error_ci, best.val_error, best.val_error_ci, proportions
    )
    return ci is not None and ci[0] <= TIE_TOLERANCE and ci[1] >= -TIE_TOLERANCE


def _fits(trial: TrialReport) -> bool:
    fit = trial.fit
    if trial.status != TrialStatus.COMPLETED or fit is None:
        return False
    if any(finding.kind == "diverged" for finding in trial.findings):
        return False
    return not fit.high_bias and fit.label != dx.NOT_LEARNING


def _peer(trial: TrialReport, context: dx.TrialContext) -> dx.PeerTrial:
    size = context.size or dx.TrialSize()
    return dx.PeerTrial(trial.trial_id, str(trial.label), size, context.values, trial.val_error)


def _positive(value: object) -> float | None:
    rate = number(value)
    return rate if rate is not None and math.isfinite(rate) and rate > 0 else None


def present(value: object) -> bool:
    """A cell with a value: not None, NaN or pandas' missing markers."""
    if value is None:
        return False
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):
        return True
