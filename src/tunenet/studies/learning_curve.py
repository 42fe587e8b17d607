"""`tunenet learning-curve RUN`: the best trial retrained on growing fractions of the training
split, to tell whether more data is likely to help (docs/guide.md).

The run's resolved.yaml gives the config, trials.csv the best trial's hyperparameters (`hp.*`)
and seed. The data are loaded and split as the search split them (same seed: validation and test
unchanged). Each fraction keeps a subset of the training split, stratified by class for
classification and nested (a larger fraction holds every example of a smaller one), in the
split's own order; fraction 1.0 is the whole training split, so its row retrains the best trial.

Each fit is the search's: the trial's seed, epochs and early stopping, the best epoch's weights
kept (`trial.BestEpoch`), and everything fitted on data — input normalization, the regression
target's scale, a CSV's text categories — fitted on the subset the model sees, as the search
fits them on the training split it sees. Errors are taken in inference mode like trials.csv's:
the train error on the subset, the validation error on the whole validation split; regression
errors are divided by the variance of the *whole* training split's target, so that every
fraction is in the same units as trials.csv. One fit per fraction, with the seed of the trial's
first execution (`search.executions_per_trial` is not repeated).

learning_curve.csv is written once, atomically, when every fraction is done: an interrupted
command leaves the previous file (or none), never a partial curve. TensorFlow is imported only
when the fits start, after the run, the fractions and the subset sizes were checked.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tunenet.config import space as space_module
from tunenet.config.sections import Config
from tunenet.diagnosis.intervals import error_ci, normal
from tunenet.diagnosis.learning_curve import LearningCurve, learning_curve, verdict_word
from tunenet.diagnosis.text import percent, percent_ci, points_ci
from tunenet.errors import DataError, RunDirError, TunenetError
from tunenet.runs import RunDir, TrialStatus, read_trials_text
from tunenet.runs.best import open_run, run_config, run_manifest
from tunenet.runs.cells import integer, is_number
from tunenet.runs.files import replace_atomic
from tunenet.runs.insight import LEARNING_CURVE_COLUMNS, write_learning_curve
from tunenet.runs.objective import run_objective

DEFAULT_FRACTIONS = (0.1, 0.25, 0.5, 1.0)
MIN_EXAMPLES = 10  # the fewest training examples a fraction may keep
PLOT_NAME = "learning_curve.png"  # beside learning_curve.csv in the run directory
WRITE_FIX = "Free space or fix the permissions, then run tunenet learning-curve again."


@dataclass
class CurveResult:
    """What `tunenet learning-curve` found.

    Attributes:
        run: the run directory.
        trial_id: the trial whose hyperparameters were retrained.
        task: binary, multiclass or regression.
        table: learning_curve.csv as written (columns: LEARNING_CURVE_COLUMNS).
        curve: the points and the verdict (`curve.more_data_helps`, `curve.reason`).
        plot: learning_curve.png.
        warnings: fractions whose fit diverged (their errors are empty).
    """

    run: Path
    trial_id: str
    task: str
    table: pd.DataFrame
    curve: LearningCurve
    plot: Optional[Path] = None
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- checks (no TensorFlow)


def parse_fractions(text: str) -> tuple[float, ...]:
    """`--fractions 0.1,0.25,1.0` as checked numbers (see `check_fractions`)."""
    parts = [part.strip() for part in text.split(",")]
    try:
        values = [float(part) for part in parts]
    except ValueError:
        raise TunenetError(
            f"--fractions {text!r}: expected comma-separated numbers in (0, 1], e.g. "
            "--fractions 0.1,0.25,0.5,1.0."
        ) from None
    return check_fractions(values)


def check_fractions(fractions: Sequence[float]) -> tuple[float, ...]:
    """The fractions, when each is in (0, 1] and they rise strictly; else a TunenetError."""
    values = tuple(float(value) for value in fractions)
    shown = ",".join(f"{value:g}" for value in values)
    if not values:
        raise TunenetError("--fractions: no fraction given; e.g. --fractions 0.1,0.25,0.5,1.0.")
    bad = [value for value in values if not (math.isfinite(value) and 0 < value <= 1)]
    if bad:
        raise TunenetError(
            f"--fractions {shown}: {bad[0]:g} is not in (0, 1]; each fraction is a share of "
            "the training split, e.g. --fractions 0.1,0.25,0.5,1.0."
        )
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        raise TunenetError(
            f"--fractions {shown}: expected increasing fractions without duplicates, e.g. "
            f"--fractions {','.join(f'{v:g}' for v in sorted(set(values)))}."
        )
    return values


def best_trial_row(run: RunDir) -> dict:
    """trials.csv's row (text values) of the run's best completed trial.

    The manifest's `best_trial` (the saved model's) when it is completed, else the completed
    trial with the best objective.

    Raises:
        RunDirError: no completed trial.
    """
    rows = read_trials_text(run)
    completed = [row for row in rows if row.get("status") == TrialStatus.COMPLETED]
    manifest = run_manifest(run)
    chosen = manifest.get("best_trial")
    for row in completed:
        if row.get("trial_id") == chosen:
            return row
    resolved = run.read_resolved() if run.resolved_file.exists() else None
    ranked = run_objective(manifest, resolved, rows[0] if rows else ())
    best = ranked.best(row for row in completed if is_number(row.get("objective")))
    if best is None:
        raise RunDirError(
            f"{run.trials_file}: no completed trial to retrain. Finish the search first "
            "(tunenet search CONFIG --resume)."
        )
    return dict(best)


def trial_values(config: Config, row: dict, run: RunDir) -> dict[str, Any]:
    """The trial's hyperparameter values from its `hp.*` cells, typed as the search drew them
    (an empty cell: the key was inactive in this trial)."""
    values: dict[str, Any] = {}
    for hp in space_module.build_space(config):
        column = f"hp.{hp.name}"
        text = (row.get(column) or "").strip()
        if text in ("", "nan"):
            continue
        values[hp.name] = _typed(hp, text, column, row, run)
    return values


def _typed(hp: Any, text: str, column: str, row: dict, run: RunDir) -> Any:
    try:
        if hp.kind == "int":
            return int(round(float(text)))
        if hp.kind == "float":
            return float(text)
    except ValueError:
        pass
    for value in hp.values if hp.kind == "choice" else ():
        if space_module.same_value(value, text):
            return value
    expected = ", ".join(map(str, hp.values)) if hp.kind == "choice" else f"a {hp.kind}"
    raise RunDirError(
        f"{run.trials_file}: trial {row.get('trial_id')}'s {column} is {text!r}, which "
        f"resolved.yaml does not allow (expected {expected}). The run's files disagree: "
        "restore them, or run the search again."
    )


def nested_order(y: np.ndarray, seed: int, stratify: bool) -> np.ndarray:
    """An order of the training examples whose every prefix is a (nearly) stratified sample.

    Each class's examples are shuffled and spread evenly over [0, 1] (the i-th of n at
    (i + 0.5) / n), then all are sorted by that position: the first k hold about k·n_c/n of
    class c. Without stratification (regression) a plain seeded shuffle.
    """
    rng = np.random.default_rng(seed)
    if not stratify:
        return rng.permutation(len(y))
    position = np.empty(len(y))
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        position[members] = (np.arange(len(members)) + 0.5) / len(members)
    return np.lexsort((rng.random(len(y)), position))  # ties broken at random


def plan_subsets(
    y: np.ndarray, fractions: Sequence[float], seed: int, classes: Sequence[str]
) -> list[np.ndarray]:
    """The training-split indices of each fraction, in the split's order (nested).

    Raises:
        DataError: a fraction keeps fewer than MIN_EXAMPLES examples, or misses a class.
    """
    stratify = bool(classes)
    order = nested_order(y, seed, stratify)
    subsets = []
    for fraction in fractions:
        count = max(1, int(round(fraction * len(y))))
        kept = np.sort(order[:count])
        fewest = max(MIN_EXAMPLES, len(classes))
        if count < fewest:
            need = min(1.0, math.ceil(fewest / len(y) * 1000) / 1000)
            raise DataError(
                f"--fractions: {fraction:g} of the {len(y):,} training examples is {count}, "
                f"fewer than the {fewest} a fit needs (at least {MIN_EXAMPLES}, and one per "
                f"class). Use fractions of at least {need:g}."
            )
        missing = sorted(set(range(len(classes))) - set(np.unique(y[kept]).tolist()))
        if stratify and missing:
            names = ", ".join(classes[i] for i in missing[:5])
            raise DataError(
                f"--fractions: {fraction:g} of the training split ({count} examples) has no "
                f"example of class {names}. Use a larger smallest fraction."
            )
        subsets.append(kept)
    return subsets


# ---------------------------------------------------------------- the command


def learning_curve_run(
    path: Path,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    *,
    console: Optional[Console] = None,
    quiet: bool = False,
) -> CurveResult:
    """Retrain a run's best trial on growing fractions of its training split.

    Writes `<run>/learning_curve.csv` (atomically, once every fraction is done) and
    `<run>/learning_curve.png`.

    Args:
        path: the run directory (`runs/<name>`).
        fractions: shares of the training split, increasing, in (0, 1]. Default 0.1, 0.25,
            0.5, 1.0.
        console: the stderr console for progress. Default: a new stderr console.
        quiet: no progress display. Default: False.

    Raises:
        TunenetError: bad fractions. RunDirError: not a run, no completed trial.
        DataError: a fraction keeps too few examples.
    """
    fractions = check_fractions(fractions)
    run = open_run(Path(path))
    if not writable(run.path):  # before minutes of training, not after
        raise RunDirError(f"{run.path}: not writable; learning_curve.csv goes there. {WRITE_FIX}")
    config = run_config(run)
    row = best_trial_row(run)
    values = trial_values(config, row, run)
    seed = _seed(row, config)

    from tunenet.data.dataset import load_dataset  # no TensorFlow yet

    dataset = load_dataset(config)
    subsets = plan_subsets(dataset.y_train, fractions, seed, dataset.classes)
    fitter = _Fitter(config, values, dataset, seed)  # imports TensorFlow
    progress = CurveProgress(console or Console(stderr=True), len(fractions), fitter.epochs, quiet)
    rows, notes = [], []
    with progress:
        for fraction, kept in zip(fractions, subsets, strict=True):
            progress.begin(fraction, len(kept))
            found = fitter.fit(fraction, kept, progress)
            if found.get("train_error") is None:
                notes.append(f"fraction {fraction:g}: the loss became NaN or infinite")
            rows.append(found)
            progress.end(found)
    table = pd.DataFrame(rows, columns=list(LEARNING_CURVE_COLUMNS))
    threshold = config.diagnosis.variance_threshold
    curve = learning_curve(table, dataset.task != "regression", threshold)
    try:
        write_learning_curve(run, rows)
        plot = save_plot(run, table, curve, row["trial_id"])
    except OSError as error:  # a full disk: the user's to fix, not a bug
        where = error.filename or run.path
        raise RunDirError(f"{where}: cannot be written ({error.strerror}). {WRITE_FIX}") from None
    return CurveResult(run.path, row["trial_id"], dataset.task, table, curve, plot, notes)


def writable(path: Path) -> bool:
    """Whether this process may create files in `path`."""
    return os.access(path, os.W_OK)


def _seed(row: dict, config: Config) -> int:
    """The trial's seed (its first execution's) from trials.csv; the run's seed for a
    hand-written trials.csv without one."""
    seed = integer(row.get("seed"))
    return seed if seed is not None else config.seed


class _Fitter:
    """Fits the trial's model on one subset of the training split, as the search fits it."""

    def __init__(self, config: Config, values: dict, dataset: Any, seed: int):
        from tunenet.tuning.trial import resolve_objective  # imports TensorFlow

        # tunenet shuffles its own tf.data pipelines; Keras warns that its shuffle flag is unused
        warnings.filterwarnings(
            "ignore", message=".*shuffle=True.*was passed", category=UserWarning
        )
        logging.getLogger("tensorflow").setLevel(logging.ERROR)

        self.config, self.values, self.dataset, self.seed = config, values, dataset, seed
        self.objective = resolve_objective(config, dataset)
        self.epochs = config.training.epochs
        if config.search.strategy == "hyperband":  # its last round trains this long
            self.epochs = config.search.max_epochs or config.training.epochs

    def fit(self, fraction: float, kept: np.ndarray, progress: CurveProgress) -> dict:
        import keras

        from tunenet.data.dataset import _take
        from tunenet.models.build import build_model
        from tunenet.tuning.pipelines import Pipelines
        from tunenet.tuning.trial import BestEpoch, early_stopping, finite_losses

        started = time.perf_counter()
        subset = dataclasses.replace(
            self.dataset,
            x_train=_take(self.dataset.x_train, kept),
            y_train=self.dataset.y_train[kept],
        )
        keras.backend.clear_session(free_memory=False)
        keras.utils.set_random_seed(self.seed)
        batch_size = int(space_module.value_of(self.config, self.values, "training.batch_size"))
        steps = max(1, math.ceil(len(kept) / batch_size))
        normalization = subset.normalization(self.config.data.normalize)  # the subset's own
        try:
            model = build_model(self.config, self.values, subset, steps, normalization)
        except KeyError as error:  # a tuned key without an hp.* value in trials.csv
            raise RunDirError(
                f"trials.csv: the best trial has no value for {error.args[0]}; the run's files "
                "disagree. Restore them, or run the search again."
            ) from None
        pipelines = Pipelines(subset)
        stopper = early_stopping(self.config)
        keeper = BestEpoch(self.objective)  # last: the weights it restores are the ones kept
        watcher = _epoch_watcher(progress)
        callbacks = [keras.callbacks.TerminateOnNaN(), watcher]
        callbacks += [stopper, keeper] if stopper else [keeper]
        model.fit(
            pipelines.train(batch_size, self.seed),
            validation_data=pipelines.evaluation("val"),
            class_weight=subset.class_weights(self.config.training.class_weight),  # as trials
            epochs=self.epochs,
            callbacks=callbacks,
            verbose=0,
        )
        row: dict[str, Any] = {"fraction": fraction, "examples": len(kept)}
        diverged = not watcher.logs or not all(finite_losses(logs) for logs in watcher.logs)
        if not diverged:
            for split in ("train", "val"):
                row.update(self._error(pipelines, model, split, subset))
        row["seconds"] = round(time.perf_counter() - started, 3)
        return row

    def _error(self, pipelines: Any, model: Any, split: str, subset: Any) -> dict[str, Any]:
        """`<split>_error` with its 95% interval, in the units of trials.csv."""
        from tunenet.tuning.pipelines import standard_error

        found = pipelines.split_error(model, split)
        if self.dataset.task != "regression":
            n = len(subset.split(split)[1])
            low, high = error_ci(found.error, n)  # type: ignore[misc]
            return {
                f"{split}_error": found.error,
                f"{split}_error_low": low,
                f"{split}_error_high": high,
            }
        # trained on the subset's standardized target: back to the whole split's variance
        _, std = pipelines.scale
        factor = std**2 / self.dataset.target_variance
        error, se = found.error * factor, standard_error(found.per_example * factor)
        low, high = normal(error, se) if se is not None else (None, None)
        return {f"{split}_error": error, f"{split}_error_low": low, f"{split}_error_high": high}


def _epoch_watcher(progress: CurveProgress) -> Any:
    """A Keras callback that keeps every epoch's logs (`.logs`) and moves the progress display."""
    import keras

    class EpochWatcher(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.logs: list[dict] = []

        def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
            self.logs.append({key: float(value) for key, value in (logs or {}).items()})
            progress.epoch(epoch + 1)

    return EpochWatcher()


# ---------------------------------------------------------------- progress and output


class CurveProgress:
    """Fractions done / total and the current fit's epoch on a terminal (Rich); one plain line
    per fraction otherwise."""

    def __init__(self, console: Console, total: int, epochs: int, quiet: bool = False):
        self.console, self.total, self.epochs, self.quiet = console, total, epochs, quiet
        self.done = 0
        self.started = time.perf_counter()
        self._progress: Optional[Progress] = None
        self._fractions = self._epochs = None

    def __enter__(self) -> CurveProgress:
        if self.console.is_terminal and not self.quiet:
            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), console=self.console, transient=False,
            )  # fmt: skip
            self._progress.start()
            self._fractions = self._progress.add_task("fractions", total=self.total)
            self._epochs = self._progress.add_task("epochs", total=self.epochs)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def begin(self, fraction: float, examples: int) -> None:
        if self._progress is not None:
            name = f"fraction {fraction:g} ({examples:,} examples)"
            self._progress.update(self._epochs, description=name, completed=0)

    def epoch(self, number: int) -> None:
        if self._progress is not None:
            self._progress.update(self._epochs, completed=number)

    def end(self, row: dict) -> None:
        self.done += 1
        if self._progress is not None:
            self._progress.update(self._fractions, completed=self.done)
            return
        if self.quiet:
            return
        elapsed = time.perf_counter() - self.started
        errors = (
            f"train error {row['train_error']:.4f}, val error {row['val_error']:.4f}"
            if row.get("train_error") is not None
            else "diverged"
        )
        self.console.print(
            f"fraction {row['fraction']:g} ({row['examples']:,} examples): {errors} | "
            f"{self.done}/{self.total} done | {elapsed:.0f}s elapsed"
        )


def save_plot(run: RunDir, table: pd.DataFrame, curve: LearningCurve, trial_id: str) -> Path:
    """Draw learning_curve.png beside learning_curve.csv (temp file + rename)."""
    import matplotlib.pyplot as plt

    from tunenet.reporting.learning_curve_plot import learning_curve_figure

    figure = learning_curve_figure(
        table,
        title=f"{run.name}: trial {trial_id} retrained on growing data",
        verdict=f"more data helps: {verdict_word(curve.more_data_helps)}",
    )
    target = run.path / PLOT_NAME
    try:
        replace_atomic(target, figure.savefig, ".png")
    finally:
        plt.close(figure)
    return target


def as_table(result: CurveResult) -> Table:
    """The curve as a Rich table (the verdict: `verdict_lines`)."""
    table = Table(
        title=f"{Path(result.run).name}: trial {result.trial_id} on growing training data",
        title_justify="left",
    )
    for name in ("fraction", "examples", "train error", "val error", "gap", "seconds"):
        table.add_column(name, justify="right")
    for point in result.curve.points:
        gap = (
            point.val_error - point.train_error
            if point.val_error is not None and point.train_error is not None
            else None
        )
        table.add_row(
            f"{point.fraction:g}",
            f"{point.examples:,}",
            _error_text(point.train_error, point.train_error_ci),
            _error_text(point.val_error, point.val_error_ci),
            points_ci(gap, None),
            "" if point.seconds is None else f"{point.seconds:.1f}",
        )
    return table


def verdict_lines(result: CurveResult) -> list[str]:
    """The verdict with its reason, and what was written: one line each."""
    curve = result.curve
    written = "learning_curve.csv" + (", learning_curve.png" if result.plot else "")
    return [
        f"More data helps: {verdict_word(curve.more_data_helps)}. {_capital(curve.reason)}",
        f"± is half the 95% interval. Written: {written} in {result.run}",
    ]


def _error_text(error: Optional[float], ci: Any) -> str:
    return "diverged" if error is None else percent_ci(error, ci) if ci else percent(error)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
