"""Values as the report's words."""

from __future__ import annotations

import numpy as np
import pytest

from tunenet.diagnosis.intervals import normal, wilson
from tunenet.diagnosis.text import (
    LOPSIDED_RATIO,
    format_value,
    lopsided,
    percent_ci,
    points_ci,
    with_ci,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [(64.0, "64"), (0.001, "0.001"), (True, "true"), ("adam", "adam"), (None, ""), (np.nan, "")],
)
def test_format_value(value: object, text: str) -> None:
    assert format_value(value) == text


# ---------------------------------------------------------------- intervals: ± or [low, high]


def test_a_zero_error_prints_its_interval_with_brackets() -> None:
    # 0 of 67 validation rows wrong: Wilson [0, 5.4%]; "± 2.7" would reach -2.7%
    ci = wilson(0.0, 67)
    assert ci == pytest.approx((0.0, 0.0542), abs=1e-4)
    assert percent_ci(0.0, ci) == "0.0% [0.0, 5.4]"
    assert percent_ci(0.0, (0.0, 0.054)) == "0.0% [0.0, 5.4]"
    assert percent_ci(1.0, wilson(1.0, 106)) == "100.0% [96.5, 100.0]"


def test_a_symmetric_interval_keeps_plus_minus() -> None:
    assert percent_ci(0.5, wilson(0.5, 106)) == "50.0% ± 9.4"
    assert percent_ci(0.151, wilson(16 / 106, 106)) == "15.1% ± 6.8"  # sides 5.6 and 8.0
    assert percent_ci(0.2, normal(0.2, 0.05)) == "20.0% ± 9.8"  # regression: always symmetric
    assert points_ci(0.03, (-0.01, 0.07)) == "+3.0 pts ± 4.0"


@pytest.mark.parametrize(
    ("value", "ci", "expected"),
    [
        (0.0, (0.0, 0.054), True),  # one side 0
        (0.031, (0.0144, 0.0665), True),  # 6 of 192: sides 1.7 and 3.5 pts (ratio 2.1)
        (0.0943, (0.0521, 0.1652), False),  # 10 of 106: sides 4.2 and 7.1 (ratio 1.7)
        (0.10, (0.05, 0.20), False),  # ratio exactly 2 is not more than 2
        (0.10, (0.05, 0.2001), True),
        (0.10, (0.12, 0.20), True),  # the value outside its interval
        (0.10, (0.10, 0.10), False),  # a point
    ],
)
def test_lopsided_means_one_side_more_than_twice_the_other(
    value: float, ci: tuple[float, float], expected: bool
) -> None:
    assert LOPSIDED_RATIO == 2.0
    assert lopsided(value, ci) is expected


def test_lopsided_differences_print_signed_ends() -> None:
    assert points_ci(0.0, (0.0, 0.02)) == "+0.0 pts [+0.0, +2.0]"
    assert points_ci(-0.001, (-0.02, 0.0)) == "-0.1 pts [-2.0, +0.0]"  # never "-0.0"
    assert with_ci("at target", (0.0, 0.02), 0.0, signed=True) == "at target [+0.0, +2.0]"
    assert with_ci("at target", (0.0, 0.02)) == "at target ± 1.0"  # no value: as before
