"""Bias and variance labels against the thresholds (SPEC §6.1)."""

from __future__ import annotations

import pytest

from tunenet.diagnosis.labels import GOOD_FIT, Thresholds, fit_diagnosis

from .samples import WORKED

# ---------------------------------------------------------------- bias and variance


@pytest.mark.parametrize(
    ("train", "val", "label"),
    [
        (0.12, 0.25, "high variance"),
        (0.26, 0.28, "high bias"),
        (0.26, 0.40, "high bias and high variance"),
        (0.12, 0.13, "good fit"),
    ],
)
def test_worked_example_of_the_spec(train: float, val: float, label: str) -> None:
    fit = fit_diagnosis(train, val, WORKED)
    assert fit is not None
    assert fit.label == label
    assert fit.avoidable_bias == pytest.approx(train - 0.13)
    assert fit.variance == pytest.approx(val - train)


def test_a_gap_equal_to_the_threshold_is_not_high_variance() -> None:
    # 0.17 - 0.12 is 0.05000000000000002 in floating point
    fit = fit_diagnosis(0.12, 0.17, Thresholds(0.12, 0.05, 0.05))
    assert fit is not None and fit.label == GOOD_FIT


@pytest.mark.parametrize("errors", [(None, 0.1), (0.1, float("nan")), (float("inf"), 0.2)])
def test_missing_errors_give_no_label(errors: tuple) -> None:
    assert fit_diagnosis(*errors, WORKED) is None
