"""Bias and variance of one trial against the thresholds: one of `LABELS`."""

from __future__ import annotations

from dataclasses import dataclass

from tunenet.diagnosis.text import finite

HIGH_BIAS = "high bias"
HIGH_VARIANCE = "high variance"
BOTH = "high bias and high variance"
GOOD_FIT = "good fit"
LABELS = (HIGH_BIAS, HIGH_VARIANCE, BOTH, GOOD_FIT)

# Differences are rounded before comparing with a threshold: 0.17 - 0.12 is 0.05000000000000002.
DECIMALS = 9


@dataclass(frozen=True)
class Thresholds:
    """What the errors are compared with (fractions: 0.05 is 5 %)."""

    target_error: float
    bias_threshold: float
    variance_threshold: float


@dataclass(frozen=True)
class FitDiagnosis:
    """Bias/variance of one trial. `label` is one of `LABELS`."""

    avoidable_bias: float
    variance: float
    high_bias: bool
    high_variance: bool
    label: str


def fit_diagnosis(
    train_error: float | None, val_error: float | None, thresholds: Thresholds
) -> FitDiagnosis | None:
    """Label one trial from its errors. Returns None when either error is missing or not finite.

    avoidable bias = train_error - target_error; variance = val_error - train_error;
    high bias when avoidable bias > bias_threshold, high variance when variance >
    variance_threshold.
    """
    if not finite(train_error) or not finite(val_error):
        return None
    bias = round(train_error - thresholds.target_error, DECIMALS)
    variance = round(val_error - train_error, DECIMALS)
    high_bias = bias > thresholds.bias_threshold
    high_variance = variance > thresholds.variance_threshold
    return FitDiagnosis(bias, variance, high_bias, high_variance, _label(high_bias, high_variance))


def _label(high_bias: bool, high_variance: bool) -> str:
    if high_bias and high_variance:
        return BOTH
    if high_bias:
        return HIGH_BIAS
    if high_variance:
        return HIGH_VARIANCE
    return GOOD_FIT
