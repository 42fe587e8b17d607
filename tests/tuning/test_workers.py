"""Distributed search: chief + workers on keras-tuner's own mode, over loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import tunenet_command
from tunenet.errors import RunDirError
from tunenet.tuning.workers import free_port, thread_share, wait_for_chief, worker_environment

GRID = """
    name: {name}
    seed: 5
    data: {{source: iris}}
    model: {{layers: 1, units: [4, 8]}}
    optimizer: {{learning_rate: [0.01, 0.05]}}
    training: {{epochs: {epochs}, batch_size: 16, early_stopping: false}}
    search: {{strategy: grid}}
"""


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"trial_id": str})


def search(*args, timeout=400) -> subprocess.CompletedProcess:
    return subprocess.run(tunenet_command("search", *args), capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip


def check_grid_done(run: Path) -> None:
    """Every grid point completed exactly once; epochs.csv has no duplicate or missing row."""
    trials, epochs = read(run / "trials.csv"), read(run / "epochs.csv")
    assert list(trials["status"]) == ["completed"] * 4
    points = set(zip(trials["hp.model.units.0"], trials["hp.optimizer.learning_rate"], strict=True))
    assert len(points) == 4
    assert not epochs.duplicated(["trial_id", "execution", "epoch"]).any()
    per_trial = epochs.groupby("trial_id").size()
    assert dict(per_trial) == dict(zip(trials["trial_id"], trials["epochs_trained"], strict=True))
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "completed"
    assert (run / "best" / "model.keras").exists()


def test_worker_environment_sets_oracle_threads_and_gpu():
    env = worker_environment(1, "127.0.0.1", 8123, threads=1, gpus=["0", "1"])
    assert env["KERASTUNER_TUNER_ID"] == "tuner1"
    assert env["KERASTUNER_ORACLE_IP"] == "127.0.0.1"
    assert env["KERASTUNER_ORACLE_PORT"] == "8123"
    assert env["TF_NUM_INTRAOP_THREADS"] == "1" and env["OMP_NUM_THREADS"] == "1"
    assert env["CUDA_VISIBLE_DEVICES"] == "1"
    assert worker_environment(2, "h", 1, 1, ["0", "1"])["CUDA_VISIBLE_DEVICES"] == "0"
    assert "CUDA_VISIBLE_DEVICES" not in worker_environment(0, "h", 1, 1, None) or os.environ.get(
        "CUDA_VISIBLE_DEVICES"
    )
    assert thread_share(2) == max(1, (os.cpu_count() or 1) // 2)


@pytest.mark.slow
@pytest.mark.e2e
def test_two_workers_finish_a_grid_once(write_config, tmp_path):
    config = write_config(GRID.format(name="two", epochs=3), name="two.yaml")
    result = search(config, "--runs-dir", tmp_path, "--workers", "2")
    assert result.returncode == 0, result.stderr
    check_grid_done(tmp_path / "two")
    assert "Search: Running Trial" not in result.stdout  # keras-tuner's display stays quiet
    assert {Path(p).name for p in (tmp_path / "two" / "tuner" / "workers").glob("*.log")} == {
        "tuner0.log", "tuner1.log"
    }  # fmt: skip


@pytest.mark.slow
@pytest.mark.e2e
def test_a_killed_worker_loses_only_its_trial(write_config, tmp_path):
    config = write_config(GRID.format(name="kill", epochs=25), name="kill.yaml")
    chief = subprocess.Popen(tunenet_command("search", config, "--runs-dir", tmp_path,
                                             "--workers", "2"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    epochs, pid_file = tmp_path / "kill" / "epochs.csv", tmp_path / "kill/tuner/workers/tuner0.pid"
    deadline = time.monotonic() + 200
    while time.monotonic() < deadline:
        if epochs.exists() and pid_file.exists():
            rows = read(epochs)
            if (rows["trial_id"] == "0").sum() >= 3 or len(rows) >= 6:
                break
        assert chief.poll() is None, chief.communicate()
        time.sleep(0.1)
    os.kill(int(pid_file.read_text()), signal.SIGKILL)
    _, stderr = chief.communicate(timeout=400)
    assert chief.returncode == 0, stderr
    check_grid_done(tmp_path / "kill")


@pytest.mark.slow
@pytest.mark.e2e
def test_workers_are_recycled_after_a_trial_count(write_config, tmp_path):
    config = write_config(GRID.format(name="recycle", epochs=1), name="recycle.yaml")
    result = search(
        config, "--runs-dir", tmp_path, "--workers", "1", "--max-trials-per-worker", "2"
    )
    assert result.returncode == 0, result.stderr
    check_grid_done(tmp_path / "recycle")
    log = (tmp_path / "recycle" / "tuner" / "workers" / "tuner0.log").read_text()
    assert log.count("a fresh process takes over") == 2  # 4 trials, 2 per process


@pytest.mark.slow
@pytest.mark.e2e
def test_remote_worker_joins_a_serving_chief(write_config, tmp_path):
    config = write_config(GRID.format(name="joined", epochs=1), name="joined.yaml")
    address = f"127.0.0.1:{free_port()}"
    chief = subprocess.Popen(
        tunenet_command("search", config, "--runs-dir", tmp_path, "--workers", "0",
                        "--serve", address),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    manifest = tmp_path / "joined" / "manifest.json"
    deadline = time.monotonic() + 120
    while not manifest.exists() and time.monotonic() < deadline:
        assert chief.poll() is None, chief.communicate()
        time.sleep(0.1)
    joined = subprocess.run(
        tunenet_command("worker", config, "--oracle", address, "--runs-dir", tmp_path,
                        "--id", "laptop"),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert joined.returncode == 0, joined.stderr
    _, stderr = chief.communicate(timeout=120)
    assert chief.returncode == 0, stderr
    check_grid_done(tmp_path / "joined")


@pytest.mark.slow
@pytest.mark.e2e
def test_interrupted_distributed_run_resumes(write_config, tmp_path):
    config = write_config(GRID.format(name="again", epochs=8), name="again.yaml")
    chief = subprocess.Popen(tunenet_command("search", config, "--runs-dir", tmp_path,
                                             "--workers", "2"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    epochs = tmp_path / "again" / "epochs.csv"
    deadline = time.monotonic() + 200
    while time.monotonic() < deadline:
        if epochs.exists() and len(epochs.read_text().splitlines()) > 4:
            break
        assert chief.poll() is None, chief.communicate()
        time.sleep(0.1)
    chief.send_signal(signal.SIGINT)
    _, stderr = chief.communicate(timeout=120)
    assert chief.returncode == 130, stderr
    assert "--resume" in stderr
    result = search(config, "--runs-dir", tmp_path, "--workers", "2", "--resume")
    assert result.returncode == 0, result.stderr
    check_grid_done(tmp_path / "again")


@pytest.mark.slow
@pytest.mark.e2e
def test_silent_remote_worker_has_its_trial_given_to_another(write_config, tmp_path):
    config = write_config(GRID.format(name="silent", epochs=30), name="silent.yaml")
    address = f"127.0.0.1:{free_port()}"
    chief = subprocess.Popen(
        tunenet_command("search", config, "--runs-dir", tmp_path, "--workers", "0",
                        "--serve", address, "--worker-timeout", "3"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    manifest, epochs = tmp_path / "silent" / "manifest.json", tmp_path / "silent" / "epochs.csv"
    while not manifest.exists():
        assert chief.poll() is None, chief.communicate()
        time.sleep(0.1)
    worker = ["worker", config, "--oracle", address, "--runs-dir", tmp_path]
    doomed = subprocess.Popen(tunenet_command(*worker, "--id", "doomed"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 200
    while not (epochs.exists() and len(epochs.read_text().splitlines()) > 3):
        assert time.monotonic() < deadline and doomed.poll() is None
        time.sleep(0.1)
    doomed.kill()  # dies in its first trial, and nobody restarts it
    doomed.wait()
    rescuer = subprocess.run(tunenet_command(*worker, "--id", "rescuer"), capture_output=True,
                             text=True, timeout=400)  # fmt: skip
    assert rescuer.returncode == 0, rescuer.stderr
    _, stderr = chief.communicate(timeout=120)
    assert chief.returncode == 0, stderr
    assert "worker doomed silent" in stderr
    check_grid_done(tmp_path / "silent")


def test_worker_without_a_chief_says_so(cli, write_config, tmp_path):
    config = write_config(GRID.format(name="alone", epochs=1), name="alone.yaml")
    environment = dict(os.environ)  # a worker sets keras-tuner's variables for its process
    try:
        result = cli("worker", config, "--oracle", f"127.0.0.1:{free_port()}",
                     "--runs-dir", tmp_path)  # fmt: skip
    finally:
        os.environ.clear()
        os.environ.update(environment)
    assert result.exit_code == 2
    assert "no run to join" in result.stderr and "Traceback" not in result.stderr


def test_no_chief_at_the_address_is_a_clear_error():
    with pytest.raises(RunDirError, match="no chief answers at 127.0.0.1"):
        wait_for_chief("127.0.0.1", free_port(), timeout=1)
