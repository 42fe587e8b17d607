"""What the search's trials say: rank, hyperparameter effects, evidence per config key."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from tunenet.config.objective import Objective
from tunenet.diagnosis.effects import QUANTILE_BINS, hp_effects, rank, search_evidence
from tunenet.diagnosis.significance import (
    holm,
    permutation_p,
    smallest_permutation_p,
    variance_share,
)

from .samples import ACCURACY, random_search, search_trials, trials_of


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


# ---------------------------------------------------------------- tests of the effects


def by_name(effects: list) -> dict:
    return {e.hyperparameter: e for e in effects}


def test_a_hyperparameter_that_does_nothing_is_not_significant() -> None:
    effects = by_name(hp_effects(random_search(0), ACCURACY))
    batch, rate = effects["training.batch_size"], effects["optimizer.learning_rate"]
    assert not batch.significant and batch.p_value > 0.05
    assert batch.test.startswith("permutation of eta²")
    assert batch.importance < 0.1  # noise explains about nothing beyond noise
    assert rate.significant and rate.p_value < 0.01 and rate.importance > 0.5
    assert rate.best_value == "0.001"
    assert [e.hyperparameter for e in hp_effects(random_search(0), ACCURACY)][
        0
    ] == rate.hyperparameter


def test_noise_alone_is_rarely_significant() -> None:
    """Across 20 searches where nothing matters, at most about 5% of effects are called."""
    called = 0
    for seed in range(20):
        trials = random_search(seed, count=16)
        trials["train_error"] = 0.1 + np.random.default_rng(seed).normal(0, 0.02, 16)
        trials["val_error"] = trials["train_error"] + 0.05
        trials["objective"] = 1 - trials["val_error"]
        called += sum(e.significant for e in hp_effects(trials, ACCURACY))
    assert called <= 2


def test_a_large_effect_is_found_in_two_single_trials_on_200_validation_rows() -> None:
    trials = trials_of({"optimizer.learning_rate": [1e-3, 1.0]}, [0.01, 0.50], [0.02, 0.51])
    trials["val_n"], trials["train_n"] = 200, 600
    (effect,) = hp_effects(trials, ACCURACY)
    assert effect.significant and effect.p_value < 0.001
    assert effect.test.startswith("z test on the trials' own errors")
    assert "val n=200" in effect.test
    assert effect.tests["train_error"].significant
    assert not effect.tests["gap"].significant  # 1 point against 1 point


def test_a_three_point_grid_uses_a_chi_square_test_on_the_trials_errors() -> None:
    trials = trials_of(
        {"optimizer.learning_rate": [1e-4, 1e-3, 1e-1]}, [0.10, 0.05, 0.50], [0.12, 0.08, 0.57]
    )
    trials["val_n"] = 200
    (effect,) = hp_effects(trials, ACCURACY)
    assert effect.significant and effect.test.startswith("chi-square test (2 df)")
    assert effect.best_value == "0.001" and effect.importance > 0.9


def test_batch_size_32_against_33_is_within_the_noise_of_106_rows() -> None:
    trials = trials_of({"training.batch_size": [32, 33]}, [0.20, 0.21], [0.25, 0.22], val_n=106)
    (effect,) = hp_effects(trials, ACCURACY)
    assert not effect.significant and effect.p_value > 0.5
    assert effect.importance == 0.0


def test_single_trials_fall_back_to_the_manifest_sizes_and_else_are_not_tested() -> None:
    trials = trials_of({"optimizer.learning_rate": [1e-3, 1.0]}, [0.01, 0.50], [0.02, 0.51])
    (effect,) = hp_effects(trials, ACCURACY, sizes={"train": 600, "validation": 200})
    assert effect.significant and "val n=200" in effect.test
    (effect,) = hp_effects(trials, ACCURACY)
    assert not effect.significant and effect.p_value is None and effect.importance is None
    assert effect.test == "none (each value tried once; no split sizes)"


def test_single_trials_changed_with_other_hyperparameters_are_not_tested() -> None:
    hps = {"optimizer.learning_rate": [1e-3, 1.0], "regularization.dropout": [0.0, 0.5]}
    trials = trials_of(hps, [0.01, 0.50], [0.02, 0.51], val_n=200)
    effects = hp_effects(trials, ACCURACY)
    assert not any(e.significant for e in effects)
    assert effects[0].test == "none (each value tried once; other hyperparameters changed with it)"
    assert effects[0].aliases in (("regularization.dropout",), ("optimizer.learning_rate",))


def test_regression_single_trials_use_their_standard_errors() -> None:
    trials = trials_of({"optimizer.learning_rate": [1e-3, 1.0]}, [0.10, 0.90], [0.12, 0.95])
    trials = trials.drop(columns=["val_accuracy"])
    trials["objective"] = trials["val_error"]
    trials["val_error_se"], trials["train_error_se"] = [0.02, 0.08], [0.01, 0.05]
    (effect,) = hp_effects(trials, Objective("val_error", "min"), "val_error", task="regression")
    assert effect.significant and "val_error_se" in effect.test
    trials["val_error_se"] = [0.5, 0.5]  # the same gap, measured too loosely to tell
    (effect,) = hp_effects(trials, Objective("val_error", "min"), "val_error", task="regression")
    assert not effect.significant


def test_an_objective_without_per_trial_intervals_needs_repeated_values() -> None:
    trials = trials_of({"optimizer.learning_rate": [1e-3, 1.0]}, [0.01, 0.50], [0.02, 0.51])
    trials["val_n"], trials["train_n"], trials["objective"] = 200, 600, [0.05, 1.3]  # val_loss
    (effect,) = hp_effects(trials, Objective("val_loss", "min"))
    assert effect.test == "none (each value tried once; val_loss has no per-trial interval)"
    assert effect.tests["train_error"].significant  # the errors have their own intervals


def test_train_error_and_gap_are_told_apart() -> None:
    """Layers move the train error (bias), dropout the gap (variance): a 3 × 3 grid."""
    rng = np.random.default_rng(3)
    layers, dropout = np.repeat([1, 2, 3], 3), np.tile([0.0, 0.25, 0.5], 3)
    train = 0.40 - 0.12 * (layers - 1) + rng.normal(0, 0.005, 9)
    val = train + 0.20 - 0.35 * dropout + rng.normal(0, 0.005, 9)
    hps = {"model.layers": layers, "regularization.dropout": dropout}
    effects = by_name(hp_effects(trials_of(hps, train, val, val_n=2000, train_n=6000), ACCURACY))
    layers_effect, dropout_effect = effects["model.layers"], effects["regularization.dropout"]
    assert layers_effect.tests["train_error"].significant
    assert not layers_effect.tests["gap"].significant
    assert dropout_effect.tests["gap"].significant
    assert not dropout_effect.tests["train_error"].significant
    assert layers_effect.tests["train_error"].best_value == "3"
    assert dropout_effect.tests["gap"].best_value == "0.5"
    assert layers_effect.tests["train_error"].importance > 0.9
    assert dropout_effect.tests["train_error"].importance < 0.1


def test_the_correction_grows_with_the_number_of_hyperparameters() -> None:
    trials = random_search(1, count=20)
    alone = by_name(hp_effects(trials.drop(columns=["hp.training.batch_size"]), ACCURACY))
    rng = np.random.default_rng(5)
    for i in range(4):
        trials[f"hp.extra.{i}"] = rng.choice(["a", "b"], len(trials))
    many = by_name(hp_effects(trials, ACCURACY))
    rate_alone, rate_many = alone["optimizer.learning_rate"], many["optimizer.learning_rate"]
    assert rate_alone.tests["objective"].correction == "Holm over 1 hyperparameter"
    assert rate_many.tests["objective"].correction == "Holm over 6 hyperparameters"
    assert rate_many.p_value == pytest.approx(min(1.0, 6 * rate_alone.p_value))


def test_holm_adjusts_step_down() -> None:
    assert holm([0.01, 0.04, 0.03], 3) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.01, None], 2) == [0.02, None]
    assert holm([0.01], 5)[0] == pytest.approx(0.05)


def test_permutation_tests_are_exact_for_small_searches_and_seeded_for_large_ones() -> None:
    values, codes = np.array([0.1, 0.2, 0.8, 0.9]), np.array([0, 0, 1, 1])
    p_value, test = permutation_p(values, codes)
    assert p_value == pytest.approx(1 / 3) and test == "permutation of eta² (exact)"
    assert smallest_permutation_p([2, 2]) == pytest.approx(1 / 3)
    rng = np.random.default_rng(0)
    values, codes = rng.normal(size=50), np.arange(50) % 3
    assert permutation_p(values, codes) == permutation_p(values, codes)
    assert permutation_p(values, codes)[1] == "permutation of eta² (2000 resamples)"


@pytest.mark.parametrize(
    "codes", [[0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 1, 1, 2, 2, 3, 3], [2, 0, 1, 1, 0, 2, 2], [1, 0, 1]]
)
def test_the_exact_test_counts_every_ordering_of_the_trials(codes) -> None:
    """Exact p = the share of all n! orderings of the trials' labels whose groups explain as
    much; counted over distinct arrangements (each stands for as many orderings), the same."""
    codes = np.array(codes)
    orderings = np.array(list(itertools.permutations(range(len(codes)))))
    rng = np.random.default_rng(len(codes))
    for _ in range(10):
        values = rng.normal(size=len(codes)).round(1)  # ties too
        between = [((codes == g) * values[orderings]).sum(axis=1) ** 2 / (codes == g).sum()
                   for g in np.unique(codes)]  # fmt: skip
        observed = sum(values[codes == g].sum() ** 2 / (codes == g).sum() for g in np.unique(codes))
        expected = float((np.sum(between, axis=0) >= observed * (1 - 1e-9)).mean())
        assert permutation_p(values, codes)[0] == pytest.approx(expected, abs=1e-12)


def test_effects_are_the_same_twice_and_skip_unfinished_trials() -> None:
    trials = random_search(2, count=30)
    trials.loc[0, "status"] = "diverged"
    trials.loc[1, ["train_error", "val_error", "objective"]] = np.nan
    first, second = hp_effects(trials, ACCURACY), hp_effects(trials, ACCURACY)
    assert first == second
    assert all(t.trials == 28 for e in first for t in e.tests.values())


def test_variance_share_of_pure_noise_is_about_zero() -> None:
    rng = np.random.default_rng(0)
    shares = [variance_share(rng.normal(size=40), np.arange(40) % 4, None) for _ in range(50)]
    assert np.mean(shares) < 0.05
    assert variance_share(np.array([0.1, 0.5]), np.array([0, 1]), None) is None
    assert variance_share(np.array([0.1, 0.5]), np.array([0, 1]), 0.0001) > 0.9


def test_a_best_value_that_flips_with_another_key_is_not_consistent() -> None:
    # penguins: sgd beats adam at a learning rate of 1e-4, adam beats sgd at 1e-2; on average
    # sgd errs less, but that holds at one rate only
    names = ["sgd", "adam", "sgd", "adam"]
    rates = [1e-4, 1e-4, 1e-2, 1e-2]
    train = [0.43, 0.82, 0.085, 0.03]
    trials = trials_of({"optimizer.name": names, "optimizer.learning_rate": rates}, train, train,
                       train_n=[199] * 4, val_n=[67] * 4)  # fmt: skip
    effects = {e.hyperparameter: e for e in hp_effects(trials, ACCURACY)}
    name = effects["optimizer.name"].tests["train_error"]
    assert name.best_value == "sgd" and name.consistent is False
    rate = effects["optimizer.learning_rate"].tests["train_error"]
    assert rate.consistent is True  # 1e-2 is better with either optimizer
    alone = trials_of({"optimizer.name": names}, train, train)  # no other key: no block
    assert hp_effects(alone, ACCURACY)[0].tests["train_error"].consistent is None
