"""The search in words: the verdict paragraph and the capacity sentence."""

from __future__ import annotations

import numpy as np

from tunenet.config.objective import Objective
from tunenet.diagnosis.advice import Recommendation
from tunenet.diagnosis.capacity import capacity_curve
from tunenet.diagnosis.effects import hp_effects
from tunenet.diagnosis.labels import GOOD_FIT, HIGH_VARIANCE, fit_diagnosis
from tunenet.diagnosis.verdict import capacity_sentence, verdict

from .samples import ACCURACY, WORKED, capacity_steps, search_trials, trials_of


def test_verdict_names_the_best_trial_its_problem_and_the_next_step() -> None:
    fit = fit_diagnosis(0.12, 0.25, WORKED)
    rec = Recommendation("regularization.dropout", "increase", "Raise dropout.")
    text = verdict(
        counts={"trials": 3, "completed": 2, "diverged": 1},
        objective="val_accuracy",
        best_id="07",
        best_objective=0.75,
        best_fit=fit,
        best_findings=[],
        best_test_error=0.26,
        labels=[HIGH_VARIANCE, GOOD_FIT],
        effects=[],
        top_recommendation=rec,
    )
    assert "3 trials: 2 completed, 1 diverged." in text
    assert "The best trial, 07, reached val_accuracy 0.75 (test error 26.0%)" in text
    assert "high variance" in text
    assert text.endswith("Next: Raise dropout.")


def test_verdict_without_trials() -> None:
    text = verdict(
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


def effect_verdict(effects: list) -> str:
    return verdict(
        counts={"trials": 6, "completed": 6},
        objective="val_accuracy",
        best_id="05",
        best_objective=0.91,
        best_fit=None,
        best_findings=[],
        best_test_error=None,
        labels=[],
        effects=effects,
        top_recommendation=None,
    )


def test_verdict_names_what_mattered_only_when_it_is_larger_than_the_noise() -> None:
    trials = trials_of({"optimizer.learning_rate": [1e-3, 1.0]}, [0.01, 0.50], [0.02, 0.51])
    trials["val_n"] = 200
    text = effect_verdict(hp_effects(trials, ACCURACY))
    assert (
        "optimizer.learning_rate mattered most: mean val_accuracy 0.98 at 0.001 against 0.49 "
        "at 1 (p < 0.001, Holm over 1 hyperparameter)."
    ) in text
    assert "larger than the noise across" not in text


def test_verdict_says_plainly_when_nothing_was_larger_than_the_noise() -> None:
    trials = trials_of({"training.batch_size": [32, 33]}, [0.20, 0.21], [0.25, 0.22], val_n=106)
    text = effect_verdict(hp_effects(trials, ACCURACY))
    assert "mattered" not in text
    assert (
        "No hyperparameter made a difference larger than the noise across these 2 trials "
        "(val_accuracy; Holm over 1 hyperparameter)."
    ) in text


def test_verdict_says_which_hyperparameters_could_not_be_tested() -> None:
    text = effect_verdict(hp_effects(search_trials(), ACCURACY))  # no split sizes, 6 trials
    assert "mattered" not in text
    assert "No hyperparameter made a difference larger than the noise across these 6" in text
    assert "model.units.1 could not be tested" in text  # 32, 64 and 128 once each
    sizes = trials_of({"optimizer.learning_rate": [1e-3, 1.0]}, [0.01, 0.50], [0.02, 0.51])
    text = effect_verdict(hp_effects(sizes, ACCURACY))
    assert (
        "Too few trials to tell whether any hyperparameter made a difference larger than the "
        "noise (each value tried once; no split sizes)."
    ) in text


def test_verdict_says_what_moved_the_train_error_and_the_gap() -> None:
    layers, dropout = np.repeat([1, 2, 3], 3), np.tile([0.0, 0.25, 0.5], 3)
    train = 0.40 - 0.12 * (layers - 1) + np.tile([0.0, 0.004, -0.003], 3)
    val = train + 0.20 - 0.35 * dropout + np.repeat([0.002, -0.004, 0.001], 3)
    hps = {"model.layers": layers, "regularization.dropout": dropout}
    trials = trials_of(hps, train, val, val_n=2000, train_n=6000)
    text = effect_verdict(hp_effects(trials, ACCURACY))
    assert "Beyond the noise, the train error (bias) moved with model.layers (lowest at 3, " in text
    assert "the train-to-validation gap (variance) moved with regularization.dropout " in text
    assert "(smallest at 0.5, " in text


def test_verdict_names_hyperparameters_that_changed_together() -> None:
    rng = np.random.default_rng(0)
    rates = np.repeat([1e-3, 1e-1], 10)
    train = 0.10 + 0.20 * (rates == 1e-1) + rng.normal(0, 0.01, 20)
    hps = {"optimizer.learning_rate": rates, "optimizer.name": np.repeat(["adam", "sgd"], 10)}
    text = effect_verdict(hp_effects(trials_of(hps, train, train + 0.02, val_n=500), ACCURACY))
    assert (
        "optimizer.learning_rate (or optimizer.name, changed with it in every trial) mattered most"
    ) in text
    assert "Also larger than the noise" not in text


def test_capacity_sentences() -> None:
    stopped = capacity_curve(capacity_steps([0.80, 0.90, 0.903]), ACCURACY, 0.005)
    text = capacity_sentence(stopped)
    assert text.startswith("Growth stopped paying after 1×2 (trial 01, val_accuracy 0.9)")
    assert "the best, 1×4 (trial 02), is only 0.003 better" in text
    paying = capacity_curve(capacity_steps([0.80, 0.90]), Objective("acc", "max"), 0.005)
    assert capacity_sentence(paying).startswith("Growth was still paying at the last")
    empty = capacity_curve(capacity_steps([None]), Objective("acc", "max"), 0.005)
    assert capacity_sentence(empty).startswith("No completed step")
    text = verdict(
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
