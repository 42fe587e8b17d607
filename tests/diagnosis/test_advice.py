"""Recommendations: the rules of thumb, ordered by what the search's evidence says."""

from __future__ import annotations

from tunenet.diagnosis.advice import Recommendation, TrialContext, recommend
from tunenet.diagnosis.curves import Finding, still_improving
from tunenet.diagnosis.effects import search_evidence
from tunenet.diagnosis.labels import fit_diagnosis

from .samples import ACCURACY, WORKED, search_trials

# ---------------------------------------------------------------- recommendations


def keys(recs: list[Recommendation]) -> list[str]:
    return [r.key for r in recs]


def test_high_bias_recommends_a_bigger_network_longer_training_less_regularization() -> None:
    fit = fit_diagnosis(0.26, 0.28, WORKED)
    recs = recommend(fit, [], TrialContext(), {})
    assert keys(recs)[:3] == ["model.layers", "model.units", "training.epochs"]
    assert {"regularization.l2", "regularization.dropout", "model.kind"} <= set(keys(recs))
    assert all(r.action == "decrease" for r in recs if r.key.startswith("regularization."))


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
