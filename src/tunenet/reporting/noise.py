"""How precisely each trial's errors are known, from the run's files alone (docs/run-format.md,
docs/report.md).

Split sizes come from trials.csv's `train_n, val_n, test_n`, else manifest.json's `data.sizes`;
regression's standard errors from trials.csv's `*_error_se` (a regression run without them has
no interval: a Wilson interval would be wrong for a mean squared error). The error of a model that
learned nothing comes from baselines.csv's majority (mean) row, else the manifest's task and
classes (`dx.chance_error`); so do its validation log loss (classification: the class-prior model,
`val_log_loss, val_log_loss_se`) and its training loss (`chance_loss`, for the first-epoch
divergence check).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from tunenet import diagnosis as dx
from tunenet.config.sections import class_label
from tunenet.runs import Run
from tunenet.runs import config_value as _config_value
from tunenet.runs.cells import number

SPLITS = ("train", "val", "test")
MANIFEST_SPLITS = {"train": "train", "val": "validation", "test": "test"}
CHANCE_BASELINES = ("majority", "mean")  # baselines.csv `model` of the chance-level reference
# the reference log loss of a class-weighted run, in words (`weighted_prior`)
WEIGHTED_PRIOR = "the log loss of a model that learned nothing under training.class_weight,"


@dataclass(frozen=True)
class TrialIntervals:
    """The 95% intervals of one trial's errors (None: unknown), what the diagnosis needs of them
    (`noise`), and where they came from (None: no interval)."""

    train: dx.Interval | None
    val: dx.Interval | None
    test: dx.Interval | None
    noise: dx.Noise
    source: str | None


def trial_intervals(row: pd.Series, run: Run) -> TrialIntervals:
    """The intervals of one trials.csv row's train, validation and test errors."""
    regression = is_regression(run)
    sizes, source = _sizes(row, run)
    intervals = {}
    for split in SPLITS:
        error = row.get(f"{split}_error")
        if regression:
            intervals[split] = dx.error_ci(error, None, number(row.get(f"{split}_error_se")))
        else:
            intervals[split] = dx.error_ci(error, sizes.get(split))
    if regression:
        source = "trials.csv *_error_se" if intervals["train"] or intervals["val"] else None
    elif not any(intervals.values()):
        source = None
    noise = dx.Noise(
        intervals["train"], intervals["val"], sizes.get("train"), sizes.get("val"), not regression
    )
    return TrialIntervals(intervals["train"], intervals["val"], intervals["test"], noise, source)


def is_regression(run: Run) -> bool:
    """manifest.json's `data.task` is regression, or trials.csv has standard-error columns."""
    task = _config_value(run.manifest, "data.task")[1]
    if isinstance(task, str):
        return task == "regression"
    return any(str(c).endswith("_error_se") for c in run.trials.columns)


def chance(run: Run) -> dx.Chance | None:
    """The train error of a model that learned nothing (see `dx.chance_error`), with the class
    prior's validation log loss when baselines.csv has it."""
    task, count = _task(run)
    row = _chance_baseline(run)
    majority = number(row.get("train_error")) if row is not None else None
    prior = log_loss(row) if row is not None else None
    weights = _config_value(run.resolved, "training.class_weight")[1]
    if weights not in (None, False, "none"):
        prior = weighted_prior(weights, count, *_validation_classes(run))
    return dx.chance_error(task, count, majority, prior)


def weighted_prior(
    weights: object,
    classes: int | None,
    labels: list[str] | None = None,
    counts: list[int] | None = None,
) -> dx.LogLoss | None:
    """The validation log loss of a model that learned nothing under `training.class_weight`.

    Weighted training pulls such a model to p(c) ∝ weight(c) × share(c), not to the class
    prior (uniform for `balanced`), and a weighted model pays accuracy and unweighted log loss
    for the small classes on purpose: so this, not the class prior's, is the reference for
    `not learning` (docs/report.md). `labels`, `counts`: the validation rows per class (best/
    confusion.json); `balanced` needs only the number of classes. None when it cannot be told.
    """
    if not counts or not labels or sum(counts) == 0:
        if weights == "balanced" and classes and classes >= 2:
            return dx.LogLoss(math.log(classes), 0.0, WEIGHTED_PRIOR)  # the same for every row
        return None
    shares = [n / sum(counts) for n in counts]
    if weights == "balanced":
        pulled = [1.0 if n else 0.0 for n in counts]
    elif isinstance(weights, dict):
        given = {class_label(key): value for key, value in weights.items()}
        pulled = [
            share * float(number(given.get(label)) or 1.0)
            for share, label in zip(shares, labels, strict=True)
        ]
    else:
        return None
    probabilities = [weight / sum(pulled) for weight in pulled]
    losses = [-math.log(max(p, 1e-7)) for p in probabilities]
    mean = sum(share * loss for share, loss in zip(shares, losses, strict=True))
    spread = sum(share * (loss - mean) ** 2 for share, loss in zip(shares, losses, strict=True))
    se = math.sqrt(spread / sum(counts)) if spread > 1e-12 else 0.0  # equal rows: exactly 0
    return dx.LogLoss(mean, se, WEIGHTED_PRIOR)


def _validation_classes(run: Run) -> tuple[list[str] | None, list[int] | None]:
    """Labels and rows per class of best/confusion.json's validation split (else test)."""
    confusion = run.confusion or {}
    splits = confusion.get("splits") if isinstance(confusion, dict) else None
    labels = confusion.get("labels") if isinstance(confusion, dict) else None
    if not isinstance(splits, dict) or not isinstance(labels, list):
        return None, None
    matrix = splits.get("val") or splits.get("test")
    try:
        counts = [int(sum(row)) for row in matrix]
    except (TypeError, ValueError):
        return None, None
    return (
        ([str(label) for label in labels], counts) if len(counts) == len(labels) else (None, None)
    )


def log_loss(row: pd.Series) -> dx.LogLoss | None:
    """The validation log loss of a trials.csv or baselines.csv row (`val_log_loss`, with
    `val_log_loss_se`), None when the row has none (regression, older runs)."""
    value = number(row.get("val_log_loss"))
    return None if value is None else dx.LogLoss(value, number(row.get("val_log_loss_se")))


def chance_loss(run: Run) -> float | None:
    """The training loss of a model that learned nothing, for the first-epoch divergence check
    (docs/report.md). Regression: the mean baseline's train error, else 1 (trials train on a
    standardized target, so predicting its mean has a loss of 1). Classification: the class-
    prior model's `train_log_loss`, but never below ln k for k classes (an untrained network
    guesses near uniformly, so a slow first epoch on a rare class is no divergence); ln k alone
    without it; None when neither is known."""
    task, count = _task(run)
    row = _chance_baseline(run)
    if task == "regression":
        mean = number(row.get("train_error")) if row is not None else None
        return mean if mean is not None and mean > 0 else 1.0
    prior = number(row.get("train_log_loss")) if row is not None else None
    uniform = math.log(count) if count and count >= 2 else None
    known = [loss for loss in (prior, uniform) if loss is not None and loss > 0]
    return max(known) if known else None


def _task(run: Run) -> tuple[str | None, int | None]:
    """The manifest's `data.task` (regression also when trials.csv says so) and the number of
    classes, when known."""
    task = _config_value(run.manifest, "data.task")[1]
    classes = _config_value(run.manifest, "data.classes")[1]
    count = len(classes) if isinstance(classes, list) else None
    if task is None and is_regression(run):
        task = "regression"
    return (task if isinstance(task, str) else None), count


def _chance_baseline(run: Run) -> pd.Series | None:
    """baselines.csv's majority (regression: mean) row, when there is one."""
    if run.baselines is None:
        return None
    rows = run.baselines[run.baselines["model"].isin(CHANCE_BASELINES)]
    return rows.iloc[0] if len(rows) else None


def validation_size(run: Run) -> int | None:
    """Examples in the validation split, for an interval of a baseline's validation error."""
    rows = run.trials.iterrows() if "val_n" in run.trials.columns else iter(())
    sizes = [_sizes(row, run)[0].get("val") for _, row in rows]
    found = [n for n in sizes if n] or [_sizes(pd.Series(dtype=object), run)[0].get("val")]
    return found[0]


def _sizes(row: pd.Series, run: Run) -> tuple[dict[str, int], str | None]:
    """Examples per split: the row's `*_n` columns, else manifest.json's `data.sizes`."""
    from_row = {s: n for s in SPLITS if (n := _count(row.get(f"{s}_n"))) is not None}
    if from_row:
        return from_row, "trials.csv train_n, val_n, test_n"
    found, sizes = _config_value(run.manifest, "data.sizes")
    if not found or not isinstance(sizes, dict):
        return {}, None
    from_manifest = {
        s: n for s, key in MANIFEST_SPLITS.items() if (n := _count(sizes.get(key))) is not None
    }
    return from_manifest, "manifest.json data.sizes" if from_manifest else None


def _count(value: object) -> int | None:
    count = number(value)
    return int(count) if count is not None and count >= 1 and count.is_integer() else None
