"""Bias and variance labels against the thresholds and the noise; not learning (docs/report.md)."""

from __future__ import annotations

import math

import pytest

from tunenet.diagnosis.curves import Finding
from tunenet.diagnosis.intervals import Z, normal, wilson
from tunenet.diagnosis.labels import (
    BOTH,
    GOOD_FIT,
    HIGH_BIAS,
    HIGH_VARIANCE,
    LABELS,
    NOT_LEARNING,
    UNCERTAIN,
    Chance,
    LogLoss,
    Noise,
    Thresholds,
    bias_words,
    chance_error,
    fit_diagnosis,
    log_loss_below,
    trial_label,
    with_curve,
)

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


# ---------------------------------------------------------------- noise (docs/report.md)


def _noise(train: float, val: float, train_n: int, val_n: int) -> Noise:
    return Noise(wilson(train, train_n), wilson(val, val_n), train_n, val_n)


def test_worked_example_holds_with_the_fixture_split_sizes() -> None:
    # tests/fixtures/runs/worked-example: 1078 training and 359 validation examples
    for train, val, label in [
        (0.12, 0.25, HIGH_VARIANCE),
        (0.26, 0.28, HIGH_BIAS),
        (0.26, 0.40, BOTH),
        (0.12, 0.13, GOOD_FIT),
    ]:
        fit = fit_diagnosis(train, val, WORKED, _noise(train, val, 1078, 359))
        assert fit is not None and fit.label == label and fit.uncertain == ()


def test_a_3_point_gap_on_106_validation_rows_is_uncertain() -> None:
    thresholds = Thresholds(target_error=0.15, bias_threshold=0.05, variance_threshold=0.02)
    fit = fit_diagnosis(0.17, 0.20, thresholds, _noise(0.17, 0.20, 426, 106))
    assert fit is not None
    assert fit.label == UNCERTAIN and fit.uncertain == ("variance",)
    assert not fit.high_variance and not fit.high_bias
    assert fit.variance_ci is not None and fit.variance_ci[0] < 0 < fit.variance_ci[1]
    assert fit.reason is not None
    assert "validation set of 106 examples: ±7.6 pts" in fit.reason
    assert "data.split.validation" in fit.reason and "search.executions_per_trial" in fit.reason


def test_a_49_point_gap_on_200_validation_rows_is_high_variance() -> None:
    fit = fit_diagnosis(0.01, 0.50, WORKED, _noise(0.01, 0.50, 200, 200))
    assert fit is not None and fit.label == HIGH_VARIANCE and fit.high_variance
    assert fit.variance_ci is not None and fit.variance_ci[0] > 0.4


def test_a_gap_exactly_at_the_threshold_is_not_high_variance_even_when_clear() -> None:
    fit = fit_diagnosis(0.12, 0.17, Thresholds(0.12, 0.05, 0.05), _noise(0.12, 0.17, 10**5, 10**5))
    assert fit is not None and fit.label == GOOD_FIT and not fit.high_variance
    assert fit.variance_ci is not None and fit.variance_ci[0] > 0  # clear of zero, not above


def test_high_bias_with_a_gap_inside_the_noise() -> None:
    thresholds = Thresholds(target_error=0.03, bias_threshold=0.05, variance_threshold=0.02)
    fit = fit_diagnosis(0.125, 0.151, thresholds, _noise(0.125, 0.151, 320, 106))
    assert fit is not None
    assert fit.label == HIGH_BIAS and fit.high_bias and not fit.high_variance
    assert fit.uncertain == ("variance",)
    assert fit.reason is not None and fit.reason.startswith("the train-to-validation gap (+2.6")


def test_high_variance_with_a_bias_inside_the_noise() -> None:
    thresholds = Thresholds(target_error=0.05, bias_threshold=0.05, variance_threshold=0.05)
    fit = fit_diagnosis(0.12, 0.60, thresholds, _noise(0.12, 0.60, 25, 400))
    assert fit is not None
    assert fit.label == HIGH_VARIANCE and fit.uncertain == ("bias",)
    assert fit.reason is not None and "training set of 25 examples" in fit.reason


def test_both_parts_inside_the_noise_are_uncertain() -> None:
    thresholds = Thresholds(target_error=0.05, bias_threshold=0.05, variance_threshold=0.05)
    fit = fit_diagnosis(0.12, 0.3, thresholds, _noise(0.12, 0.3, 25, 10))
    assert fit is not None and fit.label == UNCERTAIN and fit.uncertain == ("bias", "variance")


def test_a_good_fit_says_how_far_the_noise_reaches() -> None:
    fit = fit_diagnosis(0.12, 0.13, WORKED, _noise(0.12, 0.13, 100, 50))
    assert fit is not None and fit.label == GOOD_FIT
    assert fit.reason is not None and "the noise allows up to" in fit.reason
    tight = fit_diagnosis(0.12, 0.13, WORKED, _noise(0.12, 0.13, 10**5, 10**5))
    assert tight is not None and tight.reason is None


def test_without_intervals_the_point_values_decide() -> None:
    fit = fit_diagnosis(0.17, 0.20, Thresholds(0.15, 0.05, 0.02))
    assert fit is not None and fit.label == HIGH_VARIANCE
    assert fit.bias_ci is None and fit.variance_ci is None and fit.reason is None


# ---------------------------------------------------------------- not learning


def test_chance_level_train_error_is_not_learning_not_both() -> None:
    # no hidden layer on concentric circles: 50% accuracy
    thresholds = Thresholds(target_error=0.0, bias_threshold=0.05, variance_threshold=0.05)
    chance = chance_error("binary", 2)
    noise = _noise(0.49, 0.70, 300, 100)
    fit = fit_diagnosis(0.49, 0.70, thresholds, noise, chance)
    assert fit is not None and fit.label == NOT_LEARNING
    assert not fit.high_bias and not fit.high_variance and fit.uncertain == ()
    assert fit.reason is not None and "not clearly below 50.0%" in fit.reason
    assert fit_diagnosis(0.49, 0.70, thresholds, noise).label == BOTH  # type: ignore[union-attr]


def test_clearly_better_than_chance_is_learning() -> None:
    chance = chance_error("binary", 2)
    fit = fit_diagnosis(0.40, 0.42, WORKED, _noise(0.40, 0.42, 1000, 300), chance)
    assert fit is not None and fit.label == HIGH_BIAS


def test_not_learning_on_imbalanced_data_needs_the_majority_baseline() -> None:
    # 63/37 classes: the majority errs 37%; 1 - 1/2 = 50% does not see a 37% train error
    noise = _noise(0.37, 0.38, 400, 100)
    majority = chance_error("binary", 2, majority=0.37)
    fit = fit_diagnosis(0.37, 0.38, WORKED, noise, majority)
    assert fit is not None and fit.label == NOT_LEARNING and "baselines.csv" in (fit.reason or "")
    balanced = fit_diagnosis(0.37, 0.38, WORKED, noise, chance_error("binary", 2))
    assert balanced is not None and balanced.label == HIGH_BIAS


def test_chance_error() -> None:
    ten = chance_error("multiclass", 10)
    assert isinstance(ten, Chance) and ten.error == pytest.approx(0.9)
    assert chance_error("regression") == Chance(1.0, "predicting the mean (normalized MSE 1)")
    baseline = chance_error("regression", majority=0.99)
    assert baseline == Chance(0.99, "the mean baseline (baselines.csv)")
    assert chance_error(None) is None and chance_error("binary") is None


def test_regression_at_the_mean_is_not_learning() -> None:
    noise = Noise(normal(0.98, 0.05), normal(1.02, 0.08), 500, 100, proportions=False)
    fit = fit_diagnosis(0.98, 1.02, WORKED, noise, chance_error("regression"))
    assert fit is not None and fit.label == NOT_LEARNING


def test_regression_with_standard_errors() -> None:
    thresholds = Thresholds(target_error=0.1, bias_threshold=0.05, variance_threshold=0.05)
    noise = Noise(normal(0.30, 0.02), normal(0.60, 0.05), 500, 100, proportions=False)
    fit = fit_diagnosis(0.30, 0.60, thresholds, noise, chance_error("regression"))
    assert fit is not None and fit.label == BOTH
    assert fit.bias_ci == pytest.approx((0.2 - Z * 0.02, 0.2 + Z * 0.02))
    spread = Z * math.hypot(0.02, 0.05)
    assert fit.variance_ci == pytest.approx((0.3 - spread, 0.3 + spread))
    wide = Noise(normal(0.30, 0.02), normal(0.40, 0.06), 500, 20, proportions=False)
    fit = fit_diagnosis(0.30, 0.40, thresholds, wide)
    assert fit is not None and fit.label == HIGH_BIAS and fit.uncertain == ("variance",)


# ---------------------------------------------------------------- words and status labels


def test_below_target_is_said_in_words() -> None:
    assert bias_words(-0.021) == "2.1 pts below target"
    assert bias_words(-0.021, (-0.04, -0.002)) == "2.1 pts below target ± 1.9"
    assert bias_words(0.0004) == "at target" and bias_words(0.13) == "+13.0 pts"
    fit = fit_diagnosis(0.109, 0.12, WORKED)
    assert fit is not None and "2.1 pts below target" in fit.explanation
    assert "-2.1" not in fit.explanation


def test_status_labels() -> None:
    fit = fit_diagnosis(0.12, 0.13, WORKED)
    assert trial_label("completed", fit) == GOOD_FIT
    for status in ("diverged", "failed", "pruned"):
        assert trial_label(status, None) == status and trial_label(status, fit) == status
    assert trial_label("interrupted", fit) is None
    assert trial_label("completed", None) is None
    assert set(LABELS) == {
        "good fit", "high bias", "high variance", "high bias and high variance", "not learning",
        "uncertain", "diverged", "failed", "pruned",
    }  # fmt: skip


def test_a_gap_at_the_threshold_in_float32_is_not_above_it() -> None:
    # Keras logs float32 accuracies: 1 - 76/80 is stored as 0.050000012, not 0.05
    import numpy as np

    val = float(1 - np.float32(76 / 80))
    assert val != 0.05
    fit = fit_diagnosis(0.0, val, Thresholds(0.0, 0.5, 0.05))
    assert fit is not None and not fit.high_variance and fit.label == GOOD_FIT


def test_a_target_measured_on_few_rows_widens_the_bias_interval() -> None:
    # auto target: a baseline got 0 of 12 validation rows wrong; its error is 0 ± 12 pts or so
    exact = fit_diagnosis(0.058, 0.06, Thresholds(0.0, 0.05, 0.05), _noise(0.058, 0.06, 52, 12))
    measured = Thresholds(0.0, 0.05, 0.05, target_ci=wilson(0.0, 12))
    fit = fit_diagnosis(0.058, 0.06, measured, _noise(0.058, 0.06, 52, 12))
    assert exact is not None and fit is not None
    assert fit.bias_ci[0] < exact.bias_ci[0] and fit.bias_ci[0] < 0
    assert not fit.high_bias


# ---------------------------------------------------------------- not learning: log loss


# The credit table: 3.3% positives, 6,000 training and 2,000 validation rows. The class-
# prior model (the training split's class frequencies for every row) has a validation log loss
# of 0.146; trials whose train error is 2.8-3.0% (the majority class errs 3.3%) reach 0.083-0.087.
CREDIT_PRIOR = LogLoss(0.146, 0.006)


def _credit(train: float, chance: Chance | None = None) -> tuple[Noise, Chance]:
    chance = chance or chance_error("binary", 2, majority=0.033, log_loss=CREDIT_PRIOR)
    return _noise(train, train + 0.001, 6000, 2000), chance  # type: ignore[return-value]


@pytest.mark.parametrize("train", [0.028, 0.029, 0.030])
def test_a_log_loss_far_below_the_class_prior_is_learning_at_majority_accuracy(
    train: float,
) -> None:
    noise, chance = _credit(train)
    assert noise.train_ci is not None and noise.train_ci[1] >= 0.033 - 0.004  # accuracy: unsure
    at_chance = fit_diagnosis(train, train + 0.001, Thresholds(0.028, 0.05, 0.05), noise, chance)
    fit = fit_diagnosis(
        train, train + 0.001, Thresholds(0.028, 0.05, 0.05), noise, chance, LogLoss(0.085, 0.002)
    )
    assert fit is not None and fit.label == GOOD_FIT  # no flip between 2.8% and 3.0%
    assert at_chance is not None
    if train >= 0.029:  # by accuracy alone (the old rule) these were not learning
        assert at_chance.label == NOT_LEARNING
        assert fit.reason is not None and fit.reason.endswith(": learning")
        assert "is not clearly below 3.3%" in fit.reason
        assert "validation log loss 0.085 ± 0.0039 is clearly below the class prior's 0.146" in (
            fit.reason
        )
    else:  # 2.8% on 6,000 rows is clearly below 3.3%: learning by accuracy already
        assert at_chance.label == GOOD_FIT and fit.reason is None


def test_a_log_loss_at_the_class_prior_and_majority_accuracy_is_not_learning() -> None:
    noise, chance = _credit(0.033)
    fit = fit_diagnosis(0.033, 0.034, WORKED, noise, chance, LogLoss(0.146, 0.006))
    assert fit is not None and fit.label == NOT_LEARNING
    assert fit.reason is not None and "not clearly below 3.3%" in fit.reason
    assert "validation log loss 0.146 ± 0.012 is not clearly below the class prior's 0.146" in (
        fit.reason
    )


def test_a_log_loss_below_the_prior_but_inside_the_noise_is_not_learning() -> None:
    # difference -0.01, but its 95% interval is ± 1.96 * sqrt(0.006² + 0.006²) = ± 0.017
    noise, chance = _credit(0.033)
    fit = fit_diagnosis(0.033, 0.034, WORKED, noise, chance, LogLoss(0.136, 0.006))
    assert fit is not None and fit.label == NOT_LEARNING


def test_without_standard_errors_the_log_loss_values_decide() -> None:
    prior = LogLoss(0.146)
    assert log_loss_below(LogLoss(0.140), prior)
    assert not log_loss_below(LogLoss(0.146), prior) and not log_loss_below(LogLoss(0.15), prior)
    # one standard error known: the other counts as exact
    assert not log_loss_below(LogLoss(0.140, 0.01), prior)
    assert log_loss_below(LogLoss(0.140, 0.002), prior)


def test_accuracy_clearly_beating_chance_is_learning_whatever_the_log_loss() -> None:
    # an overconfident, overfitting net: 10% train error against a 37% majority, log loss worse
    chance = chance_error("binary", 2, majority=0.37, log_loss=LogLoss(0.66, 0.01))
    noise = _noise(0.10, 0.25, 400, 100)
    fit = fit_diagnosis(0.10, 0.25, WORKED, noise, chance, LogLoss(0.95, 0.08))
    assert fit is not None and fit.label == HIGH_VARIANCE
    assert "log loss" not in (fit.reason or "")


def test_without_log_losses_not_learning_is_judged_on_accuracy_as_before() -> None:
    noise, _ = _credit(0.030)
    old = chance_error("binary", 2, majority=0.033)  # a baselines.csv without log losses
    fit = fit_diagnosis(0.030, 0.031, WORKED, noise, old, LogLoss(0.085, 0.002))
    assert fit is not None and fit.label == NOT_LEARNING and "log loss" not in (fit.reason or "")
    _, chance = _credit(0.030)
    fit = fit_diagnosis(0.030, 0.031, WORKED, noise, chance)  # a trials.csv without them
    assert fit is not None and fit.label == NOT_LEARNING


def test_regression_ignores_a_log_loss() -> None:
    assert chance_error("regression", majority=1.0, log_loss=LogLoss(0.1)).log_loss is None  # type: ignore[union-attr]


# ---------------------------------------------------------------- beyond the target


def test_a_train_error_below_a_noisy_target_beyond_the_noise_beats_it() -> None:
    # regression: train error 0.05 ± 0.02; an auto target of 0.15 measured with se 0.04
    noise = Noise(normal(0.05, 0.01), normal(0.07, 0.02), proportions=False)
    target = Thresholds(0.15, 0.05, 0.05, target_ci=normal(0.15, 0.04))
    fit = fit_diagnosis(0.05, 0.07, target, noise)
    assert fit is not None and fit.bias_ci is not None
    assert fit.bias_ci[1] < 0 and fit.beats_target and fit.label == GOOD_FIT
    assert "10.0 pts below target" in fit.explanation
    assert fit.explanation.endswith(
        "; below target beyond the noise: the target is not a floor; revisit diagnosis.target_error"
    )
    # the same gap to a target known less well (se 0.06): inside the noise, nothing said
    noisier = Thresholds(0.15, 0.05, 0.05, target_ci=normal(0.15, 0.06))
    fit = fit_diagnosis(0.05, 0.07, noisier, noise)
    assert fit is not None and fit.bias_ci[1] > 0 and not fit.beats_target  # type: ignore[index]
    assert "not a floor" not in fit.explanation


def test_beating_the_target_classification_and_without_intervals() -> None:
    # 2 of 1,000 training rows wrong against a 10% target: far below it
    fit = fit_diagnosis(0.002, 0.01, Thresholds(0.10, 0.05, 0.05), _noise(0.002, 0.01, 1000, 300))
    assert fit is not None and fit.beats_target and "not a floor" in fit.explanation
    # without intervals nothing says the difference is beyond the noise
    fit = fit_diagnosis(0.002, 0.01, Thresholds(0.10, 0.05, 0.05))
    assert fit is not None and not fit.beats_target and "below target" in fit.explanation


# ---------------------------------------------------------------- a curve that diverged


def test_a_completed_trial_whose_curve_diverged_is_diverged() -> None:
    fit = fit_diagnosis(0.5, 0.5, WORKED, _noise(0.5, 0.5, 300, 100), chance_error("binary", 2))
    assert fit is not None and fit.label == NOT_LEARNING
    blew_up = Finding("diverged", 1, "diverged: the training loss at epoch 1 was 1.66e+06")
    diverged = with_curve(fit, [blew_up])
    assert diverged is not None and diverged.label == "diverged"
    assert diverged.reason == blew_up.text and not diverged.high_bias
    assert trial_label("completed", diverged, [blew_up]) == "diverged"
    assert trial_label("completed", None, [blew_up]) == "diverged"
    assert trial_label("completed", fit, [Finding("stopped_early", 3, "")]) == NOT_LEARNING
    assert with_curve(fit, []) is fit
