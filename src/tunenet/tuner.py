"""Strategy -> keras-tuner tuner; the trial loop that records every epoch; run_search().

keras-tuner keeps only the best epoch of a trial and swallows exceptions, so tunenet runs each
trial itself (`run_trial`), appends every epoch to epochs.csv and writes trials.csv after every
trial.
"""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import math
import os
import signal
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import keras
import keras_tuner as kt
import numpy as np
import tensorflow as tf
from keras_tuner.src import config as kt_config
from rich.console import Console

from tunenet import space as space_module
from tunenet.capacity import CapacityOracle
from tunenet.cnn import check_fits
from tunenet.config import Config, objective_direction
from tunenet.data import Dataset, load_dataset
from tunenet.errors import ConfigError, Interrupted, RunDirError, SearchError
from tunenet.models import (
    build_model,
    export_model,
    load_best_model,
    metric_names,
    target_scale,
)
from tunenet.progress import SearchProgress
from tunenet.runs import (
    FORMAT_VERSION,
    EpochLog,
    RunDir,
    RunLock,
    RunOptions,
    TrialTable,
    discard_tuner_state,
    fingerprint,
    join,
    locate,
    now,
    prepare,
    tuner_state_problem,
    versions,
)

logging.getLogger("tensorflow").setLevel(logging.ERROR)
# keras-tuner prints the traceback of every failed trial; tunenet records the message instead.
kt_config.DEBUG = os.environ.get("TUNENET_DEBUG") == "1"
# tunenet shuffles its own tf.data pipelines; Keras warns that its shuffle flag is unused.
warnings.filterwarnings("ignore", message=".*shuffle=True.*was passed", category=UserWarning)
EVAL_BATCH = 2048
FINAL_STATUSES = ("completed", "failed", "diverged")


@dataclass
class Objective:
    name: str
    direction: str

    def better(self, candidate: float, best: Optional[float]) -> bool:
        if best is None:
            return True
        return candidate > best if self.direction == "max" else candidate < best


@dataclass
class SearchSummary:
    """What `tunenet search` tells the user at the end."""

    run: RunDir
    objective: Objective
    rows: list[dict] = field(default_factory=list)
    best: Optional[dict] = None
    seconds: float = 0.0
    exit_code: int = 0
    message: str = ""


def resolve_objective(config: Config, dataset: Dataset) -> Objective:
    """The config's objective, or val_accuracy (classification) / val_loss (regression)."""
    chosen = config.search.objective
    default = "val_loss" if dataset.task == "regression" else "val_accuracy"
    name = chosen.name if chosen else default
    known = metric_names(dataset)
    if name not in known:
        raise ConfigError(
            f"search.objective: got {name!r}, which a {dataset.task} model does not log. "
            f"Choose one of: {', '.join(k for k in known if k.startswith('val_'))}."
        )
    direction = (chosen.direction if chosen else None) or objective_direction(name)
    return Objective(name, direction)


def trial_seed(run_seed: int, trial_id: str) -> int:
    """A per-trial seed derived from the run's seed, stable across resumes."""
    return (run_seed * 1_000_003 + int(trial_id) * 7_919) % (2**31 - 1)


def error_of(task: str, metrics: dict, target_variance: float) -> float:
    """1 - accuracy for classification; MSE / variance of the training target for regression."""
    if task == "regression":
        return float(metrics["mse"]) / target_variance
    return 1.0 - float(metrics["accuracy"])


# ---------------------------------------------------------------- hyperparameters


def kt_hyperparameters(hps: list[space_module.HyperParameter]) -> kt.HyperParameters:
    """Register the whole space up front, conditions included, so every oracle sees it."""
    registry = kt.HyperParameters()
    for hp in hps:
        if hp.parent:
            with registry.conditional_scope(hp.parent, list(hp.parent_values)):
                _register(registry, hp)
        else:
            _register(registry, hp)
    return registry


def _register(registry: kt.HyperParameters, hp: space_module.HyperParameter) -> None:
    if hp.kind == "choice":
        registry.Choice(hp.name, list(hp.values), ordered=False)
    elif hp.kind == "int":
        registry.Int(hp.name, hp.min, hp.max, step=hp.step, sampling=hp.sampling)
    else:
        registry.Float(hp.name, hp.min, hp.max, step=hp.step, sampling=hp.sampling)


def active_values(trial: kt.engine.trial.Trial) -> dict:
    hps = trial.hyperparameters
    return {
        name: value
        for name, value in hps.values.items()
        if not name.startswith("tuner/") and hps.is_active(name)
    }


# ---------------------------------------------------------------- data pipelines


class Pipelines:
    """tf.data pipelines built once per search: converting arrays every epoch is slow.

    Regression targets are standardized for training (see `models.target_scale`);
    `raw=True` gives the target in its own units, for the saved model.
    """

    def __init__(self, dataset: Dataset):
        self.dataset = dataset
        self.scale = target_scale(dataset)
        self._eval: dict[tuple[str, bool], tf.data.Dataset] = {}

    def _target(self, y: np.ndarray, raw: bool) -> np.ndarray:
        if self.scale is None or raw:
            return y
        mean, std = self.scale
        return ((y - mean) / std).astype("float32")

    def train(self, batch_size: int, seed: int) -> tf.data.Dataset:
        x, y = self.dataset.x_train, self._target(self.dataset.y_train, raw=False)
        return (
            tf.data.Dataset.from_tensor_slices((x, y))
            .shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size)
            .prefetch(tf.data.AUTOTUNE)
        )

    def evaluation(self, split: str, raw: bool = False) -> tf.data.Dataset:
        if (split, raw) not in self._eval:
            x, y = self.dataset.split(split)
            self._eval[(split, raw)] = (
                tf.data.Dataset.from_tensor_slices((x, self._target(y, raw)))
                .batch(EVAL_BATCH)
                .cache()
                .prefetch(2)
            )
        return self._eval[(split, raw)]


# ---------------------------------------------------------------- recording


class EpochRecorder(keras.callbacks.Callback):
    """Appends each epoch to epochs.csv and reports progress."""

    def __init__(self, context: "SearchContext", trial_id: str, execution: int):
        super().__init__()
        self.context, self.trial_id, self.execution = context, trial_id, execution
        self.history: dict[int, dict] = {}
        self._started = 0.0

    def on_epoch_begin(self, epoch: int, logs: Optional[dict] = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        values = {key: float(value) for key, value in (logs or {}).items()}
        values["learning_rate"] = float(
            keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
        )
        self.history[epoch + 1] = values
        row = {"trial_id": self.trial_id, "execution": self.execution, "epoch": epoch + 1}
        row.update(values)
        row["seconds"] = round(time.perf_counter() - self._started, 4)
        self.context.epoch_log.append(row)
        self.context.progress.epoch(epoch + 1)
        self.context.heartbeat()


class BestEpoch(keras.callbacks.Callback):
    """Keeps the weights of the epoch with the best objective and restores them when fit ends.

    Like keras-tuner, which scores a trial by its best epoch and checkpoints that epoch, but in
    memory and whatever early stopping does: so a trials.csv row, its errors and the saved model
    all describe one epoch. Only epochs with finite losses count (a diverged fit keeps its best
    finite epoch). Weights are copied only when the objective improves.
    """

    def __init__(self, objective: Objective):
        super().__init__()
        self.objective = objective
        self.epoch = 0  # 1-based; 0 until an epoch counts
        self.value: Optional[float] = None
        self.weights: Optional[list] = None

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        logs = {key: float(value) for key, value in (logs or {}).items()}
        value = logs.get(self.objective.name, math.nan)
        if math.isfinite(value) and _finite(logs) and self.objective.better(value, self.value):
            self.epoch, self.value = epoch + 1, value
            self.weights = self.model.get_weights()

    def on_train_end(self, logs: Optional[dict] = None) -> None:
        if self.weights is not None:
            self.model.set_weights(self.weights)
            self.weights = None  # the model holds them now


@dataclass
class Execution:
    """The outcome of one fit of a trial."""

    model: keras.Model
    history: dict[int, dict]
    best_epoch: int
    stopped_early: bool
    diverged: bool
    train_error: float = math.nan
    val_error: float = math.nan

    def at_best(self, name: str) -> float:
        """The Keras log `name` at the best epoch (NaN when missing)."""
        return self.history.get(self.best_epoch, {}).get(name, math.nan)


# ---------------------------------------------------------------- the trial loop


class CannotWrite(RunDirError, kt.errors.FatalError):
    """The run directory cannot be written (a full disk, ...): the search stops, and no trial
    is blamed for it. A FatalError, so that keras-tuner does not swallow it."""


WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)  # no trial's fault


def cannot_write(error: BaseException) -> bool:
    """Inside a trial: a failure to write the run directory, not the trial's own failure."""
    return isinstance(error, RunDirError) or (
        isinstance(error, OSError) and error.errno in WRITE_ERRNOS
    )


def write_failure(error: BaseException) -> str:
    """What could not be written, in words."""
    if isinstance(error, OSError) and not isinstance(error, RunDirError):
        where = error.filename or "the run directory"
        return f"{where}: cannot be written ({error.strerror or error})."
    return str(error)


class TrialRunner:
    """Mixed into a keras-tuner tuner: runs, records and scores each trial."""

    def setup(self, context: "SearchContext") -> None:
        self.context = context

    def run_trial(self, trial: kt.engine.trial.Trial, *args: Any, **kwargs: Any) -> dict:
        try:
            return self._run_trial(trial)
        except kt.errors.FatalError:
            raise
        except (OSError, RunDirError) as error:  # out here, from writing the run directory
            raise CannotWrite(write_failure(error)) from error  # keras-tuner would go on

    def _run_trial(self, trial: kt.engine.trial.Trial) -> dict:
        ctx = self.context
        recorded = ctx.trials.find(trial.trial_id)
        if recorded is not None and recorded.get("status") in FINAL_STATUSES:
            return ctx.replay(recorded)  # killed after trials.csv, before keras-tuner saved
        started = time.perf_counter()
        ctx.epoch_log.drop_trials(drop={trial.trial_id})  # rows of an earlier, killed attempt
        ctx.heartbeat()
        values = active_values(trial)
        seed = trial_seed(ctx.config.seed, trial.trial_id)
        ctx.progress.trial_begin(trial.trial_id, self._epochs(trial))
        row = ctx.base_row(trial.trial_id, values, seed)
        try:
            executions = [
                self._fit(trial, values, seed + index, index)
                for index in range(ctx.config.search.executions_per_trial)
            ]
        except kt.errors.FatalError:
            raise
        except KeyboardInterrupt:
            row.update(seconds=_elapsed(started), message="interrupted; runs again on --resume")
            with ctx.lock:
                ctx.trials.put(row)
            raise
        except Exception as error:  # a trial's own failure: record it and let the search go on
            if cannot_write(error):
                raise  # the run directory's failure, not the trial's: run_trial stops the search
            message = f"{type(error).__name__}: {error}".strip().splitlines()[0][:500]
            row.update(status="failed", message=message, seconds=_elapsed(started))
            ctx.finish_trial(row)
            raise kt.errors.FailedTrialError(message) from error
        result = ctx.score(row, executions, trial.trial_id, _elapsed(started))
        if row["status"] == "diverged":
            raise kt.errors.FailedTrialError("diverged: the loss became NaN or infinite")
        return result

    def _epochs(self, trial: kt.engine.trial.Trial) -> tuple[int, int]:
        values = trial.hyperparameters.values
        if "tuner/epochs" in values:
            return int(values["tuner/initial_epoch"]), int(values["tuner/epochs"])
        return 0, self.context.config.training.epochs

    def _fit(self, trial: kt.engine.trial.Trial, values: dict, seed: int, index: int) -> Execution:
        ctx = self.context
        keras.backend.clear_session(free_memory=False)
        keras.utils.set_random_seed(seed)
        batch_size = int(space_module.value_of(ctx.config, values, "training.batch_size"))
        steps = max(1, math.ceil(len(ctx.dataset.y_train) / batch_size))
        model = build_model(ctx.config, values, ctx.dataset, steps, ctx.normalization)
        initial_epoch, epochs = self._epochs(trial)
        parent = trial.hyperparameters.values.get("tuner/trial_id")
        if parent:
            model.load_weights(ctx.warm_start_file(parent))
        stopper = ctx.early_stopping()
        recorder = EpochRecorder(ctx, trial.trial_id, index)
        keeper = BestEpoch(ctx.objective)  # last: the weights it restores are the ones kept
        callbacks = [keras.callbacks.TerminateOnNaN(), recorder]
        callbacks += [stopper, keeper] if stopper else [keeper]
        if ctx.tensorboard:
            folder = ctx.run.tensorboard_dir / f"trial_{trial.trial_id}" / f"execution_{index}"
            callbacks += tensorboard_callbacks(folder, values)
        model.fit(
            ctx.pipelines.train(batch_size, seed),
            validation_data=ctx.pipelines.evaluation("val"),
            epochs=epochs,
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            verbose=0,
        )
        if parent is not None or ctx.config.search.strategy == "hyperband":
            model.save_weights(ctx.warm_start_file(trial.trial_id))
        return ctx.execution(model, recorder.history, stopper, keeper.epoch)


def _elapsed(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def _finite(values: dict) -> bool:
    return all(math.isfinite(value) for key, value in values.items() if "loss" in key)


def tensorboard_callbacks(folder: Path, values: dict) -> list[keras.callbacks.Callback]:
    """TensorBoard logs of one fit, with the trial's values for the HParams dashboard."""
    from tensorboard.plugins.hparams import api as hparams

    return [
        keras.callbacks.TensorBoard(log_dir=str(folder)),
        hparams.KerasCallback(str(folder), dict(values), trial_id=folder.parent.name),
    ]


class SearchContext:
    """Everything the trials of one search share: config, data, files, progress, best so far."""

    tensorboard = False
    heartbeat_file: Optional[Path] = None  # a worker's sign of life for its chief
    resumed = False  # a --resume by the process that owns the run: it may repair tuner/

    def heartbeat(self) -> None:
        if self.heartbeat_file is not None:
            self.heartbeat_file.touch()

    def __init__(self, config: Config, dataset: Dataset, run: RunDir, progress: SearchProgress):
        self.config, self.dataset, self.run, self.progress = config, dataset, run, progress
        self.space = space_module.build_space(config)
        self.objective = resolve_objective(config, dataset)
        self.metrics = metric_names(dataset)
        self.normalization = dataset.normalization(config.data.normalize)
        self.pipelines = Pipelines(dataset)
        columns = ["trial_id", "execution", "epoch", *self.metrics, "learning_rate", "seconds"]
        self.epoch_log = EpochLog(run.epochs_file, columns)
        self.trials = TrialTable(run.trials_file, self.trial_columns())
        self.lock = RunLock(run.path)

    @property
    def best_objective(self) -> Optional[float]:
        """The best objective recorded so far (by any process writing this run)."""
        best = best_row(self.trials.rows.values(), self.objective)
        return None if best is None else float(best["objective"])

    def trial_columns(self) -> list[str]:
        hp_columns = [f"hp.{hp.name}" for hp in self.space]
        return [
            "trial_id", "status", *hp_columns, "epochs_trained", "best_epoch", "stopped_early",
            *self.metrics, "train_error", "val_error", "test_error", "objective", "seconds",
            "seed", "message",
        ]  # fmt: skip

    def base_row(self, trial_id: str, values: dict, seed: int) -> dict:
        row: dict[str, Any] = {"trial_id": trial_id, "status": "interrupted", "seed": seed}
        row.update({f"hp.{name}": value for name, value in values.items()})
        return row

    def warm_start_file(self, trial_id: str) -> str:
        folder = self.run.warm_start_dir
        folder.mkdir(parents=True, exist_ok=True)
        return str(folder / f"trial_{trial_id}.weights.h5")

    def early_stopping(self) -> Optional[keras.callbacks.EarlyStopping]:
        settings = self.config.training.early_stopping
        if settings is False:
            return None
        return keras.callbacks.EarlyStopping(
            monitor=settings.monitor,
            patience=settings.patience,
            min_delta=settings.min_delta,
            restore_best_weights=False,  # BestEpoch keeps the objective's best epoch instead
            mode=objective_direction(settings.monitor),
        )

    def execution(
        self, model: keras.Model, history: dict[int, dict], stopper: Any, best_epoch: int
    ) -> Execution:
        """Read the outcome of one fit whose model holds the weights of `best_epoch` (0: no
        epoch counted, then the last); evaluate train/val error in inference mode."""
        diverged = not history or not all(_finite(values) for values in history.values())
        best_epoch = best_epoch or (max(history) if history else 0)
        stopped = bool(stopper is not None and stopper.stopped_epoch > 0)
        outcome = Execution(model, history, best_epoch, stopped, diverged)
        if not diverged:
            outcome.train_error = self.evaluate_error(model, "train")
            outcome.val_error = self.evaluate_error(model, "val")
        return outcome

    def evaluate_error(self, model: keras.Model, split: str, raw: bool = False) -> float:
        """Error on a split, in inference mode. Trial models see the standardized target
        (variance 1); the saved model (`raw`) sees the target in its own units."""
        data = self.pipelines.evaluation(split, raw=raw)
        metrics = model.evaluate(data, verbose=0, return_dict=True)
        variance = self.dataset.target_variance if raw or self.pipelines.scale is None else 1.0
        return error_of(self.dataset.task, metrics, variance)

    def score(self, row: dict, executions: list[Execution], trial_id: str, seconds: float) -> dict:
        """Fill the trial's row from its executions, keep the best model, return the objective.

        Every number is a mean over executions, each taken at its own best epoch; best_epoch,
        epochs_trained, stopped_early and the saved model are those of the last execution."""
        chosen = executions[-1]
        diverged = any(outcome.diverged for outcome in executions)
        row.update({name: _mean(o.at_best(name) for o in executions) for name in self.metrics})
        objective = float(np.mean([o.at_best(self.objective.name) for o in executions]))
        row.update(
            status="diverged" if diverged else "completed",
            epochs_trained=max(chosen.history) if chosen.history else 0,
            best_epoch=chosen.best_epoch,
            stopped_early=chosen.stopped_early,
            train_error=_mean(o.train_error for o in executions),
            val_error=_mean(o.val_error for o in executions),
            objective=None if diverged else objective,
            seconds=seconds,
            message="the loss became NaN or infinite" if diverged else "",
        )
        with self.lock:
            self.trials.reload()
            if not diverged and self.objective.better(objective, self.best_objective):
                # the model first, then its row: a kill in between only means running it again
                self.run.save_best_model(export_model(chosen.model, self.pipelines.scale))
                self.run.update_manifest(best_trial=trial_id)
            self.trials.put(row)
        self.progress.trial_end(row, self.objective.name, self.best_objective)
        return {self.objective.name: objective}

    def replay(self, row: dict) -> dict:
        """The result of a trial already recorded in trials.csv, without training it again."""
        if row["status"] != "completed":
            raise kt.errors.FailedTrialError(row.get("message") or row["status"])
        return {self.objective.name: float(row["objective"])}

    def finish_trial(self, row: dict) -> None:
        with self.lock:
            self.trials.put(row)
        self.progress.trial_end(row, self.objective.name, self.best_objective)


def _mean(values: Any) -> Optional[float]:
    values = [value for value in values if math.isfinite(value)]
    return float(np.mean(values)) if values else None


# ---------------------------------------------------------------- tuners


class CappedHyperbandOracle(kt.oracles.HyperbandOracle):
    """keras-tuner's Hyperband ignores max_trials; tunenet honours it."""

    def populate_space(self, trial_id: str) -> dict:
        if self.max_trials and len(self.trials) >= self.max_trials:
            return {"status": "STOPPED"}
        return super().populate_space(trial_id)


class GridOracle(kt.Oracle):
    """Hands out the grid's points in order.

    keras-tuner's grid oracle derives each point from a finished trial, so parallel workers wait
    for each other, and it does not save its place for a resume; this one does both.
    """

    def __init__(self, points: list[dict], **kwargs: Any):
        super().__init__(**kwargs)
        self.points, self.next_point = points, 0

    def populate_space(self, trial_id: str) -> dict:
        if self.next_point >= len(self.points):
            return {"status": kt.engine.trial.TrialStatus.STOPPED, "values": None}
        values = dict(self.points[self.next_point])
        self.next_point += 1
        return {"status": kt.engine.trial.TrialStatus.RUNNING, "values": values}

    def get_state(self) -> dict:
        return {**super().get_state(), "next_point": self.next_point}

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        self.next_point = state.get("next_point", 0)


ORACLES = {
    "random": kt.oracles.RandomSearchOracle,
    "bayesian": kt.oracles.BayesianOptimizationOracle,
    "hyperband": CappedHyperbandOracle,
    "capacity": CapacityOracle,
}


def _consecutive_failures(rows: list[dict]) -> int:
    count = 0
    for row in rows:
        count = count + 1 if row.get("status") == "failed" else 0
    return count


class Recycle(Exception):
    """A worker asks to be replaced by a fresh process (trial count or memory budget)."""


def rss_mb() -> float:
    """Resident memory of this process, in MB (Linux; 0 where /proc is missing)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class Tuner(TrialRunner, kt.Tuner):
    """A keras-tuner Tuner whose trials tunenet runs and records."""

    max_trials_here: Optional[int] = None
    memory_mb: Optional[int] = None
    trials_here = 0

    def recycle_after(self, max_trials: Optional[int], memory_mb: Optional[int]) -> None:
        """Stop this process (Recycle) after `max_trials` trials or past `memory_mb` of RSS."""
        self.max_trials_here, self.memory_mb = max_trials, memory_mb

    def on_trial_end(self, trial: Any) -> None:
        super().on_trial_end(trial)
        self.trials_here += 1
        self._check_failures()
        if self.max_trials_here and self.trials_here >= self.max_trials_here:
            raise Recycle(f"{self.trials_here} trial(s) done (--max-trials-per-worker)")
        if self.memory_mb and rss_mb() > self.memory_mb:
            raise Recycle(f"{rss_mb():.0f} MB resident > --worker-memory {self.memory_mb} MB")

    def _check_failures(self) -> None:
        self.context.trials.reload()
        rows = self.context.trials.ordered()
        limit = self.context.config.search.max_consecutive_failed_trials
        if _consecutive_failures(rows) > limit:
            raise SearchError(
                f"{limit + 1} trials failed in a row (search.max_consecutive_failed_trials is "
                f"{limit}); the search stopped. Last error: {rows[-1].get('message', '')}"
            )


def make_tuner(context: SearchContext, overwrite: bool) -> Tuner:
    """The tuner of a search; on a resume, keras-tuner reloads its own state from tuner/.

    keras-tuner's state is rebuilt when it cannot be reloaded (see `_repair_tuner_state`).
    """
    try:
        return _new_tuner(context, overwrite)
    except Exception as error:  # keras-tuner's state is JSON, but not what it expects
        if overwrite or not context.resumed:
            raise
        context.progress.console.print(
            f"{context.run.tuner_dir}: keras-tuner cannot reload its state "
            f"({type(error).__name__}: {str(error)[:200]}); {REBUILT}"
        )
        discard_tuner_state(context.run)
        return _new_tuner(context, overwrite)


REBUILT = (
    "keras-tuner's state is rebuilt from trials.csv "
    "(finished trials are replayed, not trained again)."
)


def _new_tuner(context: SearchContext, overwrite: bool) -> Tuner:
    config = context.config
    search = config.search
    common = dict(
        objective=kt.Objective(context.objective.name, context.objective.direction),
        hyperparameters=kt_hyperparameters(context.space),
        tune_new_entries=False,
        allow_new_entries=False,
        seed=config.seed,
        max_consecutive_failed_trials=10**9,  # tunenet counts failures itself
    )
    if search.strategy == "hyperband":
        oracle = CappedHyperbandOracle(
            max_epochs=search.max_epochs or config.training.epochs, factor=search.factor, **common
        )
        oracle.max_trials = search.max_trials
    elif search.strategy == "grid":
        points = space_module.grid_points(context.space) or []
        oracle = GridOracle(points, max_trials=search.max_trials, **common)
    elif search.strategy == "capacity":
        oracle = CapacityOracle(
            space=context.space,
            max_trials=search.max_trials,
            min_delta=search.min_delta,
            patience=search.patience,
            **common,
        )
    else:
        oracle = ORACLES[search.strategy](max_trials=search.max_trials, **common)
    with contextlib.redirect_stdout(io.StringIO()):  # keras-tuner prints "Reloading Tuner..."
        tuner = Tuner(
            oracle=oracle,
            directory=str(context.run.path),
            project_name="tuner",
            overwrite=overwrite,
        )
    tuner.setup(context)
    return tuner


# ---------------------------------------------------------------- the search


def open_search(
    config: Config, options: RunOptions, *, quiet: bool, console: Console
) -> SearchContext:
    """Load the data, check what can be checked, then create (or reopen) the run directory."""
    locate(config, options)  # a bad name or run directory: before loading any data
    dataset = load_dataset(config)
    check_fits(config, dataset.input_shape)  # a CNN too deep for the image: before any file
    resolve_objective(config, dataset)  # a bad objective is a config error, before any file
    run = prepare(config, options)
    for note in run.notes:
        console.print(note)
    planned, _ = space_module.trial_budget(config, space_module.build_space(config))
    try:
        context = SearchContext(config, dataset, run, SearchProgress(console, planned, quiet))
        context.tensorboard, context.resumed = options.tensorboard, options.resume
        if options.resume:
            for note in _forget_unfinished(context) + _repair_tuner_state(context):
                console.print(note)
        _start_manifest(run, config, dataset, context, resume=options.resume)
    except OSError as error:
        raise RunDirError(f"{write_failure(error)} {_free_and_resume(options, run)}") from None
    return context


def join_search(
    config: Config, options: RunOptions, *, tuner_id: str, console: Console
) -> SearchContext:
    """A worker's view of a run the chief created: same config, same data, same files."""
    dataset = load_dataset(config)
    run = join(config, options)
    context = SearchContext(config, dataset, run, SearchProgress(console, 0, quiet=False))
    context.tensorboard = options.tensorboard
    run.workers_dir.mkdir(parents=True, exist_ok=True)
    context.heartbeat_file = run.workers_dir / f"{tuner_id}.heartbeat"
    context.heartbeat()
    return context


def run_search(
    config: Config, options: RunOptions, *, quiet: bool = False, console: Optional[Console] = None
) -> SearchSummary:
    """Run the search a config describes and write its run directory.

    Args:
        config: the validated config (command-line overrides applied).
        options: where the run goes, and whether to resume or overwrite.
        quiet: no progress display.
        console: the stderr console for progress.
    """
    context = open_search(config, options, quiet=quiet, console=console or Console(stderr=True))
    tuner = make_tuner(context, overwrite=not options.resume)
    tuner.oracle.max_trials = config.search.max_trials  # a resume may raise it
    started = time.perf_counter()
    summary = SearchSummary(run=context.run, objective=context.objective)
    context.progress.start(done=len(context.trials.rows))
    previous = interrupt_on_sigterm()
    try:
        tuner.search(verbose=0)
    except KeyboardInterrupt:
        context.progress.stop()
        mark_interrupted(context)
        raise Interrupted(resume_hint(options, context.run)) from None
    except SearchError as error:
        summary.exit_code, summary.message = 1, str(error)
    except (RunDirError, OSError, tf.errors.ResourceExhaustedError) as error:
        raise stopped_writing(context, options, error) from None  # keras-tuner's files too
    finally:
        signal.signal(signal.SIGTERM, previous)
        context.progress.stop()
    summary.seconds = round(time.perf_counter() - started, 1)
    try:
        return finish(context, summary)
    except OSError as error:
        raise stopped_writing(context, options, error) from None


def resume_hint(options: RunOptions, run: RunDir) -> str:
    return f"interrupted; the run is kept. Continue it with: {resume_command(options, run)}"


def resume_command(options: RunOptions, run: RunDir) -> str:
    extra = "".join(f" {part}" for part in options.overrides)
    return (
        f"tunenet search {options.config_path} --runs-dir {options.runs_dir} "
        f"--name {run.name}{extra} --resume"
    )


def _free_and_resume(options: RunOptions, run: RunDir) -> str:
    return (
        "The search stopped; the run is kept. Free some space (or fix the permissions), "
        f"then continue it with: {resume_command(options, run)}"
    )


def stopped_writing(
    context: SearchContext, options: RunOptions, error: BaseException
) -> RunDirError:
    """The error that ends a search whose run directory cannot be written (a full disk)."""
    with contextlib.suppress(OSError):
        mark_interrupted(context)  # may fail too while the disk is full; resume does not need it
    return RunDirError(f"{write_failure(error)}\n{_free_and_resume(options, context.run)}")


def limit_threads(threads: int) -> None:
    """Use at most `threads` CPU threads (a worker's share of the machine)."""
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def interrupt_on_sigterm() -> Any:
    """Make SIGTERM stop a search like Ctrl-C; returns the previous handler."""
    return signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM stops a search like Ctrl-C: the run is kept and can be resumed."""
    raise KeyboardInterrupt


def _forget_unfinished(context: SearchContext) -> list[str]:
    """Before resuming: the interrupted trial runs again, so its rows go (no duplicates).

    Returns notes on lines a crash cut, which are dropped too."""
    notes = []
    if context.trials.cut:
        notes.append(
            f"{context.trials.path}: dropped its last line, cut by a crash "
            f"({context.trials.cut[:40]!r}...); that trial runs again."
        )
    rows = context.trials.rows
    finished = {key for key, row in rows.items() if row.get("status") in FINAL_STATUSES}
    if context.epoch_log.drop_trials(keep=finished):
        notes.append(f"{context.epoch_log.path}: dropped its last line, cut by a crash.")
    with context.lock:
        context.trials.rows = {key: row for key, row in rows.items() if key in finished}
        context.trials.save()
    return notes


def _repair_tuner_state(context: SearchContext) -> list[str]:
    """keras-tuner writes its state files in place: after a crash or a full disk they may be
    empty, or count as finished a trial whose row trials.csv lost. Then they are deleted and
    rebuilt: the fresh oracle proposes the same trials again (same seed) and `replay` hands
    it the recorded results, so that only the trials without a row are trained."""
    problem = tuner_state_problem(context.run, set(context.trials.rows))
    if not problem:
        return []
    discard_tuner_state(context.run)
    return [f"{problem}; {REBUILT}"]


def _start_manifest(
    run: RunDir, config: Config, dataset: Dataset, context: SearchContext, resume: bool
) -> None:
    manifest = run.read_manifest() if resume else {}
    run.update_manifest(
        format_version=FORMAT_VERSION,
        name=run.name,
        versions=versions(),
        seed=config.seed,
        config_fingerprint=fingerprint(config),
        strategy=config.search.strategy,
        data=dataset.summary(),
        objective={"name": context.objective.name, "direction": context.objective.direction},
        status="running",
        started_at=manifest.get("started_at") or now(),
        finished_at=None,
    )


def mark_interrupted(context: SearchContext) -> None:
    context.run.update_manifest(status="interrupted", finished_at=now())


def finish(context: SearchContext, summary: SearchSummary) -> SearchSummary:
    """Record the best trial's test error and the run's final status."""
    context.trials.reload()
    rows = context.trials.ordered()
    summary.rows = rows
    completed = [row for row in rows if row.get("status") == "completed"]
    if not completed:
        first = next((row.get("message") for row in rows if row.get("message")), "")
        summary.exit_code = 1
        summary.message = summary.message or (
            "no trial completed." + (f" First error: {first}" if first else "")
        )
        context.run.update_manifest(status="failed", finished_at=now())
        return summary
    best = best_row(completed, context.objective)
    test_error = _test_error(context)
    with context.lock:
        for row in context.trials.rows.values():
            row["test_error"] = None  # a resumed run may have found a better trial
        best["test_error"] = test_error
        context.trials.save()
    summary.best = best
    status = "failed" if summary.exit_code else "completed"
    context.run.update_manifest(status=status, finished_at=now(), best_trial=best["trial_id"])
    return summary


def best_row(rows: Any, objective: Objective) -> Optional[dict]:
    """The completed trial with the best objective, or None. Failed and diverged never win."""
    scored = [
        row for row in rows
        if row.get("status") == "completed" and row.get("objective") not in (None, "")
    ]  # fmt: skip
    if not scored:
        return None
    pick = max if objective.direction == "max" else min
    return pick(scored, key=lambda row: float(row["objective"]))


def _test_error(context: SearchContext) -> Optional[float]:
    """Test error of the saved best model: the unbiased estimate, never used for choosing."""
    if len(context.dataset.y_test) == 0 or not context.run.best_model_file.exists():
        return None
    model = load_best_model(context.run.best_model_file)
    return context.evaluate_error(model, "test", raw=True)
