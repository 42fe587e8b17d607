"""Search-space expansion: dotted names, per-layer conditions, grid size and budgets."""

from __future__ import annotations

from tunenet.config.load import validate_dict
from tunenet.config.space import build_space, grid_size, hyperband_schedule, trial_budget, value_of


def config(**sections):
    return validate_dict({"data": {"source": "digits"}, **sections})


def by_name(space):
    return {hp.name: hp for hp in space}


def test_fixed_keys_are_not_tuned():
    assert build_space(config()) == []


def test_per_layer_units_are_conditional_on_the_layer_count():
    space = by_name(build_space(config(model={"layers": [1, 2, 3], "units": [16, 32]})))
    assert list(space) == ["model.layers", "model.units.0", "model.units.1", "model.units.2"]
    assert space["model.units.0"].parent_values == (1, 2, 3)
    assert space["model.units.2"].parent == "model.layers"
    assert space["model.units.2"].parent_values == (3,)
    # 2 + 4 + 8 architectures
    assert grid_size(list(space.values())) == 14


def test_fixed_layer_count_draws_units_for_each_layer_unconditionally():
    space = by_name(build_space(config(model={"layers": 2, "units": [16, 32]})))
    assert set(space) == {"model.units.0", "model.units.1"}
    assert space["model.units.1"].parent is None
    assert grid_size(list(space.values())) == 4


def test_momentum_only_for_optimizers_that_use_it():
    space = by_name(
        build_space(config(optimizer={"name": ["sgd", "momentum", "adam"], "momentum": [0.5, 0.9]}))
    )
    assert space["optimizer.momentum"].parent == "optimizer.name"
    assert space["optimizer.momentum"].parent_values == ("momentum",)
    assert grid_size(list(space.values())) == 4  # sgd, adam, momentum x 2
    unused = build_space(config(optimizer={"name": "adam", "momentum": [0.5, 0.9]}))
    assert unused == []


def test_ranges_and_grid_values():
    space = by_name(
        build_space(
            config(
                model={"units": {"min": 32, "max": 128, "step": 32}},
                regularization={"dropout": {"min": 0.0, "max": 0.5, "step": 0.25}},
                optimizer={"learning_rate": {"min": 1.0e-4, "max": 1.0e-2, "sampling": "log"}},
            )
        )
    )
    assert space["model.units.0"].kind == "int"
    assert space["model.units.0"].grid_values() == [32, 64, 96, 128]
    assert space["regularization.dropout"].grid_values() == [0.0, 0.25, 0.5]
    assert space["optimizer.learning_rate"].grid_values() is None
    assert grid_size(list(space.values())) is None


def test_worst_case_budget():
    cfg = config(model={"units": [8, 16]}, training={"epochs": 5}, search={"max_trials": 10})
    # two layers (the default) x two unit counts: the random search runs out after 4 points
    assert trial_budget(cfg, build_space(cfg)) == (4, 20)


def test_hyperband_schedule_matches_keras_tuner():
    # max_epochs 9, factor 3: brackets of 9x1 -> 3x3 -> 1x9 epochs, then 5x3 -> 2x9, then 3x9.
    assert hyperband_schedule(9, 3) == [(9, 1), (3, 2), (1, 6), (5, 3), (2, 6), (3, 9)]


def test_value_of_reads_tuned_then_fixed_values():
    cfg = config(model={"layers": 2, "units": [16, 32]})
    assert value_of(cfg, {"model.units.1": 32}, "model.units.1") == 32
    assert value_of(cfg, {}, "model.layers") == 2
    assert value_of(cfg, {}, "optimizer.clipnorm") is None


def test_validate_prints_space_grid_and_budget(cli, write_config):
    path = write_config(
        """
        data: {source: wine}
        model: {layers: [1, 2], units: [8, 16]}
        training: {epochs: 4}
        search: {strategy: grid, max_trials: 100}
        """
    )
    result = cli("validate", path)
    assert result.exit_code == 0, result.output
    assert "model.units.1" in result.stdout and "model.layers in [2]" in result.stdout
    assert "grid size: 6 point(s)" in result.stdout
    assert "at most 6 trial(s), 24 epoch(s)" in result.stdout


def test_int_log_range_without_step_visits_every_integer():
    space = by_name(build_space(config(model={"units": {"min": 16, "max": 20, "sampling": "log"}})))
    assert space["model.units.0"].grid_values() == [16, 17, 18, 19, 20]


def test_capacity_budget_counts_widths_then_layers():
    cfg = config(
        model={"layers": {"min": 1, "max": 3}, "units": [8, 16, 32, 64]},
        search={"strategy": "capacity", "max_trials": 50},
    )
    # 4 widths at one layer, then 2 more layer counts
    assert trial_budget(cfg, build_space(cfg))[0] == 6


def test_grid_points_follow_the_conditions():
    space = build_space(
        config(
            model={"layers": [1, 2], "units": [8, 16]},
            optimizer={"name": ["adam", "momentum"], "momentum": [0.5, 0.9]},
        )
    )
    from tunenet.config.space import grid_points

    points = grid_points(space)
    assert len(points) == grid_size(space) == (2 + 4) * 3
    assert {"model.layers": 1, "model.units.0": 8, "optimizer.name": "adam"} in points
    assert all(("model.units.1" in p) == (p["model.layers"] == 2) for p in points)
    assert all(("optimizer.momentum" in p) == (p["optimizer.name"] == "momentum") for p in points)
    assert len({tuple(sorted(p.items())) for p in points}) == len(points)
