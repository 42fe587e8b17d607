"""Recommendations: the rules of thumb, ordered by what the search's evidence says."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tunenet.diagnosis.advice import Recommendation, TrialContext, image_source, recommend
from tunenet.diagnosis.curves import Finding, curve_findings, still_improving
from tunenet.diagnosis.effects import search_evidence
from tunenet.diagnosis.intervals import wilson
from tunenet.diagnosis.labels import (
    HIGH_BIAS,
    NOT_LEARNING,
    UNCERTAIN,
    Chance,
    FitDiagnosis,
    Noise,
    fit_diagnosis,
)

from .samples import ACCURACY, WORKED, search_trials

# ---------------------------------------------------------------- recommendations


def keys(recs: list[Recommendation]) -> list[str]:
    return [r.key for r in recs]


def test_high_bias_recommends_a_bigger_network_and_less_regularization() -> None:
    fit = fit_diagnosis(0.26, 0.28, WORKED)
    recs = recommend(fit, [], TrialContext(), {})
    assert keys(recs)[:2] == ["model.layers", "model.units"]
    assert {"regularization.l2", "regularization.dropout", "model.activation"} <= set(keys(recs))
    assert all(r.action == "decrease" for r in recs if r.key.startswith("regularization."))
    assert "training.epochs" not in keys(recs)  # the curve did not say it was still improving


def test_high_bias_skips_regularization_that_is_already_zero() -> None:
    fit = fit_diagnosis(0.26, 0.28, WORKED)
    context = TrialContext({"regularization.l2": 0.0, "regularization.dropout": 0.3})
    recs = recommend(fit, [], context, {})
    assert "regularization.l2" not in keys(recs)
    assert "regularization.dropout" in keys(recs)


def test_still_improving_puts_training_longer_first() -> None:
    fit = fit_diagnosis(0.26, 0.28, WORKED)
    finding = still_improving(20, 20, False, 20)
    recs = recommend(fit, [finding], TrialContext({"training.epochs": 20}), {})
    assert recs[0].key == "training.epochs"
    assert "now 20" in recs[0].text


def test_stopped_early_well_before_the_limit_never_says_train_longer() -> None:
    fit = fit_diagnosis(0.26, 0.28, WORKED)
    curve = pd.DataFrame({"epoch": range(1, 10), "loss": 0.5, "val_loss": [0.6] * 3 + [0.55] * 6})
    findings = curve_findings(curve, best_epoch=4, stopped_early=True, epoch_limit=100)
    assert [f.kind for f in findings] == ["stopped_early"]
    context = TrialContext({"training.epochs": 100, "optimizer.learning_rate": 0.001})
    recs = recommend(fit, findings, context, {})
    assert "training.epochs" not in keys(recs)
    assert keys(recs)[:2] == ["model.layers", "model.units"]  # capacity first
    lr = next(r for r in recs if r.key == "optimizer.learning_rate")
    assert "stopped early at epoch 9 of 100" in lr.text and "now 0.001" in lr.text


def test_still_improving_at_the_limit_says_train_longer_first() -> None:
    curve = pd.DataFrame({"epoch": range(1, 21), "loss": 0.5, "val_loss": np.linspace(1, 0.5, 20)})
    findings = curve_findings(curve, best_epoch=20, stopped_early=False, epoch_limit=20)
    assert [f.kind for f in findings] == ["still_improving"]
    for fit in (fit_diagnosis(0.26, 0.28, WORKED), fit_diagnosis(0.12, 0.13, WORKED)):
        recs = recommend(fit, findings, TrialContext({"training.epochs": 20}), {})
        assert recs[0].key == "training.epochs" and recs[0].action == "increase"


def test_tabular_data_gets_no_cnn_and_no_augmentation() -> None:
    assert [image_source(s) for s in ("csv", "iris", "wine", "breast_cancer")] == [False] * 4
    assert [image_source(s) for s in ("diabetes", "circles", "moons")] == [False] * 3
    assert image_source("npz", [30]) is False
    for image_data in (False, None):  # tables, or unknown (no manifest)
        context = TrialContext({"model.kind": "dense"}, image_data, "breast_cancer")
        for fit in (fit_diagnosis(0.12, 0.25, WORKED), fit_diagnosis(0.26, 0.40, WORKED)):
            recs = recommend(fit, [], context, {})
            assert "data.augmentation" not in keys(recs)
            assert not any("cnn" in r.text or r.value == "cnn" for r in recs)
            assert not any(r.key.startswith("data.") and r.key != "data.limit" for r in recs)


def test_images_and_digits_may_get_a_cnn() -> None:
    assert [image_source(s) for s in ("digits", "images", "keras:mnist")] == [True] * 3
    assert image_source("npz", [28, 28, 1]) is True and image_source(None) is None
    fit = fit_diagnosis(0.12, 0.25, WORKED)
    digits = recommend(fit, [], TrialContext({"model.kind": "dense"}, True, "digits"), {})
    assert next(r for r in digits if r.key == "model.kind").value == "cnn"
    assert "data.augmentation" not in keys(digits)  # a dense net sees digits as 64 features
    images = recommend(fit, [], TrialContext({"model.kind": "dense"}, True, "images"), {})
    assert "data.augmentation" in keys(images)
    cnn = recommend(fit, [], TrialContext({"model.kind": "cnn"}, True, "digits"), {})
    assert "data.augmentation" in keys(cnn) and "model.kind" not in keys(cnn)


def not_learning(train_error: float = 0.5, val_error: float = 0.52) -> FitDiagnosis | None:
    fit = fit_diagnosis(train_error, val_error, WORKED, chance=Chance(0.5, "the majority class"))
    assert fit is not None and fit.label == NOT_LEARNING
    return fit


def test_not_learning_is_about_learning_rate_optimizer_normalization_and_capacity() -> None:
    # momentum, not plain SGD: no slow optimizer to blame first (test_advice_causes.py)
    context = TrialContext(
        {"optimizer.learning_rate": 0.01, "optimizer.name": "momentum", "data.normalize": "none"},
        image_data=False,
    )
    still = Finding("still_improving", 20, "still improving")
    recs = recommend(not_learning(), [still], context, {})
    assert keys(recs) == [
        "optimizer.learning_rate",
        "optimizer.name",
        "data.normalize",
        "model.layers",
        "model.units",
    ]
    assert "10x higher and 10x lower" in recs[0].text and "min: 0.001, max: 0.1" in recs[0].text
    assert recs[1].value == "adam" and recs[2].value == "standard"


def test_not_learning_never_says_regularize_or_more_data() -> None:
    context = TrialContext({"regularization.dropout": 0.5, "data.limit": 100, "model.layers": 0})
    recs = recommend(not_learning(0.5, 0.9), [], context, {})
    assert keys(recs)[0] == "model.layers"  # no hidden layer: capacity first
    assert "model.units" not in keys(recs)
    assert not any(r.key.startswith("regularization.") or r.key == "data.limit" for r in recs)


def test_uncertain_says_how_to_become_sure_and_fixes_nothing() -> None:
    noise = Noise(wilson(0.12, 1000), wilson(0.20, 50), 1000, 50)  # an 8-point gap on 50 rows
    fit = fit_diagnosis(0.12, 0.20, WORKED, noise)
    assert fit is not None and fit.label == UNCERTAIN
    context = TrialContext({"data.split.validation": 0.2, "search.executions_per_trial": 1})
    recs = recommend(fit, [], context, {})
    assert keys(recs) == ["data.split.validation", "search.executions_per_trial"]
    assert "now 0.2" in recs[0].text and "now 1" in recs[1].text


def test_high_bias_with_an_uncertain_gap_fixes_the_bias_then_says_how_to_become_sure() -> None:
    noise = Noise(wilson(0.26, 1000), wilson(0.34, 50), 1000, 50)
    fit = fit_diagnosis(0.26, 0.34, WORKED, noise)
    assert fit is not None and fit.label == HIGH_BIAS and fit.uncertain == ("variance",)
    recs = recommend(fit, [], TrialContext(), {})
    assert keys(recs)[:2] == ["model.layers", "model.units"]
    assert keys(recs)[-2:] == ["data.split.validation", "search.executions_per_trial"]
    assert not any(r.key.startswith("regularization.") for r in recs)  # the gap may be real


def test_high_variance_recommends_data_and_regularization() -> None:
    fit = fit_diagnosis(0.12, 0.25, WORKED)
    recs = recommend(fit, [], TrialContext({"data.limit": 500}, image_data=True), {})
    assert keys(recs)[0] == "data.limit"
    assert {"data.augmentation", "regularization.dropout", "regularization.l2"} <= set(keys(recs))
    assert next(r for r in recs if r.key == "model.kind").value == "cnn"


def test_augmentation_only_for_images() -> None:
    fit = fit_diagnosis(0.12, 0.25, WORKED)
    recs = recommend(fit, [], TrialContext(image_data=False), {})
    assert "data.augmentation" not in keys(recs)


def test_diverged_recommends_learning_rate_clipping_normalization_batch_norm() -> None:
    finding = Finding("diverged", 3, "diverged: loss became NaN at epoch 3")
    recs = recommend(None, [finding], TrialContext({"optimizer.learning_rate": 0.5}), {})
    assert keys(recs) == [
        "optimizer.learning_rate",
        "optimizer.clipnorm",
        "data.normalize",
        "model.batch_norm",
    ]
    assert "now 0.5" in recs[0].text


def test_good_fit_recommends_nothing() -> None:
    assert recommend(fit_diagnosis(0.12, 0.13, WORKED), [], TrialContext(), {}) == []


def test_recommendations_the_search_agrees_with_come_first() -> None:
    fit = fit_diagnosis(0.12, 0.25, WORKED)
    evidence = search_evidence(search_trials(), ACCURACY)
    recs = recommend(fit, [], TrialContext(), evidence)
    assert recs[0].key == "regularization.dropout"
    assert recs[0].agrees is True
    assert recs[0].evidence and "higher values did better" in recs[0].evidence


def test_a_contradicted_recommendation_goes_last() -> None:
    fit = fit_diagnosis(0.26, 0.28, WORKED)  # high bias: "lower dropout", but higher helped
    evidence = search_evidence(search_trials(), ACCURACY)
    recs = recommend(fit, [], TrialContext(), evidence)
    assert recs[-1].key == "regularization.dropout" and recs[-1].agrees is False


def test_high_bias_and_high_variance_never_says_regularize_less() -> None:
    fit = fit_diagnosis(0.26, 0.40, WORKED)
    recs = recommend(fit, [], TrialContext(), {})
    assert keys(recs)[:2] == ["model.layers", "model.units"]  # bias first
    assert not any(r.action == "decrease" for r in recs)
    assert {"regularization.dropout", "regularization.l2"} <= set(keys(recs))
