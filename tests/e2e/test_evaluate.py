"""`tunenet evaluate` and the saved model of a CSV run (text target, text feature column).

One tiny search on a generated CSV (module fixture) serves every test here.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from conftest import table_rows, write_csv
from tunenet.cli import app

pytestmark = pytest.mark.e2e


def invoke(*args: object):
    return CliRunner().invoke(app, [str(arg) for arg in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def csv_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished search on table.csv, given by a path relative to the search's directory."""
    root = tmp_path_factory.mktemp("csv-run")
    write_csv(root / "table.csv", table_rows())
    (root / "config.yaml").write_text(
        textwrap.dedent(
            """
            name: table
            seed: 5
            data: {source: csv, path: table.csv, target: label}
            model: {layers: 1, units: 8}
            training: {epochs: 2, batch_size: 16}
            search: {max_trials: 1}
            """
        )
    )
    here = os.getcwd()
    os.chdir(root)  # the relative data path is relative to where the search runs
    try:
        result = invoke("search", "config.yaml", "--runs-dir", "runs", "--quiet")
    finally:
        os.chdir(here)
    assert result.exit_code == 0, result.stderr
    return root / "runs" / "table"


def _best_row(run: Path) -> dict:
    with open(run / "trials.csv", newline="") as file:
        (row,) = list(csv.DictReader(file))
    return row


def test_csv_search_records_test_error_and_class_names(csv_run: Path):
    row = _best_row(csv_run)
    assert row["status"] == "completed" and row["test_error"] != ""
    data = json.loads((csv_run / "manifest.json").read_text())["data"]
    assert data["classes"] == ["no", "yes"] and data["task"] == "binary"
    assert data["categories"] == {"color": 3}
    assert data["sizes"] == {"train": 54, "validation": 18, "test": 18}


def test_evaluate_prints_the_test_metrics(csv_run: Path):
    before = sorted(path.name for path in csv_run.rglob("*"))
    result = invoke("evaluate", csv_run)  # from another directory than the search's
    assert result.exit_code == 0, result.stderr
    assert "test split: 18 examples" in result.stdout
    for name in ("loss", "accuracy", "error (1 - accuracy)"):
        assert name in result.stdout
    assert sorted(path.name for path in csv_run.rglob("*")) == before  # nothing written


def test_evaluate_json_matches_the_recorded_test_error(csv_run: Path):
    result = invoke("evaluate", csv_run, "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["split"] == "test" and report["examples"] == 18
    assert set(report["metrics"]) == {"loss", "accuracy"}
    assert report["error"] == pytest.approx(float(_best_row(csv_run)["test_error"]), abs=1e-6)
    val = json.loads(invoke("evaluate", csv_run, "--split", "val", "-f", "json").stdout)
    assert val["error"] == pytest.approx(float(_best_row(csv_run)["val_error"]), abs=1e-6)


def test_saved_model_predicts_from_raw_rows_with_text_categories(csv_run: Path):
    import keras

    model = keras.models.load_model(csv_run / "best" / "model.keras", safe_mode=True)
    rows = {
        "size": np.array([0.1, 0.1, 0.1, 2.0], dtype="float32"),
        "color": np.array(["red", "blue", "purple", "green"], dtype=object),  # purple: unseen
        "weight": np.array([50.0, 50.0, 50.0, 61.5], dtype="float32"),
    }
    predictions = model.predict(rows, verbose=0)
    assert predictions.shape == (4, 1) and np.all((predictions >= 0) & (predictions <= 1))
    assert predictions[0, 0] != predictions[1, 0]  # the category reaches the model
    import pandas as pd

    frame = pd.read_csv(csv_run.parents[1] / "table.csv")
    raw = {name: frame[name].to_numpy() for name in ("size", "color", "weight")}
    assert model.predict(raw, verbose=0).shape == (90, 1)


def test_evaluate_bad_run_directories_exit_2(csv_run: Path, tmp_path: Path):
    result = invoke("evaluate", tmp_path / "missing")
    assert result.exit_code == 2 and "no such run directory" in result.stderr
    result = invoke("evaluate", tmp_path)
    assert result.exit_code == 2 and "resolved.yaml" in result.stderr
    copy = tmp_path / "copy"
    shutil.copytree(csv_run, copy, ignore=shutil.ignore_patterns("best"))
    result = invoke("evaluate", copy)
    assert result.exit_code == 2 and "model.keras" in result.stderr
    assert "Traceback" not in result.stderr


def test_evaluate_test_split_of_a_run_without_one(csv_run: Path, tmp_path: Path):
    copy = tmp_path / "copy"
    shutil.copytree(csv_run, copy)
    resolved = yaml.safe_load((copy / "resolved.yaml").read_text())
    resolved["data"]["split"]["test"] = 0.0
    (copy / "resolved.yaml").write_text(yaml.safe_dump(resolved))
    result = invoke("evaluate", copy, "--split", "test")
    assert result.exit_code == 2 and "no test split" in result.stderr


def test_evaluate_a_regression_run_in_the_targets_own_units(tmp_path: Path):
    rng = np.random.default_rng(1)
    size = rng.uniform(50, 200, 80)
    city = rng.choice(["oslo", "rome"], 80)
    price = 3000 * size + np.where(city == "rome", 50000, 0) + rng.normal(0, 5000, 80)
    with open(tmp_path / "houses.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["size", "city", "price"])
        writer.writerows(zip(size.round(1), city, price.round(0), strict=True))
    config = tmp_path / "houses.yaml"
    config.write_text(
        f"data: {{source: csv, path: {tmp_path / 'houses.csv'}, target: price}}\n"
        "model: {layers: 1, units: 8}\ntraining: {epochs: 2}\nsearch: {max_trials: 1}\n"
    )
    result = invoke("search", config, "--runs-dir", tmp_path / "runs", "--quiet")
    assert result.exit_code == 0, result.stderr
    run = tmp_path / "runs" / "houses"
    report = json.loads(invoke("evaluate", run, "-f", "json").stdout)
    assert report["task"] == "regression" and set(report["metrics"]) >= {"loss", "mse", "mae"}
    assert report["error"] == pytest.approx(float(_best_row(run)["test_error"]), rel=1e-5)
    assert report["metrics"]["mae"] > 1000  # prices, not standardized values
