"""The val_auc / val_pr_auc objectives end to end (docs/run-format.md): the metric is logged in
epochs.csv and trials.csv, the objective is it, maximized; the log losses of trials.csv; the
manifest's feature scales; and a multiclass best model loads without tunenet."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tunenet


def scaled_table(path: Path) -> Path:
    """Two features of standard deviation 1 and 1000; about a quarter positives."""
    rng = np.random.default_rng(3)
    small, big = rng.normal(size=300), 1000 * rng.normal(size=300)
    y = (small + big / 1000 + rng.normal(size=300) > 1).astype(int)
    pd.DataFrame({"small": small, "big": big, "y": y}).to_csv(path, index=False)
    return path


@pytest.mark.e2e
def test_val_auc_is_logged_and_is_the_maximized_objective(tmp_path):
    config = {
        "name": "auc",
        "data": {"source": "csv", "path": str(scaled_table(tmp_path / "t.csv")), "target": "y"},
        "model": {"layers": 1, "units": 8},
        "training": {"epochs": 2, "monitor_layers": False},
        "search": {"objective": "val_auc", "max_trials": 1},
    }
    result = tunenet.search(config, runs_dir=tmp_path / "runs")
    epochs = pd.read_csv(result.run_dir / "epochs.csv")
    assert {"auc", "val_auc"} <= set(epochs.columns) and "pr_auc" not in epochs.columns
    assert epochs["val_auc"].between(0, 1).all()
    trial = pd.read_csv(result.run_dir / "trials.csv").iloc[0]
    assert trial["objective"] == pytest.approx(trial["val_auc"])
    best = epochs.loc[epochs["epoch"] == trial["best_epoch"]].iloc[0]
    assert trial["val_auc"] == pytest.approx(best["val_auc"])
    # the log loss of the final evaluation, without regularization (there is none here): the
    # Keras validation loss of the kept epoch
    assert trial["val_log_loss"] == pytest.approx(trial["val_loss"], rel=1e-4)
    assert trial["train_log_loss"] > 0 and 0 < trial["val_log_loss_se"] < trial["val_log_loss"]
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["objective"] == {"name": "val_auc", "direction": "max"}
    scales = manifest["data"]["feature_scales"]
    assert (scales["largest"], scales["smallest"]) == ("big", "small")
    assert 800 < scales["ratio"] < 1250  # 1000 up to the sampling noise of 180 rows
    baselines = pd.read_csv(result.run_dir / "baselines.csv").set_index("model")
    prior = baselines.loc["majority", "val_log_loss"]
    assert 0.3 < prior < 0.7  # the entropy of a 25/75 prior: 0.56


@pytest.mark.e2e
@pytest.mark.slow
def test_a_multiclass_pr_auc_model_loads_without_tunenet(tmp_path):
    config = {
        "name": "iris-pr",
        "data": {"source": "iris"},
        "model": {"layers": 1, "units": 8},
        "training": {"epochs": 2, "monitor_layers": False, "class_weight": {"setosa": 2}},
        "search": {"objective": "val_pr_auc", "max_trials": 1},
    }
    result = tunenet.search(config, runs_dir=tmp_path / "runs")
    trials = pd.read_csv(result.run_dir / "trials.csv")
    assert trials.loc[0, "objective"] == pytest.approx(trials.loc[0, "val_pr_auc"])
    assert 0 <= trials.loc[0, "val_pr_auc"] <= 1
    assert pd.notna(trials.loc[0, "test_error"])  # the saved model was evaluated on the test split
    script = (
        "import sys, keras, numpy as np\n"
        f"model = keras.models.load_model({str(result.run_dir / 'best' / 'model.keras')!r})\n"
        "assert 'tunenet' not in sys.modules\n"
        "print(model.predict(np.zeros((2, 4)), verbose=0).shape)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("(2, 3)")
