"""Recommendations: the rules of thumb for a trial's problems, each naming the config key to
change, checked against what the search itself tried (`effects.search_evidence`).

Causes come before the rules of thumb (docs/report.md): a significant effect whose worse side
the trial is on, plain SGD or a rate at the low end of the space on a curve still improving, a
trial of the same size or smaller that fits, unscaled inputs, and nothing left to gain on the
split. Only keys that apply to the data are named: `model.kind: cnn` and `data.augmentation` for
images only, and "train longer" only for a curve still improving at its epoch limit. A model the
user builds (`model.kind: custom`) gets advice on its builder instead of the dense and CNN
families' keys (diagnosis/builder.py)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tunenet.config.sections import BUILTIN_SOURCES, KERAS_SOURCES
from tunenet.diagnosis import builder as custom
from tunenet.diagnosis.builder import ModelBuilder
from tunenet.diagnosis.curves import Finding
from tunenet.diagnosis.effects import Evidence
from tunenet.diagnosis.labels import NOT_LEARNING, TOLERANCE, VARIANCE, FitDiagnosis
from tunenet.diagnosis.recommendation import Recommendation, key_text
from tunenet.diagnosis.text import finite, format_value, p_text, percent

# Keys the advice reads besides the effect keys (`effects.NUMERIC_KEYS`, `CATEGORICAL_KEYS`).
CONTEXT_KEYS = (
    "optimizer.name",
    "model.activation",
    "model.initializer",  # the training-dynamics advice (dynamics.py)
    "data.split.validation",
    "data.split.test",
    "search.executions_per_trial",
    "training.batch_size",
)
# Built-in sources that are images (digits: 8x8); the other built-ins are tables.
IMAGE_BUILTINS = ("digits",)
# A learning rate in the lowest quarter of its searched range (on the range's own scale) is at
# the low end of the space.
LOW_END_SHARE = 0.25
# Features whose standard deviations differ by more than this factor need normalizing.
SCALE_RATIO = 100.0
# What a fitting trial of the same size may differ in, named first when it does.
PEER_KEYS = ("optimizer.name", "optimizer.learning_rate", "data.normalize")
# Keys of how a network learns (docs/report.md: a trial not learning gets advice on these only).
LEARNING_KEYS = ("optimizer.", "data.normalize", "model.activation", "model.initializer",
                 "model.batch_norm")  # fmt: skip
CAPACITY = ("model.layers", "model.units")
REGULARIZATION = {
    "regularization.l2": "L2 weight decay",
    "regularization.dropout": "dropout",
    "regularization.l1": "the L1 penalty",
}


@dataclass(frozen=True)
class RateSpace:
    """The searched `optimizer.learning_rate`: a range from `low` to `high` (`log` sampling or
    linear) or a list of choices (`values`)."""

    low: float
    high: float
    log: bool = False
    values: tuple[float, ...] = ()

    @property
    def low_end(self) -> float:
        """The highest rate at the low end: a list's smallest value; a range's lowest quarter
        (`LOW_END_SHARE`), geometric for log sampling."""
        if self.values:
            return min(self.values)
        if self.log and self.low > 0:
            return self.low * (self.high / self.low) ** LOW_END_SHARE
        return self.low + (self.high - self.low) * LOW_END_SHARE

    def at_low_end(self, rate: object) -> bool:
        value = _number(rate)
        return value is not None and value <= self.low_end * (1 + 1e-9)

    @property
    def text(self) -> str:
        """ "the searched 0.0001 to 0.1 (log)", "the choices 0.0001, 0.001, 0.01"."""
        if self.values:
            return "the choices " + ", ".join(format_value(v) for v in sorted(self.values))
        sampling = "log" if self.log else "linear"
        return f"the searched {format_value(self.low)} to {format_value(self.high)} ({sampling})"


@dataclass(frozen=True)
class TrialSize:
    """A trial's network size: trainable `params` when recorded, else hidden `layers` and their
    total `units` (a CNN's filters); `label` as the capacity curve writes it ("1×128")."""

    params: int | None = None
    layers: int | None = None
    units: int | None = None
    label: str = "?"

    def at_most(self, other: TrialSize | None) -> bool | None:
        """Same size or smaller than `other`: params ≤, else layers ≤ and units ≤ (None:
        unknown)."""
        if other is None:
            return None
        if self.params is not None and other.params is not None:
            return self.params <= other.params
        sizes = (self.layers, self.units, other.layers, other.units)
        if any(size is None for size in sizes):
            return None
        return self.layers <= other.layers and self.units <= other.units  # type: ignore[operator]


@dataclass(frozen=True)
class PeerTrial:
    """A completed trial of the same run that fits (no high bias, learning, not diverged)."""

    trial_id: str
    label: str
    size: TrialSize
    values: Mapping[str, object] = field(default_factory=dict)
    val_error: float | None = None


@dataclass(frozen=True)
class RunFacts:
    """What the other trials of the run say: those that fit, and how many completed trials are
    tied with the best (the difference's 95% interval includes zero, or equal objectives)."""

    fitting: tuple[PeerTrial, ...] = ()
    tied_at_top: int = 0
    completed: tuple[PeerTrial, ...] = ()  # every completed trial, for cause (a)'s check


@dataclass(frozen=True)
class TrialContext:
    """What is known of one trial's config and data.

    Args:
        values: by dotted key, from the trial's `hp.` columns, else the resolved config; a key is
            absent when unknown.
        image_data: whether the data are images, so that a CNN applies (None: unknown, and
            then no image-only advice is given). See `image_source`.
        source: `data.source` when known (digits feed a dense network flat features).
        trial_id: the trial's id (a peer is never the trial itself).
        rate_space: the searched `optimizer.learning_rate` (None: fixed or unknown).
        scale_ratio: largest / smallest standard deviation of the input features (manifest.json
            `data.feature_scales`), with `scale_features` (largest, smallest) naming them.
        target_error: the target error the fit was judged against.
        val_error: the trial's validation error.
        best_epoch, epochs_trained: from trials.csv (best = last: the curve still improved).
        size: the trial's network size.
        run: what the run's other trials say (`RunFacts`).
        builder: the user's builder of a `model.kind: custom` model (None: a built-in family);
            its advice never names the dense or CNN family's keys (diagnosis/builder.py).
    """

    values: Mapping[str, object] = field(default_factory=dict)
    image_data: bool | None = None
    source: str | None = None
    trial_id: str | None = None
    rate_space: RateSpace | None = None
    scale_ratio: float | None = None
    scale_features: tuple[str, str] | None = None
    target_error: float | None = None
    val_error: float | None = None
    best_epoch: int | None = None
    epochs_trained: int | None = None
    size: TrialSize | None = None
    run: RunFacts = field(default_factory=RunFacts)
    builder: ModelBuilder | None = None


def image_source(source: str | None, input_shape: Sequence[int] | None = None) -> bool | None:
    """Whether a data source gives images (a CNN applies), from the manifest's data summary.

    Args:
        source: `data.source` (None: unknown).
        input_shape: the model's input shape without the batch axis, when recorded; decides
            for `npz` (2 or more axes: images) and `python` (3 axes: images; fewer: tables,
            sequences, token ids).

    Returns True for images, keras:* and digits; False for csv, the tabular built-ins and flat
    npz arrays; None when it cannot be told.
    """
    if source == "python" and input_shape:
        return len(input_shape) == 3
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
    """Causes first, then the rules of thumb for one trial, most useful first.

    Causes (docs/report.md, in this order): (a) a significant effect (evidence with a
    `p_value`) whose worse side the trial is on → that key; (b) plain SGD or a learning rate at
    the low end of the space while the curve still improves → the learning rate, the optimizer,
    the epochs, and never a bigger network or less regularization; (c) a fitting trial of the
    same size or smaller → no bigger network, and what that trial does differently; (d)
    `data.normalize: none` with feature scales more than `SCALE_RATIO` apart → normalize;
    (e) a validation error at or below the target with ties at the top → no "train longer":
    nothing to gain on this split. (a) to (d) answer a problem (high bias, not learning; (a)
    also high variance).

    Rules of thumb: diverged → lower the learning rate, clip gradients, normalize inputs, batch
    norm; not learning → the learning rate, the optimizer, normalization, capacity (never
    regularization or more data); high bias → bigger network, less regularization, the learning
    rate (after an early stop), another architecture; high variance → more data or augmentation,
    more regularization, another architecture; a part inside the noise (`fit.uncertain`) →
    measure on more examples or more trainings, never a fix; still improving at the epoch limit
    → train longer (first), the only case that advises more epochs. Bias comes before variance
    (fix the training error first). Among these, the ones the search's evidence agrees with
    move to the front, contradicted ones to the back.

    Args:
        fit: the trial's bias/variance diagnosis (None: errors not recorded).
        findings: its learning curve's findings (`curves.curve_findings`).
        context: what is known of its config, data and run.
        evidence: what the search's trials say per config key (`effects.search_evidence`;
            only evidence with a `p_value` counts as a cause).
    """
    kinds = {finding.kind for finding in findings}
    bias = "diverged" not in kinds and _bias(fit)
    not_learning = fit is not None and fit.label == NOT_LEARNING
    peer = _fitting_peer(context, not_learning) if bias else None  # (c), once: a scan of the run
    if "diverged" in kinds:
        recs, causes = _divergence_recs(context), []
    else:
        if fit is not None and fit.label == NOT_LEARNING:
            recs = _not_learning_recs(context, evidence)
        else:
            recs = _fit_recs(fit, findings, context, evidence)
            if "still_improving" in kinds:
                recs.insert(0, _train_longer(context))
        causes = _causes(fit, kinds, context, evidence, peer) if recs else []
    banned = _banned(bias, kinds, context, peer, evidence)
    causes = [_with_evidence(rec, evidence.get(rec.key)) for rec in _merged(causes)]
    # what the search showed beyond the noise (cause a) is never ruled out by another cause
    causes = [rec for rec in causes if rec.agrees or (rec.key, rec.action) not in banned]
    named = {rec.key for rec in causes}
    recs = [rec for rec in _unique(recs) if (rec.key, rec.action) not in banned]
    recs = [_with_evidence(rec, evidence.get(rec.key)) for rec in recs if rec.key not in named]
    order = {True: 0, None: 1, False: 2}
    return causes + sorted(recs, key=lambda rec: order[rec.agrees])


# ---------------------------------------------------------------- causes


def _causes(
    fit: FitDiagnosis | None,
    kinds: set[str],
    ctx: TrialContext,
    evidence: Mapping[str, Evidence],
    peer: PeerTrial | None,
) -> list[Recommendation]:
    """The causal advice (a)-(e) of `recommend`, in that order."""
    bias = _bias(fit)
    problem = bias or (fit is not None and fit.high_variance)
    not_learning = fit is not None and fit.label == NOT_LEARNING
    recs = _effect_recs(ctx, evidence, not_learning) if problem else []
    if bias and _slow(ctx, kinds):
        recs += _slow_recs(ctx, kinds, not_learning)
    if peer is not None:
        recs.append(_peer_rec(ctx, peer))
    if bias and _unscaled(ctx):
        recs.append(_normalize(ctx))
    if _nothing_to_gain(ctx):
        recs.append(_test_on_more_data(ctx))
    return recs


def _banned(
    bias: bool,
    kinds: set[str],
    ctx: TrialContext,
    peer: PeerTrial | None,
    evidence: Mapping[str, Evidence],
) -> set[tuple[str, str]]:
    """(key, action) pairs a cause rules out: a bigger network and less regularization for a
    slow optimizer (b); a bigger network when a no bigger trial fits (c); more epochs when
    there is nothing to gain (e)."""
    banned: set[tuple[str, str]] = set()
    # no hidden layer at all: a hidden layer is no "bigger network" but the missing model
    capacity = {(key, "increase") for key in CAPACITY if ctx.values.get("model.layers") != 0}
    if ctx.builder is not None:  # a bigger custom model: the builder, or its knobs
        capacity = {(r.key, r.action) for r in _capacity_recs(ctx, "", evidence)}
    if bias and _slow(ctx, kinds):
        banned |= capacity
        banned |= {(key, "decrease") for key in REGULARIZATION}
    if peer is not None:  # the same architecture, no bigger, fits: neither is the problem
        banned |= capacity
        architecture = _architecture(ctx, evidence)
        banned.add((architecture.key, architecture.action))
    if _nothing_to_gain(ctx):
        banned.add(("training.epochs", "increase"))
    return banned


def _bias(fit: FitDiagnosis | None) -> bool:
    """High bias asserted, or not learning: where a bigger network would be advised."""
    return fit is not None and (fit.high_bias or fit.label == NOT_LEARNING)


def _effect_recs(
    ctx: TrialContext, evidence: Mapping[str, Evidence], not_learning: bool
) -> list[Recommendation]:
    """(a) Each key whose effect cleared the noise and whose worse side this trial is on,
    the clearest effect first; for a trial not learning, only how it learns and its size."""
    sizes = ("model.params.",) if ctx.builder is not None else CAPACITY  # custom: its knobs
    allowed = (*LEARNING_KEYS, *sizes) if not_learning else ("",)
    worse = [
        found
        for key, found in evidence.items()
        if found.p_value is not None
        and key.startswith(allowed)
        and found.worse_side(ctx.values.get(key)) is True
        and _matched_trials_agree(ctx, found)
    ]
    recs = []
    for found in sorted(worse, key=lambda e: e.p_value):  # type: ignore[arg-type, return-value]
        value = _value_text(ctx.values.get(found.key))
        text = (
            f"{found.key} made a difference beyond the noise in this search "
            f"({p_text(found.p_value)}): this trial's {value} is on the worse side; {found.text}."
        )
        if found.better in ("higher", "lower"):
            action = "increase" if found.better == "higher" else "decrease"
            recs.append(Recommendation(found.key, action, text))
        else:
            recs.append(Recommendation(found.key, "set", text, found.better))
    return recs


def _matched_trials_agree(ctx: TrialContext, found: Evidence) -> bool:
    """Cause (a) for this trial, where the run can show it: the completed trials that differ
    from this one only in `found.key` and sit on its better side must include one with a lower
    validation error. An effect across the search need not hold at this trial's other values
    (penguins: adam beat sgd at a high rate, not at 1e-4). Without such a trial the search's
    evidence stands."""
    mine = _without(ctx.values, found.key)
    matched = [
        peer
        for peer in ctx.run.completed
        if peer.trial_id != ctx.trial_id
        and found.worse_side(peer.values.get(found.key)) is False
        and _without(peer.values, found.key) == mine
    ]
    if not matched or _number(ctx.val_error) is None:
        return True
    own = float(ctx.val_error)  # type: ignore[arg-type]
    return any(_number(p.val_error) is not None and p.val_error < own for p in matched)  # type: ignore[operator]


def _without(values: Mapping[str, object], key: str) -> dict[str, object]:
    """The values but `key` (and its per-layer or nested keys)."""
    return {k: v for k, v in values.items() if k != key and not k.startswith(key + ".")}


def _slow(ctx: TrialContext, kinds: set[str]) -> bool:
    """(b) Plain SGD or a rate at the low end of the space, on a curve still improving (the
    still-improving finding, or the best epoch is the last one trained)."""
    last = ctx.best_epoch is not None and ctx.best_epoch == ctx.epochs_trained
    if "still_improving" not in kinds and not last:
        return False
    return ctx.values.get("optimizer.name") == "sgd" or _low_rate(ctx)


def _low_rate(ctx: TrialContext) -> bool:
    space = ctx.rate_space
    return space is not None and space.at_low_end(ctx.values.get("optimizer.learning_rate"))


def _slow_recs(ctx: TrialContext, kinds: set[str], not_learning: bool) -> list[Recommendation]:
    lr, name = _key(ctx, "optimizer.learning_rate"), _key(ctx, "optimizer.name")
    improving = "still improving at its last epoch"
    recs = []
    if _low_rate(ctx):
        text = (
            f"Raise {lr}, e.g. tenfold: it is at the low end of "
            f"{ctx.rate_space.text} and the curve was {improving}: "  # type: ignore[union-attr]
            "it learns slowly; fix the optimization before growing the network."
        )
        recs.append(Recommendation("optimizer.learning_rate", "increase", text))
    if ctx.values.get("optimizer.name") == "sgd":
        text = (
            f"Use an adaptive optimizer: set {name} to adam; plain SGD was {improving}: it "
            "learns slowly; fix the optimization before growing the network."
        )
        recs.append(Recommendation("optimizer.name", "set", text, "adam"))
        if not _low_rate(ctx):
            text = f"Or keep SGD with a higher rate: try {lr} 3x higher, or momentum."
            recs.append(Recommendation("optimizer.learning_rate", "increase", text))
    if "still_improving" in kinds and not not_learning:  # not learning: never epochs
        recs.append(_train_longer(ctx))
    return recs


def _fitting_peer(ctx: TrialContext, not_learning: bool = False) -> PeerTrial | None:
    """(c) The best fitting trial of the same size or smaller (None: none, or sizes unknown).
    For a trial not learning, only one that differs in how it learns (`LEARNING_KEYS`): its
    advice is never about regularization or data."""
    if ctx.size is None:
        return None
    peers = [
        peer
        for peer in ctx.run.fitting
        if peer.trial_id != ctx.trial_id
        and peer.size.at_most(ctx.size) is True
        and (not not_learning or _differences(ctx.values, peer.values, LEARNING_KEYS))
    ]
    # the same size before a smaller one, then the lowest validation error
    label = ctx.size.label
    return min(
        peers,
        key=lambda p: (p.size.label != label, _number(p.val_error) or math.inf),
        default=None,
    )


def _peer_rec(ctx: TrialContext, peer: PeerTrial) -> Recommendation:
    equal = ctx.size is not None and peer.size.label == ctx.size.label
    same = "of the same size" if equal else "no bigger"
    error = f", validation error {percent(peer.val_error)}" if finite(peer.val_error) else ""
    head = (
        f"Trial {peer.trial_id}, {same} ({peer.size.label}), fits ({peer.label}{error}): "
        "a bigger network is not what this trial lacks"
    )
    differ = _differences(ctx.values, peer.values)
    learning = _differences(ctx.values, peer.values, LEARNING_KEYS)
    if not differ:
        text = (
            f"{head}; it differs only in its {'size' if not equal else 'seed'}, so the "
            f"gap may be chance: average each trial over more trainings, raise "
            f"{_key(ctx, 'search.executions_per_trial')} (e.g. 3)."
        )
        return Recommendation("search.executions_per_trial", "increase", text)
    words = ", ".join(
        f"{key} {_value_text(peer.values.get(key))} (here {_value_text(ctx.values.get(key))})"
        for key in differ
    )
    key = (learning or differ)[0]  # how it learns first: the only fix for a trial not learning
    text = f"{head}; it differs in {words}: set {key} as it does."
    return Recommendation(key, "set", text, peer.values.get(key))


def _differences(
    mine: Mapping[str, object], theirs: Mapping[str, object], among: tuple[str, ...] = ()
) -> list[str]:
    """Keys (not the size; only those starting with one of `among` when given) whose values
    differ, `PEER_KEYS` first."""
    keys = [k for k in theirs if k not in CAPACITY and k in mine and k.startswith(among or "")]
    differ = [k for k in keys if _value_text(mine[k]) != _value_text(theirs[k])]
    return sorted(
        differ, key=lambda k: (k not in PEER_KEYS, PEER_KEYS.index(k) if k in PEER_KEYS else 0, k)
    )


def _unscaled(ctx: TrialContext) -> bool:
    """(d) Inputs left unnormalized whose features' scales differ by more than `SCALE_RATIO`."""
    ratio = _number(ctx.scale_ratio)
    return ctx.values.get("data.normalize") == "none" and ratio is not None and ratio > SCALE_RATIO


def _scales_text(ctx: TrialContext) -> str:
    if not _unscaled(ctx):
        return ""
    names = (
        f" ({ctx.scale_features[0]} against {ctx.scale_features[1]})" if ctx.scale_features else ""
    )
    ratio = format_value(round(_number(ctx.scale_ratio) or 0))
    return (
        f"; the features' scales differ {ratio}-fold{names}, which slows or stalls training "
        "whatever the network's size"
    )


def _normalize(ctx: TrialContext) -> Recommendation:
    text = (
        f"Normalize the inputs: set {_key(ctx, 'data.normalize')} to standard{_scales_text(ctx)}."
    )
    return Recommendation("data.normalize", "set", text, "standard")


def _nothing_to_gain(ctx: TrialContext) -> bool:
    """(e) Validation error at or below the target, and two or more trials tied at the top."""
    val, target = ctx.val_error, ctx.target_error
    if not finite(val) or not finite(target) or ctx.run.tied_at_top < 2:
        return False
    return val - target <= TOLERANCE  # type: ignore[operator]


def _test_on_more_data(ctx: TrialContext) -> Recommendation:
    text = (
        f"Nothing to gain on this split: validation error {percent(ctx.val_error)} is at or "
        f"below the target ({percent(ctx.target_error)}) and {ctx.run.tied_at_top} trials are "
        "within the noise of the best, so more epochs cannot show a gain. Test on more data: raise "
        f"{_key(ctx, 'data.split.test')}, or collect more examples."
    )
    return Recommendation("data.split.test", "increase", text)


# ---------------------------------------------------------------- rules of thumb


def _fit_recs(
    fit: FitDiagnosis | None,
    findings: Sequence[Finding],
    ctx: TrialContext,
    evidence: Mapping[str, Evidence],
) -> list[Recommendation]:
    if fit is None:
        return []
    recs: list[Recommendation] = []
    if fit.high_bias:
        # with a gap that is (or may be) real, less regularization would widen it
        gap = fit.high_variance or VARIANCE in fit.uncertain
        recs += _bias_recs(ctx, _stop(findings), not gap, evidence)
    if fit.high_variance:
        recs += _variance_recs(ctx, evidence)
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
    if _unscaled(ctx):  # (d): features thousands of times apart blow up the first steps
        recs.insert(0, _normalize(ctx))
    elif ctx.values.get("data.normalize") in (None, "none"):
        recs.append(_normalize(ctx))
    if ctx.builder is None and ctx.values.get("model.batch_norm") is not True:
        text = "Add batch normalization: set model.batch_norm to true."
        recs.append(Recommendation("model.batch_norm", "set", text, True))
    return recs


def _not_learning_recs(ctx: TrialContext, evidence: Mapping[str, Evidence]) -> list[Recommendation]:
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
        recs.append(_normalize(ctx))
    capacity = _capacity_recs(ctx, "A network this small may not fit the data at all", evidence)
    # no hidden layer at all (a linear model on circles): capacity is the first fix
    return capacity + recs if ctx.values.get("model.layers") == 0 else recs + capacity


def _bias_recs(
    ctx: TrialContext,
    stop: Finding | None,
    less_regularization: bool,
    evidence: Mapping[str, Evidence],
) -> list[Recommendation]:
    recs = _capacity_recs(ctx, "Use a bigger network", evidence)
    for key, name in _regularization(ctx):
        value = ctx.values.get(key)
        if less_regularization and (value is None or _positive(value)):
            text = f"Regularize less: lower {name}, {_key(ctx, key)}{_reads_note(ctx)}."
            recs.append(Recommendation(key, "decrease", text))
    if stop is not None:
        # early stopping on a plateau with a high training error: more epochs would not help
        text = (
            f"Training {_stopped_at(ctx, stop)} with the training error still high: try "
            f"{_key(ctx, 'optimizer.learning_rate')} 3x higher and 3x lower."
        )
        recs.append(Recommendation("optimizer.learning_rate", "change", text))
    recs.append(_architecture(ctx, evidence))
    return recs


def _regularization(ctx: TrialContext, keys: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(key, name) of the regularization keys advice may name (`keys`: of these only): for a
    custom model, those its builder reads (all when unknown)."""
    builder = ctx.builder
    return [
        (key, name)
        for key, name in REGULARIZATION.items()
        if (not keys or key in keys) and (builder is None or builder.applies(key))
    ]


def _reads_note(ctx: TrialContext) -> str:
    return ctx.builder.note() if ctx.builder is not None else ""


def _capacity_recs(
    ctx: TrialContext, why: str, evidence: Mapping[str, Evidence]
) -> list[Recommendation]:
    if ctx.builder is not None:
        return custom.size_recs(ctx.builder, ctx.values, why, evidence)
    layers, units = _key(ctx, "model.layers"), _key(ctx, "model.units")
    if ctx.values.get("model.layers") == 0:  # no hidden layer: model.units does nothing yet
        return [Recommendation("model.layers", "increase", f"{why}: add hidden layers, {layers}.")]
    return [
        Recommendation("model.layers", "increase", f"{why}: more hidden layers, raise {layers}."),
        Recommendation("model.units", "increase", f"{why}: more units per layer, raise {units}."),
    ]


def _variance_recs(ctx: TrialContext, evidence: Mapping[str, Evidence]) -> list[Recommendation]:
    # Raising data.limit is the cheapest fix; without a limit, more data means collecting it.
    limited = ctx.values.get("data.limit") is not None
    recs = [_more_data(ctx)] if limited else []
    if _augmentation_applies(ctx):
        text = (
            "Augment the training images: set data.augmentation "
            "(flip, rotation, zoom, translation)."
        )
        recs.append(Recommendation("data.augmentation", "set", text))
    typical = {"regularization.dropout": "0.2 and 0.5", "regularization.l2": "1e-4 and 1e-2"}
    more = _regularization(ctx, ("regularization.dropout", "regularization.l2"))
    for key, name in sorted(more, key=lambda pair: list(typical).index(pair[0])):
        if ctx.values.get(key) == 0:
            text = f"Add {name}: set {key} between {typical[key]} (now 0){_reads_note(ctx)}."
        else:
            text = f"Regularize more: raise {name}, {_key(ctx, key)}{_reads_note(ctx)}."
        recs.append(Recommendation(key, "increase", text))
    if ctx.builder is not None and not more:  # the config cannot regularize this model
        recs.append(custom.regularize_in_builder(ctx.builder))
    recs.append(_architecture(ctx, evidence))
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


def _architecture(ctx: TrialContext, evidence: Mapping[str, Evidence]) -> Recommendation:
    if ctx.builder is not None:
        return custom.architecture_rec(ctx.builder, ctx.values, evidence)
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
    """Augmentation needs image-shaped inputs: digits are flat features for a dense network. A
    custom model is given the data as they are (models/build.py: no augmentation block)."""
    if ctx.builder is not None:
        return False
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


def _merged(recs: list[Recommendation]) -> list[Recommendation]:
    """One cause per key: a later cause's text joins the first one's (whose action stays)."""
    kept: dict[str, Recommendation] = {}
    for rec in recs:
        first = kept.get(rec.key)
        joined = (
            rec if first is None else dataclasses.replace(first, text=f"{first.text} {rec.text}")
        )
        kept[rec.key] = joined
    return list(kept.values())


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
    return key_text(ctx.values, key)


def _value_text(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v) for v in value)
    return format_value(value) if value is not None else "?"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not finite(value):
        return None
    return float(value)  # type: ignore[arg-type]


def _positive(value: object) -> bool:
    try:
        return float(value) > 0  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True
