"""How precisely each trial's errors are known, from the run's files alone (docs/run-format.md,
docs/report.md).

Split sizes come from trials.csv's `train_n, val_n, test_n`, else manifest.json's `data.sizes`;
regression's standard errors from trials.csv's `*_error_se` (a regression run without them has
no interval: a Wilson interval would be wrong for a mean squared error). The error of a model that
learned nothing comes from baselines.csv's majority (mean) row, else the manifest's task and
classes (`dx.chance_error`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tunenet import diagnosis as dx
from tunenet.runs import Run
from tunenet.runs import config_value as _config_value
from tunenet.runs.cells import number

SPLITS = ("train", "val", "test")
MANIFEST_SPLITS = {"train": "train", "val": "validation", "test": "test"}
CHANCE_BASELINES = ("majority", "mean")  # baselines.csv `model` of the chance-level reference


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
    """The train error of a model that learned nothing (see `dx.chance_error`)."""
    task = _config_value(run.manifest, "data.task")[1]
    classes = _config_value(run.manifest, "data.classes")[1]
    count = len(classes) if isinstance(classes, list) else None
    if task is None and is_regression(run):
        task = "regression"
    return dx.chance_error(task if isinstance(task, str) else None, count, _chance_baseline(run))


def _chance_baseline(run: Run) -> float | None:
    """The train error of baselines.csv's majority (regression: mean) row, when there is one."""
    if run.baselines is None:
        return None
    rows = run.baselines[run.baselines["model"].isin(CHANCE_BASELINES)]
    return number(rows["train_error"].iloc[0]) if len(rows) else None


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
