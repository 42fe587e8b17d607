"""95% intervals of errors and of their differences (docs/report.md)."""

from __future__ import annotations

import math

import pytest

from tunenet.diagnosis.intervals import (
    LEVEL,
    Z,
    difference_ci,
    error_ci,
    half_width,
    normal,
    wilson,
)


def test_wilson_matches_the_score_formula() -> None:
    for wrong, n in ((0, 10), (13, 106), (50, 100), (359, 359)):
        p = wrong / n
        centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
        spread = Z / (1 + Z**2 / n) * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
        assert wilson(p, n) == pytest.approx((centre - spread, centre + spread), abs=1e-9)


@pytest.mark.parametrize(("wrong", "n"), [(0, 10), (1, 10), (13, 106), (50, 100), (359, 359)])
def test_wilson_matches_scipy(wrong: int, n: int) -> None:
    from scipy.stats import binomtest

    expected = binomtest(wrong, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson(wrong / n, n) == pytest.approx((expected.low, expected.high), abs=1e-9)


def test_wilson_stays_inside_zero_and_one() -> None:
    assert wilson(0.0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    low, high = wilson(1.0, 10)
    assert high == pytest.approx(1.0) and low == pytest.approx(0.7225, abs=1e-4)


def test_an_error_on_106_examples_is_known_to_about_8_points() -> None:
    # the medical table: 106 validation rows
    assert half_width(wilson(0.2, 106)) == pytest.approx(0.075, abs=0.002)
    assert half_width(wilson(0.5, 106)) == pytest.approx(0.093, abs=0.002)


def test_error_ci_uses_the_standard_error_when_given_else_wilson() -> None:
    assert error_ci(0.3, None, 0.02) == pytest.approx(normal(0.3, 0.02))
    assert error_ci(0.3, 100) == pytest.approx(wilson(0.3, 100))
    assert error_ci(0.3, 100, 0.02) == pytest.approx((0.3 - Z * 0.02, 0.3 + Z * 0.02))


@pytest.mark.parametrize(
    ("error", "n", "se"),
    [(None, 100, None), (float("nan"), 100, None), (0.2, None, None), (0.2, float("nan"), None),
     (0.2, 0, None), (0.2, None, float("nan"))],
)  # fmt: skip
def test_error_ci_is_none_when_unknown(error: object, n: object, se: object) -> None:
    assert error_ci(error, n, se) is None  # type: ignore[arg-type]


def test_newcombe_hybrid_score_interval_of_the_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17: 56/70 - 48/80, method 10: 0.0524 to 0.3339
    low, high = difference_ci(56 / 70, wilson(56 / 70, 70), 48 / 80, wilson(48 / 80, 80))
    assert (low, high) == pytest.approx((0.0524, 0.3339), abs=1e-4)


def test_a_difference_to_a_fixed_target_shifts_the_interval() -> None:
    train_ci = wilson(0.26, 1078)
    low, high = difference_ci(0.26, train_ci, 0.13, None)
    assert (low, high) == pytest.approx((train_ci[0] - 0.13, train_ci[1] - 0.13))
    assert difference_ci(0.26, train_ci, 0.13, None, proportions=False) == pytest.approx(
        (low, high)
    )
    assert difference_ci(0.26, None, 0.13, None) is None


def test_regression_differences_add_standard_errors_in_quadrature() -> None:
    low, high = difference_ci(0.6, normal(0.6, 0.04), 0.3, normal(0.3, 0.03), proportions=False)
    assert (low, high) == pytest.approx((0.3 - Z * 0.05, 0.3 + Z * 0.05))


def test_half_width() -> None:
    assert half_width((0.1, 0.3)) == pytest.approx(0.1)
    assert half_width(None) is None


def test_z_is_the_two_sided_quantile_of_the_level() -> None:
    from scipy.stats import norm

    assert norm.ppf(0.5 + LEVEL / 2) == pytest.approx(Z, abs=1e-12)
