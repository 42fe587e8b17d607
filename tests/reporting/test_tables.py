"""report.json and report.csv parse back with the documented structure."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tunenet.reporting.tables import report_dict

from .helpers import build, copy_run


def test_json_parses_back_with_the_documented_structure(rendered: Path) -> None:
    document = json.loads((rendered / "report" / "report.json").read_text())
    assert document["format_version"] == 1
    assert document["run"]["name"] == "worked-example"
    assert document["objective"] == {
        "name": "val_accuracy",
        "direction": "max",
        "column": "objective",
        "source": "manifest.json",
    }
    assert document["settings"]["target_error"] == {"value": 0.13, "source": "resolved.yaml"}
    assert document["best_trial"] == "03"
    assert document["counts"] == {"trials": 4, "completed": 4}
    trial = document["trials"][1]
    assert trial["trial_id"] == "00" and trial["label"] == "high variance"
    assert trial["hyperparameters"]["model.units.0"] == 128
    assert trial["high_variance"] is True and trial["variance"] == pytest.approx(0.13)
    assert {f["kind"] for f in trial["findings"]} == {"overfitting", "stopped_early"}
    assert {"key", "action", "value", "text", "evidence", "agrees"} == set(
        trial["recommendations"][0]
    )
    assert document["effects"][0]["rows"][0].keys() == {"value", "trials", "mean_objective"}
    assert "plots/trial_curves_loss.png" in document["plots"]
    assert document["verdict"].startswith("4 trials: 4 completed.")


def test_csv_parses_back(rendered: Path) -> None:
    table = pd.read_csv(rendered / "report" / "report.csv", dtype={"trial_id": str})
    assert table["trial_id"].tolist() == ["03", "00", "01", "02"]
    assert table["label"].tolist() == [
        "good fit",
        "high variance",
        "high bias",
        "high bias and high variance",
    ]
    assert "hp.optimizer.learning_rate" in table.columns
    assert table.loc[0, "test_error"] == pytest.approx(0.14)


def test_capacity_json_has_the_steps_in_trial_order_and_where_growth_stopped(
    capacity_rendered: tuple[Path, str],
) -> None:
    run, _ = capacity_rendered
    capacity = json.loads((run / "report" / "report.json").read_text())["capacity"]
    assert set(capacity) == {"steps", "best_trial", "stopped_after", "min_delta"}
    steps = capacity["steps"]
    assert [s["trial_id"] for s in steps] == ["00", "01", "02", "03", "04", "05"]  # CSV: 05, 04
    assert [s["label"] for s in steps] == ["1×4", "1×8", "1×16", "1×32", "2×32", "3×32"]
    assert [s["size"] for s in steps] == [4, 8, 16, 32, 64, 96]
    assert steps[5]["layers"] == 3 and steps[5]["widths"] == [32, 32, 32]
    assert steps[3] == {
        "trial_id": "03",
        "status": "completed",
        "layers": 1,
        "widths": [32],
        "size": 32,
        "label": "1×32",
        "objective": 0.925,
        "train_error": 0.03,
        "val_error": 0.075,
    }
    assert steps[4]["status"] == "failed" and steps[4]["objective"] is None
    # 05 beats 03 by 0.935 - 0.925 = 0.010000000000000009, not more than min_delta 0.01
    assert capacity["stopped_after"] == "03" and capacity["best_trial"] == "05"
    assert capacity["min_delta"] == 0.01


def test_a_run_of_another_strategy_has_a_null_capacity(rendered: Path) -> None:
    document = json.loads((rendered / "report" / "report.json").read_text())
    assert document["capacity"] is None
    assert "Capacity curve" not in (rendered / "report" / "report.md").read_text()
    assert "growth" not in document["verdict"].lower()


def test_json_effects_have_importance_significance_and_a_test_per_target(rendered: Path) -> None:
    effects = json.loads((rendered / "report" / "report.json").read_text())["effects"]
    layers = next(e for e in effects if e["hyperparameter"] == "model.layers")
    assert {"importance", "significant", "p_value", "test", "correction", "by_target"} <= set(
        layers
    )
    assert set(layers["by_target"]) == {"train_error", "gap"}
    assert {"importance", "significant", "p_value", "test"} <= set(layers["by_target"]["gap"])
    # 4 trials whose layers, optimizer, rate and dropout changed together: nothing is claimed
    assert not any(e["significant"] for e in effects)
    assert layers["correction"] == "Holm over 6 hyperparameters"
    assert "optimizer.name" in layers["aliases"]
    units = next(e for e in effects if e["hyperparameter"] == "model.units.1")
    assert units["p_value"] is None and units["test"].startswith("none (each value tried once")


def test_a_large_effect_of_single_trials_is_significant_in_the_report(tmp_path: Path) -> None:
    """curves: learning rates 0.001, 0.003 and 0.9 tried once each on 200 validation rows (sizes
    from manifest.json): 90%, 86% and 10% validation accuracy."""
    report = build(copy_run("curves", tmp_path))
    (effect,) = report.effects
    assert effect.significant and effect.test.startswith("chi-square test (2 df)")
    assert "val n=200" in effect.test
    assert "optimizer.learning_rate mattered most" in report.verdict
    (rate,) = report_dict(report)["effects"]
    assert rate["significant"] is True and rate["p_value"] < 0.001
