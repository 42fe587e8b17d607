"""The search's progress on stderr: a Rich display on a terminal, plain lines otherwise."""

from __future__ import annotations

import time
from typing import Optional

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class SearchProgress:
    """Trials done / total, the current trial's epoch, the best objective, elapsed and ETA."""

    def __init__(self, console: Console, total: int, quiet: bool = False):
        self.console, self.total, self.quiet = console, total, quiet
        self.live = console.is_terminal and not quiet
        self.done = 0
        self.best_text = "-"
        self.started = time.perf_counter()
        self._progress: Optional[Progress] = None
        self._trials = self._epochs = None

    def start(self, done: int = 0) -> None:
        self.done = done
        self.started = time.perf_counter()
        if not self.live:
            return
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self._progress.start()
        self._trials = self._progress.add_task(
            "trials", total=self.total, completed=done, info="best -"
        )
        self._epochs = self._progress.add_task("epochs", total=1, info="")

    def trial_begin(self, trial_id: str, epochs: tuple[int, int]) -> None:
        first, last = epochs
        if self._progress is not None:
            self._progress.update(
                self._epochs, description=f"trial {trial_id}", total=last, completed=first
            )

    def epoch(self, number: int) -> None:
        if self._progress is not None:
            self._progress.update(self._epochs, completed=number)

    def trial_end(self, row: dict, objective: str, best: Optional[float]) -> None:
        self.done += 1
        if best is not None:
            self.best_text = f"{best:.4f}"
        if self._progress is not None:
            self._progress.update(
                self._trials, completed=self.done, info=f"best {objective} {self.best_text}"
            )
            return
        if self.quiet:
            return
        value = row.get("objective")
        try:
            shown = f"{objective}={float(value):.4f}"
        except (TypeError, ValueError):
            shown = row.get("message") or ""
        elapsed = time.perf_counter() - self.started
        eta = elapsed / self.done * max(self.total - self.done, 0) if self.done else 0.0
        count = f"{self.done}/{self.total}" if self.total else str(self.done)
        self.console.print(
            f"trial {row['trial_id']} {row['status']} {shown} | {count} done, "
            f"best {objective} {self.best_text} | {elapsed:.0f}s elapsed, ~{eta:.0f}s left"
        )

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
