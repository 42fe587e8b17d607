"""One epoch per row (docs/reproducibility.md): every metric of a trials.csv row and the saved model describe
`best_epoch`, the epoch with the best objective, whatever early stopping does."""

from __future__ import annotations

import math

import pandas as pd
import pytest

pytestmark = pytest.mark.e2e

# A high learning rate on 30 validation examples: the validation curves wobble, so the last
# epoch is rarely the best one and a row mixing the two epochs shows.
CONFIG = """
name: one-epoch
seed: 5
data: {{source: iris, split: {{validation: 0.3, test: 0.2}}}}
model: {{layers: 1, units: 16}}
optimizer: {{name: adam, learning_rate: [0.08, 0.3]}}
training: {{epochs: 8, batch_size: 16, early_stopping: {early_stopping}}}
search: {{strategy: grid, max_trials: 2, objective: val_accuracy, executions_per_trial: {runs}}}
"""

SETTINGS = {
    "restore": "{monitor: val_loss, patience: 2, restore_best_weights: true}",
    "no-restore": "{monitor: val_loss, patience: 2, restore_best_weights: false}",
    "off": "false",
}
TOLERANCE = 1e-6  # Keras logs float32


def search(root, early_stopping: str, runs: int = 1):
    from typer.testing import CliRunner

    from tunenet.cli import app

    config = root / "config.yaml"
    config.write_text(CONFIG.format(early_stopping=early_stopping, runs=runs))
    args = ["search", str(config), "--runs-dir", str(root / "runs"), "--quiet"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    run = root / "runs" / "one-epoch"
    trials = pd.read_csv(run / "trials.csv", dtype={"trial_id": str})
    epochs = pd.read_csv(run / "epochs.csv", dtype={"trial_id": str})
    return run, trials, epochs


@pytest.fixture(scope="module", params=list(SETTINGS))
def searched(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(request.param)
    return search(root, SETTINGS[request.param])


def at_best(epochs: pd.DataFrame, row: pd.Series) -> pd.Series:
    rows = epochs[(epochs["trial_id"] == row["trial_id"]) & (epochs["epoch"] == row["best_epoch"])]
    assert len(rows) == 1
    return rows.iloc[0]


def test_the_grid_is_a_real_check(searched):
    _, trials, _ = searched
    assert list(trials["status"]) == ["completed"] * 2
    assert (trials["best_epoch"] < trials["epochs_trained"]).any()


def test_best_epoch_is_the_best_objective(searched):
    _, trials, epochs = searched
    for _, row in trials.iterrows():
        curve = epochs[epochs["trial_id"] == row["trial_id"]].sort_values("epoch")
        first_best = curve.loc[curve["val_accuracy"].idxmax(), "epoch"]
        assert row["best_epoch"] == first_best


def test_row_metrics_are_those_of_best_epoch(searched):
    _, trials, epochs = searched
    for _, row in trials.iterrows():
        best = at_best(epochs, row)
        for name in ("loss", "val_loss", "accuracy", "val_accuracy"):
            assert row[name] == pytest.approx(best[name], abs=TOLERANCE), name
        assert row["objective"] == pytest.approx(best["val_accuracy"], abs=TOLERANCE)


def test_errors_are_those_of_best_epoch(searched):
    _, trials, epochs = searched
    for _, row in trials.iterrows():
        best = at_best(epochs, row)
        assert row["val_error"] == pytest.approx(1 - best["val_accuracy"], abs=TOLERANCE)


def test_saved_model_is_the_best_epoch(searched):
    from tunenet.studies.evaluate import evaluate_run

    run, trials, _ = searched
    best = trials.loc[trials["objective"].idxmax()]
    assert evaluate_run(run, "val").error == pytest.approx(best["val_error"], abs=TOLERANCE)
    assert evaluate_run(run, "test").error == pytest.approx(best["test_error"], abs=TOLERANCE)
    assert evaluate_run(run, "train").error == pytest.approx(best["train_error"], abs=TOLERANCE)


def test_each_execution_scored_at_its_own_best_epoch(tmp_path):
    """With two executions the row averages them, each taken at its own best epoch."""
    _, trials, epochs = search(tmp_path, SETTINGS["off"], runs=2)
    for _, row in trials.iterrows():
        curves = epochs[epochs["trial_id"] == row["trial_id"]]
        best = [curve["val_accuracy"].max() for _, curve in curves.groupby("execution")]
        assert len(best) == 2
        assert row["val_accuracy"] == pytest.approx(sum(best) / 2, abs=TOLERANCE)
        assert row["objective"] == pytest.approx(sum(best) / 2, abs=TOLERANCE)
        assert row["val_error"] == pytest.approx(1 - sum(best) / 2, abs=TOLERANCE)
        assert not math.isnan(row["train_error"])


def test_a_diverged_fit_keeps_its_best_finite_epoch():
    """An epoch with a NaN loss never counts, even when its accuracy looks better."""
    import keras
    import numpy as np

    from tunenet.config.objective import Objective
    from tunenet.tuning.trial import BestEpoch

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    keeper = BestEpoch(Objective("val_accuracy", "max"))
    keeper.set_model(model)
    curve = [(0.5, 0.6), (0.4, 0.8), (0.3, 0.7), (math.nan, 0.9)]  # (loss, val_accuracy)
    kept = None
    for epoch, (loss, accuracy) in enumerate(curve):
        model.set_weights([np.full_like(w, epoch) for w in model.get_weights()])
        kept = model.get_weights() if epoch == 1 else kept
        keeper.on_epoch_end(epoch, {"loss": loss, "val_loss": loss, "val_accuracy": accuracy})
    keeper.on_train_end()
    assert keeper.epoch == 2
    for restored, expected in zip(model.get_weights(), kept, strict=True):
        np.testing.assert_array_equal(restored, expected)
