"""Bounded memory by default: a long search hands over to a fresh process of itself.

TensorFlow keeps about 4-5 MB per trained model in a process (traced functions and kernels that
neither `gc.collect()`, `clear_session()` nor glibc's `malloc_trim` give back; measured in
benchmarks/README.md). So `tunenet search` watches its resident memory after each trial. Once
past its budget — its size after trial `REFERENCE_TRIAL` plus `MARGIN_MB` — it ends the trial,
then re-executes itself (`os.execv`: same process id, terminal and arguments). The new process
continues the same run exactly as `--resume` does (completed trials are not run again), without
the messages of a resume; Ctrl-C, SIGKILL and `--resume` behave as in one process.

Only the console command hands over (`enable()` is called by `tunenet.cli.main`): the Python API
and the in-process CLI runner of the tests never re-execute their process.

This module does not import TensorFlow.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

log = logging.getLogger(__name__)

STATE_ENV = "TUNENET_HANDOVER"  # the state a process passes to its successor (JSON)
EVERY_ENV = "TUNENET_HANDOVER_TRIALS"  # tests: hand over every N trials (internal)
# benchmarks: "unbounded" restores the old behaviour (no graph release, no hand-over) to compare
MEMORY_ENV = "TUNENET_MEMORY"
REFERENCE_TRIAL = 20  # the budget is the size after this trial of the first process...
MARGIN_MB = 40.0  # ...plus this margin (a trial may add some MB before it is checked)
MIN_TRIALS = 10  # trials a process runs before it may hand over (no hand-over loop)

_enabled = False
_inherited: Optional[Handover] = None


def enable() -> None:
    """Allow this process to re-execute itself (the console command only)."""
    global _enabled
    _enabled = True


def inherit() -> bool:
    """Whether this process continues a search its predecessor handed over (then the run is
    resumed). Reads and removes the state from the environment, so that child processes
    (workers) do not inherit it."""
    global _inherited
    text = os.environ.pop(STATE_ENV, None)
    if text is None or not _enabled:
        return _inherited is not None
    try:
        _inherited = Handover(**json.loads(text))
    except (TypeError, ValueError):
        log.warning("%s: ignored (%r is not a hand-over state)", STATE_ENV, text[:80])
        return False
    return True


def inherited() -> bool:
    """Whether this process continues a predecessor's search."""
    return _inherited is not None


def unbounded() -> bool:
    """Whether the benchmark asked for the old, unbounded memory (internal)."""
    return os.environ.get(MEMORY_ENV) == "unbounded"


def plan() -> Optional[Handover]:
    """The hand-over of this process's search; None where it may not re-execute itself."""
    if not _enabled or unbounded():
        return None
    found = _inherited or Handover(started=time.time())
    found.every = every_from_environment()
    return found


def every_from_environment() -> Optional[int]:
    text = os.environ.get(EVERY_ENV)
    return int(text) if text and text.isdigit() and int(text) > 0 else None


def rss_mb() -> float:
    """Resident memory of this process, in MB (Linux; 0 where /proc is missing)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass
class Handover:
    """When this process hands its search over, and what it tells its successor.

    Attributes:
        started: when the search's first process started (epoch seconds): the search's
            elapsed time counts from there.
        budget_mb: resident memory past which a process hands over; None until the first
            process has run `REFERENCE_TRIAL` trials.
        count: hand-overs so far.
        every: hand over after this many trials of a process (tests); None: by memory only.
    """

    started: float
    budget_mb: Optional[float] = None
    count: int = 0
    every: Optional[int] = None

    def __post_init__(self) -> None:
        self.trials = 0  # trials run by this process
        self.floor_mb: Optional[float] = None  # this process's size after its first trial

    def due(self, rss: float) -> Optional[str]:
        """After a trial: why this process should hand over now, or None."""
        self.trials += 1
        if self.every:
            return f"{self.trials} trials" if self.trials >= self.every else None
        if self.floor_mb is None:
            self.floor_mb = rss
        if self.budget_mb is None:
            if self.trials >= REFERENCE_TRIAL:
                self.budget_mb = rss + MARGIN_MB
            return None
        # a process that starts above the budget still gets its own margin: no hand-over loop
        limit = max(self.budget_mb, self.floor_mb + MARGIN_MB)
        if self.trials >= MIN_TRIALS and rss > limit:
            return f"{rss:.0f} MB resident > {limit:.0f} MB budget"
        return None

    def elapsed(self) -> float:
        return time.time() - self.started

    def execute_successor(self, reason: str) -> None:
        """Replace this process by a fresh one that continues the search (never returns)."""
        self.count += 1
        state = {key: value for key, value in asdict(self).items() if key != "every"}
        os.environ[STATE_ENV] = json.dumps(state)
        log.info("hand-over %d after %d trial(s): %s", self.count, self.trials, reason)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        argv = [sys.executable, "-m", "tunenet.cli", *sys.argv[1:]]
        os.execv(sys.executable, argv)
