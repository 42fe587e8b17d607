"""Numbers as the report's words: values, percentages and points, shared by every renderer."""

from __future__ import annotations

import math

import numpy as np

from tunenet.diagnosis.intervals import Interval, half_width
from tunenet.runs.cells import is_number

# An interval prints as [low, high] instead of ± half its width when its longer side is more
# than this multiple of its shorter one (the sides differ by more than 2/3 of the half-width).
# Wilson intervals of 0 of 67 (0.0% [0.0, 5.4]) and 6 of 192 (3.1% [1.4, 6.6]) are; of 10 of
# 106 (9.4% ± 5.6, sides 4.2 and 7.1 pts) and 16 of 106 (15.1% ± 6.8) are not; normal
# (regression) intervals never are.
LOPSIDED_RATIO = 2.0
# Sides equal up to float rounding count as equal.
TOLERANCE = 1e-9


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
    """An error with its 95% interval: "12.5% ± 3.1"; a lopsided one as "0.0% [0.0, 5.4]";
    without an interval "12.5%"."""
    return with_ci(percent(value), ci, value) if finite(value) else ""


def points_ci(value: float | None, ci: Interval | None) -> str:
    """A difference of errors with its 95% interval: "+13.0 pts ± 2.7"; a lopsided one as
    "+0.0 pts [-0.4, +5.4]"."""
    return with_ci(points(value), ci, value, signed=True) if finite(value) else ""


def with_ci(
    text: str, ci: Interval | None, value: float | None = None, signed: bool = False
) -> str:
    """`text` followed by " ± " and half the interval's width in points (percent); `text` alone
    without an interval. With the `value` the interval is about, a lopsided interval (`lopsided`)
    follows as " [low, high]" in percent instead (`signed`: with + and -, for differences)."""
    width = half_width(ci)
    if width is None or not finite(width):
        return text
    if value is not None and lopsided(value, ci):  # type: ignore[arg-type]
        low, high = (_ends(end, signed) for end in ci)  # type: ignore[union-attr]
        return f"{text} [{low}, {high}]"
    return f"{text} ± {width * 100:.1f}"


def lopsided(value: float, ci: Interval) -> bool:
    """Whether "value ± half the width" would misstate `ci`: its longer side (from the value to
    one end) is more than `LOPSIDED_RATIO` times its shorter side, or the value lies outside it.
    Wilson intervals are, near 0 or 1: 0 errors of 67 is [0, 5.4%], not "0.0% ± 2.7" (which
    would reach -2.7%)."""
    below, above = value - ci[0], ci[1] - value
    short, long = sorted((below, above))
    if long <= TOLERANCE:  # a point: nothing to misstate
        return False
    return short < -TOLERANCE or long > LOPSIDED_RATIO * short + TOLERANCE


def _ends(end: float, signed: bool) -> str:
    number = round(end * 100, 1) + 0.0  # + 0.0: no "-0.0"
    return f"{number:+.1f}" if signed else f"{number:.1f}"


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
