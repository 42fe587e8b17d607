"""Recommendations: the rules of thumb for a trial's problems, each naming the config key to
change, checked against what the search itself tried (`effects.search_evidence`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tunenet.diagnosis.curves import Finding
from tunenet.diagnosis.effects import Evidence
from tunenet.diagnosis.labels import FitDiagnosis
from tunenet.diagnosis.text import format_value


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
