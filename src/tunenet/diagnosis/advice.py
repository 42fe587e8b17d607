"""Recommendations: the rules of thumb for a trial's problems, each naming the config key to
change, checked against what the search itself tried (`effects.search_evidence`).

Only keys that apply to the data are named: `model.kind: cnn` and `data.augmentation` for images
only, and "train longer" only for a curve still improving at its epoch limit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tunenet.config.sections import BUILTIN_SOURCES, KERAS_SOURCES
from tunenet.diagnosis.curves import Finding
from tunenet.diagnosis.effects import Evidence
from tunenet.diagnosis.labels import NOT_LEARNING, VARIANCE, FitDiagnosis
from tunenet.diagnosis.text import finite, format_value

# Keys the advice reads besides the effect keys (`effects.NUMERIC_KEYS`, `CATEGORICAL_KEYS`).
CONTEXT_KEYS = (
    "optimizer.name",
    "model.activation",
    "model.initializer",  # the training-dynamics advice (dynamics.py)
    "data.split.validation",
    "search.executions_per_trial",
)
# Built-in sources that are images (digits: 8x8); the other built-ins are tables.
IMAGE_BUILTINS = ("digits",)


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
    """What is known of one trial's config and data.

    Args:
        values: by dotted key, from the trial's `hp.` columns, else the resolved config; a key is
            absent when unknown.
        image_data: whether the data are images, so that a CNN applies (None: unknown, and
            then no image-only advice is given). See `image_source`.
        source: `data.source` when known (digits feed a dense network flat features).
    """

    values: Mapping[str, object] = field(default_factory=dict)
    image_data: bool | None = None
    source: str | None = None


def image_source(source: str | None, input_shape: Sequence[int] | None = None) -> bool | None:
    """Whether a data source gives images (a CNN applies), from the manifest's data summary.

    Args:
        source: `data.source` (None: unknown).
        input_shape: the model's input shape without the batch axis, when recorded; decides
            for `npz` (2 or more axes: images).

    Returns True for images, keras:* and digits; False for csv, the tabular built-ins and flat
    npz arrays; None when it cannot be told.
    """
    if source in ("images", *KERAS_SOURCES, *IMAGE_BUILTINS):
        return True
    if source == "csv" or source in BUILTIN_SOURCES:
        return False
    if source == "npz" and input_shape:
        return len(input_shape) >= 2
    return None


def recommend(
    fit: FitDiagnosis | None,
    findings: Sequence[Finding],
    context: TrialContext,
    evidence: Mapping[str, Evidence],
) -> list[Recommendation]:
    """Rules of thumb for one trial, most useful first.

    diverged → lower the learning rate, clip gradients, normalize inputs, batch norm;
    not learning → the learning rate, the optimizer, normalization, capacity (never
    regularization or more data);
    high bias → bigger network, less regularization, the learning rate (after an early stop),
    another architecture; high variance → more data or augmentation, more regularization,
    another architecture; a part inside the noise (`fit.uncertain`) → measure on more examples
    or more trainings, never a fix; still improving at the epoch limit → train longer (first),
    the only case that advises more epochs. Bias comes before variance (fix the training error
    first). Recommendations the search's evidence agrees with move to the front, contradicted
    ones to the back.

    Args:
        fit: the trial's bias/variance diagnosis (None: errors not recorded).
        findings: its learning curve's findings (`curves.curve_findings`).
        context: what is known of its config and data.
        evidence: what the search's trials say per config key (`effects.search_evidence`).
    """
    kinds = {finding.kind for finding in findings}
    if "diverged" in kinds:
        recs = _divergence_recs(context)
    elif fit is not None and fit.label == NOT_LEARNING:
        recs = _not_learning_recs(context)
    else:
        recs = _fit_recs(fit, findings, context)
        if "still_improving" in kinds:
            recs.insert(0, _train_longer(context))
    recs = [_with_evidence(rec, evidence.get(rec.key)) for rec in _unique(recs)]
    order = {True: 0, None: 1, False: 2}
    return sorted(recs, key=lambda rec: order[rec.agrees])


def _fit_recs(
    fit: FitDiagnosis | None, findings: Sequence[Finding], ctx: TrialContext
) -> list[Recommendation]:
    if fit is None:
        return []
    recs: list[Recommendation] = []
    if fit.high_bias:
        # with a gap that is (or may be) real, less regularization would widen it
        gap = fit.high_variance or VARIANCE in fit.uncertain
        recs += _bias_recs(ctx, _stop(findings), less_regularization=not gap)
    if fit.high_variance:
        recs += _variance_recs(ctx)
    if fit.uncertain:  # a part above its threshold but inside the noise
        recs += _certainty_recs(ctx, VARIANCE in fit.uncertain)
    return recs


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


def _not_learning_recs(ctx: TrialContext) -> list[Recommendation]:
    """No better than the majority class (the mean): the optimization or the capacity failed,
    not the fit; regularization or more data would not help."""
    text = (
        f"Find a learning rate that learns: try {_key(ctx, 'optimizer.learning_rate')} 10x "
        f"higher and 10x lower, or search {_lr_range(ctx)} (tunenet lr-find suggests one)."
    )
    recs = [Recommendation("optimizer.learning_rate", "change", text)]
    name = ctx.values.get("optimizer.name")
    if name != "adam":
        unknown = " (if it is not already)" if name is None else ""
        text = f"Use an adaptive optimizer: set {_key(ctx, 'optimizer.name')} to adam{unknown}."
        recs.append(Recommendation("optimizer.name", "set", text, "adam"))
    if ctx.values.get("data.normalize") in (None, "none"):
        text = f"Normalize the inputs: set {_key(ctx, 'data.normalize')} to standard."
        recs.append(Recommendation("data.normalize", "set", text, "standard"))
    capacity = _capacity_recs(ctx, "A network this small may not fit the data at all")
    # no hidden layer at all (a linear model on circles): capacity is the first fix
    return capacity + recs if ctx.values.get("model.layers") == 0 else recs + capacity


def _bias_recs(
    ctx: TrialContext, stop: Finding | None, less_regularization: bool
) -> list[Recommendation]:
    recs = _capacity_recs(ctx, "Use a bigger network")
    for key, name in (
        ("regularization.l2", "L2 weight decay"),
        ("regularization.dropout", "dropout"),
        ("regularization.l1", "the L1 penalty"),
    ):
        value = ctx.values.get(key)
        if less_regularization and (value is None or _positive(value)):
            text = f"Regularize less: lower {name}, {_key(ctx, key)}."
            recs.append(Recommendation(key, "decrease", text))
    if stop is not None:
        # early stopping on a plateau with a high training error: more epochs would not help
        text = (
            f"Training {_stopped_at(ctx, stop)} with the training error still high: try "
            f"{_key(ctx, 'optimizer.learning_rate')} 3x higher and 3x lower."
        )
        recs.append(Recommendation("optimizer.learning_rate", "change", text))
    recs.append(_architecture(ctx))
    return recs


def _capacity_recs(ctx: TrialContext, why: str) -> list[Recommendation]:
    layers, units = _key(ctx, "model.layers"), _key(ctx, "model.units")
    if ctx.values.get("model.layers") == 0:  # no hidden layer: model.units does nothing yet
        return [Recommendation("model.layers", "increase", f"{why}: add hidden layers, {layers}.")]
    return [
        Recommendation("model.layers", "increase", f"{why}: more hidden layers, raise {layers}."),
        Recommendation("model.units", "increase", f"{why}: more units per layer, raise {units}."),
    ]


def _variance_recs(ctx: TrialContext) -> list[Recommendation]:
    # Raising data.limit is the cheapest fix; without a limit, more data means collecting it.
    limited = ctx.values.get("data.limit") is not None
    recs = [_more_data(ctx)] if limited else []
    if _augmentation_applies(ctx):
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


def _certainty_recs(ctx: TrialContext, validation: bool) -> list[Recommendation]:
    """A part above its threshold but inside the noise: measure better before fixing it. A
    larger validation split narrows the gap's interval (not the bias's: that is training's)."""
    split = _key(ctx, "data.split.validation")
    runs = _key(ctx, "search.executions_per_trial")
    recs = [
        Recommendation(
            "search.executions_per_trial",
            "increase",
            f"Be sure first: average each trial over more trainings, raise {runs} (e.g. 3).",
        )
    ]
    if validation:
        text = f"Be sure first: validate on more examples, raise {split} (e.g. 0.3)."
        recs.insert(0, Recommendation("data.split.validation", "increase", text))
    return recs


def _more_data(ctx: TrialContext) -> Recommendation:
    if "data.limit" not in ctx.values:
        text = "Use more training data (raise data.limit if it is set)."
    elif ctx.values["data.limit"] is None:
        text = "Get more training data (data.limit is not set: every example is used already)."
    else:
        text = f"Use more data: raise or remove {_key(ctx, 'data.limit')}."
    return Recommendation("data.limit", "increase", text)


def _train_longer(ctx: TrialContext) -> Recommendation:
    text = (
        f"Train longer: raise {_key(ctx, 'training.epochs')}; validation loss was still "
        "falling at the last epoch."
    )
    return Recommendation("training.epochs", "increase", text)


def _architecture(ctx: TrialContext) -> Recommendation:
    kind = ctx.values.get("model.kind")
    if kind == "cnn":
        text = "Try another architecture: change the conv blocks (model.filters, model.layers)."
        return Recommendation("model.filters", "change", text)
    if ctx.image_data:
        text = "Try another architecture: set model.kind to cnn (image data)."
        return Recommendation("model.kind", "set", text, "cnn")
    # tables (or data of unknown kind): a CNN does not apply; change the dense network's shape
    text = (
        f"Try another architecture: another activation, {_key(ctx, 'model.activation')} "
        "(e.g. elu or gelu), or another shape of layers (model.layers, model.units)."
    )
    return Recommendation("model.activation", "change", text)


def _augmentation_applies(ctx: TrialContext) -> bool:
    """Augmentation needs image-shaped inputs: digits are flat features for a dense network."""
    if ctx.values.get("model.kind") == "cnn":
        return True
    return bool(ctx.image_data) and ctx.source not in IMAGE_BUILTINS


def _lr_range(ctx: TrialContext) -> str:
    """A log range from 10x below to 10x above the trial's learning rate (when it is one)."""
    lr = ctx.values.get("optimizer.learning_rate")
    low, high = (1e-4, 1e-1)
    if finite(lr) and not isinstance(lr, bool) and float(lr) > 0:  # type: ignore[arg-type]
        low, high = float(lr) / 10, float(lr) * 10  # type: ignore[arg-type]
    return f"optimizer.learning_rate: {{min: {low:.3g}, max: {high:.3g}, sampling: log}}"


def _stop(findings: Sequence[Finding]) -> Finding | None:
    return next((f for f in findings if f.kind == "stopped_early"), None)


def _stopped_at(ctx: TrialContext, stop: Finding) -> str:
    """ "stopped early at epoch 9 of 100" (the limit when known)."""
    limit = ctx.values.get("training.epochs")
    of = f" of {format_value(limit)}" if limit is not None else ""
    return f"stopped early at epoch {stop.epoch}{of}"


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
