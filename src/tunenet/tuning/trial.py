"""One trial: fit it (every execution), record every epoch, score it at its best epoch.

keras-tuner keeps only the best epoch of a trial and swallows exceptions, so tunenet runs each
trial itself (`TrialRunner.run_trial`), appends every epoch to epochs.csv (`EpochRecorder`) and
writes the trial's row to trials.csv when it ends (`SearchContext.score`).
"""

from __future__ import annotations

import errno
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import keras
import keras_tuner as kt
import numpy as np

from tunenet.config import space as space_module
from tunenet.config.objective import Objective, monitor_problem
from tunenet.config.sections import Config
from tunenet.data.dataset import Dataset
from tunenet.errors import ConfigError, RunDirError
from tunenet.models.build import build_model, metric_names, plain_metrics
from tunenet.models.custom import ModelBuildError
from tunenet.models.saved import export_model
from tunenet.runs import FINAL_STATUSES, EpochLog, RunDir, RunLock, TrialStatus, TrialTable, now
from tunenet.runs.insight import LAYER_COLUMNS
from tunenet.tuning.confusion import write_best_confusion
from tunenet.tuning.events import Listeners, SearchListener
from tunenet.tuning.keep import kept_entry, save_trial_model
from tunenet.tuning.kt_compat import Trial
from tunenet.tuning.monitor import LayerMonitor, probe_batch
from tunenet.tuning.pipelines import Pipelines, standard_error
from tunenet.tuning.pruning import Pruning
from tunenet.tuning.replay import retry_of
from tunenet.tuning.stop_rules import Stop, StopRules

TRIAL_TIME = "milliseconds"  # trials.csv times: a small trial lasts about a second
# trials.csv's cost and provenance columns, after all the others (docs/run-format.md)
COST_COLUMNS = ("params", "model_bytes", "retry_of", "worker")
BYTES_PER_PARAM = 4  # model_bytes: float32 weights
BUDGET_MESSAGE = "stopped at search.time_budget + 10%; runs again on --resume"

# Set by the search's Ctrl-C (SIGINT) and SIGTERM handler (`tuner.stop_on_signals`) before it
# raises KeyboardInterrupt. That KeyboardInterrupt does not always arrive as one: raised inside
# TensorFlow it can come out as another error ("ValueError: None values not supported."), and
# in a finalizer it is printed and dropped ("Exception ignored"). So whatever ends a trial is
# an interruption while this flag is set (`stopped`), and the trial loop checks the flag at
# each epoch, before scoring and at each trial's start and end.
stop_requested = False


def stop_if_requested() -> None:
    if stop_requested:
        raise KeyboardInterrupt


def stopped(error: BaseException) -> bool:
    """Whether `error` ends a trial because the user stopped the search (Ctrl-C, SIGTERM):
    then the trial is `interrupted` and runs again on --resume, never `failed`."""
    return isinstance(error, KeyboardInterrupt) or stop_requested


# trials.csv's standard errors of train_error, val_error and test_error (regression only)
STANDARD_ERRORS = ("train_error_se", "val_error_se", "test_error_se")
# trials.csv's log losses without regularization, and the validation one's standard error
# (classification only; docs/run-format.md)
LOG_LOSSES = ("train_log_loss", "val_log_loss", "val_log_loss_se")


def resolve_objective(config: Config, dataset: Dataset) -> Objective:
    """The config's objective, or val_accuracy (classification) / val_loss (regression)."""
    chosen = config.search.objective
    default = "val_loss" if dataset.task == "regression" else "val_accuracy"
    name = chosen.name if chosen else default
    known = metric_names(dataset, config)
    if name not in known:
        raise ConfigError(
            f"search.objective: got {name!r}, which a {dataset.task} model does not log. "
            f"Choose one of: {', '.join(k for k in known if k.startswith('val_'))}."
        )
    stopping = config.training.early_stopping  # checked again now that the task is known
    problem = stopping and monitor_problem(stopping.monitor, dataset.task)
    if problem:
        raise ConfigError(f"training.early_stopping.monitor: {problem}")
    return Objective.named(name, chosen.direction if chosen else None)


def trial_seed(run_seed: int, trial_id: str) -> int:
    """A per-trial seed derived from the run's seed, stable across resumes."""
    return (run_seed * 1_000_003 + int(trial_id) * 7_919) % (2**31 - 1)


def best_row(rows: Any, objective: Objective) -> Optional[dict]:
    """The completed trial with the best objective, or None. Failed and diverged never win."""
    return objective.best(row for row in rows if row.get("status") == TrialStatus.COMPLETED)


def active_values(trial: Trial) -> dict:
    """The trial's values of the hyperparameters its conditions make active."""
    hps = trial.hyperparameters
    return {
        name: value
        for name, value in hps.values.items()
        if not name.startswith("tuner/") and hps.is_active(name)
    }


# ---------------------------------------------------------------- callbacks and outcome


class EpochRecorder(keras.callbacks.Callback):
    """Appends each epoch to epochs.csv and tells the search's listeners."""

    def __init__(self, context: SearchContext, trial_id: str, execution: int):
        super().__init__()
        self.context, self.trial_id, self.execution = context, trial_id, execution
        self.history: dict[int, dict] = {}
        self._started = 0.0

    def on_epoch_begin(self, epoch: int, logs: Optional[dict] = None) -> None:
        stop_if_requested()
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        stop_if_requested()  # a stop lost during the epoch: its row is not written
        values = {key: float(value) for key, value in (logs or {}).items()}
        values["learning_rate"] = float(
            keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
        )
        self.history[epoch + 1] = values
        row = {"trial_id": self.trial_id, "execution": self.execution, "epoch": epoch + 1}
        row.update(values)
        row["seconds"] = round(time.perf_counter() - self._started, 4)
        self.context.epoch_log.append(row)
        self.context.events.on_epoch_end(self.trial_id, epoch + 1)
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
        if finite_losses(logs) and self.objective.better(value, self.value):
            self.epoch, self.value = epoch + 1, value
            self.weights = self.model.get_weights()

    def on_train_end(self, logs: Optional[dict] = None) -> None:
        if self.weights is not None:
            self.model.set_weights(self.weights)
            self.weights = None  # the model holds them now


class BudgetWatch(keras.callbacks.Callback):
    """Ends the fit at the first epoch end past the time budget plus 10% (the deadline the
    search's clock set, `SearchContext.hard_deadline`); `spent` then says so."""

    def __init__(self, context: SearchContext):
        super().__init__()
        self.context, self.spent = context, False

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        deadline = self.context.hard_deadline()
        if deadline is not None and time.time() > deadline:
            self.spent = True
            self.model.stop_training = True


class BudgetSpent(kt.errors.FatalError):
    """A trial stopped by the time budget: recorded interrupted, and the search ends without
    keras-tuner recording the trial's end, so that --resume runs it again. A FatalError, so that
    keras-tuner lets it through."""


class Infeasible(Exception):
    """The trial's model has more trainable parameters than search.max_params: not trained."""

    def __init__(self, params: int, limit: int):
        self.params, self.limit = params, limit
        super().__init__(
            f"infeasible: {params:,} trainable parameters, above search.max_params = {limit:,}; "
            "not trained. Raise search.max_params (--max-params), or narrow the space "
            "(model.units, model.layers, model.filters)"
        )


def trainable_params(model: keras.Model) -> int:
    """The trainable parameters of a built model (normalization statistics are not)."""
    return int(sum(math.prod(weight.shape) for weight in model.trainable_weights))


def finite_losses(logs: dict) -> bool:
    """Whether every loss of an epoch's logs is finite (metrics may be NaN)."""
    return all(math.isfinite(value) for key, value in logs.items() if "loss" in key)


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
    # regression: each example's normalized squared error, for the standard errors
    train_errors: Optional[np.ndarray] = None
    val_errors: Optional[np.ndarray] = None
    # classification: each example's log loss
    train_losses: Optional[np.ndarray] = None
    val_losses: Optional[np.ndarray] = None
    pruned: str = ""  # why pruning stopped this fit ("pruned at epoch 4: ..."), else empty

    def at_best(self, name: str) -> float:
        """The Keras log `name` at the best epoch (NaN when missing)."""
        return self.history.get(self.best_epoch, {}).get(name, math.nan)


def tensorboard_callbacks(folder: Path, values: dict) -> list[keras.callbacks.Callback]:
    """TensorBoard logs of one fit, with the trial's values for the HParams dashboard."""
    from tensorboard.plugins.hparams import api as hparams

    return [
        keras.callbacks.TensorBoard(log_dir=str(folder)),
        hparams.KerasCallback(str(folder), dict(values), trial_id=folder.parent.name),
    ]


# ---------------------------------------------------------------- run directory failures


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


# ---------------------------------------------------------------- the trial loop


class TrialRunner:
    """Mixed into a keras-tuner tuner: runs, records and scores each trial."""

    def setup(self, context: SearchContext) -> None:
        self.context = context

    def run_trial(self, trial: Trial, *args: Any, **kwargs: Any) -> dict:
        try:
            return self._run_trial(trial)
        except Exception as error:  # keras-tuner would record it and go on to the next trial
            stop_if_requested()  # a stop that came out as another error: the search stops
            if isinstance(error, (OSError, RunDirError)) and not isinstance(
                error, kt.errors.FatalError
            ):  # out here, from writing the run directory
                raise CannotWrite(write_failure(error)) from error
            raise

    def _run_trial(self, trial: Trial) -> dict:
        ctx = self.context
        recorded = ctx.trials.find(trial.trial_id)
        if recorded is not None and recorded.get("status") in FINAL_STATUSES:
            return ctx.replay(recorded)  # killed after trials.csv, before keras-tuner saved
        stop_if_requested()
        started = time.perf_counter()
        ctx.epoch_log.drop_trials(drop={trial.trial_id})  # rows of an earlier, killed attempt
        if ctx.layer_log is not None:
            ctx.layer_log.drop_trials(drop={trial.trial_id})
        ctx.heartbeat()
        values = active_values(trial)
        seed = trial_seed(ctx.config.seed, trial.trial_id)
        row = ctx.base_row(trial.trial_id, values, seed, retry_of(trial))
        try:
            ctx.events.on_trial_begin(trial.trial_id, self._epochs(trial))
            executions = []
            for index in range(ctx.config.search.executions_per_trial):
                executions.append(self._fit(trial, values, seed + index, index, row))
                if executions[-1].pruned:
                    break  # a pruned trial runs no further execution
            stop_if_requested()  # a stop lost during the fit: the trial is not scored
        except BaseException as error:
            if stopped(error):  # before anything else: a stop is never the trial's failure
                self._interrupted(row, started)
                raise KeyboardInterrupt from None
            if isinstance(error, BudgetSpent):
                self._interrupted(row, started, BUDGET_MESSAGE)
                raise
            if isinstance(error, Infeasible):
                return self._infeasible(row, started, error)
            if isinstance(error, kt.errors.FatalError) or not isinstance(error, Exception):
                raise
            if cannot_write(error):
                raise  # the run directory's failure, not the trial's: run_trial stops the search
            message = failure_message(error)
            ended = dict(seconds=_elapsed(started), finished_at=now(TRIAL_TIME))
            row.update(status=TrialStatus.FAILED, message=message, **ended)
            ctx.finish_trial(row)
            raise kt.errors.FailedTrialError(message) from error
        try:
            result = ctx.score(row, executions, trial.trial_id, _elapsed(started))
        except BaseException as error:
            if not stopped(error):
                raise
            self._interrupted(row, started)  # unless its row was written: then it stays
            raise KeyboardInterrupt from None
        if row["status"] == TrialStatus.DIVERGED:
            raise kt.errors.FailedTrialError("diverged: the loss became NaN or infinite")
        return result

    def _infeasible(self, row: dict, started: float, error: Infeasible) -> dict:
        """Record a trial over search.max_params, and tell the oracle: a bayesian search learns
        it as the worst objective seen so far (it moves away from that corner); any other
        strategy, or a bayesian one before any trial completed, skips it (a failed trial)."""
        ctx = self.context
        ended = dict(seconds=_elapsed(started), finished_at=now(TRIAL_TIME))
        row.update(status=TrialStatus.INFEASIBLE, message=str(error), **ended)
        ctx.finish_trial(row)
        worst = ctx.worst_objective() if ctx.config.search.strategy == "bayesian" else None
        if worst is None:
            raise kt.errors.FailedTrialError(str(error))
        return {ctx.objective.name: worst}

    def _interrupted(
        self, row: dict, started: float, message: str = "interrupted; runs again on --resume"
    ) -> None:
        """Record the running trial as interrupted, unless it already has its final row."""
        ctx = self.context
        with ctx.lock:
            ctx.trials.reload()
            recorded = ctx.trials.find(row["trial_id"])
            if recorded is not None and recorded.get("status") in FINAL_STATUSES:
                return  # stopped after its row was written: it is done
            ctx.trials.put(
                {
                    **row,
                    "status": TrialStatus.INTERRUPTED,
                    "seconds": _elapsed(started),
                    "finished_at": now(TRIAL_TIME),
                    "message": message,
                }
            )

    def _epochs(self, trial: Trial) -> tuple[int, int]:
        values = trial.hyperparameters.values
        if "tuner/epochs" in values:
            return int(values["tuner/initial_epoch"]), int(values["tuner/epochs"])
        return 0, self.context.config.training.epochs

    def _fit(self, trial: Trial, values: dict, seed: int, index: int, row: dict) -> Execution:
        ctx = self.context
        keras.backend.clear_session(free_memory=False)
        keras.utils.set_random_seed(seed)
        batch_size = int(space_module.value_of(ctx.config, values, "training.batch_size"))
        steps = max(1, math.ceil(len(ctx.dataset.y_train) / batch_size))
        ctx.events.on_status(f"building trial {trial.trial_id}")  # shown until a first trial ends
        model = build_model(ctx.config, values, ctx.dataset, steps, ctx.normalization)
        params = trainable_params(model)  # before any epoch: written even if the fit fails
        row.update(params=params, model_bytes=BYTES_PER_PARAM * params)
        limit = ctx.config.search.max_params
        if limit is not None and params > limit:
            raise Infeasible(params, limit)
        initial_epoch, epochs = self._epochs(trial)
        parent = trial.hyperparameters.values.get("tuner/trial_id")
        if parent:
            model.load_weights(ctx.warm_start_file(parent))
        stopper = ctx.early_stopping()
        recorder = EpochRecorder(ctx, trial.trial_id, index)
        keeper = BestEpoch(ctx.objective)  # last: the weights it restores are the ones kept
        # after the stopper: a fit early stopping ends at this epoch is not pruned
        pruner = ctx.pruning.callback(trial.trial_id, epochs) if ctx.pruning else None
        budget = BudgetWatch(ctx)  # after the recorder: the epoch it ends at is recorded
        callbacks = [keras.callbacks.TerminateOnNaN(), recorder, budget]
        if ctx.layer_log is not None:  # training.monitor_layers (docs/dynamics.md)
            probe = probe_batch(ctx.dataset, ctx.pipelines.scale, seed)
            callbacks.append(LayerMonitor(ctx.layer_log, trial.trial_id, index, probe))
        callbacks += [c for c in (stopper, pruner) if c is not None] + [keeper]
        if ctx.tensorboard:
            folder = ctx.run.tensorboard_trial_dir(trial.trial_id, index)
            callbacks += tensorboard_callbacks(folder, values)
        model.fit(
            ctx.pipelines.train(batch_size, seed),
            validation_data=ctx.pipelines.evaluation("val"),
            class_weight=ctx.class_weight,
            epochs=epochs,
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            verbose=0,
        )
        if budget.spent:
            raise BudgetSpent(BUDGET_MESSAGE)
        if parent is not None or ctx.config.search.strategy == "hyperband":
            model.save_weights(ctx.warm_start_file(trial.trial_id))
        outcome = ctx.execution(model, recorder.history, stopper, keeper.epoch)
        outcome.pruned = pruner.message if pruner else ""
        return outcome


def failure_message(error: Exception) -> str:
    """A failed trial's trials.csv `message`: the error's first line. A model builder's error
    (ModelBuildError) already says what failed, where and why, so it is kept as it is."""
    text = str(error) if isinstance(error, ModelBuildError) else f"{type(error).__name__}: {error}"
    lines = text.strip().splitlines()
    return (lines[0] if lines else type(error).__name__)[:500]


def _elapsed(started: float) -> float:
    return round(time.perf_counter() - started, 3)


# ---------------------------------------------------------------- what trials share


class SearchContext:
    """Everything the trials of one search share: config, data, files, listeners, best so far.

    `events`: who is told of each trial and epoch (`tuning.events`); default: nobody."""

    tensorboard = False
    heartbeat_file: Optional[Path] = None  # a worker's sign of life for its chief
    resumed = False  # a --resume by the process that owns the run: it may repair tuner/
    retry_failed = False  # --retry-failed: the run's failed trials run again (tuning.replay)
    worker = ""  # trials.csv `worker`: the keras-tuner tuner id of a worker process
    stop_rules: Optional[StopRules] = None  # in the process that holds the oracle
    stopped: Optional[Stop] = None  # the stop rule that ended the search, once it ended
    _deadline: Optional[float] = None

    def __init__(
        self,
        config: Config,
        dataset: Dataset,
        run: RunDir,
        events: Optional[SearchListener] = None,
    ):
        self.config, self.dataset, self.run = config, dataset, run
        self.events = events if events is not None else Listeners()
        self.planned = 0  # the trials the config plans (0: unknown, a worker's)
        self.space = space_module.build_space(config)
        self.objective = resolve_objective(config, dataset)
        self.metrics = metric_names(dataset, config)
        # training.class_weight by class index, checked against the data's classes
        self.class_weight = dataset.class_weights(config.training.class_weight)
        self.normalization = dataset.normalization(config.data.normalize)
        self.pipelines = Pipelines(dataset)
        self.sizes = split_sizes(dataset)
        columns = ["trial_id", "execution", "epoch", *self.metrics, "learning_rate", "seconds"]
        self.epoch_log = EpochLog(run.epochs_file, columns)
        self.layer_log: Optional[EpochLog] = None  # layers.csv, when training.monitor_layers
        if config.training.monitor_layers:
            self.layer_log = EpochLog(run.layers_file, list(LAYER_COLUMNS))
        self.trials = TrialTable(run.trials_file, self.trial_columns())
        self.lock = RunLock(run.path)
        self.pruning = Pruning.of(config.search, self.objective, run.epochs_file, run.trials_file)

    def heartbeat(self) -> None:
        if self.heartbeat_file is not None:
            self.heartbeat_file.touch()

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
            "seed", "message", "started_at", "finished_at", "train_n", "val_n", "test_n",
            *(STANDARD_ERRORS if self.dataset.task == "regression" else LOG_LOSSES),
            *COST_COLUMNS,
        ]  # fmt: skip

    def base_row(self, trial_id: str, values: dict, seed: int, retry: str = "") -> dict:
        """A trial's row before it runs; `retry`: the failed trial it repeats (`retry_of`)."""
        row: dict[str, Any] = {
            "trial_id": trial_id,
            "status": TrialStatus.INTERRUPTED,
            "seed": seed,
            "started_at": now(TRIAL_TIME),
            **self.sizes,
            "retry_of": retry,
            "worker": self.worker,
        }
        row.update({f"hp.{name}": value for name, value in values.items()})
        return row

    @property
    def deadline_file(self) -> Path:
        """Where the process holding the oracle writes when running trials stop (the time
        budget plus 10%, as `time.time()`), for its workers."""
        return self.run.tuner_dir / "deadline"

    def hard_deadline(self) -> Optional[float]:
        """The time a trial still running stops at its next epoch end (None: no budget). Read
        from `deadline_file` until found: a worker may start before its chief writes it."""
        if self._deadline is None and self.config.search.time_budget is not None:
            try:
                self._deadline = float(self.deadline_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
        return self._deadline

    def worst_objective(self) -> Optional[float]:
        """The worst objective of the completed trials so far (None before any)."""
        values = [
            float(row["objective"])
            for row in self.trials.rows.values()
            if row.get("status") == TrialStatus.COMPLETED and row.get("objective") not in ("", None)
        ]
        if not values:
            return None
        return min(values) if self.objective.direction == "max" else max(values)

    def warm_start_file(self, trial_id: str) -> str:
        path = self.run.warm_start_file(trial_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        return str(path)

    def early_stopping(self) -> Optional[keras.callbacks.EarlyStopping]:
        return early_stopping(self.config)

    def execution(
        self, model: keras.Model, history: dict[int, dict], stopper: Any, best_epoch: int
    ) -> Execution:
        """Read the outcome of one fit whose model holds the weights of `best_epoch` (0: no
        epoch counted, then the last); evaluate train/val error in inference mode."""
        diverged = not history or not all(finite_losses(values) for values in history.values())
        best_epoch = best_epoch or (max(history) if history else 0)
        stopped = bool(stopper is not None and stopper.stopped_epoch > 0)
        outcome = Execution(model, history, best_epoch, stopped, diverged)
        if not diverged:
            train = self.pipelines.split_error(model, "train")
            val = self.pipelines.split_error(model, "val")
            outcome.train_error, outcome.train_errors = train.error, train.per_example
            outcome.val_error, outcome.val_errors = val.error, val.per_example
            outcome.train_losses, outcome.val_losses = train.losses, val.losses
        return outcome

    def score(self, row: dict, executions: list[Execution], trial_id: str, seconds: float) -> dict:
        """Fill the trial's row from its executions (`score_row`), keep the best model, and
        return the objective for keras-tuner."""
        scores = score_row(executions, self.metrics, self.objective)
        row.update(scores, seconds=seconds, finished_at=now(TRIAL_TIME))
        objective = row["objective"]
        if row["status"] == TrialStatus.COMPLETED:
            save_trial_model(self, trial_id, executions[-1].model)  # search.keep: simplest_tied
        with self.lock:
            self.trials.reload()
            if row["status"] == TrialStatus.COMPLETED and self.objective.better(
                objective, self.best_objective
            ):  # a pruned trial is never the best model: its training was cut short
                # the model first, then its row: a kill in between only means running it again
                kept = plain_metrics(executions[-1].model, self.config, self.dataset)
                model = export_model(kept, self.pipelines.scale)
                self.run.save_best_model(model)
                write_best_confusion(self.run, trial_id, executions[-1].model, self.pipelines)
                self.run.update_manifest(best_trial=trial_id, kept=kept_entry(self, trial_id))
            self.trials.put(row)
        self.events.on_trial_end(row, self.objective.name, self.best_objective)
        return {self.objective.name: objective}

    def replay(self, row: dict) -> dict:
        """The result of a trial already recorded in trials.csv, without training it again."""
        if row["status"] not in (TrialStatus.COMPLETED, TrialStatus.PRUNED):
            raise kt.errors.FailedTrialError(row.get("message") or row["status"])
        return {self.objective.name: float(row["objective"])}

    def finish_trial(self, row: dict) -> None:
        with self.lock:
            self.trials.put(row)
        self.events.on_trial_end(row, self.objective.name, self.best_objective)


def score_row(executions: list[Execution], metrics: list[str], objective: Objective) -> dict:
    """A trial's trials.csv numbers. Every metric, error and the objective is a mean over its
    executions, each taken at its own best epoch; epochs_trained, best_epoch and stopped_early
    are those of the last execution (whose model is kept). A diverged execution makes the
    trial diverged, without an objective; a pruned one (always the last) makes it pruned, with
    the objective at its best epoch so far (what keras-tuner's oracle learns from)."""
    chosen = executions[-1]
    diverged = any(outcome.diverged for outcome in executions)
    row: dict[str, Any] = {name: _mean(o.at_best(name) for o in executions) for name in metrics}
    at_best = float(np.mean([o.at_best(objective.name) for o in executions]))  # NaN stays NaN
    status = TrialStatus.PRUNED if chosen.pruned else TrialStatus.COMPLETED
    row.update(
        status=TrialStatus.DIVERGED if diverged else status,
        epochs_trained=max(chosen.history) if chosen.history else 0,
        best_epoch=chosen.best_epoch,
        stopped_early=chosen.stopped_early,
        train_error=_mean(o.train_error for o in executions),
        val_error=_mean(o.val_error for o in executions),
        train_error_se=_standard_error(o.train_errors for o in executions),
        val_error_se=_standard_error(o.val_errors for o in executions),
        train_log_loss=_mean_of(o.train_losses for o in executions),
        val_log_loss=_mean_of(o.val_losses for o in executions),
        val_log_loss_se=_standard_error(o.val_losses for o in executions),
        objective=None if diverged else at_best,
        message="the loss became NaN or infinite" if diverged else chosen.pruned,
    )
    return row


def _mean(values: Any) -> Optional[float]:
    values = [value for value in values if math.isfinite(value)]
    return float(np.mean(values)) if values else None


def _mean_of(per_execution: Any) -> Optional[float]:
    """Mean over the executions of each one's mean per-example value (None without any)."""
    arrays = [values for values in per_execution if values is not None and len(values)]
    return _mean(float(np.mean(values)) for values in arrays)


def _standard_error(per_execution: Any) -> Optional[float]:
    """Standard error of a row's error or log loss: each example's value is first averaged
    over the executions that have one, as the row's value is (None without any)."""
    arrays = [errors for errors in per_execution if errors is not None]
    return standard_error(np.mean(arrays, axis=0)) if arrays else None


def early_stopping(config: Config) -> Optional[keras.callbacks.EarlyStopping]:
    """The config's early stopping (None when `training.early_stopping: false`)."""
    settings = config.training.early_stopping
    if settings is False:
        return None
    return keras.callbacks.EarlyStopping(
        monitor=settings.monitor,
        patience=settings.patience,
        min_delta=settings.min_delta,
        restore_best_weights=False,  # BestEpoch keeps the objective's best epoch instead
        mode=Objective.named(settings.monitor).direction,
    )


def split_sizes(dataset: Dataset) -> dict[str, Optional[int]]:
    """trials.csv's example counts of each split; test_n is empty without a test split."""
    return {
        "train_n": len(dataset.y_train),
        "val_n": len(dataset.y_val),
        "test_n": len(dataset.y_test) or None,
    }
