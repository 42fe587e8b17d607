"""What the search's own trials say: rank, hyperparameter effects, and evidence per config key.

Only completed trials with a finite value count; `objective` decides which value is better and
`column` is the trials.csv column holding its values. An effect is tested before it is claimed
(`significance` holds the statistics): for the objective, for the train error (what moves bias)
and for the train-to-validation gap (what moves variance).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from tunenet.config.objective import Objective
from tunenet.diagnosis import significance as sig
from tunenet.diagnosis.intervals import Z, difference_ci, error_ci, half_width
from tunenet.diagnosis.text import format_value
from tunenet.runs.status import TrialStatus

# Numeric hyperparameters with more distinct values than this are binned by quantile.
MAX_VALUES_UNBINNED = 6
QUANTILE_BINS = 4
# What an effect is tested on: the objective, the train error (bias), the gap (variance).
TARGETS = ("objective", "train_error", "gap")
CLASSIFICATION_TASKS = ("binary", "multiclass")
# manifest.json data.sizes key of each split's examples
SPLIT_SIZES = {"train": "train", "val": "validation"}

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
CATEGORICAL_KEYS = (
    "model.kind",
    "model.batch_norm",
    "data.normalize",
    "data.augmentation",
    "optimizer.name",
)
# A custom model's own knobs (`model.kind: custom`): hp columns `hp.model.params.<name>`,
# numeric or categorical by their values.
PARAMS_PREFIX = "model.params."


@dataclass(frozen=True)
class Evidence:
    """What the search's own trials say about one config key.

    `better` is "higher" or "lower" for numeric keys, the best value's label for categorical ones.
    `low` and `high` are the spans (smallest, largest) of the numeric groups compared; `p_value`
    is the key's test where its effect cleared the noise (set by the report; None: not shown).
    """

    key: str
    better: str
    text: str
    low: tuple[float, float] | None = None
    high: tuple[float, float] | None = None
    p_value: float | None = None

    def worse_side(self, value: object) -> bool | None:
        """Whether a trial with `value` (a list: per-layer values, averaged) sits among the
        worse trials: in the worse numeric group, or at another category than the best one.
        None when it cannot be told (no value, or between the two groups)."""
        if value is None:
            return None
        if self.low is None or self.high is None:
            return format_value(value) != self.better
        number = _mean_value(value)
        if number is None:
            return None
        if number <= self.low[1]:
            return self.better == "higher"
        if number >= self.high[0]:
            return self.better == "lower"
        return None


def _mean_value(value: object) -> float | None:
    values = value if isinstance(value, (list, tuple)) else [value]
    numbers = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce")
    return float(numbers.mean()) if numbers.notna().any() else None


@dataclass(frozen=True)
class EffectRow:
    """Mean objective of the completed trials with one value (or one bin of values)."""

    value: str
    trials: int
    mean_objective: float


@dataclass(frozen=True)
class EffectTest:
    """Whether one hyperparameter moved one quantity (a `TARGETS` entry) by more than the noise.

    Args:
        importance: share of the spread among trials its values explain beyond noise, in [0, 1]
            (`significance.variance_share`); None when the noise cannot be estimated.
        significant: `p_value` below `significance.ALPHA`.
        p_value: after Holm's correction over the hyperparameters (`correction`); None: no test.
        test: the test's name, or "none (why)".
        best_value: the value (or range) with the best mean: the objective's best, the lowest
            train error or gap.
        trials: completed trials with a finite value that the test used.
        correction: "Holm over N hyperparameters".
        consistent: whether `best_value` is also the best among the trials that differ in
            this hyperparameter alone, in every such group the run has (False: the best value
            depends on the other hyperparameters, an interaction; None: no such group).
    """

    importance: float | None
    significant: bool
    p_value: float | None
    test: str
    best_value: str
    trials: int
    correction: str
    consistent: bool | None = None


@dataclass(frozen=True)
class HpEffect:
    """How one `hp.` column relates to the objective. kind: numeric | categorical.

    `rows` are the mean objective per value; `tests` hold the test per `TARGETS` entry (absent
    when the hyperparameter had one value among that target's trials). `aliases` are the other
    hyperparameters that split the trials exactly as this one does: the search cannot tell
    their effects apart.
    """

    hyperparameter: str
    kind: str
    binned: bool
    rows: tuple[EffectRow, ...]
    best_value: str
    spread: float
    tests: Mapping[str, EffectTest] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    @property
    def importance(self) -> float | None:
        """The objective's importance."""
        test = self.tests.get("objective")
        return test.importance if test else None

    @property
    def significant(self) -> bool:
        """Whether the objective moved by more than the noise."""
        test = self.tests.get("objective")
        return bool(test and test.significant)

    @property
    def p_value(self) -> float | None:
        test = self.tests.get("objective")
        return test.p_value if test else None

    @property
    def test(self) -> str | None:
        test = self.tests.get("objective")
        return test.test if test else None


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
    trials: pd.DataFrame,
    objective: Objective,
    column: str = "objective",
    sizes: Mapping[str, object] | None = None,
    task: str | None = None,
) -> list[HpEffect]:
    """Mean objective per value of each `hp.` column, and whether the values moved the objective,
    the train error and the gap by more than the noise.

    Values are grouped as they are, numeric columns with more than `MAX_VALUES_UNBINNED` distinct
    values by quantile bin. Significant effects come first, then by importance.

    Args:
        trials: trials.csv rows; only completed trials with a finite value count.
        objective: which value is better.
        column: the column holding the objective's values. Default "objective".
        sizes: examples per split (manifest.json `data.sizes`: train, validation), used where
            trials.csv has no `train_n`/`val_n`. Default None.
        task: binary | multiclass | regression (manifest.json `data.task`); None: regression
            when trials.csv has `*_error_se` columns, else classification.
    """
    done = completed(trials, column)
    hp_columns = [c for c in trials.columns if c.startswith("hp.")]
    tests = {
        target.name: _target_tests(trials[hp_columns], target)
        for target in _targets(trials, objective, column, sizes, task)
    }
    splits = {c: _split(done[c]) for c in hp_columns}
    effects = []
    for hp_column in hp_columns:
        effect = _effect(hp_column, done[hp_column], done[column].astype(float), objective)
        if effect:
            found = {name: by[hp_column] for name, by in tests.items() if hp_column in by}
            aliases = tuple(
                c[len("hp.") :]
                for c in hp_columns
                if c != hp_column and splits[c] == splits[hp_column]
            )
            effects.append(replace(effect, tests=found, aliases=aliases))
    return sorted(effects, key=lambda e: (not e.significant, -(e.importance or 0), -e.spread))


def _effect(
    column: str, values: pd.Series, scores: pd.Series, objective: Objective
) -> HpEffect | None:
    grouping = _grouping(values)
    if grouping is None:
        return None
    groups = scores[grouping.keys.index].groupby(grouping.keys, observed=True)
    means, counts = groups.mean(), groups.size()
    rows = tuple(
        EffectRow(grouping.names[k], int(counts[k]), float(means[k])) for k in grouping.order
    )
    best = min(rows, key=lambda row: objective.sort_key(row.mean_objective))
    spread = max(r.mean_objective for r in rows) - min(r.mean_objective for r in rows)
    kind = "numeric" if grouping.numeric else "categorical"
    return HpEffect(column[len("hp.") :], kind, grouping.binned, rows, best.value, float(spread))


@dataclass(frozen=True)
class _Grouping:
    """The group of each trial (its value, or its quantile bin), in display order."""

    keys: pd.Series
    order: list
    names: dict
    binned: bool
    numeric: bool


def _grouping(values: pd.Series) -> _Grouping | None:
    values = values[values.notna()]
    if values.nunique() < 2:
        return None
    numeric = _is_numeric(values)
    if numeric and values.nunique() > MAX_VALUES_UNBINNED:
        bins = pd.qcut(values, q=QUANTILE_BINS, duplicates="drop")
        names = values.groupby(bins, observed=True).agg(_span)
        return _Grouping(bins, list(names.index), names.to_dict(), True, numeric)
    order = sorted(values.unique(), key=_sort_key)
    return _Grouping(values, order, {v: format_value(v) for v in order}, False, numeric)


def _split(values: pd.Series) -> tuple | None:
    """Which trials share a group, independent of the values: equal for aliased columns."""
    grouping = _grouping(values)
    if grouping is None:
        return None
    codes = pd.factorize(grouping.keys)[0]  # numbered in order of first appearance
    return tuple(grouping.keys.index), tuple(codes)


def _sort_key(value: object) -> tuple[int, object]:
    return (0, value) if isinstance(value, (int, float, np.number)) else (1, str(value))


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _span(values: pd.Series) -> str:
    low, high = values.min(), values.max()
    return format_value(low) if low == high else f"{format_value(low)}-{format_value(high)}"


# ---------------------------------------------------------------- tests of the effects


@dataclass(frozen=True)
class _Target:
    """One quantity an effect is tested on: the completed trials' finite values, their standard
    errors (NaN: unknown), which mean is best, and where the errors come from."""

    name: str
    values: pd.Series
    errors: pd.Series
    better: Objective
    noise: str
    no_interval: str


def _targets(
    trials: pd.DataFrame,
    objective: Objective,
    column: str,
    sizes: Mapping[str, object] | None,
    task: str | None,
) -> list[_Target]:
    errors, notes, missing = _trial_errors(trials, sizes, task)
    values = completed(trials, column)[column].astype(float)
    scale = _val_error_scale(trials, column)
    objective_errors = errors["val"].reindex(values.index) * abs(scale or math.nan)
    why = missing if scale is not None else f"{objective.name} has no per-trial interval"
    targets = [_Target("objective", values, objective_errors, objective, notes["val"], why)]
    train, val = _finite(trials, "train_error"), _finite(trials, "val_error")
    if train is not None:
        lowest = Objective("train_error", "min")
        train_errors = errors["train"][train.index]
        targets.append(_Target("train_error", train, train_errors, lowest, notes["train"], missing))
    if train is not None and val is not None:
        gap = (val - train).dropna()
        smallest = Objective("gap", "min")
        targets.append(
            _Target("gap", gap, errors["gap"][gap.index], smallest, notes["gap"], missing)
        )
    return targets


def _finite(trials: pd.DataFrame, column: str) -> pd.Series | None:
    if column not in trials.columns:
        return None
    return completed(trials, column)[column].astype(float)


def _val_error_scale(trials: pd.DataFrame, column: str) -> float | None:
    """How the objective follows val_error: 1 (it is val_error), −1 (1 − val_error, an accuracy),
    a constant ratio (an unnormalized MSE), or None (it does not: no per-trial interval)."""
    if column == "val_error":
        return 1.0
    if "val_error" not in trials.columns:
        return None
    both = completed(completed(trials, column), "val_error")
    objective, val = both[column].to_numpy(float), both["val_error"].to_numpy(float)
    if not len(both):
        return None
    if np.allclose(objective, val, rtol=0, atol=1e-4):
        return 1.0
    if np.allclose(objective, 1 - val, rtol=0, atol=1e-4):
        return -1.0
    if (val > 0).all():
        ratio = objective / val
        if np.allclose(ratio, np.median(ratio), rtol=1e-3, atol=0):
            return float(np.median(ratio))
    return None


def _trial_errors(
    trials: pd.DataFrame, sizes: Mapping[str, object] | None = None, task: str | None = None
) -> tuple[dict[str, pd.Series], dict[str, str], str]:
    """Standard error of each trial's train error, validation error and gap ("train", "val",
    "gap"): its 95% interval's half width / z (`intervals`), NaN where unknown.

    Classification errors are proportions of `train_n`/`val_n` examples (else `sizes`, the
    manifest's data.sizes); regression errors have `*_error_se` columns.

    Returns:
        (standard errors by name, where they come from by name, why they are unknown).
    """
    proportions = _proportions(trials, task)
    intervals, notes = {}, {}
    for split in ("train", "val"):
        errors = _column(trials, f"{split}_error")
        counts = _column(trials, f"{split}_n").fillna(_size(sizes, split))
        if not proportions:  # a regression error is no proportion of its examples
            counts = pd.Series(math.nan, index=trials.index)
        ses = _column(trials, f"{split}_error_se")
        intervals[split] = [error_ci(e, n, s) for e, n, s in zip(errors, counts, ses, strict=True)]
        notes[split] = _noise_note(counts, ses, split)
    gaps = [
        difference_ci(v, v_ci, t, t_ci, proportions) if v_ci and t_ci else None
        for v, v_ci, t, t_ci in zip(
            _column(trials, "val_error"),
            intervals["val"],
            _column(trials, "train_error"),
            intervals["train"],
            strict=True,
        )
    ]
    standard = {
        name: pd.Series([_se(ci) for ci in cis], index=trials.index, dtype=float)
        for name, cis in (*intervals.items(), ("gap", gaps))
    }
    notes["gap"] = f"{notes['train']}, {notes['val']}"
    missing = "no split sizes" if proportions else "no standard errors"
    return standard, notes, missing


def _proportions(trials: pd.DataFrame, task: str | None) -> bool:
    """Whether errors are proportions (classification): the task says so, else trials.csv has no
    `*_error_se` column (docs/run-format.md: regression runs write them)."""
    if task in CLASSIFICATION_TASKS or task == "regression":
        return task != "regression"
    return not any(str(c).endswith("_error_se") for c in trials.columns)


def _column(trials: pd.DataFrame, column: str) -> pd.Series:
    if column not in trials.columns:
        return pd.Series(math.nan, index=trials.index)
    return pd.to_numeric(trials[column], errors="coerce").astype(float)


def _size(sizes: object, split: str) -> float:
    value = sizes.get(SPLIT_SIZES[split]) if isinstance(sizes, Mapping) else None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _noise_note(counts: pd.Series, ses: pd.Series, split: str) -> str:
    counts = counts.dropna()
    if len(counts):
        low, high = int(counts.min()), int(counts.max())
        return f"{split} n={low}" if low == high else f"{split} n={low}-{high}"
    return f"{split}_error_se" if ses.notna().any() else f"{split} noise unknown"


def _se(ci: tuple[float, float] | None) -> float:
    width = half_width(ci)
    return math.nan if width is None else width / Z


def _target_tests(hps: pd.DataFrame, target: _Target) -> dict[str, EffectTest]:
    """The test of each `hp.` column with two values or more among the target's trials, Holm-
    corrected over them."""
    frame = hps.loc[target.values.index]
    groupings = {c: g for c in frame.columns if (g := _grouping(frame[c])) is not None}
    family = len(groupings)
    raw = {c: _test(c, g, frame, target, family) for c, g in groupings.items()}
    adjusted = sig.holm([t.p_value for t in raw.values()], family)
    correction = f"Holm over {family} hyperparameter{'s' if family != 1 else ''}"
    return {
        c: replace(t, p_value=p, significant=p is not None and p < sig.ALPHA, correction=correction)
        for (c, t), p in zip(raw.items(), adjusted, strict=True)
    }


def _test(
    column: str, grouping: _Grouping, frame: pd.DataFrame, target: _Target, family: int
) -> EffectTest:
    """Importance, uncorrected p-value and test of one hyperparameter for one target."""
    index = grouping.keys.index
    values = target.values[index].to_numpy(float)
    codes = pd.factorize(grouping.keys, sort=True)[0]
    errors = target.errors[index].to_numpy(float)
    known = np.isfinite(errors) & (errors > 0)
    noise = float(np.mean(errors[known] ** 2)) if known.any() else None
    importance = sig.variance_share(values, codes, noise)
    means = target.values[index].groupby(grouping.keys, observed=True).mean()
    best = grouping.names[min(means.index, key=lambda k: target.better.sort_key(means[k]))]
    p_value, test = _p_value(column, codes, values, errors, frame.loc[index], target, family)
    consistent = _best_in_every_block(column, grouping, frame.loc[index], target)
    return EffectTest(importance, False, p_value, test, best, len(values), "", consistent)


def _best_in_every_block(
    column: str, grouping: _Grouping, frame: pd.DataFrame, target: _Target
) -> bool | None:
    """Whether the value best on average is also the best within every block of trials that
    differ in `column` alone (docs/report.md): a learning rate may favour adam at one rate and
    sgd at another. None when no block holds two of its values."""
    others = frame.drop(columns=column).astype(str)
    if not others.shape[1]:
        return None
    blocks = pd.factorize(pd.MultiIndex.from_frame(others))[0]
    keys = grouping.keys.loc[frame.index]
    values = target.values[frame.index]
    means = values.groupby(keys, observed=True).mean()
    overall = min(means.index, key=lambda k: target.better.sort_key(means[k]))
    winners = []
    for block in np.unique(blocks):
        inside = blocks == block
        if keys[inside].nunique() < 2:
            continue
        block_means = values[inside].groupby(keys[inside], observed=True).mean()
        winners.append(min(block_means.index, key=lambda k: target.better.sort_key(block_means[k])))
    if not winners:
        return None
    return all(winner == overall for winner in winners)


def _p_value(
    column: str,
    codes: np.ndarray,
    values: np.ndarray,
    errors: np.ndarray,
    frame: pd.DataFrame,
    target: _Target,
    family: int,
) -> tuple[float | None, str]:
    """The permutation test where values were tried often enough for it to clear the corrected
    threshold; else the trials' own errors, compared among trials that differ in this
    hyperparameter alone; else the permutation test anyway (it will not clear); else none."""
    sizes = np.bincount(codes).tolist()
    replicated = len(values) > len(sizes)
    if replicated and sig.smallest_permutation_p(sizes) <= sig.ALPHA / family:
        return sig.permutation_p(values, codes)
    measured = _measured_p(column, values, errors, frame, target.noise)
    if measured is not None:
        return measured
    if replicated:
        return sig.permutation_p(values, codes)
    known = np.isfinite(errors).any()
    why = "other hyperparameters changed with it" if known else target.no_interval
    return None, f"none (each value tried once; {why})"


def _measured_p(
    column: str, values: np.ndarray, errors: np.ndarray, frame: pd.DataFrame, noise: str
) -> tuple[float, str] | None:
    """The trials' own errors as evidence: trials equal in every other hyperparameter (a block)
    compared by their standard errors. None without such trials."""
    known = np.isfinite(errors) & (errors > 0)
    rows = frame[known]
    others = rows.drop(columns=column)
    if others.shape[1]:
        blocks = pd.factorize(pd.MultiIndex.from_frame(others))[0]
    else:
        blocks = np.zeros(len(rows), dtype=int)
    values_of = pd.factorize(rows[column])[0]
    found = sig.heterogeneity_p(values[known], errors[known], values_of, blocks)
    if found is None:
        return None
    p_value, df, used = found
    name = "z test" if df == 1 else f"chi-square test ({df} df)"
    where = f"{used} trials differing only in {column[len('hp.') :]}; {noise}"
    return p_value, f"{name} on the trials' own errors ({where})"


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
        keys: the keys to look at (default: `NUMERIC_KEYS`, `CATEGORICAL_KEYS` and the
            `model.params.*` keys of the `hp.` columns, `params_keys`).

    Numeric keys: trials at or below the median value ("low") against those above ("high"),
    compared by mean objective; per-layer columns are averaged per trial first. Categorical keys:
    the value with the best mean objective.
    """
    done = completed(trials, column)
    found = {}
    for key in keys or NUMERIC_KEYS + CATEGORICAL_KEYS + params_keys(trials.columns):
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


def params_keys(columns: Sequence[object]) -> tuple[str, ...]:
    """The custom model's `model.params.<name>` keys of these `hp.` columns."""
    prefix = "hp." + PARAMS_PREFIX
    return tuple(str(c)[len("hp.") :] for c in columns if str(c).startswith(prefix))


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
    spans = [(float(v.min()), float(v.max())) for v in (values[~high], values[high])]
    return Evidence(key, better, text, *spans)


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
