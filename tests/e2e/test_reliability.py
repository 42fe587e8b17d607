"""Reliability: kill-safe resume, Ctrl-C, reproducible runs, extending a run."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import tunenet_command

pytestmark = pytest.mark.e2e

GRID = """
    name: {name}
    seed: 7
    data: {{source: iris}}
    model: {{layers: 1, units: [4, 8]}}
    optimizer: {{learning_rate: [0.01, 0.05]}}
    training: {{epochs: 6, batch_size: 16, early_stopping: false}}
    search: {{strategy: grid}}
"""
RANDOM = """
    name: {name}
    seed: 7
    data: {{source: iris}}
    model: {{layers: 1, units: [4, 8, 16]}}
    optimizer: {{learning_rate: {{min: 0.01, max: 0.1, sampling: log}}}}
    training: {{epochs: 4, batch_size: 16, early_stopping: false}}
    search: {{strategy: STRATEGY, max_trials: 4}}
"""
HYPERBAND = """
    name: {name}
    seed: 7
    data: {{source: iris}}
    model: {{layers: 1, units: [4, 8, 16]}}
    optimizer: {{learning_rate: [0.01, 0.05]}}
    training: {{epochs: 4, batch_size: 16, early_stopping: false}}
    search: {{strategy: hyperband, max_epochs: 4, factor: 2, max_trials: 8}}
"""


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"trial_id": str})


def start(config: Path, runs: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        tunenet_command("search", config, "--runs-dir", runs, *extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_rows(epochs: Path, rows: int, process: subprocess.Popen, limit: float = 120) -> None:
    """Wait until epochs.csv holds `rows` data rows (the search is mid-way)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if epochs.exists() and len(epochs.read_text().splitlines()) - 1 >= rows:
            return
        if process.poll() is not None:
            pytest.fail(f"search ended before the kill point: {process.communicate()}")
        time.sleep(0.05)
    pytest.fail("the search did not reach the kill point in time")


def check_consistent(run: Path, trials_expected: int) -> pd.DataFrame:
    trials, epochs = read(run / "trials.csv"), read(run / "epochs.csv")
    assert len(trials) == trials_expected
    assert set(trials["status"]) == {"completed"}
    assert not epochs.duplicated(["trial_id", "execution", "epoch"]).any()
    trained = trials.set_index("trial_id")["epochs_trained"]
    per_trial = epochs.groupby("trial_id").size()
    first = epochs.groupby("trial_id")["epoch"].min()
    # hyperband continues a trial from its parent's epoch: rows = epochs trained - start
    assert (per_trial == trained - first + 1).all()
    assert run.joinpath("epochs.csv").read_text().endswith("\n")
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "completed"
    assert manifest["best_trial"] in set(trials["trial_id"])
    return epochs


@pytest.mark.parametrize(
    ("template", "kill_after", "expected"),
    [
        (GRID, 8, 4),
        (HYPERBAND, 10, 8),
        (RANDOM.replace("STRATEGY", "random"), 6, 4),
        (RANDOM.replace("STRATEGY", "bayesian"), 6, 4),
    ],
    ids=["grid", "hyperband", "random", "bayesian"],
)
@pytest.mark.slow
def test_sigkill_then_resume_finishes_the_search(
    template, kill_after, expected, write_config, tmp_path, cli
):
    name = "killed"
    config = write_config(template.format(name=name), name="kill.yaml")
    runs, run = tmp_path / "runs", tmp_path / "runs" / name
    process = start(config, runs)
    wait_for_rows(run / "epochs.csv", kill_after, process)
    process.kill()
    process.wait()
    before = read(run / "epochs.csv")
    done_before = read(run / "trials.csv") if (run / "trials.csv").exists() else before[:0]
    completed = set(done_before.loc[done_before["status"] == "completed", "trial_id"])
    assert completed, "the kill point should come after at least one completed trial"

    resumed = cli("search", config, "--runs-dir", runs, "--resume")  # in this process: no start-up
    assert resumed.exit_code == 0, resumed.output
    after = check_consistent(run, expected)
    # completed trials were not trained again: their rows are byte-for-byte the same
    same = before[before["trial_id"].isin(completed)].reset_index(drop=True)
    kept = after[after["trial_id"].isin(completed)].reset_index(drop=True)
    pd.testing.assert_frame_equal(same, kept)


@pytest.mark.slow
def test_ctrl_c_marks_the_run_interrupted_and_resume_finishes(write_config, tmp_path, cli):
    config = write_config(GRID.format(name="stopped"), name="stop.yaml")
    runs, run = tmp_path / "runs", tmp_path / "runs" / "stopped"
    process = start(config, runs)
    wait_for_rows(run / "epochs.csv", 8, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "--resume" in stderr and "Traceback" not in stderr
    assert json.loads((run / "manifest.json").read_text())["status"] == "interrupted"
    trials = read(run / "trials.csv")
    assert "interrupted" in set(trials["status"])

    resumed = cli("search", config, "--runs-dir", runs, "--resume")  # in this process: no start-up
    assert resumed.exit_code == 0, resumed.output
    check_consistent(run, 4)


@pytest.mark.slow
def test_same_seed_gives_identical_files(cli, write_config, tmp_path):
    config = write_config(
        """
        seed: 11
        data: {source: wine}
        model: {layers: [1, 2], units: [4, 8], batch_norm: [false, true]}
        regularization: {dropout: {min: 0.0, max: 0.5}}
        optimizer: {name: [sgd, adam], learning_rate: {min: 1.0e-3, max: 1.0e-1, sampling: log}}
        training: {epochs: 3}
        search: {strategy: random, max_trials: 2}
        """,
        name="repro.yaml",
    )
    for name in ("first", "second"):
        result = cli("search", config, "--runs-dir", tmp_path, "--name", name, "--quiet")
        assert result.exit_code == 0, result.output
    when = ["seconds", "started_at", "finished_at"]
    for file, times in (("trials.csv", when), ("epochs.csv", ["seconds"])):
        first = read(tmp_path / "first" / file).drop(columns=times)
        second = read(tmp_path / "second" / file).drop(columns=times)
        pd.testing.assert_frame_equal(first, second)
    trials = read(tmp_path / "first" / "trials.csv")
    assert trials["seed"].nunique() == 2  # each trial has its own recorded seed


@pytest.mark.slow
def test_resume_may_raise_max_trials_and_says_so(cli, write_config, tmp_path):
    text = """
        name: grow
        data: {source: iris}
        model: {units: [2, 4, 8, 16]}
        training: {epochs: 1}
        search: {strategy: random, max_trials: MAX}
    """
    config = write_config(text.replace("MAX", "1"), name="grow.yaml")
    assert cli("search", config, "--runs-dir", tmp_path).exit_code == 0
    config = write_config(text.replace("MAX", "2"), name="grow.yaml")
    result = cli("search", config, "--runs-dir", tmp_path, "--resume")
    assert result.exit_code == 0, result.output
    assert "search.max_trials: 1 -> 2 (allowed on --resume)" in result.stderr
    assert len(read(tmp_path / "grow" / "trials.csv")) == 2


def test_paths_with_spaces_and_unicode(cli, tmp_path):
    folder = tmp_path / "my configs ü"
    folder.mkdir()
    config = folder / "ïris run.yaml"
    config.write_text("data: {source: iris}\ntraining: {epochs: 1}\nsearch: {max_trials: 1}\n")
    runs = tmp_path / "runs with spaces ✓"
    result = cli("search", config, "--runs-dir", runs)
    assert result.exit_code == 0, result.output
    assert (runs / "ïris run" / "best" / "model.keras").exists()
