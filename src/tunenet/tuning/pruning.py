"""Pruning (docs/config-reference.md `search.pruning`): stop a trial that is far behind the others
at the same epoch.

The pruners decide from epochs.csv, which every process of a run appends to (an in-process
search, `--workers`, a `--resume`), so no oracle state is needed: `EpochCurves` reads the file
incrementally (only the lines added since the last read) and holds each trial's objective per
execution and epoch. A trial's own rows never count for it.

What a trial is compared with at epoch k ("the other trials' values at k"): each other trial
that has reached epoch k (its last execution that did), with its best objective over epochs
1..k. The trial itself is represented by its best objective so far. Both sides are best-so-far
values, so a trial whose curve is noisy is neither favoured nor penalised by one bad epoch.
Trials that stopped before epoch k (early stopping) do not count at k.

- median: at the end of epoch k (k >= `search.pruning_warmup`), when at least
  `search.pruning_min_trials` other trials have reached k, the trial stops if its best so far
  is worse than their median (a tie is not worse). Trials trials.csv records as pruned are
  not among them (Vizier's median stopping rule and Optuna's MedianPruner also compare with
  completed trials only): trials pruned for being below the median would otherwise pull the
  median down for the trials after them. On digits (benchmarks/pruning.py, the defaults)
  counting them left 0.67x of the epochs instead of 0.54x, for the same best trial.
- asha (asynchronous successive halving): rungs at epochs warmup × factor^i (3, 9, 27, ... with
  the defaults). A trial that reaches a rung continues only if its best so far is in the top
  1/factor of all trials that have reached that rung so far, itself and pruned ones included
  (n // factor of n trials continue; ties go its way); while fewer than `factor` trials have
  reached the rung, it continues (asynchronous promotion: early trials are not judged against
  nobody).

No trial is pruned at its last epoch (it has nothing left to save), nor at an epoch where early
stopping or TerminateOnNaN already stopped it.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import statistics
from pathlib import Path
from typing import Optional, Protocol

import keras

from tunenet.config.objective import Objective
from tunenet.config.sections import SearchConfig
from tunenet.errors import RunDirError
from tunenet.runs import TrialStatus, cells, read_trial_rows
from tunenet.runs.files import format_csv_value

log = logging.getLogger(__name__)

Curve = dict[int, float]  # epoch (1-based) -> objective value (NaN when not finite)


def trial_key(trial_id: str) -> str:
    """One key per trial whatever the zero-padding of its id ("03" and "3")."""
    return str(int(trial_id)) if trial_id.isdigit() else trial_id


class EpochCurves:
    """The objective's value of every trial, execution and epoch, as epochs.csv holds them.

    `refresh` parses only the lines appended since the last call; when the file was rewritten
    (a trial's rows dropped before it runs again: a new inode, or a shorter file) it reads the
    whole file again. Without a path, rows come from `add` only (tests, simulations).

    Args:
        path: epochs.csv, or None.
        name: the objective's Keras log key (`val_accuracy`).
    """

    def __init__(self, path: Optional[Path], name: str):
        self.path, self.name = path, name
        self.curves: dict[str, dict[int, Curve]] = {}
        self.pruned: set[str] = set()  # keys of trials recorded as pruned
        self._offset = 0
        self._inode: Optional[int] = None
        self._columns: Optional[dict[str, int]] = None

    def add(self, trial_id: str, execution: int, epoch: int, value: float) -> None:
        executions = self.curves.setdefault(trial_key(trial_id), {})
        executions.setdefault(execution, {})[epoch] = value

    def refresh(self) -> "EpochCurves":
        if self.path is None:
            return self
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._reset(None)
            return self
        if stat.st_ino != self._inode or stat.st_size < self._offset:
            self._reset(stat.st_ino)
        if stat.st_size > self._offset:
            with open(self.path, "rb") as file:
                file.seek(self._offset)
                data = file.read(stat.st_size - self._offset)
            whole = data[: data.rfind(b"\n") + 1]  # a line still being written waits
            self._offset += len(whole)
            self._parse(whole.decode("utf-8", errors="replace"))
        return self

    def _reset(self, inode: Optional[int]) -> None:
        self.curves, self._offset, self._inode, self._columns = {}, 0, inode, None

    def _parse(self, text: str) -> None:
        for record in csv.reader(io.StringIO(text)):
            if self._columns is None:
                self._columns = {column: index for index, column in enumerate(record)}
                if self.name not in self._columns:
                    log.warning("%s has no %s column: no trial is pruned", self.path, self.name)
                continue
            self._add_record(record)

    def _add_record(self, record: list[str]) -> None:
        columns = self._columns or {}
        try:
            trial_id = record[columns["trial_id"]]
            execution, epoch = int(record[columns["execution"]]), int(record[columns["epoch"]])
            value = _number(record[columns[self.name]])
        except (KeyError, IndexError, ValueError):
            return  # a row this reader cannot use is no evidence either way
        self.add(trial_id, execution, epoch, value)

    def mark_pruned(self, trial_id: str) -> None:
        self.pruned.add(trial_key(trial_id))

    def values_at(
        self, epoch: int, objective: Objective, exclude: str, with_pruned: bool = True
    ) -> list[float]:
        """Each other trial's best finite value over epochs 1..`epoch`, for the trials whose
        last execution reaching `epoch` has a finite value by then; `exclude` is left out, and
        the trials marked pruned unless `with_pruned`."""
        values = []
        left_out = {trial_key(exclude)} | (set() if with_pruned else self.pruned)
        for key, executions in self.curves.items():
            reached = [number for number, curve in executions.items() if epoch in curve]
            if key in left_out or not reached:
                continue
            best = best_by(executions[max(reached)], epoch, objective)
            if best is not None:
                values.append(best)
        return values


def best_by(curve: Curve, epoch: int, objective: Objective) -> Optional[float]:
    """The best finite value of a curve over epochs 1..`epoch`, or None."""
    best: Optional[float] = None
    for number, value in curve.items():
        if number <= epoch and objective.better(value, best):
            best = value
    return best


def _number(text: str) -> float:
    """A cell of epochs.csv: NaN when it holds no finite number (only finite values count)."""
    value = cells.number(text)
    return math.nan if value is None else value


def _shown(value: Optional[float]) -> str:
    return "no finite value" if value is None else f"{value:.4g}"


class Pruner(Protocol):
    def check(
        self, curves: EpochCurves, trial_id: str, epoch: int, best: Optional[float]
    ) -> Optional[str]:
        """Why the trial stops at the end of `epoch`, or None when it goes on."""


class MedianPruner:
    """Stops a trial whose best objective so far is worse than the median of the other
    trials' at the same epoch (see the module's docstring).

    Args:
        objective: what is better.
        warmup: epochs every trial runs before it can be pruned.
        min_trials: other trials that must have reached the epoch before it compares.
    """

    def __init__(self, objective: Objective, warmup: int, min_trials: int):
        self.objective, self.warmup, self.min_trials = objective, warmup, min_trials

    def check(
        self, curves: EpochCurves, trial_id: str, epoch: int, best: Optional[float]
    ) -> Optional[str]:
        if epoch < self.warmup:
            return None
        others = curves.values_at(epoch, self.objective, exclude=trial_id, with_pruned=False)
        if len(others) < self.min_trials:
            return None
        median = statistics.median(others)
        if not self.objective.better(median, best):
            return None
        side = "below" if self.objective.maximized else "above"
        return (
            f"{self.objective.name} {_shown(best)} {side} the median {median:.4g} "
            f"of {len(others)} trials"
        )


class AshaPruner:
    """Asynchronous successive halving: at each rung (epochs warmup × factor^i) a trial goes on
    only if it is in the top 1/factor of the trials that reached the rung (itself included).

    Args:
        objective: what is better.
        warmup: the first rung's epoch.
        factor: the reduction factor (`search.factor`).
    """

    def __init__(self, objective: Objective, warmup: int, factor: int):
        self.objective, self.warmup, self.factor = objective, warmup, factor

    def rung(self, epoch: int) -> Optional[int]:
        """The rung index of `epoch` (0 for the warmup epoch), or None when it is not a rung."""
        rung, at = 0, self.warmup
        while at < epoch:
            rung, at = rung + 1, at * self.factor
        return rung if at == epoch else None

    def check(
        self, curves: EpochCurves, trial_id: str, epoch: int, best: Optional[float]
    ) -> Optional[str]:
        rung = self.rung(epoch)
        if rung is None:
            return None
        others = curves.values_at(epoch, self.objective, exclude=trial_id)
        reached = len(others) + 1
        kept = reached // self.factor
        ahead = sum(self.objective.better(value, best) for value in others)
        if reached < self.factor or ahead < kept:
            return None
        cut_off = self.objective.ordered([{"v": v} for v in others], "v")[kept - 1]["v"]
        return (
            f"{self.objective.name} {_shown(best)} not in the top 1/{self.factor} of "
            f"{reached} trials at rung {rung} (the top {kept} reach {cut_off:.4g})"
        )


def make_pruner(search: SearchConfig, objective: Objective) -> Optional[Pruner]:
    """The pruner `search.pruning` asks for, or None for `none`."""
    if search.pruning == "median":
        return MedianPruner(objective, search.pruning_warmup, search.pruning_min_trials)
    if search.pruning == "asha":
        return AshaPruner(objective, search.pruning_warmup, search.factor)
    return None


class Pruning:
    """A search's pruner and its view of epochs.csv and of trials.csv's pruned trials, shared
    by the trials of one process.

    Args:
        pruner: the rule (`make_pruner`).
        objective: the search's objective.
        epochs_file: the run's epochs.csv.
        trials_file: the run's trials.csv (which trials were pruned).
    """

    def __init__(self, pruner: Pruner, objective: Objective, epochs_file: Path, trials_file: Path):
        self.pruner, self.objective, self.trials_file = pruner, objective, trials_file
        self.curves = EpochCurves(epochs_file, objective.name)
        self._trials_version: Optional[tuple[int, int, int]] = None

    @classmethod
    def of(
        cls, search: SearchConfig, objective: Objective, epochs_file: Path, trials_file: Path
    ) -> Optional["Pruning"]:
        pruner = make_pruner(search, objective)
        if pruner is None:
            return None
        return cls(pruner, objective, epochs_file, trials_file)

    def refresh(self) -> EpochCurves:
        """The curves, with the lines added since the last call and the pruned trials."""
        self._read_pruned()
        return self.curves.refresh()

    def _read_pruned(self) -> None:
        """Mark the trials trials.csv records as pruned; read only when the file changed (it
        is replaced at every write, so a new inode or size means new rows)."""
        try:
            stat = self.trials_file.stat()
        except FileNotFoundError:
            return
        version = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if version == self._trials_version:
            return
        try:
            rows, _ = read_trial_rows(self.trials_file)
        except RunDirError as error:  # the search reports it where it writes the file
            log.warning("pruning: %s", error)
            return
        self._trials_version = version
        for row in rows:
            if row.get("status") == TrialStatus.PRUNED:
                self.curves.mark_pruned(row["trial_id"])

    def callback(self, trial_id: str, last_epoch: int) -> "PruningCallback":
        return PruningCallback(self, trial_id, last_epoch)


class PruningCallback(keras.callbacks.Callback):
    """Stops the fit at the end of an epoch where the pruner says so; `message` says why.

    Goes after EarlyStopping and before BestEpoch, which still restores the best epoch's
    weights when fit ends (a pruned trial's errors describe its best epoch).
    """

    def __init__(self, pruning: Pruning, trial_id: str, last_epoch: int):
        super().__init__()
        self.pruning, self.trial_id, self.last_epoch = pruning, trial_id, last_epoch
        self.best: Optional[float] = None
        self.message = ""  # set when the trial is pruned

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        value = float((logs or {}).get(self.pruning.objective.name, math.nan))
        # as epochs.csv records it (8 digits), so that a tie with the others stays a tie
        value = _number(format_csv_value(value))
        if self.pruning.objective.better(value, self.best):
            self.best = value
        if self.model.stop_training or epoch + 1 >= self.last_epoch:
            return  # already stopping (early stopping, NaN), or nothing left to save
        curves = self.pruning.refresh()
        reason = self.pruning.pruner.check(curves, self.trial_id, epoch + 1, self.best)
        if reason:
            self.message = f"pruned at epoch {epoch + 1}: {reason}"
            self.model.stop_training = True
