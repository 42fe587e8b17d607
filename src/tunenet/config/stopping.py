"""The `search` keys that decide when a search stops, what it may build and what it runs first
(docs/guide.md, "When to stop, what it costs, what to keep"): the parsers of `time_budget` and
`enqueue`, kept apart from `sections` so that each rule reads on its own."""

from __future__ import annotations

import math
import re
from typing import Any

MAX_BUDGET_SECONDS = 10 * 365 * 24 * 3600  # ten years: anything longer is a typo
MAX_ENQUEUED = 10_000  # configurations in search.enqueue
MAX_ENQUEUE_KEYS = 1_000  # hyperparameters of one enqueued configuration

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
DURATION_RULE = "a duration: seconds (900), or a number with s, m, h or d (90s, 30m, 2h, 1.5d)"


def duration_seconds(raw: Any) -> float:
    """`30m` -> 1800.0; a plain number is seconds. Refuses zero, negatives and the absurd."""
    if isinstance(raw, bool):
        raise ValueError(f"expected {DURATION_RULE}")
    if isinstance(raw, (int, float)):
        seconds = float(raw)
    elif isinstance(raw, str) and (match := _DURATION.match(raw)):
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    else:
        raise ValueError(f"expected {DURATION_RULE}")
    if not math.isfinite(seconds) or seconds <= 0 or seconds > MAX_BUDGET_SECONDS:
        raise ValueError(f"expected {DURATION_RULE}, more than 0 and at most 10 years")
    return seconds


def time_budget(raw: Any) -> Any:
    """search.time_budget: None (no budget) or seconds as a float."""
    return None if raw is None else duration_seconds(raw)


TIME_BUDGET_SCHEMA = {
    "anyOf": [
        {"type": "null"},
        {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_BUDGET_SECONDS},
        {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*[smhd]?\s*$"},
    ],
    "default": None,
}


def _scalar(name: str, value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise ValueError(f"{name}: a value is a number, a string or true/false")


def enqueue(raw: Any) -> Any:
    """search.enqueue: a list of {hyperparameter name: value}, names as trials.csv's hp columns
    without `hp.`. Whether each value fits the space is checked where the space is known."""
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) > MAX_ENQUEUED:
        raise ValueError(
            f"expected a list of at most {MAX_ENQUEUED:,} mappings "
            "({model.units.0: 64, optimizer.learning_rate: 0.001})"
        )
    entries = []
    for number, entry in enumerate(raw):
        if not isinstance(entry, dict) or not entry or len(entry) > MAX_ENQUEUE_KEYS:
            raise ValueError(
                f"entry {number}: expected a mapping of hyperparameter names to values "
                f"(1 to {MAX_ENQUEUE_KEYS:,} of them)"
            )
        entries.append({str(name): _scalar(str(name), value) for name, value in entry.items()})
    return entries


ENQUEUE_SCHEMA = {
    "anyOf": [
        {"type": "null"},
        {
            "type": "array",
            "maxItems": MAX_ENQUEUED,
            "items": {
                "type": "object",
                "minProperties": 1,
                "maxProperties": MAX_ENQUEUE_KEYS,
                "additionalProperties": {"type": ["number", "string", "boolean"]},
            },
        },
    ],
    "default": None,
}
