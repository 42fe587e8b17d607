"""Pure diagnosis: errors and learning curves in, labels, findings and recommendations out.

Nothing here reads files or prints. `report` loads a run directory and calls these functions;
`docs/report.md` describes the rules in words.

Per trial:
- `fit_diagnosis`: avoidable bias and variance against the thresholds → one of `LABELS`.
- `curve_findings`: diverged, still improving, overfitting began at epoch k, stopped early at k.
- `recommend`: the rules of thumb for those problems, each naming the config key to change,
  checked against what the search itself tried (`search_evidence`).
For the search: `rank`, `hp_effects` and `verdict`; for a `search.strategy: capacity` run,
`capacity_curve` (the objective as the network grows, and where growth stopped paying).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

HIGH_BIAS = "high bias"
HIGH_VARIANCE = "high variance"
BOTH = "high bias and high variance"
GOOD_FIT = "good fit"
LABELS = (HIGH_BIAS, HIGH_VARIANCE, BOTH, GOOD_FIT)

# A loss larger than this multiple of its first value has blown up (diverged).
BLOW_UP_FACTOR = 10.0
# Overfitting needs validation loss to rise for this many epochs after its minimum ...
OVERFIT_MIN_EPOCHS = 2
# ... and to end this much (relative) above the minimum, so noise on a plateau is not called one.
OVERFIT_MIN_RISE = 0.02
# Numeric hyperparameters with more distinct values than this are binned by quantile.
MAX_VALUES_UNBINNED = 6
QUANTILE_BINS = 4
# Differences are rounded before comparing with a threshold: 0.17 - 0.12 is 0.05000000000000002.
DECIMALS = 9

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
class Thresholds:
    """What the errors are compared with (fractions: 0.05 is 5 %)."""

    target_error: float
    bias_threshold: float
    variance_threshold: float


@dataclass(frozen=True)
class FitDiagnosis:
    """Bias/variance of one trial. `label` is one of `LABELS`."""

    avoidable_bias: float
    variance: float
    high_bias: bool
    high_variance: bool
    label: str


@dataclass(frozen=True)
class Finding:
    """Something a learning curve shows. kind: diverged | still_improving | overfitting |
    stopped_early; `epoch` is the epoch it refers to (1-based) when there is one."""

    kind: str
    epoch: int | None
    text: str


@dataclass(frozen=True)
class Evidence:
    """What the search's own trials say about one config key.

    `better` is "higher" or "lower" for numeric keys, the best value's label for categorical ones.
    """

    key: str
    better: str
    text: str


@dataclass(frozen=True)
class Recommendation:
    """One thing to change. action: increase | decrease | set | change; `value` the value to set.
    `agrees` says whether the search's evidence points the same way (None: no evidence)."""

    key: str
    action: str
    text: str
    value: object = None
    evidence: str | None = None
    agrees: bool | None = None


@dataclass(frozen=True)
class TrialContext:
    """What is known of one trial's config: `values` by dotted key (from its `hp.` columns, else
    the resolved config; absent when unknown), and whether the data are images (None: unknown)."""

    values: Mapping[str, object] = field(default_factory=dict)
    image_data: bool | None = None


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


@dataclass(frozen=True)
class CapacityStep:
    """One trial of a capacity search: the network's size and how it did.

    `layers` is the number of hidden layers (conv blocks for a CNN), `widths` the units (filters)
    of each; None when the run does not say. `objective` is None unless the trial completed."""

    trial_id: str
    status: str
    layers: int | None
    widths: tuple[int, ...] | None
    objective: float | None
    train_error: float | None
    val_error: float | None

    @property
    def size(self) -> int | None:
        """Total hidden units (filters): the sum of the widths; 0 without hidden layers."""
        if self.layers == 0:
            return 0
        return sum(self.widths) if self.widths else None

    @property
    def label(self) -> str:
        return size_label(self.layers, self.widths)


@dataclass(frozen=True)
class CapacityCurve:
    """The steps of a capacity search in trial order, the best step and the step after which
    growth stopped paying (`stopped_after`: no later step beat its objective by more than
    `min_delta`). Both are trial ids, None without a completed step."""

    steps: tuple[CapacityStep, ...]
    direction: str
    min_delta: float
    best: str | None
    stopped_after: str | None

    def step(self, trial_id: str | None) -> CapacityStep | None:
        return next((s for s in self.steps if s.trial_id == trial_id), None)


# ---------------------------------------------------------------- bias and variance


def fit_diagnosis(
    train_error: float | None, val_error: float | None, thresholds: Thresholds
) -> FitDiagnosis | None:
    """Label one trial from its errors. Returns None when either error is missing or not finite.

    avoidable bias = train_error - target_error; variance = val_error - train_error;
    high bias when avoidable bias > bias_threshold, high variance when variance >
    variance_threshold.
    """
    if not _finite(train_error) or not _finite(val_error):
        return None
    bias = round(train_error - thresholds.target_error, DECIMALS)
    variance = round(val_error - train_error, DECIMALS)
    high_bias = bias > thresholds.bias_threshold
    high_variance = variance > thresholds.variance_threshold
    return FitDiagnosis(bias, variance, high_bias, high_variance, _label(high_bias, high_variance))


def _label(high_bias: bool, high_variance: bool) -> str:
    if high_bias and high_variance:
        return BOTH
    if high_bias:
        return HIGH_BIAS
    if high_variance:
        return HIGH_VARIANCE
    return GOOD_FIT


# ---------------------------------------------------------------- learning curves


def curve_findings(
    curve: pd.DataFrame,
    *,
    status: str = "completed",
    best_epoch: int | None = None,
    epochs_trained: int | None = None,
    stopped_early: bool | None = None,
    epoch_limit: int | None = None,
) -> list[Finding]:
    """Findings of one trial's learning curve.

    Args:
        curve: one execution's rows, columns `epoch`, `loss`, `val_loss` (1-based epochs).
        status: the trial's status; "diverged" is a finding even without a curve.
        best_epoch: the trial's best epoch (default: where validation loss is lowest).
        epochs_trained: epochs the trial ran (default: the curve's last epoch).
        stopped_early: whether early stopping ended it (None: unknown).
        epoch_limit: `training.epochs`; None means a trial not stopped early hit its limit.

    A diverged curve gets only the divergence finding: the rest of it means little.
    """
    curve = curve.sort_values("epoch") if len(curve) else curve
    diverged = divergence(curve, status)
    if diverged:
        return [diverged]
    last = epochs_trained or _last_epoch(curve)
    best = best_epoch or _min_epoch(curve)
    found = [
        still_improving(best, last, stopped_early, epoch_limit),
        overfitting_start(curve),
        early_stop(last, best, stopped_early),
    ]
    return [finding for finding in found if finding]


def divergence(curve: pd.DataFrame, status: str = "completed") -> Finding | None:
    """NaN/inf in loss or val_loss, or a training loss that grew past 10x its first value."""
    for column in ("loss", "val_loss"):
        values = _column(curve, column)
        bad = ~np.isfinite(values)
        if bad.any():
            epoch = int(curve["epoch"].to_numpy()[bad.argmax()])
            kind = "NaN" if np.isnan(values[bad.argmax()]) else "infinite"
            return Finding("diverged", epoch, f"diverged: {column} became {kind} at epoch {epoch}")
    loss = _column(curve, "loss")
    if len(loss) > 1 and loss[0] > 0 and loss[1:].max() > BLOW_UP_FACTOR * loss[0]:
        index = 1 + int(np.argmax(loss[1:] > BLOW_UP_FACTOR * loss[0]))
        epoch = int(curve["epoch"].to_numpy()[index])
        text = f"diverged: loss grew from {loss[0]:.3g} to {loss[index]:.3g} by epoch {epoch}"
        return Finding("diverged", epoch, text)
    if status == "diverged":
        return Finding("diverged", _last_epoch(curve), "diverged (recorded by the search)")
    return None


def still_improving(
    best_epoch: int | None,
    last_epoch: int | None,
    stopped_early: bool | None,
    epoch_limit: int | None,
) -> Finding | None:
    """Best epoch is the last one and training hit its epoch limit: it should train longer."""
    if best_epoch is None or last_epoch is None or best_epoch < last_epoch:
        return None
    hit_limit = last_epoch >= epoch_limit if epoch_limit else stopped_early is not True
    if not hit_limit:
        return None
    text = f"still improving at the epoch limit: the best epoch is the last ({last_epoch})"
    return Finding("still_improving", last_epoch, text)


def overfitting_start(curve: pd.DataFrame) -> Finding | None:
    """Validation loss lowest at epoch k, then rising for at least `OVERFIT_MIN_EPOCHS` epochs
    to end more than `OVERFIT_MIN_RISE` above that minimum."""
    val_loss = _column(curve, "val_loss")
    if len(val_loss) <= OVERFIT_MIN_EPOCHS:
        return None
    index = int(np.argmin(val_loss))
    after = val_loss[index + 1 :]
    lowest = val_loss[index]
    if len(after) < OVERFIT_MIN_EPOCHS or after[-1] <= lowest + OVERFIT_MIN_RISE * abs(lowest):
        return None
    epoch = int(curve["epoch"].to_numpy()[index])
    text = (
        f"overfitting began at epoch {epoch}: validation loss was lowest there ({lowest:.4g}) "
        f"and rose over the next {len(after)} epochs to {after[-1]:.4g}"
    )
    loss = _column(curve, "loss")
    if len(loss) == len(val_loss) and loss[-1] < loss[index]:
        text += " while training loss kept falling"
    return Finding("overfitting", epoch, text)


def early_stop(
    last_epoch: int | None, best_epoch: int | None, stopped_early: bool | None
) -> Finding | None:
    """Early stopping ended the trial at its last epoch."""
    if not stopped_early or last_epoch is None:
        return None
    best = f" (best epoch {best_epoch})" if best_epoch else ""
    return Finding("stopped_early", last_epoch, f"stopped early at epoch {last_epoch}{best}")


def _column(curve: pd.DataFrame, name: str) -> np.ndarray:
    if name not in curve.columns:
        return np.array([], dtype=float)
    return pd.to_numeric(curve[name], errors="coerce").to_numpy(dtype=float)


def _last_epoch(curve: pd.DataFrame) -> int | None:
    return int(curve["epoch"].max()) if len(curve) else None


def _min_epoch(curve: pd.DataFrame) -> int | None:
    val_loss = _column(curve, "val_loss")
    if not len(val_loss) or not np.isfinite(val_loss).any():
        return None
    return int(curve["epoch"].to_numpy()[np.nanargmin(val_loss)])


# ---------------------------------------------------------------- recommendations


def recommend(
    fit: FitDiagnosis | None,
    findings: Sequence[Finding],
    context: TrialContext,
    evidence: Mapping[str, Evidence],
) -> list[Recommendation]:
    """Rules of thumb for one trial, most useful first.

    diverged → lower the learning rate, clip gradients, normalize inputs, batch norm;
    high bias → bigger network, train longer, less regularization, another architecture;
    high variance → more data or augmentation, more regularization, another architecture;
    still improving → train longer. Bias comes before variance (fix the training error first).
    Recommendations the search's evidence agrees with move to the front, contradicted ones to
    the back.
    """
    kinds = {finding.kind for finding in findings}
    recs: list[Recommendation] = []
    if "diverged" in kinds:
        recs += _divergence_recs(context)
    elif fit is not None:
        if fit.high_bias:
            # with high variance too, less regularization would fight the variance fix
            less_regularization = not fit.high_variance
            recs += _bias_recs(context, "still_improving" in kinds, less_regularization)
        if fit.high_variance:
            recs += _variance_recs(context)
    if "still_improving" in kinds and not any(r.key == "training.epochs" for r in recs):
        recs.insert(0, _train_longer(context, still_improving=True))
    recs = [_with_evidence(rec, evidence.get(rec.key)) for rec in _unique(recs)]
    order = {True: 0, None: 1, False: 2}
    return sorted(recs, key=lambda rec: order[rec.agrees])


def _divergence_recs(ctx: TrialContext) -> list[Recommendation]:
    lr = _key(ctx, "optimizer.learning_rate")
    recs = [Recommendation("optimizer.learning_rate", "decrease", f"Lower {lr}, e.g. tenfold.")]
    if ctx.values.get("optimizer.clipnorm") is None:
        text = "Clip gradients: set optimizer.clipnorm to 1.0."
        recs.append(Recommendation("optimizer.clipnorm", "set", text, 1.0))
    else:
        text = f"Clip gradients harder: lower {_key(ctx, 'optimizer.clipnorm')}."
        recs.append(Recommendation("optimizer.clipnorm", "decrease", text))
    if ctx.values.get("data.normalize") in (None, "none"):
        text = f"Normalize the inputs: set {_key(ctx, 'data.normalize')} to standard."
        recs.append(Recommendation("data.normalize", "set", text, "standard"))
    if ctx.values.get("model.batch_norm") is not True:
        text = "Add batch normalization: set model.batch_norm to true."
        recs.append(Recommendation("model.batch_norm", "set", text, True))
    return recs


def _bias_recs(
    ctx: TrialContext, still_improving: bool, less_regularization: bool
) -> list[Recommendation]:
    recs = [
        Recommendation(
            "model.layers",
            "increase",
            f"Use a bigger network, with more hidden layers: raise {_key(ctx, 'model.layers')}.",
        ),
        Recommendation(
            "model.units",
            "increase",
            f"Use a bigger network, with more units per layer: raise {_key(ctx, 'model.units')}.",
        ),
        _train_longer(ctx, still_improving),
    ]
    if still_improving:
        recs.insert(0, recs.pop())
    for key, name in (
        ("regularization.l2", "L2 weight decay"),
        ("regularization.dropout", "dropout"),
        ("regularization.l1", "the L1 penalty"),
    ):
        value = ctx.values.get(key)
        if less_regularization and (value is None or _positive(value)):
            text = f"Regularize less: lower {name}, {_key(ctx, key)}."
            recs.append(Recommendation(key, "decrease", text))
    recs.append(_architecture(ctx))
    return recs


def _variance_recs(ctx: TrialContext) -> list[Recommendation]:
    # Raising data.limit is the cheapest fix; without a limit, more data means collecting it.
    limited = ctx.values.get("data.limit") is not None
    recs = [_more_data(ctx)] if limited else []
    if ctx.image_data or ctx.values.get("model.kind") == "cnn":
        text = (
            "Augment the training images: set data.augmentation "
            "(flip, rotation, zoom, translation)."
        )
        recs.append(Recommendation("data.augmentation", "set", text))
    for key, name, typical in (
        ("regularization.dropout", "dropout", "0.2 and 0.5"),
        ("regularization.l2", "L2 weight decay", "1e-4 and 1e-2"),
    ):
        if ctx.values.get(key) == 0:
            text = f"Add {name}: set {key} between {typical} (now 0)."
        else:
            text = f"Regularize more: raise {name}, {_key(ctx, key)}."
        recs.append(Recommendation(key, "increase", text))
    recs.append(_architecture(ctx))
    if not limited:
        recs.append(_more_data(ctx))
    return recs


def _more_data(ctx: TrialContext) -> Recommendation:
    if "data.limit" not in ctx.values:
        text = "Use more training data (raise data.limit if it is set)."
    elif ctx.values["data.limit"] is None:
        text = "Get more training data (data.limit is not set: every example is used already)."
    else:
        text = f"Use more data: raise or remove {_key(ctx, 'data.limit')}."
    return Recommendation("data.limit", "increase", text)


def _train_longer(ctx: TrialContext, still_improving: bool) -> Recommendation:
    why = "; validation loss was still falling at the last epoch" if still_improving else ""
    text = f"Train longer: raise {_key(ctx, 'training.epochs')}{why}."
    return Recommendation("training.epochs", "increase", text)


def _architecture(ctx: TrialContext) -> Recommendation:
    kind = ctx.values.get("model.kind")
    if ctx.image_data and kind in (None, "dense"):
        text = "Try another architecture: set model.kind to cnn (image data)."
        return Recommendation("model.kind", "set", text, "cnn")
    if kind == "cnn":
        text = "Try another architecture: change the conv blocks (model.filters, model.layers)."
    else:
        now = f"; now {kind}" if kind else ""
        text = f"Try another architecture: change model.kind (dense or cnn{now})."
    return Recommendation("model.kind", "change", text)


def _unique(recs: list[Recommendation]) -> list[Recommendation]:
    seen: set[tuple[str, str]] = set()
    kept = []
    for rec in recs:
        if (rec.key, rec.action) not in seen:
            seen.add((rec.key, rec.action))
            kept.append(rec)
    return kept


def _with_evidence(rec: Recommendation, evidence: Evidence | None) -> Recommendation:
    if evidence is None:
        return rec
    if rec.action in ("increase", "decrease"):
        agrees = evidence.better == ("higher" if rec.action == "increase" else "lower")
    elif rec.action == "set" and rec.value is not None:
        agrees = evidence.better == format_value(rec.value)
    else:
        agrees = None
    return Recommendation(rec.key, rec.action, rec.text, rec.value, evidence.text, agrees)


def _key(ctx: TrialContext, key: str) -> str:
    """The key with the trial's value when known: "model.units (now 64, 32)"."""
    value = ctx.values.get(key)
    if value is None:
        return key
    if isinstance(value, (list, tuple)):
        return f"{key} (now {', '.join(format_value(v) for v in value)})"
    return f"{key} (now {format_value(value)})"


def _positive(value: object) -> bool:
    try:
        return float(value) > 0  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True


# ---------------------------------------------------------------- what the search tried


def key_columns(columns: Sequence[str], key: str) -> list[str]:
    """The `hp.` columns of a config key: `hp.<key>` itself and per-layer `hp.<key>.<n>`."""
    prefix = f"hp.{key}"
    return [c for c in columns if c == prefix or c.startswith(prefix + ".")]


def search_evidence(
    trials: pd.DataFrame,
    objective: str,
    direction: str,
    keys: Sequence[str] | None = None,
    name: str | None = None,
) -> dict[str, Evidence]:
    """For each config key the search tuned, which direction (or value) did better.

    Args:
        trials: trials.csv rows; only `status == "completed"` rows with an objective count.
        objective: the column holding the objective.
        direction: "max" or "min".
        keys: the keys to look at (default: `NUMERIC_KEYS` and `CATEGORICAL_KEYS`).
        name: the objective's name in the texts (default: the column's).

    Numeric keys: trials at or below the median value ("low") against those above ("high"),
    compared by mean objective; per-layer columns are averaged per trial first. Categorical keys:
    the value with the best mean objective.
    """
    done = completed(trials, objective)
    found = {}
    for key in keys or NUMERIC_KEYS + CATEGORICAL_KEYS:
        columns = key_columns(list(done.columns), key)
        if not columns:
            continue
        values = _key_values(done, columns)
        if values is None:
            continue
        scores = done[objective].astype(float)
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if numeric:
            result = _numeric_evidence(key, values, scores, name or objective, direction)
        else:
            result = _categorical_evidence(key, values, scores, name or objective, direction)
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
    key: str, values: pd.Series, scores: pd.Series, objective: str, direction: str
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
    higher_wins = high_mean > low_mean if direction == "max" else high_mean < low_mean
    better = "higher" if higher_wins else "lower"
    low_range = _span(values[~high])
    high_range = _span(values[high])
    text = (
        f"in this search {better} values did better: mean {objective} "
        f"{high_mean:.4g} at {high_range} against {low_mean:.4g} at {low_range} "
        f"({len(values)} completed trials)"
    )
    return Evidence(key, better, text)


def _categorical_evidence(
    key: str, values: pd.Series, scores: pd.Series, objective: str, direction: str
) -> Evidence | None:
    labels = values.map(format_value)
    keep = values.notna()
    means = scores[keep].groupby(labels[keep]).mean()
    if len(means) < 2:
        return None
    best = means.idxmax() if direction == "max" else means.idxmin()
    others = ", ".join(f"{v} {m:.4g}" for v, m in means.items() if v != best)
    text = f"in this search {best} did best: mean {objective} {means[best]:.4g} ({others})"
    return Evidence(key, str(best), text)


def _span(values: pd.Series) -> str:
    low, high = values.min(), values.max()
    return format_value(low) if low == high else f"{format_value(low)}-{format_value(high)}"


# ---------------------------------------------------------------- the search as a whole


def completed(trials: pd.DataFrame, objective: str) -> pd.DataFrame:
    """Completed trials with a finite objective."""
    if objective not in trials.columns:
        return trials.iloc[0:0]
    scores = pd.to_numeric(trials[objective], errors="coerce")
    return trials[(trials["status"] == "completed") & np.isfinite(scores)]


def rank(trials: pd.DataFrame, objective: str, direction: str) -> pd.Series:
    """Rank (1 = best) of each completed trial by objective; NaN for the others.
    Ties share the better rank; the index is the trials' index."""
    done = completed(trials, objective)
    scores = pd.to_numeric(done[objective], errors="coerce")
    ranks = scores.rank(ascending=direction == "min", method="min")
    return ranks.reindex(trials.index)


def hp_effects(trials: pd.DataFrame, objective: str, direction: str) -> list[HpEffect]:
    """Mean objective per value of each `hp.` column (per quantile bin for numeric columns with
    more than `MAX_VALUES_UNBINNED` distinct values), among completed trials; the effects with the
    largest spread between best and worst mean come first."""
    done = completed(trials, objective)
    effects = []
    for column in [c for c in trials.columns if c.startswith("hp.")]:
        effect = _effect(column, done[column], done[objective].astype(float), direction)
        if effect:
            effects.append(effect)
    return sorted(effects, key=lambda effect: -effect.spread)


def _effect(column: str, values: pd.Series, scores: pd.Series, direction: str) -> HpEffect | None:
    keep = values.notna()
    values, scores = values[keep], scores[keep]
    if values.nunique() < 2:
        return None
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
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
    best = max(rows, key=lambda r: r.mean_objective if direction == "max" else -r.mean_objective)
    spread = max(r.mean_objective for r in rows) - min(r.mean_objective for r in rows)
    kind = "numeric" if numeric else "categorical"
    return HpEffect(column[len("hp.") :], kind, binned, rows, best.value, float(spread))


def _sort_key(value: object) -> tuple[int, object]:
    return (0, value) if isinstance(value, (int, float, np.number)) else (1, str(value))


def verdict(
    *,
    counts: Mapping[str, int],
    objective: str,
    best_id: str | None,
    best_objective: float | None,
    best_fit: FitDiagnosis | None,
    best_findings: Sequence[Finding],
    best_test_error: float | None,
    labels: Sequence[str],
    effects: Sequence[HpEffect],
    top_recommendation: Recommendation | None,
    capacity: CapacityCurve | None = None,
) -> str:
    """One plain-language paragraph about the search.

    Args:
        counts: trials per status, plus "trials" for the total.
        labels: the fit labels of the completed trials.
        capacity: the capacity curve of a `search.strategy: capacity` run (one sentence).
    """
    total = counts.get("trials", 0)
    if not total:
        return "No trial has been recorded yet."
    parts = [_counts_sentence(counts)]
    if best_id is None:
        parts.append("No trial completed, so there is no best model to diagnose.")
    else:
        parts.append(_best_sentence(best_id, objective, best_objective, best_fit, best_test_error))
        parts += [f.text[0].upper() + f.text[1:] + "." for f in best_findings]
    if capacity is not None:
        parts.append(capacity_sentence(capacity, objective))
    if labels:
        parts.append(_labels_sentence(labels))
    parts += _effect_sentence(effects, objective)
    if top_recommendation:
        step = top_recommendation.text
        if top_recommendation.evidence:
            step = step.rstrip(".") + f" ({top_recommendation.evidence})."
        parts.append(f"Next: {step}")
    elif best_fit is not None and best_fit.label == GOOD_FIT:
        if _finite(best_test_error):
            parts.append("Next: nothing stands out; the test error is the unbiased estimate.")
        else:
            parts.append("Next: nothing stands out; check the best model on the test split.")
    return " ".join(parts)


def _counts_sentence(counts: Mapping[str, int]) -> str:
    total = counts["trials"]
    others = [
        f"{counts[s]} {s}"
        for s in ("completed", "diverged", "failed", "interrupted")
        if counts.get(s)
    ]
    noun = "trial" if total == 1 else "trials"
    return f"{total} {noun}: {', '.join(others)}." if others else f"{total} {noun}."


def _best_sentence(
    best_id: str,
    objective: str,
    best_objective: float | None,
    fit: FitDiagnosis | None,
    test_error: float | None,
) -> str:
    text = f"The best trial, {best_id}, reached {objective} {format_value(best_objective)}"
    if _finite(test_error):
        text += f" (test error {percent(test_error)})"
    if fit is None:
        return text + "."
    gaps = (
        f"avoidable bias {points(fit.avoidable_bias)}, "
        f"train-to-validation gap {points(fit.variance)}"
    )
    if fit.label == GOOD_FIT:
        return text + f" and fits well ({gaps})."
    return text + f"; it has {fit.label} ({gaps})."


def _labels_sentence(labels: Sequence[str]) -> str:
    counts = pd.Series(list(labels)).value_counts()
    parts = [f"{n} {label}" for label, n in counts.items()]
    return f"Of the {len(labels)} completed trials: {', '.join(parts)}."


def _effect_sentence(effects: Sequence[HpEffect], objective: str) -> list[str]:
    """The largest effect whose every value was tried at least twice (one trial per value is
    noise, not an effect)."""
    solid = [e for e in effects if min(r.trials for r in e.rows) >= 2]
    if not solid:
        return (
            ["Too few trials per value to tell which hyperparameter mattered most."]
            if effects
            else []
        )
    effect = solid[0]
    best = next(r for r in effect.rows if r.value == effect.best_value)
    worst = max(effect.rows, key=lambda r: abs(r.mean_objective - best.mean_objective))
    return [
        f"{effect.hyperparameter} mattered most: mean {objective} {best.mean_objective:.4g} "
        f"at {best.value} against {worst.mean_objective:.4g} at {worst.value}."
    ]


# ---------------------------------------------------------------- capacity search


def size_label(layers: int | None, widths: Sequence[int] | None) -> str:
    """`2×16` (2 layers of 16), `32-16` when the widths differ, `0 layers`, `?` when unknown."""
    if layers == 0:
        return "0 layers"
    if not widths:
        return f"{layers}×?" if layers is not None else "?"
    if len(set(widths)) == 1:
        return f"{len(widths)}×{widths[0]}"
    return "-".join(str(w) for w in widths)


def capacity_curve(
    steps: Sequence[CapacityStep], direction: str, min_delta: float
) -> CapacityCurve:
    """Find the best step and where growth stopped paying, in the order of `steps` (trial order).

    Growth stopped paying after the first completed step that no later completed step beats by
    more than `min_delta` (in the objective's `direction`; differences rounded to `DECIMALS`, as
    for the thresholds). When that is the last completed step, growth was still paying at the end
    of the search. The best step is the first one with the best objective."""
    done = [s for s in steps if _finite(s.objective)]
    best = None
    for s in done:
        if best is None or _gain(s.objective, best.objective, direction) > 0:  # type: ignore[arg-type]
            best = s
    stopped = None
    for i, s in enumerate(done):
        later = [_gain(t.objective, s.objective, direction) for t in done[i + 1 :]]  # type: ignore[arg-type]
        if all(gain <= min_delta for gain in later):
            stopped = s
            break
    return CapacityCurve(
        steps=tuple(steps),
        direction=direction,
        min_delta=float(min_delta),
        best=best.trial_id if best else None,
        stopped_after=stopped.trial_id if stopped else None,
    )


def _gain(score: float, reference: float, direction: str) -> float:
    """How much better `score` is than `reference` (negative: worse), rounded to `DECIMALS`."""
    gain = score - reference if direction == "max" else reference - score
    return round(gain, DECIMALS)


def capacity_sentence(curve: CapacityCurve, objective: str) -> str:
    """Where growth stopped paying, in one sentence (the report's capacity line)."""
    done = [s for s in curve.steps if _finite(s.objective)]
    stop, best = curve.step(curve.stopped_after), curve.step(curve.best)
    if stop is None or best is None:
        return f"No completed step: the capacity curve has no {objective} to compare."
    where = f"{stop.label} (trial {stop.trial_id}, {objective} {format_value(stop.objective)})"
    if len(done) == 1:
        return f"Only one completed step, {where}: too few to see where growth stops paying."
    span = f"{len(curve.steps)} steps from {curve.steps[0].label} to {curve.steps[-1].label}"
    if stop is done[-1]:
        return (
            f"Growth was still paying at the last step, {where} ({span}): each step was beaten "
            f"by a later one by more than min_delta {curve.min_delta:g}; widen model.layers or "
            "the widths, or raise search.max_trials, to see where it stops."
        )
    text = (
        f"Growth stopped paying after {where}: no later step beat it by more than "
        f"min_delta {curve.min_delta:g} ({span})"
    )
    if best is not stop:
        gain = _gain(best.objective, stop.objective, curve.direction)  # type: ignore[arg-type]
        text += (
            f"; the best, {best.label} (trial {best.trial_id}), is only {format_value(gain)} better"
        )
    return text + "."


# ---------------------------------------------------------------- formatting shared by renderers


def format_value(value: object) -> str:
    """A hyperparameter or metric value as text: 64 not 64.0, 0.001 not 1e-03, true/false."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.4g}"
    return str(value)


def percent(value: float | None) -> str:
    """0.125 → "12.5%"; empty for a missing value."""
    return f"{value * 100:.1f}%" if _finite(value) else ""


def points(value: float | None) -> str:
    """A difference of errors in percentage points: 0.13 → "+13.0 pts"."""
    return f"{value * 100:+.1f} pts" if _finite(value) else ""


def _finite(value: object) -> bool:
    try:
        return value is not None and math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
