"""The search's progress on stderr: a live Rich display on a terminal, plain lines otherwise.

On a terminal: a bar of trials (done / planned, best objective so far, elapsed, ETA) and a bar
of the running trial's epochs; both clocks stay live (Rich redraws from its own thread), and a
line per finished trial is printed above them, wrapped to the terminal's width (or `COLUMNS`)
between its `name=value` tokens, never inside one. Before the first trial line, a status says
what the search is doing (reading data, loading TensorFlow, fitting the baselines, building
trial 0): a transient spinner line, then the trials bar's text. Not a terminal (CI logs): one
line per status, a start line, one line per finished trial, an end line; no animation, no
control codes, each line whole however long. `quiet`: nothing but the notes.

`SearchProgress` listens to the search (`tuning.events`): the search tells, this module draws.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Optional

from rich.cells import cell_len
from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.status import Status
from rich.text import Text

from tunenet.reporting.rich_table import short_names, wrap_chunks
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
        self.infeasible = 0  # trials over search.max_params: not trained, not counted as done
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
        self._status: Optional[Status] = None  # the spinner line before the trials bar
        self._status_text = ""
        self._trial_shown = False  # statuses end at the first trial line

    # ------------------------------------------------------------ the events of the search

    def on_note(self, text: str) -> None:
        # above a live display, wrapped at words on a terminal; a log line stays whole
        self.console.print(text, markup=False, highlight=False, soft_wrap=not self.live)

    def on_result(self, text: str) -> None:
        if not self.quiet:
            self.on_note(text)

    def on_status(self, text: str) -> None:
        """What the search is doing, shown until the first trial line: on a terminal a spinner
        line (the trials bar's text once the bar is up), else a plain line per status. An
        empty text takes the status line away."""
        if self.quiet or self._trial_shown or text == self._status_text:
            return
        self._status_text = text
        if not text:
            self._end_status()
        elif not self.live:
            self._plain(text)
        elif self._progress is not None:
            self._progress.update(self._trials, info=self._fit(text, 40))
        elif self._status is None:
            self._status = Status(Text(self._fit(text)), console=self.console)
            self._status.start()
        else:  # naming the spinner redraws at once: TensorFlow's import may starve the redraws
            self._status.update(Text(self._fit(text)), spinner="dots")

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

    def _end_status(self) -> None:
        if self._status is not None:
            self._status.stop()  # transient: the line is erased
            self._status = None

    def _fit(self, text: str, room: int = 4) -> str:
        """A status cut to the terminal's width less `room` (the spinner, the bar)."""
        width = max(self.console.width - room, 10)
        return text if cell_len(text) <= width else text[: width - 1] + "…"

    def _erase(self) -> None:
        self._end_status()
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
        self._end_status()  # the trials bar carries the status from here
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
        """A trial's row was recorded; `best` is the best objective so far. An infeasible
        trial (over search.max_params, never trained) is not one of the planned trials."""
        if row.get("status") == TrialStatus.INFEASIBLE:
            self.infeasible += 1
        else:
            self.done += 1
        self.objective = objective
        if best is not None:
            self.best_text = f"{best:.4g}"
        self._epoch = (0, 0, 0)
        self._trial_shown = True
        self._end_status()
        if self.quiet:
            return
        chunks = trial_chunks(row, objective, self._label(row))
        line = "".join(sep + chunk for sep, chunk in chunks).lstrip()
        if self.live:  # between its tokens, never inside one (a terminal cuts at any cell)
            line = "\n".join(wrap_chunks(chunks, self.console.width))
        if self._progress is not None:
            self._progress.update(
                self._trials, completed=self.done, count=self._count(), info=self._best()
            )
            self._progress.update(self._epochs, visible=False, refresh=True)
            self._progress.console.print(Text(line), soft_wrap=True)  # above the live display
            return
        tally = (
            f"{self._count()} done, {self._best()}, "
            f"{_clock(self.elapsed())} elapsed{self._eta_words()}"
        )
        if self.live:  # a worker's lines on a terminal: no bar of its own
            wrapped = wrap_chunks([*chunks, (" | ", tally)], self.console.width)
            self.console.print(Text("\n".join(wrapped)), soft_wrap=True)
            return
        self._plain(f"{line} | {tally}")

    def _label(self, row: dict) -> Optional[str]:
        if self.labeler is None:
            return None
        try:
            return self.labeler(row)
        except Exception:  # a label is a nicety: a bad row never stops the search
            return None

    def stop(self) -> None:
        """The search ended (or was interrupted): the display's last state stays on screen."""
        self._end_status()
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
        skipped = f" ({self.infeasible} more infeasible, not trained)" if self.infeasible else ""
        return (
            f"search ended: {self.done}{planned} trial(s) done{skipped}, {self._best()}, "
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
    return "".join(sep + chunk for sep, chunk in trial_chunks(row, objective, label)).lstrip()


def trial_chunks(row: dict, objective: str, label: Optional[str] = None) -> list[tuple[str, str]]:
    """The pieces of a trial's line, each with the separator before it: the parts (two spaces
    apart), then one `name=value` token per hyperparameter (one space apart)."""
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
    hps = [f"{short[name]}={_value(value)}" for name, value in values.items()]
    chunks = [("  " if i else "", part) for i, part in enumerate(parts)]
    return chunks + [(" " if i else "  ", token) for i, token in enumerate(hps)]


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
