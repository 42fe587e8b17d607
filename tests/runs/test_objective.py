"""Which objective a run used (docs/report.md, "For the search"): manifest.json, else
resolved.yaml's search.objective, else the search's default for the run's task."""

from __future__ import annotations

import pytest

from tunenet.config.objective import Objective
from tunenet.runs.objective import DeclaredObjective, declared_objective, run_objective

MANIFEST = {"objective": {"name": "val_accuracy", "direction": "max"}}
RESOLVED = {"search": {"objective": {"name": "val_loss", "direction": "min"}}}


def test_the_manifest_comes_first() -> None:
    found = declared_objective(MANIFEST, RESOLVED)
    assert found == DeclaredObjective("val_accuracy", "max", "manifest.json")


def test_resolved_yaml_when_the_manifest_says_nothing() -> None:
    for manifest in (None, {}, {"objective": {}}, {"objective": ""}, ["not", "a", "mapping"]):
        found = declared_objective(manifest, RESOLVED)
        assert found == DeclaredObjective("val_loss", "min", "resolved.yaml"), manifest


def test_a_bare_name_gets_its_direction_from_the_name() -> None:
    found = declared_objective({"objective": "val_mae"}, None)
    assert found == DeclaredObjective("val_mae", None, "manifest.json")
    assert found.objective == Objective("val_mae", "min")
    bare = declared_objective(None, {"search": {"objective": "val_accuracy"}})
    assert bare is not None and bare.objective == Objective("val_accuracy", "max")


def test_a_written_direction_wins_over_the_name() -> None:
    found = declared_objective({"objective": {"name": "val_loss", "direction": "max"}}, None)
    assert found is not None and found.objective == Objective("val_loss", "max")


@pytest.mark.parametrize("resolved", [None, {}, {"search": None}, {"search": {"objective": 3}}])
def test_nothing_declared(resolved: object) -> None:
    assert declared_objective(None, resolved) is None


@pytest.mark.parametrize(
    "columns, expected",
    [
        (["trial_id", "objective", "val_accuracy"], Objective("val_accuracy", "max")),
        (["trial_id", "objective", "val_mae"], Objective("val_loss", "min")),
        ((), Objective("val_loss", "min")),
    ],
)
def test_undeclared_objective_is_the_search_default_for_the_task(columns, expected) -> None:
    assert run_objective({}, {}, columns) == expected


def test_a_declared_objective_ignores_the_columns() -> None:
    assert run_objective(MANIFEST, None, ["val_mae"]) == Objective("val_accuracy", "max")
