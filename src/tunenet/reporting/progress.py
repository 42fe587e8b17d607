"""The search's progress on stderr: a live Rich display on a terminal, plain lines otherwise.

On a terminal: a bar of trials (done / planned, best objective so far, elapsed, ETA) and a bar
of the running trial's epochs; both clocks stay live (Rich redraws from its own thread), and a
line per finished trial is printed above them. Not a terminal (CI logs): a start line, one line
per finished trial, an end line; no animation, no control codes. `quiet`: nothing but the notes.

`SearchProgress` listens to the search (`tuning.events`): the search tells, this module draws.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Optional

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.text import Text

from tunenet.reporting.rich_table import short_names
from tunenet.runs.cells import number
from tunenet.runs.status import TrialStatus
from tunenet.tuning.events import SearchListener, SearchStart

if TYPE_CHECKING:
    from tunenet.reporting.live import Labeler

# A search that ends before its planned trials (early stops, an exhausted space, a capacity
# search that stopped growing) is not a failure: its bar stays this neutral colour.
BAR = {"complete_style": "cyan", "finished_style": "green", "pulse_style": "cyan"}


class SearchProgress(SearchListener):
    """Trials done / total, the current trial's epoch, the best objective, elapsed and ETA.

    Args:
        console: the stderr console; a live display when it is a terminal.
        total: the trials planned (0: unknown, e.g. a worker's); the search's start tells it.
        quiet: show no progress, only the notes (the caller prints the final summary).
        labeler: a trials.csv row to its diagnosis label ("high bias", ...), shown in the
            trial's line (`reporting.live.LiveLabels`); None: the status alone.
    """

    def __init__(
        self,
        console: Console,
        total: int = 0,
        quiet: bool = False,
        labeler: Optional[Labeler] = None,
    ):
        self.console, self.total, self.quiet = console, total, quiet
        self.live = console.is_terminal and not quiet
        self.done = 0
        self.objective = ""
        self.best_text = "-"
        self.started = time.perf_counter()
        self._done_at_start = 0
        self._epoch = (0, 0, 0)  # (first, current, last) epoch of the running trial
        self._progress: Optional[Progress] = None
        self._trials: Any = None
        self._epochs: Any = None
        self._stopped = False
        self.labeler = labeler

    # ------------------------------------------------------------ the events of the search

    def on_note(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False)  # above a live display

    def on_status(self, text: str) -> None:
        if not self.quiet:
            self.on_note(text)

    def on_search_begin(self, start: SearchStart) -> None:
        """Start the display; a hand-over's successor continues it without a start line."""
        self.total = start.planned
        if start.continued and not self.live:
            quiet, self.quiet = self.quiet, True  # plain lines: no "search: ..." again
            self.start(done=start.done)
            self.quiet = quiet
        else:
            self.start(done=start.done)
        self.started -= time.time() - start.started  # the search's time, across hand-overs

    def on_trial_begin(self, trial_id: str, epochs: tuple[int, int]) -> None:
        self.trial_begin(trial_id, epochs)

    def on_epoch_end(self, trial_id: str, epoch: int) -> None:
        self.epoch(epoch)

    def on_trial_end(self, row: dict, objective: str, best: Optional[float]) -> None:
        self.trial_end(row, objective, best)

    def on_search_end(self, handed_over: bool = False) -> None:
        if handed_over:  # no end line; a fresh process draws its display in the same place
            self._erase()
        self.stop()

    def _erase(self) -> None:
        if self._progress is not None:
            self._progress.live.transient = True
            self._progress.stop()
            self._progress = None
        self.quiet = True

    # ------------------------------------------------------------ what the display does

    def start(self, done: int = 0) -> None:
        """The search begins, `done` trials already recorded (a resume)."""
        self.done = self._done_at_start = done
        self.started = time.perf_counter()
        self._stopped = False
        if self.quiet:
            return
        if not self.live:
            before = f", {done} done before" if done else ""
            self._plain(f"search: {self._planned()} trial(s) planned{before}")
            return
        self._progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(**BAR),
            TextColumn("{task.fields[count]}", markup=False),
            TextColumn("{task.fields[info]}", markup=False),
            TimeElapsedColumn(),
            _EtaColumn(self),
            console=self.console,
            transient=False,
        )
        self._progress.start()
        self._trials = self._progress.add_task(
            "trials", total=self.total or None, completed=done, count=self._count(), info=""
        )
        self._epochs = self._progress.add_task("trial", total=1, count="", info="", visible=False)

    def trial_begin(self, trial_id: str, epochs: tuple[int, int]) -> None:
        """A trial starts training from epoch `epochs[0]` (0, or more when it continues) up to
        `epochs[1]`."""
        first, last = epochs
        self._epoch = (first, first, last)
        if self._progress is not None:  # reset: a fresh clock (an update would keep it stopped)
            self._progress.reset(
                self._epochs,
                total=max(last - first, 1),
                completed=0,
                description=f"trial {trial_id}",
                count=_epoch_count(first, last),
                info="",
                visible=True,
            )

    def epoch(self, number: int) -> None:
        """The running trial finished its epoch `number` (1-based)."""
        first, _, last = self._epoch
        self._epoch = (first, number, last)
        if self._progress is not None:
            self._progress.update(
                self._epochs, completed=number - first, count=_epoch_count(number, last)
            )

    def trial_end(self, row: dict, objective: str, best: Optional[float]) -> None:
        """A trial's row was recorded; `best` is the best objective so far."""
        self.done += 1
        self.objective = objective
        if best is not None:
            self.best_text = f"{best:.4g}"
        self._epoch = (0, 0, 0)
        if self.quiet:
            return
        line = trial_line(row, objective, self._label(row))
        if self._progress is not None:
            self._progress.update(
                self._trials, completed=self.done, count=self._count(), info=self._best()
            )
            self._progress.update(self._epochs, visible=False, refresh=True)
            self._progress.console.print(Text(line))  # above the live display
            return
        self._plain(
            f"{line} | {self._count()} done, {self._best()}, "
            f"{_clock(self.elapsed())} elapsed{self._eta_words()}"
        )

    def _label(self, row: dict) -> Optional[str]:
        if self.labeler is None:
            return None
        try:
            return self.labeler(row)
        except Exception:  # a label is a nicety: a bad row never stops the search
            return None

    def stop(self) -> None:
        """The search ended (or was interrupted): the display's last state stays on screen."""
        if self.quiet:
            return
        if self._progress is None:
            if not self.live and not self._stopped:  # once, though the search may call twice
                self._plain(self.end_line())
            self._stopped = True
            return
        early = self.total and self.done < self.total
        self._progress.update(
            self._trials,
            info=self._best() + (f"; ended after {self.done} of {self.total}" if early else ""),
        )
        self._stopped = True  # the ETA column goes blank
        self._progress.update(self._epochs, visible=False, refresh=True)
        self._progress.stop()
        self._progress = None

    # ------------------------------------------------------------ what is shown

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def eta(self) -> Optional[float]:
        """Seconds left for the planned trials, from this session's pace (the running trial
        counted by its epochs); None before anything was measured or when nothing is planned."""
        if not self.total:
            return None
        first, current, last = self._epoch
        running = (current - first) / (last - first) if last > first else 0.0
        worked = self.done - self._done_at_start + running
        if worked <= 0:
            return None
        left = max(self.total - self.done - running, 0.0)
        return self.elapsed() / worked * left

    def end_line(self) -> str:
        """The plain end line: trials done against planned, the best objective, the time."""
        planned = f" of {self.total} planned" if self.total else ""
        return (
            f"search ended: {self.done}{planned} trial(s) done, {self._best()}, "
            f"{_clock(self.elapsed())}"
        )

    def _plain(self, line: str) -> None:
        self.console.print(Text(line), soft_wrap=True)  # one log line, however long

    def _planned(self) -> str:
        return str(self.total) if self.total else "an unknown number of"

    def _count(self) -> str:
        return f"{self.done}/{self.total}" if self.total else f"{self.done} done"

    def _best(self) -> str:
        return f"best {self.objective or 'objective'} {self.best_text}"

    def _eta_words(self) -> str:
        eta = self.eta()
        return "" if eta is None else f", ~{_clock(eta)} left"


class _EtaColumn(ProgressColumn):
    """The search's ETA on the trials bar, recomputed at every redraw (so it stays live)."""

    def __init__(self, progress: SearchProgress):
        super().__init__()
        self.search = progress

    def render(self, task: Task) -> Text:
        if task.id != self.search._trials or self.search._stopped:
            return Text("")
        eta = self.search.eta()
        return Text(
            "ETA " + ("-:--:--" if eta is None else _clock(eta)), style="progress.remaining"
        )


def trial_line(row: dict, objective: str, label: Optional[str] = None) -> str:
    """One finished trial in a line: id, status, its diagnosis label when known, objective,
    seconds, then the values of its hyperparameters (short names, as in the search summary)."""
    parts = [f"trial {row.get('trial_id', '?')}", _outcome(row)]
    if label and label != row.get("status"):
        parts.append(label)
    value = number(row.get("objective"))
    if value is not None:
        parts.append(f"{objective} {value:.4g}")
    seconds = number(row.get("seconds"))
    if seconds is not None:
        parts.append(f"{seconds:.1f}s")
    values = {
        key.removeprefix("hp."): value
        for key, value in row.items()
        if key.startswith("hp.") and value not in (None, "")
    }
    short = short_names(list(values))
    hps = " ".join(f"{short[name]}={_value(value)}" for name, value in values.items())
    return "  ".join([*parts, hps] if hps else parts)


def _outcome(row: dict) -> str:
    """The status, with when a trial stopped early or why it failed."""
    status = str(row.get("status") or "")
    epochs = number(row.get("epochs_trained"))
    if status == TrialStatus.COMPLETED and str(row.get("stopped_early")) in ("True", "true", "1"):
        return f"{status} (stopped early at epoch {epochs:.0f})" if epochs else status
    if status == TrialStatus.PRUNED and epochs:
        return f"pruned at epoch {epochs:.0f}"
    message = str(row.get("message") or "")
    if status in (TrialStatus.FAILED, TrialStatus.DIVERGED) and message:
        return f"{status}: {message if len(message) <= 80 else message[:77] + '...'}"
    return status


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _epoch_count(done: int, last: int) -> str:
    """The epoch running now, as Keras counts it: "epoch 2/20" once the first is done."""
    return f"epoch {min(done + 1, last)}/{last}"


def _clock(seconds: float) -> str:
    return str(timedelta(seconds=max(0, int(seconds))))
