"""Learning-curve findings: diverged, still improving, overfitting, stopped early."""

from __future__ import annotations

import math

import pandas as pd

from tunenet.diagnosis.curves import (
    curve_findings,
    divergence,
    overfitting_start,
    still_improving,
)


def make_curve(loss: list[float], val_loss: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"epoch": range(1, len(loss) + 1), "loss": loss, "val_loss": val_loss}, dtype=float
    ).astype({"epoch": int})


# ---------------------------------------------------------------- curves


def test_nan_loss_is_diverged_at_that_epoch() -> None:
    curve = make_curve([2.3, 1.9, 5.0, math.nan], [2.2, 2.0, 8.0, math.nan])
    findings = curve_findings(curve, status="diverged")
    assert [(f.kind, f.epoch) for f in findings] == [("diverged", 4)]
    assert "NaN" in findings[0].text


def test_infinite_validation_loss_is_diverged() -> None:
    finding = divergence(make_curve([1.0, 0.9, 0.8], [1.0, math.inf, 0.9]))
    assert finding is not None and finding.epoch == 2 and "infinite" in finding.text


def test_a_loss_that_blew_up_is_diverged() -> None:
    finding = divergence(make_curve([0.7, 0.6, 3.0, 40.0, 900.0], [0.7, 0.7, 3.5, 45, 950]))
    assert finding is not None
    assert finding.epoch == 4  # first epoch above 10x the first loss


def test_a_diverged_status_without_a_curve_is_diverged() -> None:
    findings = curve_findings(make_curve([], []), status="diverged")
    assert [f.kind for f in findings] == ["diverged"]


def test_still_improving_at_the_epoch_limit() -> None:
    curve = make_curve([1.0, 0.8, 0.6, 0.5], [1.0, 0.9, 0.8, 0.7])
    findings = curve_findings(curve, best_epoch=4, epochs_trained=4, epoch_limit=4)
    assert [(f.kind, f.epoch) for f in findings] == [("still_improving", 4)]


def test_not_still_improving_below_the_epoch_limit() -> None:
    curve = make_curve([1.0, 0.8, 0.6, 0.5], [1.0, 0.9, 0.8, 0.7])
    assert curve_findings(curve, best_epoch=4, epochs_trained=4, epoch_limit=10) == []


def test_without_a_limit_a_trial_not_stopped_early_counts_as_at_its_limit() -> None:
    assert still_improving(4, 4, stopped_early=False, epoch_limit=None)
    assert still_improving(4, 4, stopped_early=True, epoch_limit=None) is None
    assert still_improving(3, 4, stopped_early=False, epoch_limit=None) is None


def test_overfitting_began_where_validation_loss_was_lowest() -> None:
    val_loss = [1.0, 0.7, 0.5, 0.45, 0.48, 0.55, 0.62]
    curve = make_curve([1.0, 0.6, 0.4, 0.3, 0.2, 0.15, 0.1], val_loss)
    finding = overfitting_start(curve)
    assert finding is not None
    assert finding.epoch == 4
    assert finding.text.startswith("overfitting began at epoch 4")
    assert "training loss kept falling" in finding.text


def test_noise_on_a_plateau_is_not_overfitting() -> None:
    curve = make_curve([1.0, 0.6, 0.5, 0.45, 0.44, 0.43], [1.0, 0.6, 0.5, 0.452, 0.451, 0.453])
    assert overfitting_start(curve) is None


def test_one_rising_epoch_is_not_overfitting() -> None:
    curve = make_curve([1.0, 0.6, 0.5, 0.4], [1.0, 0.6, 0.5, 0.9])
    assert overfitting_start(curve) is None


def test_stopped_early_names_the_last_epoch_and_the_best() -> None:
    curve = make_curve([1.0, 0.6, 0.4, 0.3, 0.2, 0.1], [1.0, 0.6, 0.5, 0.6, 0.7, 0.8])
    findings = curve_findings(curve, best_epoch=3, epochs_trained=6, stopped_early=True)
    kinds = {f.kind: f for f in findings}
    assert kinds["overfitting"].epoch == 3
    assert kinds["stopped_early"].epoch == 6
    assert kinds["stopped_early"].text == "stopped early at epoch 6 (best epoch 3)"


def test_validation_loss_still_falling_at_the_limit_is_still_improving() -> None:
    # the objective's best epoch (9) is tied with the last, but validation loss kept falling
    curve = make_curve([1.0 - 0.05 * i for i in range(10)], [1.0 - 0.04 * i for i in range(10)])
    findings = curve_findings(curve, best_epoch=9, stopped_early=False, epoch_limit=10)
    [finding] = [f for f in findings if f.kind == "still_improving"]
    assert finding.epoch == 10 and "validation loss was lowest at the last (10)" in finding.text


# ---------------------------------------------------------------- first-epoch divergence


def test_a_first_epoch_loss_far_above_chance_is_diverged_even_when_flat_after() -> None:
    # the trial: 1.66e6 at epoch 1, flat after (never 10x its own first value)
    curve = make_curve([1.66e6, 1.66e6, 1.65e6, 1.66e6], [1.7e6, 1.7e6, 1.7e6, 1.7e6])
    assert all(f.kind != "diverged" for f in curve_findings(curve))  # without it: missed
    findings = curve_findings(curve, chance_loss=0.693)
    assert [(f.kind, f.epoch) for f in findings] == [("diverged", 1)]
    assert findings[0].text == (
        "diverged: the training loss at epoch 1 was 1.66e+06, above 10 × 0.693, the loss of a "
        "model that learned nothing"
    )


def test_a_first_epoch_loss_at_most_10x_chance_is_not_diverged() -> None:
    curve = make_curve([1.46, 0.5, 0.2], [0.9, 0.5, 0.3])  # 10 x 0.146 exactly: not above
    assert all(f.kind != "diverged" for f in curve_findings(curve, chance_loss=0.146))
    curve = make_curve([1.47, 0.5, 0.2], [0.9, 0.5, 0.3])
    assert curve_findings(curve, chance_loss=0.146)[0].kind == "diverged"
    # regression: the mean's normalized MSE is 1
    assert divergence(make_curve([9.0, 2.0], [3.0, 2.0]), chance_loss=1.0) is None
    assert divergence(make_curve([11.0, 2.0], [3.0, 2.0]), chance_loss=1.0) is not None
