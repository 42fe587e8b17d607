"""One recommendation: the config key to change, how, and why (shared by `advice`, `builder`,
`dynamics` and `imbalance`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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


def key_text(values: Mapping[str, object], key: str) -> str:
    """The key with the trial's value when known: "model.units (now 64, 32)"."""
    value = values.get(key)
    if value is None:
        return key
    if isinstance(value, (list, tuple)):
        return f"{key} (now {', '.join(format_value(v) for v in value)})"
    return f"{key} (now {format_value(value)})"
