"""What `tunenet refine` weighs besides the trials' own intervals (docs/guide.md, "Refine").

- Seed noise: a trial trained again with another seed lands elsewhere. Where executions repeat
  (`search.executions_per_trial` > 1, several `execution` values per trial in epochs.csv) the
  spread between them is measured; with one execution a stated allowance stands in for it.
- The report's advice: a key the report advises changing for the best trial is never narrowed.

Pure reading: no TensorFlow (the report model is pandas and scipy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd

from tunenet.config.objective import Objective
from tunenet.diagnosis.intervals import Z
from tunenet.errors import RunDirError
from tunenet.reporting.model import build_report, resolve_settings
from tunenet.runs import Run, RunDir, read_epochs_frame

# With one execution per trial the seed-to-seed spread is not measured. Assumed instead: a
# standard deviation of a tenth of the best trial's validation error, at least half a point.
# Not a measurement: retraining a small network with another seed commonly moves its validation
# error by 5-15% of itself (initialization and batch order), and refine must not treat a trial
# as worse than the best for a difference that a reseed could erase.
SEED_RELATIVE = 0.10
SEED_FLOOR = 0.005


@dataclass(frozen=True)
class SeedNoise:
    """The standard deviation of one execution's validation error from seed to seed, how many
    executions each trial averaged, and a sentence that says where the number comes from."""

    sd: float
    executions: dict[str, int]
    text: str

    def count(self, trial_id: str) -> int:
        return self.executions.get(trial_id, 1)


def seed_noise(run: RunDir, objective: Objective, best_error: float, regression: bool) -> SeedNoise:
    """The spread between executions where they repeat, else the stated allowance."""
    executions, spread = {}, None
    epochs = _raw_epochs(run)
    if epochs is not None and {"trial_id", "execution", "epoch"} <= set(epochs.columns):
        errors = execution_errors(epochs, objective, regression)
        executions = errors.groupby("trial_id").size().to_dict()
        spread = pooled_sd(errors)
    if spread is not None:
        repeated = sum(1 for count in executions.values() if count > 1)
        return SeedNoise(
            spread,
            executions,
            f"seed noise measured: the spread between executions, SD {spread:.2%} "
            f"(pooled over {repeated} trial(s) with {max(executions.values())} or fewer "
            "executions)",
        )
    sd = max(SEED_FLOOR, SEED_RELATIVE * best_error)
    return SeedNoise(
        sd,
        executions,
        f"one execution per trial, so seed noise is an allowance: SD {sd:.2%}, a tenth of the "
        f"best validation error (at least {SEED_FLOOR:.1%}), about what a reseed moves a small "
        "network; search.executions_per_trial: 2 or more measures it instead",
    )


def _raw_epochs(run: RunDir) -> Optional[pd.DataFrame]:
    """epochs.csv with every execution (the report's reader keeps only the last one)."""
    if not run.epochs_file.is_file():
        return None
    try:
        epochs = read_epochs_frame(run)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError):
        return None
    for column in epochs.columns.drop("trial_id", errors="ignore"):
        epochs[column] = pd.to_numeric(epochs[column], errors="coerce")
    keys = [c for c in ("trial_id", "execution", "epoch") if c in epochs.columns]
    return epochs.drop_duplicates(keys, keep="last")


def execution_errors(epochs: pd.DataFrame, objective: Objective, regression: bool) -> pd.Series:
    """Each (trial, execution)'s validation error at its own best epoch by the objective (each
    execution is restored to that epoch, docs/run-format.md). Empty when epochs.csv has no
    validation error column (`val_accuracy`; regression: `val_mse`)."""
    column = "val_mse" if regression else "val_accuracy"
    if column not in epochs.columns:
        return pd.Series(dtype=float)
    table = epochs.dropna(subset=[column])
    if table.empty:
        return pd.Series(dtype=float)
    error = table[column] if regression else 1 - table[column]
    table = table.assign(_error=error.astype(float))
    if objective.name in table.columns:
        score = table[objective.name].astype(float)
        table = table.assign(_key=score if objective.maximized else -score)
    else:
        table = table.assign(_key=-table["_error"])
    table = table.sort_values(["trial_id", "execution", "_key"], kind="stable")
    last = table.groupby(["trial_id", "execution"]).tail(1)  # the largest key: the best epoch
    return last.set_index(["trial_id", "execution"])["_error"]


def pooled_sd(errors: pd.Series) -> Optional[float]:
    """The pooled standard deviation within trials (ddof 1), over trials with 2+ executions."""
    if errors.empty:
        return None
    groups = errors.groupby(level="trial_id")
    counts, variances = groups.size(), groups.var(ddof=1)
    repeated = counts > 1
    freedom = (counts[repeated] - 1).sum()
    if freedom < 1:
        return None
    pooled = float(((counts[repeated] - 1) * variances[repeated]).sum() / freedom)
    return math.sqrt(pooled) if np.isfinite(pooled) else None


# ---------------------------------------------------------------- the report's advice

PHRASES = {"increase": "raising it", "decrease": "lowering it", "change": "changing it"}


@dataclass(frozen=True)
class Advice:
    """The keys the report advises changing for one trial: key -> what it says to do."""

    trial_id: Optional[str]
    keys: dict[str, str]
    unknown: Optional[str] = None  # why the report could not be asked


def report_advice(run: Optional[Run], trial_id: str, problem: Optional[str]) -> Advice:
    """The report's recommendations for `trial_id` (the trial refine narrows around first)."""
    if run is None:
        return Advice(None, {}, problem)
    try:
        report = build_report(run, resolve_settings(run))
    except RunDirError as error:
        return Advice(None, {}, str(error))
    trial = next((t for t in report.trials if t.trial_id == trial_id), None)
    if trial is None:
        return Advice(None, {}, f"the report has no trial {trial_id}")
    keys: dict[str, str] = {}
    for rec in trial.recommendations:
        phrase = PHRASES.get(rec.action, "changing it")
        if rec.action == "set" and rec.value is not None:
            phrase = f"setting it to {rec.value}"
        keys.setdefault(rec.key, phrase)
    return Advice(trial_id, keys)


def advised(advice: Advice, key: str) -> Optional[str]:
    """What the report says to do with a tuned key (advice on `model.units` covers
    `model.units.0`, and advice on a layer's units covers the key), else None."""
    for name, phrase in advice.keys.items():
        if name == key or name.startswith(key + ".") or key.startswith(name + "."):
            return phrase
    return None


def z_half(sd: float, *counts: int) -> float:
    """The 95% half-width that seed noise adds to a difference of trials' mean errors."""
    return Z * sd * math.sqrt(sum(1 / max(1, count) for count in counts))
