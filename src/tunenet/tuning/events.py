"""What a search tells the code that shows it: the search calls listeners, it never draws.

Like Keras callbacks or Optuna's `callbacks=`: a `SearchListener` does nothing by default; a
listener overrides the events it needs. The search holds its listeners in a `Listeners`, which
calls them in the order given. The progress display and the trial labels of `tunenet search`
(`reporting.progress`, `reporting.live`) are listeners that `api` and `cli` attach.

The events of one search, in order:

- `on_note(text)` at any time: a line the user must see (a warning, a repaired file, the
  command a remote worker joins with).
- `on_status(text)` from the first second to the first trial line: what the search is doing now
  ("reading data (iris)", "loading TensorFlow", "fitting 3 baselines (logistic 2/3)", "building
  trial 0"); each replaces the one before, "" takes it away. `on_result(text)`: what a step
  found, a line that stays (the baselines fitted). Both are progress: `--quiet` hides them.
- `on_search_begin(start)` once the run directory is ready and the trials are about to run.
- `on_trial_begin(trial_id, epochs)`, `on_epoch_end(trial_id, epoch)` for each epoch, then
  `on_trial_end(row, objective, best)` once the trial's trials.csv row is written. The chief of
  `--workers` tells each trial's end as it finds the row (its workers train the epochs).
- `on_search_stopped(reason, detail)` when a stop rule (time budget, no gain, the proposal
  cap of search.max_params) ended the search, just before `on_search_end`.
- `on_search_end(handed_over)` once, when the search stops for whatever reason. `handed_over`:
  a fresh process continues the search (memory budget) and begins it again with `continued`.

A worker (`tunenet worker`) tells only its trials and notes: its chief begins and ends the search.

An error in a listener never stops the search, whose trials and files matter more than their
display: `Listeners` logs it as a warning on the "tunenet" logger (the CLI prints it on stderr,
"warning: ...") once per listener, and keeps calling that listener. A stop (Ctrl-C, SIGTERM:
KeyboardInterrupt) or SystemExit raised in a listener is not an error: it goes through.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchStart:
    """The search is about to run its trials.

    Attributes:
        run_dir: the run directory (trials.csv, baselines.csv, manifest.json are there).
        planned: the trials the config plans; 0 when unknown (a worker's view).
        done: the trials already recorded (a resume).
        started: when the search started (`time.time()`); a hand-over keeps its first process's.
        continued: this process continues a search another process handed over to it.
    """

    run_dir: Path
    planned: int
    done: int
    started: float
    continued: bool = False


class SearchListener:
    """Receives the events of a search (see the module's docstring); each does nothing here."""

    def on_note(self, text: str) -> None:
        """A line the user must see, even with --quiet."""

    def on_status(self, text: str) -> None:
        """What the search is doing now, until its first trial line; "" takes it away.
        Progress: --quiet hides it."""

    def on_result(self, text: str) -> None:
        """What a step found, a line that stays (the baselines fitted): --quiet hides it."""

    def on_search_begin(self, start: SearchStart) -> None:
        """The trials are about to run."""

    def on_trial_begin(self, trial_id: str, epochs: tuple[int, int]) -> None:
        """A trial trains from epoch `epochs[0]` (0, or more when it continues) to `epochs[1]`."""

    def on_epoch_end(self, trial_id: str, epoch: int) -> None:
        """The running trial finished its epoch `epoch` (1-based); epochs.csv has its row."""

    def on_trial_end(self, row: dict, objective: str, best: Optional[float]) -> None:
        """A trial ended and trials.csv has its `row` (read it, do not change it); `objective`
        names the metric the search optimizes, `best` is the best value recorded so far."""

    def on_search_stopped(self, reason: str, detail: str) -> None:
        """A stop rule ended the search before max_trials: `reason` is `time_budget`, `no_gain`
        or `max_proposals` (docs/guide.md, "When to stop, what it costs, what to keep"),
        `detail` says why in words ("the time budget of 30m is spent (...)")."""

    def on_search_end(self, handed_over: bool = False) -> None:
        """The search stopped: it finished, failed, was interrupted, or `handed_over` to a
        fresh process."""


class Listeners(SearchListener):
    """The listeners of one search, called in order; one that fails is reported, not fatal."""

    def __init__(self, listeners: Iterable[SearchListener] = ()):
        self.listeners = list(listeners)
        self._failed: set[int] = set()  # id() of the listeners whose error was reported
        self._ended = False

    def on_note(self, text: str) -> None:
        self._tell("on_note", text)

    def on_status(self, text: str) -> None:
        self._tell("on_status", text)

    def on_result(self, text: str) -> None:
        self._tell("on_result", text)

    def on_search_begin(self, start: SearchStart) -> None:
        self._tell("on_search_begin", start)

    def on_trial_begin(self, trial_id: str, epochs: tuple[int, int]) -> None:
        self._tell("on_trial_begin", trial_id, epochs)

    def on_epoch_end(self, trial_id: str, epoch: int) -> None:
        self._tell("on_epoch_end", trial_id, epoch)

    def on_trial_end(self, row: dict, objective: str, best: Optional[float]) -> None:
        self._tell("on_trial_end", row, objective, best)

    def on_search_stopped(self, reason: str, detail: str) -> None:
        self._tell("on_search_stopped", reason, detail)

    def on_search_end(self, handed_over: bool = False) -> None:
        """Told once, however many ways out of the search call it."""
        if not self._ended:
            self._ended = True
            self._tell("on_search_end", handed_over)

    def _tell(self, event: str, *args: Any) -> None:
        for listener in self.listeners:
            try:
                getattr(listener, event)(*args)
            except Exception as error:  # a display's bug never costs the search its trials
                self._report(listener, event, error)

    def _report(self, listener: SearchListener, event: str, error: Exception) -> None:
        if id(listener) in self._failed:
            return
        self._failed.add(id(listener))
        log.warning(
            "%s.%s failed (%s: %s); the search goes on.",
            type(listener).__name__, event, type(error).__name__, error,
        )  # fmt: skip
