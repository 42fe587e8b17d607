"""A cell of a run's CSV files (or a value read from one) as a number.

trials.csv, epochs.csv and learning_curve.csv leave a cell empty when there is no value and
write `nan` or `inf` for a diverged one; readers (csv, pandas, JSON) hand them over as text,
floats, ints or None. Every reader asks here which of them is a usable number.
"""

from __future__ import annotations

import math
from typing import Optional


def number(cell: object) -> Optional[float]:
    """The finite number in `cell`, else None (empty, None, text, NaN, inf, a bool)."""
    if cell is None or isinstance(cell, bool):
        return None
    try:
        value = float(cell)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def integer(cell: object) -> Optional[int]:
    """The finite number in `cell`, truncated to an int (`3.0` is 3), else None."""
    value = number(cell)
    return int(value) if value is not None else None


def is_number(cell: object) -> bool:
    """Whether `cell` holds a finite number."""
    return number(cell) is not None
