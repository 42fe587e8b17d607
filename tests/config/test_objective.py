"""The one place that decides which objective value is better."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tunenet.config.objective import Objective

ACCURACY = Objective("val_accuracy", "max")
LOSS = Objective("val_loss", "min")
NAN = float("nan")


@pytest.mark.parametrize(
    ("name", "direction"),
    [("val_loss", "min"), ("val_accuracy", "max"), ("val_auc", "max"), ("val_mse", "min")],
)
def test_named_guesses_the_direction_from_the_name(name: str, direction: str) -> None:
    assert Objective.named(name) == Objective(name, direction)


def test_named_keeps_a_given_direction_and_ignores_a_bad_one() -> None:
    assert Objective.named("val_loss", "max").direction == "max"
    assert Objective.named("val_loss", "up").direction == "min"


def test_goal_is_the_word_for_sentences() -> None:
    assert (ACCURACY.goal, LOSS.goal) == ("maximized", "minimized")


def test_better_follows_the_direction() -> None:
    assert ACCURACY.better(0.9, 0.8) and not ACCURACY.better(0.8, 0.9)
    assert LOSS.better(0.8, 0.9) and not LOSS.better(0.9, 0.8)
    assert not ACCURACY.better(0.9, 0.9) and not LOSS.better(0.9, 0.9)  # a tie is not better


@pytest.mark.parametrize("objective", [ACCURACY, LOSS])
def test_anything_finite_beats_none_or_nan_and_they_beat_nothing(objective: Objective) -> None:
    assert objective.better(0.5, None) and objective.better(0.5, NAN)
    assert not objective.better(None, 0.5) and not objective.better(NAN, 0.5)
    assert not objective.better(math.inf, 0.5) and not objective.better(None, None)


def test_gain_is_positive_when_better_and_negative_when_worse() -> None:
    assert ACCURACY.gain(0.9, 0.8) == pytest.approx(0.1)
    assert ACCURACY.gain(0.8, 0.9) == pytest.approx(-0.1)
    assert LOSS.gain(0.8, 0.9) == pytest.approx(0.1)
    assert LOSS.gain(0.9, 0.8) == pytest.approx(-0.1)


def rows() -> list[dict]:
    """trials.csv rows as csv.DictReader gives them: text, some of it empty or not a number."""
    return [
        {"trial_id": "0", "objective": "0.7"},
        {"trial_id": "1", "objective": ""},
        {"trial_id": "2", "objective": "0.9"},
        {"trial_id": "3", "objective": "nan"},
        {"trial_id": "4"},
        {"trial_id": "5", "objective": "0.7"},
        {"trial_id": "6", "objective": None},
        {"trial_id": "7", "objective": "0.8"},
    ]


def ids(ordered: list) -> list[str]:
    return [row["trial_id"] for row in ordered]


def test_ordered_is_best_first_skips_missing_values_and_keeps_ties_in_order() -> None:
    assert ids(ACCURACY.ordered(rows())) == ["2", "7", "0", "5"]
    assert ids(LOSS.ordered(rows())) == ["0", "5", "7", "2"]


def test_best_takes_another_column_and_is_none_without_values() -> None:
    numbers = [{"val_loss": 0.3}, {"val_loss": 0.2}, {"val_loss": NAN}]
    assert LOSS.best(numbers, column="val_loss") == {"val_loss": 0.2}
    assert ACCURACY.best(rows())["trial_id"] == "2"
    assert ACCURACY.best([{"objective": ""}, {}]) is None
    assert ACCURACY.best([]) is None


def test_sort_key_puts_missing_values_last() -> None:
    values = [0.8, None, 0.9, NAN, 0.7]
    assert sorted(values, key=ACCURACY.sort_key)[:3] == [0.9, 0.8, 0.7]
    assert sorted(values, key=LOSS.sort_key)[:3] == [0.7, 0.8, 0.9]


def test_rank_is_one_for_the_best_ties_share_it_and_nan_stays_nan() -> None:
    values = pd.Series([0.7, 0.9, NAN, 0.9], index=["a", "b", "c", "d"])
    assert ACCURACY.rank(values).tolist()[:2] == [3, 1]
    assert ACCURACY.rank(values)["d"] == 1
    assert LOSS.rank(values).tolist()[:2] == [1, 2]
    assert math.isnan(ACCURACY.rank(values)["c"])


def test_best_index_is_the_first_best_label() -> None:
    values = pd.Series([0.7, 0.9, NAN, 0.9], index=["a", "b", "c", "d"])
    assert ACCURACY.best_index(values) == "b"
    assert LOSS.best_index(values) == "a"


def test_to_dict_is_what_manifest_json_holds() -> None:
    assert LOSS.to_dict() == {"name": "val_loss", "direction": "min"}
