"""Ctrl-C through a real terminal, at ten points of a search, then --resume.

The search runs on a pseudo-terminal in its own session, the pty its controlling terminal:
writing Ctrl-C (\\x03) to the pty sends SIGINT to the terminal's foreground process group,
the search and its workers, as a user's terminal does. Each point is reached by what the
search prints and writes (its live trial line, epochs.csv rows, trials.csv rows, best/), so
the product holds no test-only code. One run is stopped at every point in turn, each time
resumed: every stop must leave a run that the next --resume continues, and the last one
finishes with every trial run exactly once.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path
from typing import Callable

import pandas as pd
import pytest

from conftest import tunenet_command

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GRID = """
    name: stops
    seed: 3
    data: {source: iris}
    model: {layers: 1, units: [4, 8]}
    optimizer: {learning_rate: [0.01, 0.05]}
    training: {epochs: 2, batch_size: 16, early_stopping: false}
    search: {strategy: grid}
"""
TRIALS, EPOCHS = 4, 2
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
FINAL = {"completed"}  # this search has no failed, diverged or pruned trial to expect


def _take_terminal() -> None:
    """In the child, as a shell starts a foreground job: default Ctrl-C, and the pty (its
    stdin) as the controlling terminal of its new session."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """One command on a pseudo-terminal of 120 columns; its output is read as it comes."""

    def __init__(self, *args: object, cwd: Path):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.process = subprocess.Popen(
            tunenet_command(*args),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_take_terminal,
        )
        os.close(slave)
        self.master, self.raw, self.started = master, b"", time.monotonic()
        self.closed = False

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw.decode("utf-8", errors="replace"))

    def read(self, seconds: float) -> None:
        if self.closed:
            time.sleep(seconds)
            return
        ready, _, _ = select.select([self.master], [], [], seconds)
        if ready:
            try:
                chunk = os.read(self.master, 1 << 16)
            except OSError:  # EIO: every process holding the terminal has ended
                chunk = b""
            self.raw += chunk
            self.closed = not chunk

    def until(self, condition: Callable[[Terminal], bool], what: str, limit: float = 90) -> None:
        """Read the output until `condition(self)` holds; fail when the search ends first."""
        deadline = time.monotonic() + limit
        while not condition(self):
            if self.process.poll() is not None:
                self.read(0.1)
                pytest.fail(f"the search ended before {what}:\n{self.text[-2000:]}")
            assert time.monotonic() < deadline, f"{what}: not reached in {limit}s"
            self.read(0.01)

    def ctrl_c(self) -> None:
        os.write(self.master, b"\x03")

    def wait(self, limit: float = 90) -> int:
        """The exit code, once the process has ended and its output is read."""
        deadline = time.monotonic() + limit
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                self.process.kill()
                pytest.fail(f"still running {limit}s after the stop:\n{self.text[-2000:]}")
            self.read(0.05)
        end = time.monotonic() + 1  # what is left in the pty (a worker might hold it open)
        while not self.closed and time.monotonic() < end:
            self.read(0.05)
        os.close(self.master)
        return self.process.returncode


# ---------------------------------------------------------------- what the run holds


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"trial_id": str}) if path.exists() else pd.DataFrame()


def running_rows(run: Path) -> int:
    """epochs.csv rows of trials without a completed row: the trial running now (a resume
    drops those of an interrupted attempt before its first trial)."""
    trials, epochs = read(run / "trials.csv"), read(run / "epochs.csv")
    done = set(trials.loc[trials["status"] == "completed", "trial_id"]) if len(trials) else set()
    return int((~epochs["trial_id"].isin(done)).sum()) if len(epochs) else 0


def saved_at(path: Path) -> int:
    return path.stat().st_mtime_ns if path.exists() else 0


def final_rows(run: Path) -> int:
    trials = read(run / "trials.csv")
    return int(trials["status"].isin(FINAL).sum()) if len(trials) else 0


def status(run: Path) -> str:
    manifest = run / "manifest.json"
    return json.loads(manifest.read_text())["status"] if manifest.exists() else ""


def completed_epochs(run: Path) -> dict[str, list]:
    """The epochs.csv rows of each completed trial (they must never change again)."""
    trials, epochs = read(run / "trials.csv"), read(run / "epochs.csv")
    if not len(trials):
        return {}
    done = set(trials.loc[trials["status"] == "completed", "trial_id"])
    rows = epochs[epochs["trial_id"].isin(done)]
    return {key: group.values.tolist() for key, group in rows.groupby("trial_id")}


def check_stopped(run: Path, code: int, text: str, kept: dict[str, list], running: int = 1) -> None:
    """Exit 130 with the message, no trial failed, nothing completed lost or redone; at most
    `running` trials (one per process that trains) interrupted."""
    assert code == 130, text[-2000:]
    assert "interrupted" in text and "Traceback" not in text, text[-2000:]
    if status(run):  # the run exists: it is marked, and the message says how to go on
        assert status(run) == "interrupted"
        assert "--resume" in text, text[-2000:]
    trials, epochs = read(run / "trials.csv"), read(run / "epochs.csv")
    if len(trials):
        assert set(trials["status"]) <= {"completed", "interrupted"}, trials
        assert (trials["status"] == "interrupted").sum() <= running
    if len(epochs):
        assert not epochs.duplicated(["trial_id", "execution", "epoch"]).any()
    now = completed_epochs(run)
    assert {key: now.get(key) for key in kept} == kept  # completed trials: not run again


# ---------------------------------------------------------------- the ten points

Trigger = Callable[[Terminal], bool]


def grows(count: Callable[[], int]) -> Callable[[], Trigger]:
    """A trigger for when `count()` grows past its value when the search starts."""

    def make() -> Trigger:
        before = count()
        return lambda term: count() > before

    return make


def points(run: Path) -> list[tuple[str, Callable[[], Trigger], float, str]]:
    """(where, when to stop, delay after, how), in order, on one run resumed each time."""
    model = run / "best" / "model.keras"

    def mid_epoch() -> Trigger:
        return lambda term: "baselines" in term.text and running_rows(run) > 0

    def bookkeeping() -> Trigger:  # a trial that is not the best saves no model
        saved, done = saved_at(model), final_rows(run)
        return lambda term: saved_at(model) != saved or final_rows(run) > done

    return [
        # no output yet: TensorFlow loads; the run directory does not exist
        ("loading", lambda: lambda term: time.monotonic() - term.started > 1.0, 0, "ctrl-c"),
        # the run directory is written: its data is loaded, the baselines are fitted next
        ("baselines", lambda: lambda term: status(run) != "", 0, "ctrl-c"),
        # the baselines are reported: the tuner starts and builds the first trial
        ("building a trial", lambda: lambda term: "baselines" in term.text, 0, "ctrl-c"),
        # the live trial line is drawn: the model is built and traced, its first batch runs
        ("first batch", lambda: lambda term: bool(re.search(r"trial \d+ +━", term.text)), 0.2,
         "ctrl-c"),
        # an epoch row arrives: the next epoch trains, then validates
        ("mid-epoch", mid_epoch, 0, "ctrl-c"),
        # a trial completes: the end-of-trial bookkeeping saves its model, writes its row
        ("saving the best model", bookkeeping, 0, "ctrl-c"),
        # a trial's row is written: keras-tuner ends the trial and starts the next
        ("between trials", grows(lambda: final_rows(run)), 0, "ctrl-c"),
        # SIGTERM, as from a job scheduler, mid-epoch
        ("mid-epoch (SIGTERM)", mid_epoch, 0, "sigterm"),
        # every trial has its row: the best model's test evaluation runs
        ("final test evaluation", lambda: lambda term: final_rows(run) == TRIALS, 0, "ctrl-c"),
        # the run is complete: the search summary is computed and printed
        ("the summary", lambda: lambda term: status(run) == "completed", 0, "ctrl-c"),
    ]  # fmt: skip


def test_ctrl_c_at_ten_points_then_resume_runs_every_trial_once(write_config, tmp_path):
    config = write_config(GRID)
    runs = tmp_path / "runs"
    run = runs / "stops"
    kept: dict[str, list] = {}
    for where, make_trigger, delay, how in points(run):
        trigger = make_trigger()
        resume = ("--resume",) if (run / "manifest.json").exists() else ()
        term = Terminal("search", config, "--runs-dir", runs, *resume, cwd=tmp_path)
        term.until(trigger, where)
        time.sleep(delay)
        if how == "sigterm":
            term.process.send_signal(signal.SIGTERM)
        else:
            term.ctrl_c()
        code = term.wait()
        if where == "the summary":
            assert code == 130 and "interrupted" in term.text, term.text[-2000:]
            assert "Traceback" not in term.text
            assert status(run) == "completed"  # the run was done: the stop changes nothing
        else:
            check_stopped(run, code, term.text, kept)
        kept = completed_epochs(run)

    check_resumed(config, runs, kept)


def check_resumed(config: Path, runs: Path, kept: dict[str, list], *extra: str) -> None:
    """--resume finishes the run: every trial once, completed, no epoch row twice, and the
    trials completed before (`kept`) not trained again."""
    run = runs / "stops"
    final = subprocess.run(
        tunenet_command("search", config, "--runs-dir", runs, "--resume", *extra),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert final.returncode == 0, final.stderr
    trials, epochs = read(run / "trials.csv"), read(run / "epochs.csv")
    assert sorted(trials["trial_id"]) == sorted(set(trials["trial_id"]))
    assert len(trials) == TRIALS and set(trials["status"]) == {"completed"}
    assert not epochs.duplicated(["trial_id", "execution", "epoch"]).any()
    assert (epochs.groupby("trial_id").size() == EPOCHS).all()
    after = completed_epochs(run)
    assert {key: after[key] for key in kept} == kept  # none trained again
    assert status(run) == "completed"


def alive(pid: int) -> bool:
    """Whether process `pid` still runs (a zombie, ended but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def test_ctrl_c_stops_the_chief_and_its_workers(write_config, tmp_path):
    """Ctrl-C in the terminal reaches the chief and its two workers: each records its trial
    as interrupted, the chief exits 130 once they are gone, and --resume finishes the run."""
    config = write_config(GRID)
    runs, run = tmp_path / "runs", tmp_path / "runs" / "stops"
    term = Terminal("search", config, "--runs-dir", runs, "--workers", "2", cwd=tmp_path)
    term.until(lambda term: running_rows(run) > 0, "a worker's first epoch")
    pids = [int(path.read_text()) for path in (run / "tuner" / "workers").glob("*.pid")]
    assert len(pids) == 2
    term.ctrl_c()
    code = term.wait()
    check_stopped(run, code, term.text, {}, running=2)
    assert not [pid for pid in pids if alive(pid)], "a worker outlived its chief"
    check_resumed(config, runs, completed_epochs(run))  # in one process: the cheaper check
