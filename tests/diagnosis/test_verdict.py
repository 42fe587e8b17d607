"""The search in words: the verdict paragraph and the capacity sentence."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from tunenet.config.objective import Objective
from tunenet.diagnosis.advice import Recommendation
from tunenet.diagnosis.capacity import capacity_curve
from tunenet.diagnosis.effects import hp_effects
from tunenet.diagnosis.imbalance import (
    ClassBalance,
    class_recalls,
    imbalance_advice,
    majority_test,
    with_imbalance_advice,
)
from tunenet.diagnosis.intervals import wilson
from tunenet.diagnosis.labels import GOOD_FIT, HIGH_VARIANCE, Noise, fit_diagnosis
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


# ---------------------------------------------------------------- classes, ties, the target


def classes_verdict(balance, fit=None, recommendation=None, **extra) -> str:
    return verdict(
        counts={"trials": 2, "completed": 2},
        objective="val_accuracy",
        best_id="03",
        best_objective=0.969,
        best_fit=fit if fit is not None else fit_diagnosis(0.028, 0.0305, WORKED),
        best_findings=[],
        best_test_error=0.031,
        labels=[GOOD_FIT, GOOD_FIT],
        effects=[],
        top_recommendation=recommendation,
        balance=balance,
        **extra,
    )


def issue_balance(test_matrix=((1913, 20), (42, 25)), **extra) -> ClassBalance:
    """The issue's table: 67 positives in 2,000 test rows."""
    labels = ["No", "Yes"]
    return ClassBalance(
        ratio=1933 / 67,
        ratio_split="val",
        split="test",
        recalls=class_recalls(test_matrix, labels),
        majority=majority_test(test_matrix, labels, "test", 0),
        low_recall=["Yes"],
        **extra,
    )


def test_majority_test_is_mcnemar_on_the_discordant_rows() -> None:
    test = majority_test([[1913, 20], [42, 25]], ["No", "Yes"], "test", 0)
    assert (test.majority_only, test.model_only) == (20, 25)  # No rows wrong, Yes rows right
    assert (test.wrong, test.majority_wrong, test.n) == (62, 67, 2000)
    assert test.p_value == pytest.approx(binomtest(25, 45, 0.5).pvalue)
    assert not test.distinguishable and not test.better
    three = majority_test([[50, 0, 0], [5, 5, 0], [2, 0, 8]], ["a", "b", "c"], "val", 0)
    assert (three.majority_only, three.model_only) == (0, 13)  # b and c rows it got right
    assert three.better and three.p_value == pytest.approx(binomtest(13, 13).pvalue)


def test_a_model_like_the_majority_class_is_not_said_to_fit_well() -> None:
    text = classes_verdict(issue_balance())
    assert "fits well" not in text and "nothing stands out" not in text
    assert (
        "On the 2,000 test rows, the best model is not distinguishable from always answering "
        'the majority class "No": 62 wrong (3.10%) against 67 (3.35%); exact McNemar test, '
        "p = 0.55."
    ) in text
    assert "Classes are imbalanced (the largest class has 28.9× the validation examples" in text
    assert "recall per class on the test split (95% interval): No 99.0% [" in text


def test_imbalance_advice_weights_the_classes_then_an_auc_objective() -> None:
    first = imbalance_advice(issue_balance())
    assert (first.key, first.value) == ("training.class_weight", "balanced")
    assert "search.objective: val_pr_auc (or val_auc)" in first.text
    assert 'no better than always answering "No", p = 0.55' in first.text
    weighted = imbalance_advice(issue_balance(class_weight="balanced"))
    assert (weighted.key, weighted.value) == ("search.objective", "val_pr_auc")
    by_auc = imbalance_advice(issue_balance(objective="val_pr_auc"))
    assert by_auc.key == "training.class_weight" and "val_auc" not in by_auc.text
    assert imbalance_advice(issue_balance(class_weight="balanced", objective="val_auc")) is None


def test_a_clearly_better_model_on_balanced_classes_gets_no_class_sentence() -> None:
    matrix = [[50, 3], [8, 45]]
    balance = ClassBalance(
        ratio=1.0,
        ratio_split="val",
        split="val",
        recalls=class_recalls(matrix, ["no", "yes"]),
        majority=majority_test(matrix, ["no", "yes"], "val", 0),
        low_recall=[],
    )
    assert not balance.needs_advice and imbalance_advice(balance) is None
    text = classes_verdict(balance)
    assert "majority class" not in text and "imbalanced" not in text
    assert "fits well" in text and "Next: nothing stands out" in text


def test_tied_best_trials_are_named_in_the_verdict() -> None:
    text = classes_verdict(None, tied_with=["05", "07"], tie_choice="the first by trial id")
    assert (
        "The best trial, 03 (tied for best with 05 and 07; shown: the first by trial id), "
        "reached val_accuracy 0.969"
    ) in text


def test_a_best_trial_beating_the_target_is_told_the_target_is_not_a_floor() -> None:
    noise = Noise(train_ci=wilson(0.02, 5000), val_ci=wilson(0.03, 5000), train_n=5000, val_n=5000)
    fit = fit_diagnosis(0.02, 0.03, WORKED, noise)  # 11 points below the 13% target
    assert fit.beats_target
    text = classes_verdict(None, fit=fit)
    assert "Next: set diagnosis.target_error (or --target-error)" in text
    assert "the target is not a floor" in text and "nothing stands out" not in text
    rec = Recommendation("model.units", "increase", "Raise units.")
    assert classes_verdict(None, fit=fit, recommendation=rec).endswith("Next: Raise units.")


def test_a_trial_not_learning_keeps_its_own_cause_first_then_the_class_weights() -> None:
    balance = issue_balance()
    own = Recommendation("optimizer.learning_rate", "increase", "Raise the learning rate.")
    keys = [r.key for r in with_imbalance_advice([own], balance, first=False)]
    assert keys == ["optimizer.learning_rate", "training.class_weight"]
    assert [r.key for r in with_imbalance_advice([own], balance)][0] == "training.class_weight"
    text = classes_verdict(balance, recommendation=own)
    assert text.endswith(
        "Next: Raise the learning rate. Then, as the classes are imbalanced: set "
        "training.class_weight: balanced or search.objective: val_pr_auc (or val_auc)."
    )
    first = imbalance_advice(balance)
    assert "Then," not in classes_verdict(balance, recommendation=first)


def test_a_model_worse_than_the_majority_is_advised_as_worse() -> None:
    worse = issue_balance(test_matrix=((1873, 60), (57, 10)))  # 117 wrong against 67
    assert worse.majority.worse and not worse.majority.better
    assert 'worse than always answering "No", p < 0.001' in imbalance_advice(worse).text
    assert 'the best model is worse than always answering the majority class "No"' in (
        classes_verdict(worse)
    )
