"""Pure diagnosis rules: labels, curve findings, recommendations, search-level summaries."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tunenet import diagnosis as dx

WORKED = dx.Thresholds(target_error=0.13, bias_threshold=0.05, variance_threshold=0.05)


def make_curve(loss: list[float], val_loss: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"epoch": range(1, len(loss) + 1), "loss": loss, "val_loss": val_loss}, dtype=float
    ).astype({"epoch": int})


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
    fit = dx.fit_diagnosis(train, val, WORKED)
    assert fit is not None
    assert fit.label == label
    assert fit.avoidable_bias == pytest.approx(train - 0.13)
    assert fit.variance == pytest.approx(val - train)


def test_a_gap_equal_to_the_threshold_is_not_high_variance() -> None:
    # 0.17 - 0.12 is 0.05000000000000002 in floating point
    fit = dx.fit_diagnosis(0.12, 0.17, dx.Thresholds(0.12, 0.05, 0.05))
    assert fit is not None and fit.label == dx.GOOD_FIT


@pytest.mark.parametrize("errors", [(None, 0.1), (0.1, float("nan")), (float("inf"), 0.2)])
def test_missing_errors_give_no_label(errors: tuple) -> None:
    assert dx.fit_diagnosis(*errors, WORKED) is None


# ---------------------------------------------------------------- curves


def test_nan_loss_is_diverged_at_that_epoch() -> None:
    curve = make_curve([2.3, 1.9, 5.0, math.nan], [2.2, 2.0, 8.0, math.nan])
    findings = dx.curve_findings(curve, status="diverged")
    assert [(f.kind, f.epoch) for f in findings] == [("diverged", 4)]
    assert "NaN" in findings[0].text


def test_infinite_validation_loss_is_diverged() -> None:
    finding = dx.divergence(make_curve([1.0, 0.9, 0.8], [1.0, math.inf, 0.9]))
    assert finding is not None and finding.epoch == 2 and "infinite" in finding.text


def test_a_loss_that_blew_up_is_diverged() -> None:
    finding = dx.divergence(make_curve([0.7, 0.6, 3.0, 40.0, 900.0], [0.7, 0.7, 3.5, 45, 950]))
    assert finding is not None
    assert finding.epoch == 4  # first epoch above 10x the first loss


def test_a_diverged_status_without_a_curve_is_diverged() -> None:
    findings = dx.curve_findings(make_curve([], []), status="diverged")
    assert [f.kind for f in findings] == ["diverged"]


def test_still_improving_at_the_epoch_limit() -> None:
    curve = make_curve([1.0, 0.8, 0.6, 0.5], [1.0, 0.9, 0.8, 0.7])
    findings = dx.curve_findings(curve, best_epoch=4, epochs_trained=4, epoch_limit=4)
    assert [(f.kind, f.epoch) for f in findings] == [("still_improving", 4)]


def test_not_still_improving_below_the_epoch_limit() -> None:
    curve = make_curve([1.0, 0.8, 0.6, 0.5], [1.0, 0.9, 0.8, 0.7])
    assert dx.curve_findings(curve, best_epoch=4, epochs_trained=4, epoch_limit=10) == []


def test_without_a_limit_a_trial_not_stopped_early_counts_as_at_its_limit() -> None:
    assert dx.still_improving(4, 4, stopped_early=False, epoch_limit=None)
    assert dx.still_improving(4, 4, stopped_early=True, epoch_limit=None) is None
    assert dx.still_improving(3, 4, stopped_early=False, epoch_limit=None) is None


def test_overfitting_began_where_validation_loss_was_lowest() -> None:
    val_loss = [1.0, 0.7, 0.5, 0.45, 0.48, 0.55, 0.62]
    curve = make_curve([1.0, 0.6, 0.4, 0.3, 0.2, 0.15, 0.1], val_loss)
    finding = dx.overfitting_start(curve)
    assert finding is not None
    assert finding.epoch == 4
    assert finding.text.startswith("overfitting began at epoch 4")
    assert "training loss kept falling" in finding.text


def test_noise_on_a_plateau_is_not_overfitting() -> None:
    curve = make_curve([1.0, 0.6, 0.5, 0.45, 0.44, 0.43], [1.0, 0.6, 0.5, 0.452, 0.451, 0.453])
    assert dx.overfitting_start(curve) is None


def test_one_rising_epoch_is_not_overfitting() -> None:
    curve = make_curve([1.0, 0.6, 0.5, 0.4], [1.0, 0.6, 0.5, 0.9])
    assert dx.overfitting_start(curve) is None


def test_stopped_early_names_the_last_epoch_and_the_best() -> None:
    curve = make_curve([1.0, 0.6, 0.4, 0.3, 0.2, 0.1], [1.0, 0.6, 0.5, 0.6, 0.7, 0.8])
    findings = dx.curve_findings(curve, best_epoch=3, epochs_trained=6, stopped_early=True)
    kinds = {f.kind: f for f in findings}
    assert kinds["overfitting"].epoch == 3
    assert kinds["stopped_early"].epoch == 6
    assert kinds["stopped_early"].text == "stopped early at epoch 6 (best epoch 3)"


# ---------------------------------------------------------------- recommendations


def keys(recs: list[dx.Recommendation]) -> list[str]:
    return [r.key for r in recs]


def test_high_bias_recommends_a_bigger_network_longer_training_less_regularization() -> None:
    fit = dx.fit_diagnosis(0.26, 0.28, WORKED)
    recs = dx.recommend(fit, [], dx.TrialContext(), {})
    assert keys(recs)[:3] == ["model.layers", "model.units", "training.epochs"]
    assert {"regularization.l2", "regularization.dropout", "model.kind"} <= set(keys(recs))
    assert all(r.action == "decrease" for r in recs if r.key.startswith("regularization."))


def test_high_bias_skips_regularization_that_is_already_zero() -> None:
    fit = dx.fit_diagnosis(0.26, 0.28, WORKED)
    context = dx.TrialContext({"regularization.l2": 0.0, "regularization.dropout": 0.3})
    recs = dx.recommend(fit, [], context, {})
    assert "regularization.l2" not in keys(recs)
    assert "regularization.dropout" in keys(recs)


def test_still_improving_puts_training_longer_first() -> None:
    fit = dx.fit_diagnosis(0.26, 0.28, WORKED)
    finding = dx.still_improving(20, 20, False, 20)
    recs = dx.recommend(fit, [finding], dx.TrialContext({"training.epochs": 20}), {})
    assert recs[0].key == "training.epochs"
    assert "now 20" in recs[0].text


def test_high_variance_recommends_data_and_regularization() -> None:
    fit = dx.fit_diagnosis(0.12, 0.25, WORKED)
    recs = dx.recommend(fit, [], dx.TrialContext({"data.limit": 500}, image_data=True), {})
    assert keys(recs)[0] == "data.limit"
    assert {"data.augmentation", "regularization.dropout", "regularization.l2"} <= set(keys(recs))
    assert next(r for r in recs if r.key == "model.kind").value == "cnn"


def test_augmentation_only_for_images() -> None:
    fit = dx.fit_diagnosis(0.12, 0.25, WORKED)
    recs = dx.recommend(fit, [], dx.TrialContext(image_data=False), {})
    assert "data.augmentation" not in keys(recs)


def test_diverged_recommends_learning_rate_clipping_normalization_batch_norm() -> None:
    finding = dx.Finding("diverged", 3, "diverged: loss became NaN at epoch 3")
    recs = dx.recommend(None, [finding], dx.TrialContext({"optimizer.learning_rate": 0.5}), {})
    assert keys(recs) == [
        "optimizer.learning_rate",
        "optimizer.clipnorm",
        "data.normalize",
        "model.batch_norm",
    ]
    assert "now 0.5" in recs[0].text


def test_good_fit_recommends_nothing() -> None:
    assert dx.recommend(dx.fit_diagnosis(0.12, 0.13, WORKED), [], dx.TrialContext(), {}) == []


def search_trials() -> pd.DataFrame:
    """Six completed trials: more dropout and more units did better."""
    return pd.DataFrame(
        {
            "trial_id": [f"{i:02d}" for i in range(7)],
            "status": ["completed"] * 6 + ["diverged"],
            "hp.regularization.dropout": [0.0, 0.0, 0.2, 0.2, 0.5, 0.5, 0.5],
            "hp.model.units.0": [16, 32, 64, 64, 128, 128, 16],
            "hp.model.units.1": [np.nan, 32, np.nan, 64, 128, np.nan, np.nan],
            "hp.optimizer.name": ["sgd", "adam", "sgd", "adam", "adam", "adam", "sgd"],
            "objective": [0.70, 0.72, 0.80, 0.82, 0.90, 0.91, np.nan],
        }
    )


def test_search_evidence_says_which_direction_helped() -> None:
    evidence = dx.search_evidence(search_trials(), "objective", "max", name="val_accuracy")
    assert evidence["regularization.dropout"].better == "higher"
    assert "val_accuracy" in evidence["regularization.dropout"].text
    assert evidence["model.units"].better == "higher"  # from hp.model.units.0 and .1


def test_search_evidence_follows_the_objective_direction() -> None:
    trials = search_trials()
    trials["objective"] = 1 - trials["objective"]  # now an error: lower is better
    evidence = dx.search_evidence(trials, "objective", "min")
    assert evidence["regularization.dropout"].better == "higher"


def test_recommendations_the_search_agrees_with_come_first() -> None:
    fit = dx.fit_diagnosis(0.12, 0.25, WORKED)
    evidence = dx.search_evidence(search_trials(), "objective", "max")
    recs = dx.recommend(fit, [], dx.TrialContext(), evidence)
    assert recs[0].key == "regularization.dropout"
    assert recs[0].agrees is True
    assert recs[0].evidence and "higher values did better" in recs[0].evidence


def test_a_contradicted_recommendation_goes_last() -> None:
    fit = dx.fit_diagnosis(0.26, 0.28, WORKED)  # high bias: "lower dropout", but higher helped
    evidence = dx.search_evidence(search_trials(), "objective", "max")
    recs = dx.recommend(fit, [], dx.TrialContext(), evidence)
    assert recs[-1].key == "regularization.dropout" and recs[-1].agrees is False


# ---------------------------------------------------------------- search level


def test_rank_follows_the_direction_and_skips_unfinished_trials() -> None:
    trials = search_trials()
    assert dx.rank(trials, "objective", "max").tolist()[:6] == [6, 5, 4, 3, 2, 1]
    assert math.isnan(dx.rank(trials, "objective", "max").iloc[6])
    assert dx.rank(trials, "objective", "min").iloc[0] == 1


def test_hp_effects_mean_objective_per_value() -> None:
    effects = {e.hyperparameter: e for e in dx.hp_effects(search_trials(), "objective", "max")}
    dropout = effects["regularization.dropout"]
    assert [(r.value, r.trials) for r in dropout.rows] == [("0", 2), ("0.2", 2), ("0.5", 2)]
    assert dropout.rows[2].mean_objective == pytest.approx(0.905)
    assert dropout.best_value == "0.5"
    assert effects["optimizer.name"].kind == "categorical"
    assert effects["optimizer.name"].best_value == "adam"


def test_hp_effects_bin_numeric_ranges_with_many_values() -> None:
    rng = np.random.default_rng(0)
    rates = 10 ** rng.uniform(-4, -1, 20)
    trials = pd.DataFrame(
        {
            "trial_id": [f"{i:02d}" for i in range(20)],
            "status": "completed",
            "hp.optimizer.learning_rate": rates,
            "objective": 1 - rates,
        }
    )
    (effect,) = dx.hp_effects(trials, "objective", "max")
    assert effect.binned and len(effect.rows) == dx.QUANTILE_BINS
    assert sum(r.trials for r in effect.rows) == 20
    assert effect.best_value == effect.rows[0].value  # the lowest rates did best


def test_verdict_names_the_best_trial_its_problem_and_the_next_step() -> None:
    fit = dx.fit_diagnosis(0.12, 0.25, WORKED)
    rec = dx.Recommendation("regularization.dropout", "increase", "Raise dropout.")
    text = dx.verdict(
        counts={"trials": 3, "completed": 2, "diverged": 1},
        objective="val_accuracy",
        best_id="07",
        best_objective=0.75,
        best_fit=fit,
        best_findings=[],
        best_test_error=0.26,
        labels=[dx.HIGH_VARIANCE, dx.GOOD_FIT],
        effects=[],
        top_recommendation=rec,
    )
    assert "3 trials: 2 completed, 1 diverged." in text
    assert "The best trial, 07, reached val_accuracy 0.75 (test error 26.0%)" in text
    assert "high variance" in text
    assert text.endswith("Next: Raise dropout.")


def test_verdict_without_trials() -> None:
    text = dx.verdict(
        counts={"trials": 0},
        objective="val_accuracy",
        best_id=None,
        best_objective=None,
        best_fit=None,
        best_findings=[],
        best_test_error=None,
        labels=[],
        effects=[],
        top_recommendation=None,
    )
    assert text == "No trial has been recorded yet."


@pytest.mark.parametrize(
    ("value", "text"),
    [(64.0, "64"), (0.001, "0.001"), (True, "true"), ("adam", "adam"), (None, ""), (np.nan, "")],
)
def test_format_value(value: object, text: str) -> None:
    assert dx.format_value(value) == text


def test_high_bias_and_high_variance_never_says_regularize_less() -> None:
    fit = dx.fit_diagnosis(0.26, 0.40, WORKED)
    recs = dx.recommend(fit, [], dx.TrialContext(), {})
    assert keys(recs)[:2] == ["model.layers", "model.units"]  # bias first
    assert not any(r.action == "decrease" for r in recs)
    assert {"regularization.dropout", "regularization.l2"} <= set(keys(recs))


def test_verdict_names_an_effect_only_when_each_value_was_tried_twice() -> None:
    effects = dx.hp_effects(search_trials(), "objective", "max")
    common = dict(
        counts={"trials": 6, "completed": 6},
        objective="val_accuracy",
        best_id="05",
        best_objective=0.91,
        best_fit=None,
        best_findings=[],
        best_test_error=None,
        labels=[],
        top_recommendation=None,
    )
    text = dx.verdict(effects=effects, **common)
    assert "regularization.dropout mattered most: mean val_accuracy 0.905 at 0.5" in text
    single = [e for e in effects if e.hyperparameter == "model.units.0"]  # 16 and 32 tried once
    text = dx.verdict(effects=single, **common)
    assert "Too few trials per value" in text


# ---------------------------------------------------------------- the capacity curve


def capacity_steps(scores: list[float | None]) -> list[dx.CapacityStep]:
    return [
        dx.CapacityStep(
            f"{i:02d}", "completed" if s is not None else "failed", 1, (2**i,), s, None, None
        )  # fmt: skip
        for i, s in enumerate(scores)
    ]


@pytest.mark.parametrize(
    ("scores", "direction", "best", "stopped"),
    [
        ([0.80, 0.90, 0.903, 0.901], "max", "02", "01"),  # 02 gains 0.003 <= 0.005
        ([0.80, 0.90, 0.96, 0.95], "max", "02", "02"),
        ([0.80, None, 0.90, 0.95], "max", "03", "03"),  # paying to the last step
        ([1.0, 0.5, 0.497, 0.6], "min", "02", "01"),  # a loss: lower is better
        ([0.90, 0.905], "max", "01", "00"),  # exactly min_delta is not more than it
        ([None, None], "max", None, None),
    ],
)
def test_capacity_curve_best_and_where_growth_stopped_paying(
    scores: list[float | None], direction: str, best: str | None, stopped: str | None
) -> None:
    curve = dx.capacity_curve(capacity_steps(scores), direction, 0.005)
    assert (curve.best, curve.stopped_after) == (best, stopped)


def test_capacity_sentences() -> None:
    stopped = dx.capacity_curve(capacity_steps([0.80, 0.90, 0.903]), "max", 0.005)
    text = dx.capacity_sentence(stopped, "val_accuracy")
    assert text.startswith("Growth stopped paying after 1×2 (trial 01, val_accuracy 0.9)")
    assert "the best, 1×4 (trial 02), is only 0.003 better" in text
    paying = dx.capacity_curve(capacity_steps([0.80, 0.90]), "max", 0.005)
    assert dx.capacity_sentence(paying, "acc").startswith("Growth was still paying at the last")
    empty = dx.capacity_curve(capacity_steps([None]), "max", 0.005)
    assert dx.capacity_sentence(empty, "acc").startswith("No completed step")
    text = dx.verdict(
        counts={"trials": 3, "completed": 3},
        objective="val_accuracy",
        best_id="02",
        best_objective=0.903,
        best_fit=None,
        best_findings=[],
        best_test_error=None,
        labels=[],
        effects=[],
        top_recommendation=None,
        capacity=stopped,
    )
    assert "Growth stopped paying after 1×2" in text


@pytest.mark.parametrize(
    ("layers", "widths", "label", "size"),
    [(2, (16, 16), "2×16", 32), (3, (32, 16, 8), "32-16-8", 56), (0, (), "0 layers", 0),
     (2, None, "2×?", None), (None, None, "?", None)],
)  # fmt: skip
def test_capacity_size_labels(layers, widths, label: str, size: int | None) -> None:
    step = dx.CapacityStep("0", "completed", layers, widths, 0.5, None, None)
    assert (step.label, step.size) == (label, size)
