"""search.strategy: capacity: the growth rule, the oracle fed with fake scores, a real search."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Callable

import pytest

from tunenet.config import load as loader
from tunenet.config import space
from tunenet.config.space import layer_ladder, width_ladder
from tunenet.tuning.oracles import Growth, ladders

CONFIG = {
    "data": {"source": "iris"},
    "model": {"layers": {"min": 1, "max": 3}, "units": [8, 16, 32, 64]},
    "optimizer": {"learning_rate": {"min": 1.0e-4, "max": 1.0e-1, "sampling": "log"}},
    "search": {"strategy": "capacity", "max_trials": 20},
}


def capacity_space(**changes: dict) -> list:
    raw = {**CONFIG, **changes}
    return space.build_space(loader.validate_dict(raw))


# ---------------------------------------------------------------- the pure growth rule


def test_ladders_of_lists_and_ranges() -> None:
    layers, widths, names = ladders(capacity_space())
    assert layers == [1, 2, 3]
    assert widths == [8, 16, 32, 64]
    assert names == {"model.units.0", "model.units.1", "model.units.2"}
    hps = {
        hp.name: hp for hp in capacity_space(model={"layers": 2, "units": {"min": 8, "max": 100}})
    }
    assert width_ladder(hps["model.units.0"]) == [8, 16, 32, 64, 100]  # doubling, then max
    stepped = capacity_space(model={"layers": {"min": 0, "max": 4, "step": 2}, "units": 8})
    assert layer_ladder(stepped[0]) == [0, 2, 4]


def walk(growth: Growth, score: Callable[[int, int], float]) -> list[tuple]:
    """Feed the growth rule until it stops; return the sizes it visited."""
    visited = []
    while growth.phase != "done" and len(visited) < 50:
        visited.append(growth.size)
        growth.record(score(*growth.size))
    return visited


def test_growth_units_first_then_layers_then_stops() -> None:
    # Wider pays up to 32 units, a second layer pays, a third does not.
    def score(layers: int, units: int) -> float:
        return min(units, 32) / 100 + (0.1 if layers >= 2 else 0.0)

    growth = Growth([1, 2, 3], [8, 16, 32, 64], "max", min_delta=0.001, patience=1)
    assert walk(growth, score) == [(1, 8), (1, 16), (1, 32), (1, 64), (2, 64), (3, 64)]
    assert growth.best == pytest.approx(0.42)


def test_growth_patience_allows_flat_steps() -> None:
    scores = {8: 0.5, 16: 0.5, 32: 0.6, 64: 0.6}
    growth = Growth([1], [8, 16, 32, 64], "max", patience=2)
    assert walk(growth, lambda layers, units: scores[units]) == [(1, 8), (1, 16), (1, 32), (1, 64)]
    growth = Growth([1], [8, 16, 32, 64], "max", patience=1)
    assert walk(growth, lambda layers, units: scores[units]) == [(1, 8), (1, 16)]


def test_growth_min_direction_min_delta_and_failures() -> None:
    losses = {8: 1.0, 16: 0.5, 32: 0.4995, 64: 0.1}  # 32 improves by less than min_delta
    growth = Growth([1, 2], [8, 16, 32, 64], "min", min_delta=0.001, patience=1)
    assert walk(growth, lambda layers, units: losses[units]) == [(1, 8), (1, 16), (1, 32), (2, 32)]
    growth = Growth([1, 2], [8, 16], "max", patience=1)
    assert walk(growth, lambda layers, units: None) == [(1, 8), (2, 8)]  # all failed


def test_growth_from_no_hidden_layer_and_fixed_keys() -> None:
    growth = Growth([0, 1, 2], [4, 8], "max", patience=1)
    visited = walk(growth, lambda layers, units: layers + units / 100)
    assert visited == [(0, 4), (1, 4), (1, 8), (2, 8)]
    assert walk(Growth([None], [None], "max"), lambda *size: 1.0) == [(None, None)]


# ---------------------------------------------------------------- the oracle with fake scores


def make_oracle(directory: Path, hps_space: list, **kwargs):
    import keras_tuner as kt

    from tunenet.tuning.oracles import CapacityOracle, kt_hyperparameters

    oracle = CapacityOracle(
        objective=kt.Objective("val_accuracy", "max"),
        space=hps_space,
        hyperparameters=kt_hyperparameters(hps_space),
        tune_new_entries=False,
        allow_new_entries=False,
        seed=7,
        **{"max_trials": 20, "min_delta": 0.001, "patience": 1, **kwargs},
    )
    oracle._set_project_dir(str(directory), "tuner")
    return oracle


def size_of(values: dict) -> tuple[int, list[int]]:
    layers = values["model.layers"]
    return layers, [values[f"model.units.{index}"] for index in range(layers)]


def run_fake(oracle, score: Callable[[int, list[int]], float], limit: int = 50) -> list[dict]:
    """Run trials against the oracle without training; return each trial's values."""
    seen = []
    for _ in range(limit):
        trial = oracle.create_trial("tuner0")
        if trial.status == "STOPPED":
            break
        values = dict(trial.hyperparameters.values)
        seen.append(values)
        oracle.update_trial(trial.trial_id, {"val_accuracy": score(*size_of(values))})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    return seen


def fake_score(layers: int, units: list[int]) -> float:
    return min(units[0], 32) / 100 + (0.1 if layers >= 2 else 0.0)


def test_oracle_grows_monotonically_and_stops(tmp_path: Path) -> None:
    oracle = make_oracle(tmp_path, capacity_space())
    trials = run_fake(oracle, fake_score)
    sizes = [size_of(values) for values in trials]
    assert sizes == [(1, [8]), (1, [16]), (1, [32]), (1, [64]), (2, [64, 64]), (3, [64] * 3)]
    assert len(trials) < 20  # stopped by the growth rule, not by max_trials
    parameters = [layers * units[0] for layers, units in sizes]
    assert parameters == sorted(parameters)
    rates = {values["optimizer.learning_rate"] for values in trials}
    assert len(rates) > 1 and all(1e-4 <= rate <= 1e-1 for rate in rates)  # sampled per trial
    assert oracle.create_trial("tuner0").status == "STOPPED"


def test_oracle_respects_max_trials(tmp_path: Path) -> None:
    oracle = make_oracle(tmp_path, capacity_space(), max_trials=3)
    assert len(run_fake(oracle, fake_score)) == 3


def test_oracle_state_survives_a_reload(tmp_path: Path) -> None:
    first = make_oracle(tmp_path, capacity_space())
    head = run_fake(first, fake_score, limit=3)
    first.save()
    resumed = make_oracle(tmp_path, capacity_space())
    resumed.reload()
    assert resumed.growth.state() == first.growth.state()
    tail = run_fake(resumed, fake_score)
    sizes = [size_of(values) for values in head + tail]
    assert sizes == [(1, [8]), (1, [16]), (1, [32]), (1, [64]), (2, [64, 64]), (3, [64] * 3)]


def test_validate_accepts_capacity(write_config: Callable, cli: Callable) -> None:
    path = write_config(
        """
        data: {source: iris}
        model: {layers: {min: 1, max: 2}, units: [4, 8]}
        search: {strategy: capacity, max_trials: 10, patience: 1, min_delta: 0.01}
        """
    )
    result = cli("validate", path)
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------- one real search


@pytest.mark.e2e
def test_capacity_search_end_to_end(write_config: Callable, cli: Callable, tmp_path: Path) -> None:
    path = write_config(
        """
        name: capacity-e2e
        data: {source: iris}
        model: {layers: {min: 1, max: 2}, units: [2, 4, 8]}
        optimizer: {learning_rate: 0.05}
        training: {epochs: 2, batch_size: 32, early_stopping: false}
        search: {strategy: capacity, max_trials: 10, patience: 1, min_delta: 0.0}
        """
    )
    result = cli("search", path, "--runs-dir", tmp_path / "runs", "--quiet")
    assert result.exit_code == 0, result.output
    with open(tmp_path / "runs" / "capacity-e2e" / "trials.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert 1 <= len(rows) <= 4 < 10  # the growth path has at most 3 + 2 - 1 steps
    sizes = []
    for row in rows:
        layers = int(row["hp.model.layers"])
        units = [int(row[f"hp.model.units.{index}"]) for index in range(layers)]
        assert len(set(units)) == 1  # every layer of a step has the same width
        sizes.append((layers, units[0]))
    assert sizes == sorted(sizes)
    assert sizes[0] == (1, 2)
