"""Numbers as the report's words: values, percentages and points, shared by every renderer."""

from __future__ import annotations

import math

import numpy as np


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
    return f"{value * 100:.1f}%" if finite(value) else ""


def points(value: float | None) -> str:
    """A difference of errors in percentage points: 0.13 → "+13.0 pts"."""
    return f"{value * 100:+.1f} pts" if finite(value) else ""


def finite(value: object) -> bool:
    """Whether `value` is a finite number (None, NaN, inf and text are not)."""
    try:
        return value is not None and math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
