"""Advice for a model the user builds (`model.kind: custom`, docs/report.md): the dense and CNN
families' keys (`model.layers`, `model.units`, `model.activation`, `model.batch_norm`,
`model.kind`, ...) do not exist there, so size, architecture and layer-level advice speaks of
the builder itself, or of its own `model.params.*` knobs where the search found their effect;
`regularization.*` keys are named only where the builder's source reads them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath

from tunenet.diagnosis.effects import Evidence
from tunenet.diagnosis.recommendation import Recommendation, key_text
from tunenet.diagnosis.text import format_value, p_text

PARAMS = "model.params"  # the key of advice about the builder's own code or knobs


@dataclass(frozen=True)
class ModelBuilder:
    """The builder of a custom model.

    Args:
        spec: as manifest.json records it (`model.builder.spec`, else resolved.yaml's
            `model.build`); None when unknown.
        reads: the `regularization.*` keys the builder's source uses (`model.builder.reads`);
            None when unknown: then such keys are named "if your builder reads it".
    """

    spec: str | None = None
    reads: tuple[str, ...] | None = None

    @property
    def name(self) -> str:
        """ "your builder (lstm.py:build)": the file's name, not its absolute path."""
        if not self.spec:
            return "your builder"
        where, _, function = self.spec.rpartition(":")
        short = PurePath(where).name if where.endswith(".py") else where
        return f"your builder ({short}:{function})" if where else f"your builder ({self.spec})"

    def applies(self, key: str) -> bool:
        """Whether advice may name a `regularization.*` key: the builder reads it, or no one
        knows (then with `note`)."""
        return self.reads is None or key in self.reads

    def note(self) -> str:
        return " (if your builder reads it)" if self.reads is None else ""


def significant_params(evidence: Mapping[str, Evidence]) -> list[Evidence]:
    """The builder's `model.params.*` keys whose effect cleared the noise, clearest first."""
    found = [e for k, e in evidence.items() if k.startswith(PARAMS + ".") and e.p_value is not None]
    return sorted(found, key=lambda e: e.p_value)  # type: ignore[arg-type, return-value]


def size_recs(
    builder: ModelBuilder, values: Mapping[str, object], why: str, evidence: Mapping[str, Evidence]
) -> list[Recommendation]:
    """A bigger model: the numeric knobs with an effect beyond the noise, in the direction that
    did better; else the builder itself, naming its numeric knobs as candidates."""
    recs = []
    for found in significant_params(evidence):
        if found.better not in ("higher", "lower"):
            continue
        up = found.better == "higher"
        text = (
            f"{why}, with the builder's own knobs: {'raise' if up else 'lower'} "
            f"{key_text(values, found.key)}: its effect cleared the noise in this search "
            f"({p_text(found.p_value)})."
        )
        recs.append(Recommendation(found.key, "increase" if up else "decrease", text))
    if recs:
        return recs
    knobs = [k for k, v in values.items() if k.startswith(PARAMS + ".") and _numeric(v)]
    candidates = (
        f" (if {', '.join(sorted(knobs))} set its size, search higher values)" if knobs else ""
    )
    text = (
        f"{why}: make the model bigger in {builder.name}: more units, layers or filters there"
        f"{candidates}; a size the builder reads from params (a model.params key) lets the "
        "search tune it."
    )
    return [Recommendation(PARAMS, "increase", text)]


def architecture_rec(
    builder: ModelBuilder, values: Mapping[str, object], evidence: Mapping[str, Evidence]
) -> Recommendation:
    """Another architecture: a categorical knob whose best choice cleared the noise, when this
    trial made another one; else the builder itself."""
    for found in significant_params(evidence):
        if found.low is None and format_value(values.get(found.key)) != found.better:
            text = (
                f"Try another architecture: set {key_text(values, found.key)} to "
                f"{found.better}, the choice that did best in this search "
                f"({p_text(found.p_value)})."
            )
            return Recommendation(found.key, "set", text, found.better)
    text = (
        f"Try another architecture in {builder.name}: another kind of layer, cell or block; a "
        "choice the builder reads from params (a model.params key) lets the search compare them."
    )
    return Recommendation(PARAMS, "change", text)


def regularize_in_builder(builder: ModelBuilder) -> Recommendation:
    """High variance where the builder reads no dropout and no L2: the config cannot add them."""
    text = (
        f"Regularize more in {builder.name}: it reads no dropout or weight-decay value, so the "
        "config cannot add them; add dropout or weight decay there (read from params, the "
        "search can tune it)."
    )
    return Recommendation(PARAMS, "set", text)


def layer_rec(builder: ModelBuilder, what: str) -> Recommendation:
    """Layer-level advice (activation, initializer, normalization) as a change to the builder."""
    return Recommendation(PARAMS, "change", f"In {builder.name}: {what}.")


def _numeric(value: object) -> bool:
    values = value if isinstance(value, (list, tuple)) else [value]
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
