"""95% intervals of the errors a report compares: how far an error measured on n examples can be
from the error on all the data like it.

Classification errors are binomial proportions (Wilson score interval); regression errors are
means of per-example normalized squared errors (a normal interval from their standard error).
The difference of two errors — bias against a target, the train→validation gap — uses Newcombe's
hybrid score interval for proportions (built from the two Wilson intervals) and the normal
interval of a difference of independent means for regression.
"""

from __future__ import annotations

import math
from typing import Optional

from tunenet.runs.cells import is_number

Interval = tuple[float, float]
LEVEL = 0.95  # of every interval
Z = 1.959963984540054  # scipy.stats.norm.ppf(0.5 + LEVEL / 2): a constant spares the import


def wilson(error: float, n: int) -> Interval:
    """Wilson score interval of an error rate `error` measured on `n` examples.

    The closed form (the same as `scipy.stats.binomtest(k, n).proportion_ci(method="wilson")`,
    which the tests check, at a thousandth of its cost); a fractional error (averaged over
    executions) is used as it is.

    Args:
        error: the fraction of examples wrong, in [0, 1].
        n: the number of examples (> 0).
    """
    p = min(1.0, max(0.0, error))
    z2 = Z * Z / n
    centre = (p + z2 / 2) / (1 + z2)
    spread = Z / (1 + z2) * math.sqrt(p * (1 - p) / n + z2 / (4 * n))
    return max(0.0, centre - spread), min(1.0, centre + spread)


def normal(value: float, se: float) -> Interval:
    """value ± z · se."""
    return value - Z * se, value + Z * se


def error_ci(
    error: Optional[float], n: Optional[float], se: Optional[float] = None
) -> Optional[Interval]:
    """The interval of one error: normal from `se` when given (regression), else Wilson on `n`.

    Returns None when the error or both `n` and `se` are unknown.
    """
    if not is_number(error):
        return None
    if is_number(se):
        return normal(float(error), float(se))  # type: ignore[arg-type]
    if is_number(n) and n >= 1:  # type: ignore[operator]
        return wilson(float(error), int(n))  # type: ignore[arg-type]
    return None


def difference_ci(
    a: float,
    a_ci: Optional[Interval],
    b: float,
    b_ci: Optional[Interval],
    proportions: bool = True,
) -> Optional[Interval]:
    """The interval of a − b for two independent errors with their own intervals.

    Proportions: Newcombe's method 10 (hybrid score). Regression (normal intervals): the
    standard errors add in quadrature. An unknown interval counts as exact: the difference to a
    fixed target is the other interval shifted by it.
    """
    if a_ci is None and b_ci is None:
        return None
    if b_ci is None:
        return a_ci[0] - b, a_ci[1] - b  # type: ignore[index]
    if a_ci is None:
        return a - b_ci[1], a - b_ci[0]
    a_low, a_high = a_ci
    b_low, b_high = b_ci
    difference = a - b
    if proportions:
        below = math.sqrt((a - a_low) ** 2 + (b_high - b) ** 2)
        above = math.sqrt((a_high - a) ** 2 + (b - b_low) ** 2)
        return difference - below, difference + above
    spread = math.sqrt(((a_high - a_low) / 2) ** 2 + ((b_high - b_low) / 2) ** 2)
    return difference - spread, difference + spread


def half_width(ci: Optional[Interval]) -> Optional[float]:
    """Half the width of an interval: the "±" printed next to a value."""
    return None if ci is None else (ci[1] - ci[0]) / 2
