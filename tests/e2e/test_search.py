"""End-to-end searches on built-in data: the run directory a user gets."""

from __future__ import annotations

import json

import keras
import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.e2e

WINE_GRID = """
    name: wine-grid
    seed: 3
    data: {source: wine}
    model: {layers: 1, units: [4, 8]}
    optimizer: {name: adam, learning_rate: [1.0e-3, 1.0e-2]}
    training: {epochs: 3, batch_size: 32, early_stopping: {patience: 1}}
    search: {strategy: grid, max_trials: 10}
"""


def read_csv(path):
    return pd.read_csv(path, dtype={"trial_id": str})


@pytest.fixture(scope="module")
def wine_run(tmp_path_factory):
    """One 2x2 grid on wine, shared by the tests that only read its files."""
    from typer.testing import CliRunner

    from tunenet.cli import app

    root = tmp_path_factory.mktemp("wine")
    config = root / "wine.yaml"
    config.write_text(WINE_GRID)
    result = CliRunner().invoke(app, ["search", str(config), "--runs-dir", str(root / "runs")])
    return root, config, result


def test_grid_runs_every_point_once(wine_run):
    root, _, result = wine_run
    assert result.exit_code == 0, result.output
    trials = read_csv(root / "runs" / "wine-grid" / "trials.csv")
    assert list(trials["status"]) == ["completed"] * 4
    points = set(zip(trials["hp.model.units.0"], trials["hp.optimizer.learning_rate"], strict=True))
    assert points == {(4, 0.001), (4, 0.01), (8, 0.001), (8, 0.01)}
    assert "best trial" in result.stdout


def test_run_directory_files_and_columns(wine_run):
    root, config, _ = wine_run
    run = root / "runs" / "wine-grid"
    assert (run / "config.yaml").read_text() == config.read_text()
    assert "batch_size: 32" in (run / "resolved.yaml").read_text()
    trials = read_csv(run / "trials.csv")
    assert list(trials.columns) == [
        "trial_id", "status", "hp.model.units.0", "hp.optimizer.learning_rate",
        "epochs_trained", "best_epoch", "stopped_early", "loss", "val_loss", "accuracy",
        "val_accuracy", "train_error", "val_error", "test_error", "objective", "seconds",
        "seed", "message", "started_at", "finished_at", "train_n", "val_n", "test_n",
        "train_log_loss", "val_log_loss", "val_log_loss_se", "params", "model_bytes", "retry_of",
        "worker",
    ]  # fmt: skip
    epochs = read_csv(run / "epochs.csv")
    assert list(epochs.columns) == [
        "trial_id", "execution", "epoch", "loss", "val_loss", "accuracy", "val_accuracy",
        "learning_rate", "seconds",
    ]  # fmt: skip
    per_trial = epochs.groupby("trial_id").size()
    assert dict(per_trial) == dict(zip(trials["trial_id"], trials["epochs_trained"], strict=True))
    assert not epochs.duplicated(["trial_id", "execution", "epoch"]).any()
    assert epochs.groupby("trial_id")["epoch"].min().eq(1).all()
    # errors are in [0, 1] and only the best trial has a test error
    assert trials["train_error"].between(0, 1).all() and trials["val_error"].between(0, 1).all()
    best = trials.loc[trials["objective"].idxmax()]
    assert trials["test_error"].notna().sum() == 1 and pd.notna(best["test_error"])
    assert (trials["val_error"] - (1 - trials["val_accuracy"])).abs().max() < 1e-6


def test_manifest_and_best_model(wine_run):
    root, _, _ = wine_run
    run = root / "runs" / "wine-grid"
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["format_version"] == 1 and manifest["status"] == "completed"
    assert manifest["objective"] == {"name": "val_accuracy", "direction": "max"}
    assert manifest["data"]["task"] == "multiclass" and len(manifest["data"]["classes"]) == 3
    assert sum(manifest["data"]["sizes"].values()) == 178
    assert manifest["seed"] == 3 and manifest["finished_at"]
    model = keras.models.load_model(run / "best" / "model.keras", safe_mode=True)
    assert model.output_shape == (None, 3)


def test_existing_run_is_not_reused(wine_run, cli):
    root, config, _ = wine_run
    before = (root / "runs" / "wine-grid" / "trials.csv").read_text()
    result = cli("search", config, "--runs-dir", root / "runs")
    assert result.exit_code == 2
    assert "--resume" in result.stderr and "--overwrite" in result.stderr
    assert (root / "runs" / "wine-grid" / "trials.csv").read_text() == before


def test_resume_of_a_finished_run_runs_nothing_again(wine_run, cli):
    root, config, _ = wine_run
    run = root / "runs" / "wine-grid"
    before = run.joinpath("epochs.csv").read_text()
    result = cli("search", config, "--runs-dir", root / "runs", "--resume")
    assert result.exit_code == 0, result.output
    assert run.joinpath("epochs.csv").read_text() == before


def test_resume_with_a_changed_config_shows_the_difference(wine_run, cli, tmp_path):
    root, _, _ = wine_run
    changed = tmp_path / "wine.yaml"
    changed.write_text(WINE_GRID.replace("units: [4, 8]", "units: [4, 16]"))
    result = cli("search", changed, "--runs-dir", root / "runs", "--resume")
    assert result.exit_code == 2
    assert "model.units" in result.stderr and "[4, 8] -> [4, 16]" in result.stderr


def test_regression_on_diabetes(cli, write_config, tmp_path):
    path = write_config(
        """
        data: {source: diabetes}
        model: {layers: 1, units: 8}
        optimizer: {learning_rate: 0.01}
        training: {epochs: 2}
        search: {max_trials: 1}
        """,
        name="diabetes.yaml",
    )
    result = cli("search", path, "--runs-dir", tmp_path / "runs")
    assert result.exit_code == 0, result.output
    trials = read_csv(tmp_path / "runs" / "diabetes" / "trials.csv")
    assert trials.loc[0, "status"] == "completed"
    assert {"mae", "val_mae", "mse", "val_mse"} <= set(trials.columns)
    # error = MSE / variance of the training target: about 1 for a barely trained model
    assert 0 < trials.loc[0, "val_error"] < 5
    manifest = json.loads((tmp_path / "runs" / "diabetes" / "manifest.json").read_text())
    assert manifest["objective"] == {"name": "val_loss", "direction": "min"}


def test_diverging_trial_is_recorded_and_the_search_goes_on(cli, write_config, tmp_path):
    path = write_config(
        """
        data: {source: diabetes, normalize: none}
        model: {layers: 2, units: 32}
        optimizer: {name: sgd, learning_rate: [1.0e-3, 1.0e+6]}
        training: {epochs: 3, early_stopping: false}
        search: {strategy: grid}
        """,
        name="diverge.yaml",
    )
    result = cli("search", path, "--runs-dir", tmp_path / "runs")
    assert result.exit_code == 0, result.output
    run = tmp_path / "runs" / "diverge"
    trials = read_csv(run / "trials.csv")
    assert sorted(trials["status"]) == ["completed", "diverged"]
    diverged = trials[trials["status"] == "diverged"].iloc[0]
    assert pd.isna(diverged["objective"])
    epochs = read_csv(run / "epochs.csv")
    curve = epochs[epochs["trial_id"] == diverged["trial_id"]]
    assert len(curve) >= 1 and not np.isfinite(curve["loss"].astype(float)).all()
    assert json.loads((run / "manifest.json").read_text())["best_trial"] != diverged["trial_id"]


def test_failing_trials_exit_1_with_the_error(cli, write_config, tmp_path, monkeypatch):
    import tunenet.tuning.trial

    def broken(*args, **kwargs):
        raise RuntimeError("model build exploded")

    monkeypatch.setattr(tunenet.tuning.trial, "build_model", broken)
    path = write_config(
        """
        data: {source: iris}
        model: {units: [4, 8, 16, 32, 64]}
        training: {epochs: 1}
        search: {max_trials: 5, max_consecutive_failed_trials: 2}
        """,
        name="broken.yaml",
    )
    result = cli("search", path, "--runs-dir", tmp_path / "runs")
    assert result.exit_code == 1
    assert "3 trials failed in a row" in result.stdout + result.stderr
    assert "model build exploded" in result.stdout + result.stderr
    trials = read_csv(tmp_path / "runs" / "broken" / "trials.csv")
    assert list(trials["status"]) == ["failed"] * 3
    assert trials["message"].str.contains("model build exploded").all()


def test_bad_input_creates_nothing(cli, write_config, tmp_path):
    path = write_config("data: {source: wine}\nsearch: {objective: val_f1}\n", name="bad.yaml")
    result = cli("search", path, "--runs-dir", tmp_path / "runs")
    assert result.exit_code == 2
    assert "search.objective" in result.stderr and "val_f1" in result.stderr
    assert not (tmp_path / "runs").exists()
