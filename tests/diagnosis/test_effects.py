"""What the search's trials say: rank, hyperparameter effects, evidence per config key."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tunenet.diagnosis.effects import QUANTILE_BINS, hp_effects, rank, search_evidence
from tunenet.objective import Objective

from .samples import ACCURACY, search_trials


def test_search_evidence_says_which_direction_helped() -> None:
    evidence = search_evidence(search_trials(), ACCURACY)
    assert evidence["regularization.dropout"].better == "higher"
    assert "val_accuracy" in evidence["regularization.dropout"].text
    assert evidence["model.units"].better == "higher"  # from hp.model.units.0 and .1


def test_search_evidence_follows_the_objective_direction() -> None:
    trials = search_trials()
    trials["objective"] = 1 - trials["objective"]  # now an error: lower is better
    evidence = search_evidence(trials, Objective("objective", "min"))
    assert evidence["regularization.dropout"].better == "higher"


# ---------------------------------------------------------------- search level


def test_rank_follows_the_direction_and_skips_unfinished_trials() -> None:
    trials = search_trials()
    assert rank(trials, ACCURACY).tolist()[:6] == [6, 5, 4, 3, 2, 1]
    assert math.isnan(rank(trials, ACCURACY).iloc[6])
    assert rank(trials, Objective("objective", "min")).iloc[0] == 1


def test_hp_effects_mean_objective_per_value() -> None:
    effects = {e.hyperparameter: e for e in hp_effects(search_trials(), ACCURACY)}
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
    (effect,) = hp_effects(trials, ACCURACY)
    assert effect.binned and len(effect.rows) == QUANTILE_BINS
    assert sum(r.trials for r in effect.rows) == 20
    assert effect.best_value == effect.rows[0].value  # the lowest rates did best
