"""Workers that pay: each local worker pinned to its share of the cores, its thread pools sized
before TensorFlow loads, started while the chief prepares the run."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import tunenet_command
from tunenet.tuning import workers
from tunenet.tuning.workers import LOCAL_ENV, thread_share, worker_cpus, worker_environment

THREAD_VARIABLES = (
    "TF_NUM_INTRAOP_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
)


def test_each_worker_gets_its_own_share_of_the_cores(monkeypatch):
    monkeypatch.setattr(workers, "available_cpus", lambda: [0, 1, 2, 3])
    assert [worker_cpus(index, 2) for index in range(2)] == [[0, 1], [2, 3]]
    assert [worker_cpus(index, 4) for index in range(4)] == [[0], [1], [2], [3]]
    assert worker_cpus(0, 1) == [0, 1, 2, 3]
    assert thread_share(2) == 2 and thread_share(3) == 1


def test_more_workers_than_cores_are_not_pinned(monkeypatch):
    monkeypatch.setattr(workers, "available_cpus", lambda: [0, 1])
    assert worker_cpus(0, 3) is None
    assert thread_share(3) == 1


def test_the_share_follows_the_affinity_not_the_host(monkeypatch):
    """In a container limited to some CPUs, the workers split those, not the host's."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {4, 5}, raising=False)
    assert workers.available_cpus() == [4, 5]
    assert worker_cpus(1, 2) == [5]


def test_worker_threads_are_set_before_tensorflow_loads():
    env = worker_environment(0, "127.0.0.1", 8123, threads=3, gpus=None)
    assert {name: env[name] for name in THREAD_VARIABLES} == dict.fromkeys(THREAD_VARIABLES, "3")
    assert env["TF_NUM_INTEROP_THREADS"] == "1"
    assert env[LOCAL_ENV] == "1"  # waits for its chief, has the default memory budget


GRID = """
    name: pinned
    seed: 5
    data: {source: digits}
    model: {layers: 1, units: [8, 16, 32, 64]}
    optimizer: {learning_rate: [0.01, 0.05]}
    training: {epochs: 4, batch_size: 32, early_stopping: false}
    search: {strategy: grid}
"""


def worker_pids(run: Path) -> dict[int, int]:
    pids = {}
    for index in range(2):
        path = run / "tuner" / "workers" / f"tuner{index}.pid"
        if path.exists() and path.read_text().strip():
            pids[index] = int(path.read_text())
    return pids


def environment_of(pid: int) -> dict[str, str]:
    text = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    return dict(item.split("=", 1) for item in text.split("\0") if "=" in item)


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc (Linux)")
def test_running_workers_are_pinned_and_finish_the_search(write_config, tmp_path):
    config = write_config(GRID, name="pinned.yaml")
    run = tmp_path / "pinned"
    process = subprocess.Popen(
        tunenet_command("search", config, "--runs-dir", tmp_path, "--workers", "2", "--quiet"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    seen: dict[int, tuple[set[int], dict[str, str]]] = {}
    deadline = time.monotonic() + 300
    while process.poll() is None and len(seen) < 2 and time.monotonic() < deadline:
        for index, pid in worker_pids(run).items():
            try:
                seen.setdefault(index, (os.sched_getaffinity(pid), environment_of(pid)))
            except OSError:
                continue  # not started yet, or already replaced
        time.sleep(0.05)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert set(seen) == {0, 1}, "both workers should have been seen running"
    for index, (cpus, env) in seen.items():
        expected = worker_cpus(index, 2)
        assert cpus == set(expected or workers.available_cpus())
        assert env["TF_NUM_INTRAOP_THREADS"] == str(thread_share(2))
    trials = pd.read_csv(run / "trials.csv", dtype={"trial_id": str})
    assert len(trials) == 8 and set(trials["status"]) == {"completed"}
