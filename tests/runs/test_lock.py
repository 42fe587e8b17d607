"""One search at a time on a run: a second `tunenet search` on a running run exits 2 naming the
process, before it deletes or writes anything; a lock left by a killed search is taken over.

The holder here is a plain Python process that opens the run as a search does (`runs.prepare`)
and sleeps: no TensorFlow. One end-to-end test runs a real search.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import REPO
from tunenet import runs
from tunenet.config.load import load_config
from tunenet.errors import RunDirError
from tunenet.runs import lock

CONFIG = """
    name: g
    seed: 7
    data: {source: iris}
    model: {layers: 1, units: [4, 8]}
    training: {epochs: 2, batch_size: 16, early_stopping: false}
    search: {strategy: grid}
"""

HOLDER = """
import sys, time
from pathlib import Path
from tunenet import runs
from tunenet.config.load import load_config
config_path, runs_dir, resume = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "resume"
options = runs.RunOptions(config_path=config_path, runs_dir=runs_dir, resume=resume)
runs.prepare(load_config(config_path), options)
print("locked", flush=True)
time.sleep(120)
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "grid.yaml"
    path.write_text(textwrap.dedent(CONFIG), encoding="utf-8")
    return path


def options(config: Path, **flags: bool) -> runs.RunOptions:
    return runs.RunOptions(config_path=config, runs_dir=config.parent / "runs", **flags)


def hold(config: Path, resume: bool = False) -> subprocess.Popen:
    """A process that opens the run as a search does and keeps it open (until killed)."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(config), str(config.parent / "runs"),
         "resume" if resume else "new"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    line = process.stdout.readline()
    assert line == "locked\n", line or process.stderr.read()  # stderr: only once it ended
    return process


@pytest.fixture
def holder(config: Path):
    process = hold(config)
    yield process
    process.kill()
    process.wait()


def search(cli, config: Path, *flags: str):
    return cli("search", config, "--runs-dir", config.parent / "runs", "-q", *flags)


@pytest.mark.parametrize("flags", [(), ("--resume",), ("--overwrite",)], ids=str)
def test_a_second_search_on_a_running_run_exits_2_naming_the_process(
    flags, cli, config, holder, tmp_path, untouched
):
    (tmp_path / "runs" / "g" / "trials.csv").write_text("trial_id,status\n00,completed\n")
    with untouched():  # --overwrite deletes nothing, --resume repairs nothing
        result = search(cli, config, *flags)
    assert result.exit_code == 2, result.output
    message = result.stderr
    assert f"runs/g: another search is running on this run (pid {holder.pid}, " in message
    assert (
        "python -c" in message and "grid.yaml" in message and "started 20" in message
    )  # its command and start time
    assert f"kill {holder.pid}" in message
    assert "Traceback" not in message and "internal error" not in message


def test_the_lock_is_checked_before_the_config_or_data_are_loaded_for_training(config, holder):
    with pytest.raises(RunDirError, match=f"pid {holder.pid}"):
        runs.locate(load_config(config), options(config, resume=True))
    with pytest.raises(RunDirError, match=f"pid {holder.pid}"):
        runs.prepare(load_config(config), options(config, overwrite=True))


def test_workers_and_reading_commands_work_on_a_running_run(cli, config, holder, tmp_path):
    run = runs.join(load_config(config), options(config))  # a worker joins the chief's run
    assert run.path == tmp_path / "runs" / "g"
    for name in ("trials.csv", "epochs.csv"):  # as if some trials had run
        (run.path / name).write_bytes(
            (REPO / "tests/fixtures/runs/small-split" / name).read_bytes()
        )
    result = cli("report", run.path, "--no-plots", "-f", "json")
    assert result.exit_code == 0, result.output


def test_a_lock_left_by_a_killed_search_is_taken_over_silently(config, tmp_path):
    process = hold(config)
    process.send_signal(signal.SIGKILL)
    process.wait()
    lock_file = tmp_path / "runs" / "g" / ".search.lock"
    assert json.loads(lock_file.read_text())["pid"] == process.pid  # left behind
    run = runs.prepare(load_config(config), options(config, resume=True))
    try:
        assert json.loads(lock_file.read_text())["pid"] == os.getpid()
        assert not run.notes  # nothing said about the stale lock
    finally:
        runs.release_lock(run.path)
    again = hold(config, resume=True)  # released: another process may search it now
    again.kill()
    again.wait()


def test_overwrite_keeps_the_lock_file_and_replaces_the_rest(config, tmp_path):
    run = runs.prepare(load_config(config), options(config))
    (run.path / "trials.csv").write_text("trial_id,status\n")
    (run.path / "tuner").mkdir()
    inode = (run.path / ".search.lock").stat().st_ino
    runs.release_lock(run.path)
    run = runs.prepare(load_config(config), options(config, overwrite=True))
    runs.release_lock(run.path)
    names = sorted(p.name for p in run.path.iterdir())
    assert names == [".search.lock", "config.yaml", "manifest.json", "resolved.yaml"]
    assert (run.path / ".search.lock").stat().st_ino == inode  # the very file others lock


def test_a_directory_holding_only_a_stale_lock_is_a_new_run(config, tmp_path):
    (tmp_path / "runs" / "g").mkdir(parents=True)
    (tmp_path / "runs" / "g" / ".search.lock").write_text('{"pid": 1}\n')
    run = runs.prepare(load_config(config), options(config))  # no --overwrite needed
    runs.release_lock(run.path)
    assert run.manifest_file.is_file()


def test_a_lock_file_that_is_a_symbolic_link_is_refused_and_its_target_kept(config, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (tmp_path / "runs" / "g").mkdir(parents=True)
    (tmp_path / "runs" / "g" / ".search.lock").symlink_to(victim)
    with pytest.raises(RunDirError, match=r"\.search\.lock: is a symbolic link"):
        runs.prepare(load_config(config), options(config))
    assert victim.read_text() == "keep me\n"


def test_a_lock_file_that_is_a_fifo_is_refused_without_blocking(config, tmp_path):
    (tmp_path / "runs" / "g").mkdir(parents=True)
    os.mkfifo(tmp_path / "runs" / "g" / ".search.lock")
    with pytest.raises(RunDirError, match="is not a regular file"):
        runs.locate(load_config(config), options(config, overwrite=True))


HANDOVER = """
import os, sys, time
from pathlib import Path
from tunenet.runs import lock
run = Path(sys.argv[1])
if sys.argv[2] == "first":
    held = lock.acquire(run)
    held.record()
    os.execv(sys.executable, [sys.executable, "-c", sys.argv[3], *sys.argv[1:2], "successor"])
inherited = lock._inherited(lock.lock_path(run))  # the very descriptor, still open
lock.check_free(run)  # its own lock: not another search
print("adopted", inherited is not None and lock.acquire(run).fd == inherited, flush=True)
time.sleep(120)
"""


def test_a_search_that_hands_over_to_a_fresh_process_keeps_its_lock(tmp_path):
    """os.execv (a hand-over, tuning/handover.py): the successor adopts the lock, never lets go."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    env.pop(lock.INHERITED_ENV, None)
    process = subprocess.Popen(
        [sys.executable, "-c", HANDOVER, str(tmp_path), "first", HANDOVER],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        line = process.stdout.readline()
        assert line == "adopted True\n", line or process.stderr.read()
        with pytest.raises(RunDirError, match=f"pid {process.pid}, "):  # exec keeps the pid
            lock.check_free(tmp_path)
    finally:
        process.kill()
        process.wait()
    lock.acquire(tmp_path)  # gone with its process
    lock.release(tmp_path)


def test_the_same_process_may_take_its_own_lock_again(tmp_path):
    first = lock.acquire(tmp_path)
    assert lock.acquire(tmp_path) is first
    lock.check_free(tmp_path)  # its own lock is not "another search"
    lock.release(tmp_path)
    lock.release(tmp_path)  # twice: nothing happens


def test_the_message_when_the_holder_wrote_nothing_yet():
    message = lock.busy_message(Path("runs/g"), {})
    assert "another search is running on this run (pid unknown)" in message
    assert "kill" not in message


@pytest.mark.e2e
@pytest.mark.slow
def test_two_real_searches_on_one_run(cli, tmp_path):
    """A real search in a subprocess: --resume and --overwrite on it exit 2 and change nothing;
    after kill -9 a --resume takes the run over and finishes it."""
    config = tmp_path / "grid.yaml"
    config.write_text(
        textwrap.dedent(CONFIG).replace("units: [4, 8]", "units: [4, 5, 6, 7]")
        .replace("epochs: 2", "epochs: 30"), encoding="utf-8",
    )  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    process = subprocess.Popen(
        [sys.executable, "-m", "tunenet.cli", "search", str(config), "--runs-dir",
         str(tmp_path / "runs"), "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    run = tmp_path / "runs" / "g"
    try:
        deadline = time.monotonic() + 120
        while not (run / "trials.csv").is_file():  # the search is running its trials
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        for flag in ("--resume", "--overwrite"):
            rows = set((run / "trials.csv").read_text().splitlines())
            result = search(cli, config, flag)
            assert result.exit_code == 2, result.output
            assert f"pid {process.pid}" in result.stderr
            assert rows <= set((run / "trials.csv").read_text().splitlines())  # none lost
        assert process.poll() is None, "the search should still be running"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    result = search(cli, config, "--resume")
    assert result.exit_code == 0, result.output
    trials = (run / "trials.csv").read_text().splitlines()
    assert len(trials) == 1 + 4 and all(",completed," in line for line in trials[1:])
    after = hold(config, resume=True)  # the ended search gave the lock back
    after.kill()
    after.wait()
