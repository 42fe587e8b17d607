"""Numbers as the report's words: values, percentages and points, shared by every renderer."""

from __future__ import annotations

import math

import numpy as np

from tunenet.diagnosis.intervals import Interval, half_width
from tunenet.runs.cells import is_number


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


def percent_ci(value: float | None, ci: Interval | None) -> str:
    """An error with its 95% interval as ±: "12.5% ± 3.1"; without an interval "12.5%"."""
    return with_ci(percent(value), ci) if finite(value) else ""


def points_ci(value: float | None, ci: Interval | None) -> str:
    """A difference of errors with its 95% interval as ±: "+13.0 pts ± 2.7"."""
    return with_ci(points(value), ci) if finite(value) else ""


def with_ci(text: str, ci: Interval | None) -> str:
    """`text` followed by " ± " and half the interval's width in points (percent); `text` alone
    without an interval."""
    width = half_width(ci)
    return f"{text} ± {width * 100:.1f}" if width is not None and finite(width) else text


def p_text(p_value: float | None) -> str:
    """A p-value in words: "p < 0.001", "p = 0.0496", "p = 0.57"; "no test" when None."""
    if not finite(p_value):
        return "no test"
    if p_value < 0.001:  # type: ignore[operator]
        return "p < 0.001"
    digits = 3 if p_value < 0.1 else 2  # type: ignore[operator]
    return f"p = {p_value:.{digits}g}"


def finite(value: object) -> bool:
    """Whether `value` is a finite number (None, NaN, inf and text are not)."""
    return is_number(value)
