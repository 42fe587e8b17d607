"""The trial runner's parts, without training: the best epoch, scoring, seeds and errors."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from tunenet.config import load as loader
from tunenet.config.objective import Objective
from tunenet.data.dataset import load_dataset
from tunenet.errors import ConfigError
from tunenet.reporting.progress import SearchProgress
from tunenet.runs import RunDir, TrialStatus
from tunenet.tuning.pipelines import error_of
from tunenet.tuning.trial import (
    BestEpoch,
    EpochRecorder,
    Execution,
    SearchContext,
    best_row,
    resolve_objective,
    score_row,
    trial_seed,
)

IRIS = {"data": {"source": "iris"}, "model": {"units": [8, 16]}}
ACCURACY = Objective("val_accuracy", "max")


class FakeModel:
    """Stands in for a keras.Model: weights are a list, saving writes a marker file."""

    def __init__(self, label: str = "model") -> None:
        self.weights, self.label = [0], label

    def get_weights(self) -> list:
        return list(self.weights)

    def set_weights(self, weights: list) -> None:
        self.weights = list(weights)

    def save(self, path: Path) -> None:
        Path(path).write_text(self.label)

    def __call__(self, x, training: bool = False):
        """Predicts the first class for every example (for the confusion matrix)."""
        scores = np.zeros((len(x), 3), dtype="float32")
        scores[:, 0] = 1.0
        return scores


def fit(keeper: BestEpoch, curve: list[dict]) -> FakeModel:
    """Feed `curve` (one logs dict per epoch) to the callback; epoch i has weights [i + 1]."""
    model = FakeModel()
    keeper.set_model(model)
    for epoch, logs in enumerate(curve):
        model.weights = [epoch + 1]
        keeper.on_epoch_end(epoch, logs)
    keeper.on_train_end()
    return model


# ---------------------------------------------------------------- BestEpoch


def test_best_epoch_keeps_the_weights_of_the_best_objective() -> None:
    keeper = BestEpoch(ACCURACY)
    curve = [{"loss": 1.0, "val_accuracy": v} for v in (0.5, 0.8, 0.7, 0.8)]
    model = fit(keeper, curve)
    assert (keeper.epoch, keeper.value) == (2, 0.8)  # 1-based; a tie keeps the first
    assert model.weights == [2]


def test_best_epoch_of_a_minimized_objective() -> None:
    keeper = BestEpoch(Objective("val_loss", "min"))
    model = fit(keeper, [{"loss": 1.0, "val_loss": v} for v in (0.9, 0.4, 0.6)])
    assert (keeper.epoch, model.weights) == (2, [2])


def test_no_epoch_counts_without_a_finite_objective() -> None:
    keeper = BestEpoch(ACCURACY)
    model = fit(keeper, [{"loss": 1.0, "val_accuracy": math.nan}, {"loss": 1.0}])
    assert keeper.epoch == 0 and keeper.value is None
    assert model.weights == [2]  # nothing restored: the last epoch's weights stay


# ---------------------------------------------------------------- scoring


def execution(best: int, curve: dict[int, float], **changes) -> Execution:
    history = {epoch: {"val_accuracy": v, "val_loss": 1 - v} for epoch, v in curve.items()}
    fields = dict(stopped_early=False, diverged=False, train_error=0.1, val_error=0.2)
    return Execution(FakeModel(), history, best, **{**fields, **changes})


def test_score_row_means_each_execution_at_its_own_best_epoch() -> None:
    first = execution(2, {1: 0.5, 2: 0.9, 3: 0.7}, train_error=0.1, val_error=0.1)
    last = execution(1, {1: 0.7, 2: 0.6}, train_error=0.3, val_error=math.nan, stopped_early=True)
    row = score_row([first, last], ["val_loss", "val_accuracy"], ACCURACY)
    assert row["status"] == TrialStatus.COMPLETED
    assert row["val_accuracy"] == pytest.approx(0.8) and row["objective"] == pytest.approx(0.8)
    assert row["val_loss"] == pytest.approx(0.2)
    assert row["train_error"] == pytest.approx(0.2)
    assert row["val_error"] == pytest.approx(0.1)  # NaN errors are left out of the mean
    # epochs and early stopping are those of the last execution, whose model is kept
    assert (row["epochs_trained"], row["best_epoch"], row["stopped_early"]) == (2, 1, True)


def test_score_row_of_a_diverged_execution_has_no_objective() -> None:
    fine, diverged = execution(1, {1: 0.9}), execution(1, {1: 0.5}, diverged=True)
    row = score_row([fine, diverged], ["val_accuracy"], ACCURACY)
    assert row["status"] == TrialStatus.DIVERGED and row["objective"] is None
    assert "NaN" in row["message"]


@pytest.fixture
def context(tmp_path: Path) -> SearchContext:
    config = loader.validate_dict(IRIS)
    progress = SearchProgress(Console(file=io.StringIO()), total=0, quiet=True)
    (tmp_path / "run").mkdir()
    return SearchContext(config, load_dataset(config), RunDir(tmp_path / "run"), progress)


def score(context: SearchContext, trial_id: str, accuracy: float, label: str, **changes) -> dict:
    row = context.base_row(trial_id, {"model.units": 8}, seed=1)
    run = execution(1, {1: accuracy}, **changes)
    run.model = FakeModel(label)
    return context.score(row, [run], trial_id, seconds=0.5)


def test_score_writes_the_row_and_keeps_the_best_model(context: SearchContext) -> None:
    assert score(context, "0", 0.8, "first") == {"val_accuracy": pytest.approx(0.8)}
    assert score(context, "1", 0.6, "worse")["val_accuracy"] == pytest.approx(0.6)
    assert score(context, "2", 0.9, "diverged", diverged=True) == {"val_accuracy": None}
    with context.run.trials_file.open() as handle:
        rows = {row["trial_id"]: row for row in csv.DictReader(handle)}
    assert [rows[key]["status"] for key in "012"] == ["completed", "completed", "diverged"]
    assert float(rows["0"]["objective"]) == pytest.approx(0.8) and rows["2"]["objective"] == ""
    assert float(rows["1"]["val_error"]) == pytest.approx(0.2) and rows["1"]["seconds"] == "0.5"
    assert context.run.best_model_file.read_text() == "first"
    assert json.loads(context.run.manifest_file.read_text())["best_trial"] == "0"
    assert context.best_objective == pytest.approx(0.8)
    confusion = json.loads(context.run.confusion_file.read_text())  # the best model's, only
    assert confusion["trial_id"] == "0"
    counts = confusion["splits"]["val"]
    assert sum(map(sum, counts)) == len(context.dataset.y_val)
    assert all(row[1:] == [0, 0] for row in counts)  # everything predicted as the first class


def test_best_row_ignores_failed_diverged_and_unscored_trials() -> None:
    rows = [
        {"trial_id": "0", "status": "completed", "objective": "0.3"},
        {"trial_id": "1", "status": "failed", "objective": "0.1"},
        {"trial_id": "2", "status": "diverged", "objective": ""},
        {"trial_id": "3", "status": "completed", "objective": ""},
        {"trial_id": "4", "status": "completed", "objective": "0.2"},
    ]
    assert best_row(rows, Objective("val_loss", "min"))["trial_id"] == "4"
    assert best_row(rows, ACCURACY)["trial_id"] == "0"
    assert best_row(rows[1:4], ACCURACY) is None


# ---------------------------------------------------------------- seeds, errors, objective


def test_trial_seed_is_stable_and_differs_per_trial_and_run() -> None:
    assert trial_seed(7, "0003") == trial_seed(7, "3") == 7_023_778
    seeds = {trial_seed(run, trial) for run in (1, 2) for trial in ("0", "1", "2")}
    assert len(seeds) == 6
    assert all(0 <= seed < 2**31 - 1 for seed in seeds)


def test_error_of_classification_and_regression() -> None:
    assert error_of("multiclass", {"accuracy": 0.75}, 1.0) == pytest.approx(0.25)
    assert error_of("binary", {"accuracy": 1.0}, 4.0) == 0.0
    assert error_of("regression", {"mse": 2.0, "mae": 1.0}, 4.0) == pytest.approx(0.5)


def test_objective_defaults_by_task_and_names_a_bad_choice() -> None:
    config = loader.validate_dict(IRIS)
    dataset = load_dataset(config)
    assert resolve_objective(config, dataset) == ACCURACY
    with pytest.raises(ConfigError, match="search.objective: got 'val_mae'.*val_accuracy"):
        loader.validate_dict({**IRIS, "search": {"objective": "val_mae"}})  # refused at load
    named = loader.validate_dict({**IRIS, "search": {"objective": "val_accuracy"}}).search
    wrong = config.model_copy(  # past the load-time check: the search still names it
        update={"search": named.model_copy(update={"objective": named.objective.model_copy(
            update={"name": "val_mae"})})}
    )  # fmt: skip
    with pytest.raises(ConfigError, match="search.objective: got 'val_mae'.*val_accuracy"):
        resolve_objective(wrong, dataset)


def test_pipelines_run_without_the_autotuner_and_keep_the_seeded_order() -> None:
    """On one core (a worker's share) tf.data's autotuner idles ~15 ms per epoch and per
    validation pass; the data is in memory, so the pipelines go without it, same batches."""
    import tensorflow as tf

    from tunenet.tuning.pipelines import Pipelines

    pipelines = Pipelines(load_dataset(loader.validate_dict(IRIS)))
    train = pipelines.train(batch_size=16, seed=3)
    assert train.options().autotune.enabled is False
    assert pipelines.evaluation("val").options().autotune.enabled is False
    x, y = pipelines.dataset.x_train, pipelines.dataset.y_train
    tuned = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(len(y), seed=3, reshuffle_each_iteration=True)
        .batch(16)
        .prefetch(tf.data.AUTOTUNE)
    )
    for _ in range(2):  # two epochs: the reshuffled order matches too
        ours = np.concatenate([batch.numpy() for _, batch in train])
        theirs = np.concatenate([batch.numpy() for _, batch in tuned])
        assert ours.tolist() == theirs.tolist()


def test_a_lost_sigterm_still_stops_the_next_epoch_and_trial() -> None:
    """The SIGTERM handler's KeyboardInterrupt can be swallowed by a finalizer during a garbage
    collection; its flag stops the search at the next epoch or trial all the same."""
    from tunenet.tuning import trial as trial_module
    from tunenet.tuning import tuner

    with tuner.stop_on_signals():  # gives the handlers back and lowers the flag after
        assert trial_module.stop_requested is False
        with pytest.raises(KeyboardInterrupt):
            tuner._interrupt(15, None)
        assert trial_module.stop_requested is True
        recorder = EpochRecorder.__new__(EpochRecorder)  # no context needed to begin an epoch
        with pytest.raises(KeyboardInterrupt):
            recorder.on_epoch_begin(0)
