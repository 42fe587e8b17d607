"""What the search's own trials say: rank, hyperparameter effects, and evidence per config key.

Only completed trials with a finite objective count; `objective` decides which value is better
and `column` is the trials.csv column holding its values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tunenet.diagnosis.text import format_value
from tunenet.objective import Objective
from tunenet.runs import TrialStatus

# Numeric hyperparameters with more distinct values than this are binned by quantile.
MAX_VALUES_UNBINNED = 6
QUANTILE_BINS = 4

NUMERIC_KEYS = (
    "model.layers",
    "model.units",
    "training.epochs",
    "regularization.l1",
    "regularization.l2",
    "regularization.dropout",
    "optimizer.learning_rate",
    "optimizer.clipnorm",
    "data.limit",
)
CATEGORICAL_KEYS = ("model.kind", "model.batch_norm", "data.normalize", "data.augmentation")


@dataclass(frozen=True)
class Evidence:
    """What the search's own trials say about one config key.

    `better` is "higher" or "lower" for numeric keys, the best value's label for categorical ones.
    """

    key: str
    better: str
    text: str


@dataclass(frozen=True)
class EffectRow:
    """Mean objective of the completed trials with one value (or one bin of values)."""

    value: str
    trials: int
    mean_objective: float


@dataclass(frozen=True)
class HpEffect:
    """How one `hp.` column relates to the objective. kind: numeric | categorical."""

    hyperparameter: str
    kind: str
    binned: bool
    rows: tuple[EffectRow, ...]
    best_value: str
    spread: float


def completed(trials: pd.DataFrame, column: str = "objective") -> pd.DataFrame:
    """Completed trials with a finite value in `column`."""
    if column not in trials.columns:
        return trials.iloc[0:0]
    scores = pd.to_numeric(trials[column], errors="coerce")
    return trials[(trials["status"] == TrialStatus.COMPLETED) & np.isfinite(scores)]


def rank(trials: pd.DataFrame, objective: Objective, column: str = "objective") -> pd.Series:
    """Rank (1 = best) of each completed trial by objective; NaN for the others.
    Ties share the better rank; the index is the trials' index."""
    done = completed(trials, column)
    scores = pd.to_numeric(done[column], errors="coerce")
    return objective.rank(scores).reindex(trials.index)


# ---------------------------------------------------------------- effects


def hp_effects(
    trials: pd.DataFrame, objective: Objective, column: str = "objective"
) -> list[HpEffect]:
    """Mean objective per value of each `hp.` column (per quantile bin for numeric columns with
    more than `MAX_VALUES_UNBINNED` distinct values), among completed trials; the effects with the
    largest spread between best and worst mean come first."""
    done = completed(trials, column)
    effects = []
    for hp_column in [c for c in trials.columns if c.startswith("hp.")]:
        effect = _effect(hp_column, done[hp_column], done[column].astype(float), objective)
        if effect:
            effects.append(effect)
    return sorted(effects, key=lambda effect: -effect.spread)


def _effect(
    column: str, values: pd.Series, scores: pd.Series, objective: Objective
) -> HpEffect | None:
    keep = values.notna()
    values, scores = values[keep], scores[keep]
    if values.nunique() < 2:
        return None
    numeric = _is_numeric(values)
    binned = numeric and values.nunique() > MAX_VALUES_UNBINNED
    if binned:
        bins = pd.qcut(values, q=QUANTILE_BINS, duplicates="drop")
        groups = scores.groupby(bins, observed=True)
        names = values.groupby(bins, observed=True).agg(_span)
        order = list(names.index)
    else:
        groups = scores.groupby(values)
        order = sorted(values.unique(), key=_sort_key)
        names = pd.Series({v: format_value(v) for v in order})
    means, counts = groups.mean(), groups.size()
    rows = tuple(EffectRow(str(names[v]), int(counts[v]), float(means[v])) for v in order)
    best = min(rows, key=lambda row: objective.sort_key(row.mean_objective))
    spread = max(r.mean_objective for r in rows) - min(r.mean_objective for r in rows)
    kind = "numeric" if numeric else "categorical"
    return HpEffect(column[len("hp.") :], kind, binned, rows, best.value, float(spread))


def _sort_key(value: object) -> tuple[int, object]:
    return (0, value) if isinstance(value, (int, float, np.number)) else (1, str(value))


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _span(values: pd.Series) -> str:
    low, high = values.min(), values.max()
    return format_value(low) if low == high else f"{format_value(low)}-{format_value(high)}"


# ---------------------------------------------------------------- evidence per config key


def key_columns(columns: Sequence[str], key: str) -> list[str]:
    """The `hp.` columns of a config key: `hp.<key>` itself and per-layer `hp.<key>.<n>`."""
    prefix = f"hp.{key}"
    return [c for c in columns if c == prefix or c.startswith(prefix + ".")]


def search_evidence(
    trials: pd.DataFrame,
    objective: Objective,
    column: str = "objective",
    keys: Sequence[str] | None = None,
) -> dict[str, Evidence]:
    """For each config key the search tuned, which direction (or value) did better.

    Args:
        trials: trials.csv rows; only `status == "completed"` rows with an objective count.
        objective: which value is better; its name is the one the texts use.
        column: the column holding the objective's values. Default "objective".
        keys: the keys to look at (default: `NUMERIC_KEYS` and `CATEGORICAL_KEYS`).

    Numeric keys: trials at or below the median value ("low") against those above ("high"),
    compared by mean objective; per-layer columns are averaged per trial first. Categorical keys:
    the value with the best mean objective.
    """
    done = completed(trials, column)
    found = {}
    for key in keys or NUMERIC_KEYS + CATEGORICAL_KEYS:
        columns = key_columns(list(done.columns), key)
        if not columns:
            continue
        values = _key_values(done, columns)
        if values is None:
            continue
        scores = done[column].astype(float)
        if _is_numeric(values):
            result = _numeric_evidence(key, values, scores, objective)
        else:
            result = _categorical_evidence(key, values, scores, objective)
        if result:
            found[key] = result
    return found


def _key_values(done: pd.DataFrame, columns: list[str]) -> pd.Series | None:
    if len(columns) == 1:
        return done[columns[0]]
    numbers = done[columns].apply(pd.to_numeric, errors="coerce")
    if numbers.notna().sum().sum() == 0:
        return None
    return numbers.mean(axis=1, skipna=True)  # per-layer units: the trial's mean width


def _numeric_evidence(
    key: str, values: pd.Series, scores: pd.Series, objective: Objective
) -> Evidence | None:
    values = pd.to_numeric(values, errors="coerce")
    keep = values.notna()
    values, scores = values[keep], scores[keep]
    if values.nunique() < 2:
        return None
    median = values.median()
    high = values > median
    if not high.any():
        high = values >= median
    if high.all() or not high.any():
        return None
    low_mean, high_mean = scores[~high].mean(), scores[high].mean()
    if math.isclose(low_mean, high_mean, rel_tol=0, abs_tol=1e-12):
        return None
    better = "higher" if objective.better(high_mean, low_mean) else "lower"
    text = (
        f"in this search {better} values did better: mean {objective.name} "
        f"{high_mean:.4g} at {_span(values[high])} against {low_mean:.4g} at "
        f"{_span(values[~high])} ({len(values)} completed trials)"
    )
    return Evidence(key, better, text)


def _categorical_evidence(
    key: str, values: pd.Series, scores: pd.Series, objective: Objective
) -> Evidence | None:
    labels = values.map(format_value)
    keep = values.notna()
    means = scores[keep].groupby(labels[keep]).mean()
    if len(means) < 2:
        return None
    best = objective.best_index(means)
    others = ", ".join(f"{v} {m:.4g}" for v, m in means.items() if v != best)
    text = f"in this search {best} did best: mean {objective.name} {means[best]:.4g} ({others})"
    return Evidence(key, str(best), text)
