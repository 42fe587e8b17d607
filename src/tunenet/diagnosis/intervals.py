"""The 95% intervals of the errors a report compares. They live in `tunenet.runs.intervals`, below
both diagnosis and tuning, so that the search's no-gain stop uses the report's intervals."""

from tunenet.runs.intervals import (
    LEVEL,
    Interval,
    Z,
    difference_ci,
    error_ci,
    half_width,
    normal,
    wilson,
)

__all__ = ["LEVEL", "Z", "Interval", "difference_ci", "error_ci", "half_width", "normal", "wilson"]
