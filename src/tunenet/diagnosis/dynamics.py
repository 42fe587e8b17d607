"""What one trial's layers.csv shows (docs/dynamics.md): vanishing or exploding gradients, dead and
saturated units — each with its evidence (layer, epoch, value), the threshold it crossed, and
advice in config keys. Pure pandas; `docs/dynamics.md` gives the measurements behind the
thresholds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from tunenet.diagnosis.advice import Recommendation, TrialContext
from tunenet.diagnosis.builder import layer_rec
from tunenet.diagnosis.curves import Finding
from tunenet.diagnosis.text import format_value

# first hidden layer's gradient norm / the output layer's, below this: vanishing. Measured
# (docs/dynamics.md): 2e-4 or less in an 8-layer sigmoid net, 0.8 or more in healthy ones.
VANISHING_RATIO = 0.01
# a layer's gradient norm this many times its first epoch's: exploding (two orders of magnitude)
EXPLODING_GROWTH = 100.0
# share of a layer's ReLU-family units dead at the best epoch (docs/dynamics.md)
DEAD_SHARE = 0.5
# share of a layer's sigmoid / tanh units saturated at the best epoch
SATURATED_SHARE = 0.5
# a fraction less than this above its threshold is called uncertain
NEAR = 0.1
DYNAMICS_KINDS = ("vanishing_gradients", "exploding_gradients", "dead_units", "saturated_units")
RELU_FAMILY = ("relu", "leaky_relu", "elu", "selu")


@dataclass(frozen=True)
class DynamicsFinding(Finding):
    """A finding of layers.csv: `layer` and `epoch` where it was seen, `value` the measured
    ratio, growth or fraction (`measure` names it), `threshold` the one it crossed, `advice`
    the config keys to change."""

    layer: str | None = None
    value: float | None = None
    threshold: float | None = None
    measure: str = ""
    advice: tuple[Recommendation, ...] = ()


@dataclass(frozen=True)
class DynamicsSummary:
    """The numbers the findings look at, at one epoch, for a report of healthy layers."""

    epoch: int
    layers: int
    gradient_ratio: float | None  # first hidden / output gradient norm
    growth: float | None  # largest gradient norm (any layer) over the first epoch's
    dead: float | None  # largest dead fraction of a layer (None: no ReLU-family layer)
    saturated: float | None  # largest saturated fraction (None: no sigmoid / tanh layer)


def trial_layers(layers: pd.DataFrame | None, trial_id: str) -> pd.DataFrame:
    """One trial's rows of layers.csv (as `runs.read_layers` gives them), in file order."""
    if layers is None or layers.empty:
        return pd.DataFrame()
    return layers[layers["trial_id"] == trial_id]


def dynamics_findings(
    rows: pd.DataFrame,
    best_epoch: int | None = None,
    context: TrialContext | None = None,
) -> list[DynamicsFinding]:
    """Findings of one trial's layers.csv rows.

    Args:
        rows: the trial's rows (one execution), columns `runs.insight.LAYER_COLUMNS`, layers
            in the model's order within each epoch (the last is the output layer).
        best_epoch: the epoch dead and saturated units and the gradient ratio are read at
            (default, or when absent from the rows: the last epoch recorded).
        context: the trial's config values, so that advice names only keys that would change.
    """
    if rows.empty:
        return []
    context = context or TrialContext()
    epoch = _epoch(rows, best_epoch)
    at_best = rows[rows["epoch"] == epoch]
    found = [
        vanishing(at_best, epoch, context),
        exploding(rows, context),
        *unit_findings(at_best, epoch, "dead_fraction", context),
        *unit_findings(at_best, epoch, "saturated_fraction", context),
    ]
    return [finding for finding in found if finding is not None]


def dynamics_summary(rows: pd.DataFrame, best_epoch: int | None = None) -> DynamicsSummary | None:
    """The measured numbers behind the findings (at the best epoch), or None without rows."""
    if rows.empty:
        return None
    epoch = _epoch(rows, best_epoch)
    at_best = rows[rows["epoch"] == epoch]
    growth = _growth(rows)
    return DynamicsSummary(
        epoch=epoch,
        layers=len(at_best),
        gradient_ratio=_gradient_ratio(at_best),
        growth=None if growth is None else growth[0],
        dead=_largest(at_best, "dead_fraction"),
        saturated=_largest(at_best, "saturated_fraction"),
    )


def _epoch(rows: pd.DataFrame, best_epoch: int | None) -> int:
    epochs = set(rows["epoch"].astype(int))
    return int(best_epoch) if best_epoch in epochs else max(epochs)


def _largest(rows: pd.DataFrame, column: str) -> float | None:
    values = pd.to_numeric(rows[column], errors="coerce").dropna()
    return float(values.max()) if len(values) else None


# ---------------------------------------------------------------- the four findings


def _gradient_ratio(at_epoch: pd.DataFrame) -> float | None:
    """The first hidden layer's gradient norm over the output layer's (None: no hidden layer,
    or not two positive finite norms)."""
    if len(at_epoch) < 2:
        return None
    first, last = (float(at_epoch["grad_norm"].iloc[i]) for i in (0, -1))
    if not (math.isfinite(first) and math.isfinite(last)) or last <= 0 or first < 0:
        return None
    return first / last


def vanishing(at_epoch: pd.DataFrame, epoch: int, ctx: TrialContext) -> DynamicsFinding | None:
    """The first hidden layer's gradient norm below VANISHING_RATIO times the output layer's."""
    ratio = _gradient_ratio(at_epoch)
    if ratio is None or ratio >= VANISHING_RATIO:
        return None
    first, last = at_epoch["layer"].iloc[0], at_epoch["layer"].iloc[-1]
    text = (
        f"vanishing gradients at epoch {epoch}: the first hidden layer {first}'s gradient norm "
        f"is {ratio:.2g} times the output layer {last}'s (threshold {VANISHING_RATIO:g}): the "
        "error signal fades on its way back to the first layers"
    )
    advice = _activation_advice(ctx, "relu", "sigmoid and tanh shrink the gradient layer by layer")
    advice += _initializer_advice(ctx) + _batch_norm_advice(ctx)
    return DynamicsFinding(
        "vanishing_gradients", epoch, text, first, ratio, VANISHING_RATIO, "ratio", advice
    )


def _growth(rows: pd.DataFrame) -> tuple[float, str, int, float, float] | None:
    """The largest growth of the network's gradient scale — the largest gradient norm of any
    layer at an epoch — over the first epoch's: (growth, layer holding it, epoch, first, then),
    or None with fewer than two epochs. A single layer rising from a vanishing gradient is not
    an explosion, so growth is measured against the whole network's first scale."""
    norms = rows.assign(grad_norm=pd.to_numeric(rows["grad_norm"], errors="coerce"))
    norms = norms[norms["grad_norm"].map(math.isfinite)]
    if norms.empty:
        return None
    peaks = norms.loc[norms.groupby("epoch")["grad_norm"].idxmax()].sort_values("epoch")
    first = float(peaks["grad_norm"].iloc[0])
    if len(peaks) < 2 or first <= 0:
        return None
    later = peaks.iloc[1:]
    top = later.loc[later["grad_norm"].idxmax()]
    then = float(top["grad_norm"])
    return then / first, str(top["layer"]), int(top["epoch"]), first, then


def exploding(rows: pd.DataFrame, ctx: TrialContext) -> DynamicsFinding | None:
    """The largest gradient norm EXPLODING_GROWTH times the first epoch's, or a gradient norm
    that became NaN or infinite (the blow-up before a diverged loss)."""
    advice = _exploding_advice(ctx)
    bad = rows[~rows["grad_norm"].map(lambda v: math.isfinite(float(v)))]
    if len(bad):
        epoch, layer = int(bad["epoch"].iloc[0]), str(bad["layer"].iloc[0])
        before = rows[(rows["epoch"] < epoch) & (rows["layer"] == layer)]["grad_norm"]
        was = f" (it was {float(before.iloc[-1]):.3g} at epoch {epoch - 1})" if len(before) else ""
        text = (
            f"exploding gradients: layer {layer}'s gradient norm became "
            f"{format_value(float(bad['grad_norm'].iloc[0])) or 'NaN'} at epoch {epoch}{was}"
        )
        value = float(bad["grad_norm"].iloc[0])
        return DynamicsFinding(
            "exploding_gradients", epoch, text, layer, value, None, "not finite", advice
        )
    growth = _growth(rows)
    if growth is None or growth[0] < EXPLODING_GROWTH:
        return None
    ratio, layer, epoch, first, then = growth
    text = (
        f"exploding gradients: the largest gradient norm grew {ratio:.3g}-fold, from "
        f"{first:.3g} at the first epoch to {then:.3g} (layer {layer}) at epoch {epoch} "
        f"(threshold {EXPLODING_GROWTH:g}-fold)"
    )
    return DynamicsFinding(
        "exploding_gradients", epoch, text, layer, ratio, EXPLODING_GROWTH, "growth", advice
    )


def unit_findings(
    at_epoch: pd.DataFrame, epoch: int, column: str, ctx: TrialContext
) -> list[DynamicsFinding]:
    """One dead_units (column dead_fraction) or saturated_units (saturated_fraction) finding:
    the layer with the largest fraction at or above its threshold, naming the others."""
    dead = column == "dead_fraction"
    threshold = DEAD_SHARE if dead else SATURATED_SHARE
    values = pd.to_numeric(at_epoch[column], errors="coerce")
    over = at_epoch[values >= threshold].assign(value=values[values >= threshold])
    if over.empty:
        return []
    worst = over.sort_values("value", ascending=False, kind="stable").iloc[0]
    others = [str(name) for name in over["layer"] if name != worst["layer"]]
    also = f"; also {', '.join(others)}" if others else ""
    how = "output 0 for every probe example" if dead else "within 1% of an asymptote"
    word = "dead" if dead else "saturated"
    text = (
        f"{word} units at epoch {epoch}: {worst['value']:.0%} of layer {worst['layer']}'s "
        f"{int(worst['units'])} units are {word}, {how} (threshold {threshold:.0%}){also}"
    )
    if worst["value"] < threshold + NEAR:
        text += (
            "; close to the threshold, so uncertain: more executions "
            "(search.executions_per_trial) show whether it holds"
        )
    kind = "dead_units" if dead else "saturated_units"
    advice = _dead_advice(ctx) if dead else _saturated_advice(ctx)
    return [
        DynamicsFinding(
            kind, epoch, text, str(worst["layer"]), float(worst["value"]), threshold,
            "fraction", advice,
        )
    ]  # fmt: skip


# ---------------------------------------------------------------- advice in config keys


def _exploding_advice(ctx: TrialContext) -> tuple[Recommendation, ...]:
    lr = ctx.values.get("optimizer.learning_rate")
    now = f" (now {format_value(lr)})" if lr is not None and not isinstance(lr, list) else ""
    recs = [Recommendation("optimizer.learning_rate", "decrease", f"Lower it{now}, e.g. tenfold.")]
    clip = ctx.values.get("optimizer.clipnorm")
    if clip is None:
        text = "Clip gradients: set optimizer.clipnorm to 1.0."
        recs.append(Recommendation("optimizer.clipnorm", "set", text, 1.0))
    else:
        text = f"Clip gradients harder: lower optimizer.clipnorm (now {format_value(clip)})."
        recs.append(Recommendation("optimizer.clipnorm", "decrease", text))
    return tuple(recs) + _batch_norm_advice(ctx)


def _dead_advice(ctx: TrialContext) -> tuple[Recommendation, ...]:
    recs = _activation_advice(ctx, "leaky_relu", "its units keep a gradient below zero")
    lr = ctx.values.get("optimizer.learning_rate")
    now = f" (now {format_value(lr)})" if lr is not None and not isinstance(lr, list) else ""
    text = f"Lower optimizer.learning_rate{now}: large steps push units below zero for good."
    recs += (Recommendation("optimizer.learning_rate", "decrease", text),)
    return recs + _initializer_advice(ctx) + _batch_norm_advice(ctx)


def _saturated_advice(ctx: TrialContext) -> tuple[Recommendation, ...]:
    recs: tuple[Recommendation, ...] = ()
    if ctx.values.get("data.normalize") == "none":
        text = "Normalize the inputs (large inputs saturate): set data.normalize to standard."
        recs += (Recommendation("data.normalize", "set", text, "standard"),)
    recs += _activation_advice(ctx, "relu", "it does not saturate for positive inputs")
    return recs + _initializer_advice(ctx) + _batch_norm_advice(ctx)


def _activation_advice(ctx: TrialContext, to: str, why: str) -> tuple[Recommendation, ...]:
    if ctx.builder is not None:  # a custom model has no model.activation: its builder does
        return (layer_rec(ctx.builder, f"use {to} activations where it uses others: {why}"),)
    now = ctx.values.get("model.activation")
    if now == to or (to == "relu" and now in RELU_FAMILY):
        return ()
    where = f" (now {format_value(now)})" if now is not None else ""
    text = f"Set model.activation{where} to {to}: {why}."
    return (Recommendation("model.activation", "set", text, to),)


def _initializer_advice(ctx: TrialContext) -> tuple[Recommendation, ...]:
    """he_normal, the initializer for the ReLU family, unless the trial already uses it."""
    if ctx.builder is not None:
        what = "initialize ReLU-family layers with he_normal (kernel_initializer), their scale"
        return (layer_rec(ctx.builder, what),)
    if ctx.values.get("model.initializer") == "he_normal":
        return ()
    now = ctx.values.get("model.initializer")
    where = f" (now {format_value(now)})" if now is not None else ""
    text = f"Set model.initializer{where} to he_normal, the scale for the ReLU family."
    return (Recommendation("model.initializer", "set", text, "he_normal"),)


def _batch_norm_advice(ctx: TrialContext) -> tuple[Recommendation, ...]:
    if ctx.builder is not None:
        what = (
            "add normalization layers (BatchNormalization; LayerNormalization in a recurrent model)"
        )
        return (layer_rec(ctx.builder, what),)
    if ctx.values.get("model.batch_norm") is True:
        return ()
    text = "Add batch normalization: set model.batch_norm to true."
    return (Recommendation("model.batch_norm", "set", text, True),)
