"""The oracles without training: the grid's order and resume, each strategy's oracle, growth."""

from __future__ import annotations

from pathlib import Path

import keras_tuner as kt
import pytest

from tunenet.config import load as loader
from tunenet.config import space
from tunenet.config.objective import Objective
from tunenet.tuning.oracles import (
    CapacityOracle,
    CappedHyperbandOracle,
    GridOracle,
    Growth,
    kt_hyperparameters,
    make_oracle,
)

GRID = {
    "data": {"source": "iris"},
    "model": {"layers": 1, "units": [4, 8]},
    "optimizer": {"learning_rate": [0.01, 0.1]},
    "search": {"strategy": "grid"},
}
ACCURACY = Objective("val_accuracy", "max")


def config_of(**search: object):
    return loader.validate_dict({**GRID, "search": {**GRID["search"], **search}})


def grid_oracle(directory: Path) -> GridOracle:
    config = config_of()
    oracle = make_oracle(config, space.build_space(config), ACCURACY)
    oracle._set_project_dir(str(directory), "tuner")
    return oracle


def run_trials(oracle: kt.Oracle, count: int) -> list[dict]:
    """Create and end up to `count` trials; return their values (none once the oracle stops)."""
    seen = []
    for _ in range(count):
        trial = oracle.create_trial("tuner0")
        if trial.status == "STOPPED":
            break
        seen.append(dict(trial.hyperparameters.values))
        oracle.update_trial(trial.trial_id, {"val_accuracy": 0.5})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    return seen


def test_grid_hands_out_every_point_in_order_then_stops(tmp_path: Path) -> None:
    oracle = grid_oracle(tmp_path)
    assert isinstance(oracle, GridOracle)
    seen = run_trials(oracle, 10)
    assert [(v["model.units.0"], v["optimizer.learning_rate"]) for v in seen] == [
        (4, 0.01),
        (4, 0.1),
        (8, 0.01),
        (8, 0.1),
    ]


def test_grid_state_resumes_at_the_next_point(tmp_path: Path) -> None:
    first = grid_oracle(tmp_path)
    done = run_trials(first, 2)
    assert first.get_state()["next_point"] == 2
    first.save()  # as at the next trial: end_trial saves while the ended trial still runs
    resumed = grid_oracle(tmp_path)
    resumed.reload()  # what keras-tuner does on --resume: oracle.json and the trials
    assert resumed.next_point == 2
    assert done + run_trials(resumed, 10) == first.points
    older = {key: value for key, value in first.get_state().items() if key != "next_point"}
    resumed.set_state(older)  # a state saved before the grid saved its place
    assert resumed.next_point == 0


@pytest.mark.parametrize(
    ("strategy", "kind"),
    [
        ("grid", GridOracle),
        ("random", kt.oracles.RandomSearchOracle),
        ("bayesian", kt.oracles.BayesianOptimizationOracle),
        ("hyperband", CappedHyperbandOracle),
    ],
)
def test_each_strategy_gets_its_oracle_with_the_trial_budget(strategy: str, kind: type) -> None:
    config = config_of(strategy=strategy, max_trials=3)
    oracle = make_oracle(config, space.build_space(config), Objective("val_loss", "min"))
    assert type(oracle) is kind
    assert oracle.max_trials == 3
    assert (oracle.objective.name, oracle.objective.direction) == ("val_loss", "min")


def test_capacity_strategy_gets_the_capacity_oracle() -> None:
    raw = {**GRID, "model": {"layers": {"min": 1, "max": 2}, "units": [4, 8]}}
    config = loader.validate_dict({**raw, "search": {"strategy": "capacity", "max_trials": 5}})
    oracle = make_oracle(config, space.build_space(config), ACCURACY)
    assert isinstance(oracle, CapacityOracle)
    assert (oracle.growth.layers, oracle.growth.widths) == ([1, 2], [4, 8])


def test_hyperband_stops_at_max_trials(tmp_path: Path) -> None:
    config = config_of(strategy="hyperband", max_trials=2)
    oracle = make_oracle(config, space.build_space(config), ACCURACY)
    oracle._set_project_dir(str(tmp_path), "tuner")
    assert len(run_trials(oracle, 10)) == 2


def test_space_registers_conditions() -> None:
    config = loader.validate_dict({**GRID, "model": {"layers": [1, 2], "units": [4, 8]}})
    hps = kt_hyperparameters(space.build_space(config))
    hps.values["model.layers"] = 1
    assert not hps.is_active("model.units.1")
    hps.values["model.layers"] = 2
    assert hps.is_active("model.units.1")


# ---------------------------------------------------------------- capacity growth


def test_growth_state_restores_the_same_path() -> None:
    def score(layers: int, units: int) -> float:
        return min(units, 16) / 10 + layers

    whole = Growth([1, 2, 3], [4, 8, 16, 32], "max", patience=1)
    path = []
    while whole.phase != "done":
        path.append(whole.size)
        whole.record(score(*whole.size))
    half = Growth([1, 2, 3], [4, 8, 16, 32], "max", patience=1)
    for _ in range(3):
        half.record(score(*half.size))
    resumed = Growth([1, 2, 3], [4, 8, 16, 32], "max", patience=1)
    resumed.restore(half.state())
    rest = []
    while resumed.phase != "done":
        rest.append(resumed.size)
        resumed.record(score(*resumed.size))
    assert path[3:] == rest
    assert resumed.history == whole.history


def test_growth_counts_gains_in_the_objective_direction() -> None:
    growth = Growth([1], [4, 8], "min", min_delta=0.1)
    growth.record(1.0)
    assert growth.improved(0.8) and not growth.improved(0.95) and not growth.improved(1.5)
    assert not growth.improved(float("nan")) and not growth.improved(None)
