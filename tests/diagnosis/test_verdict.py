"""The search in words: the verdict paragraph and the capacity sentence."""

from __future__ import annotations

from tunenet.diagnosis.advice import Recommendation
from tunenet.diagnosis.capacity import capacity_curve
from tunenet.diagnosis.effects import hp_effects
from tunenet.diagnosis.labels import GOOD_FIT, HIGH_VARIANCE, fit_diagnosis
from tunenet.diagnosis.verdict import capacity_sentence, verdict
from tunenet.objective import Objective

from .samples import ACCURACY, WORKED, capacity_steps, search_trials


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


def test_verdict_names_an_effect_only_when_each_value_was_tried_twice() -> None:
    effects = hp_effects(search_trials(), ACCURACY)
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
    text = verdict(effects=effects, **common)
    assert "regularization.dropout mattered most: mean val_accuracy 0.905 at 0.5" in text
    single = [e for e in effects if e.hyperparameter == "model.units.0"]  # 16 and 32 tried once
    text = verdict(effects=single, **common)
    assert "Too few trials per value" in text


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
