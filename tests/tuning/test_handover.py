"""Bounded memory: trial graphs released, and a search that hands over to a fresh process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tunenet.tuning import handover
from tunenet.tuning.handover import MARGIN_MB, MIN_TRIALS, REFERENCE_TRIAL, Handover

SEARCH = """
    name: {name}
    seed: 7
    data: {{source: iris}}
    model: {{layers: 1, units: [4, 8, 16]}}
    optimizer: {{learning_rate: {{min: 0.01, max: 0.1, sampling: log}}}}
    training: {{epochs: 3, batch_size: 16, early_stopping: false}}
    search: {{strategy: random, max_trials: 5}}
"""
# The console command, with the hand-over's log line on stderr (the first process's only: the
# successor is a plain `python -m tunenet.cli`).
LOGGED_CLI = (
    "import logging, sys\n"
    "log = logging.getLogger('tunenet.tuning.handover')\n"
    "log.addHandler(logging.StreamHandler()); log.setLevel(logging.INFO)\n"
    "from tunenet.cli import main\n"
    "sys.argv = ['tunenet', *sys.argv[1:]]\n"
    "main()\n"
)
TIMES = ["seconds", "started_at", "finished_at"]


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"trial_id": str})


# ---------------------------------------------------------------- when to hand over


def trials_until_due(plan: Handover, sizes: list[float]) -> int | None:
    """The trial after which `plan` hands over, given the RSS after each trial."""
    for trial, size in enumerate(sizes, start=1):
        if plan.due(size):
            return trial
    return None


def test_budget_is_the_size_after_the_reference_trial_plus_a_margin():
    plan = Handover(started=0.0)
    flat = [700.0] * REFERENCE_TRIAL
    assert trials_until_due(plan, flat) is None
    assert plan.budget_mb == 700.0 + MARGIN_MB
    assert plan.due(700.0 + MARGIN_MB) is None  # at the budget is not past it
    assert "MB resident" in plan.due(700.0 + MARGIN_MB + 1)


def test_growing_memory_hands_over_before_it_is_margin_past_trial_20():
    growth = 5.0  # MB per trial, TensorFlow's leak before tunenet released trial graphs
    sizes = [600.0 + growth * trial for trial in range(1, 200)]
    due = trials_until_due(Handover(started=0.0), sizes)
    assert due is not None
    assert sizes[due - 1] - sizes[REFERENCE_TRIAL - 1] <= MARGIN_MB + growth


def test_a_successor_above_the_budget_gets_its_own_margin():
    plan = Handover(started=0.0, budget_mb=700.0)  # its predecessor's budget
    sizes = [750.0] + [750.0 + MARGIN_MB] * MIN_TRIALS + [751.0 + MARGIN_MB]
    assert trials_until_due(plan, sizes) == len(sizes)


def test_a_process_runs_some_trials_before_it_may_hand_over():
    plan = Handover(started=0.0, budget_mb=700.0)
    assert trials_until_due(plan, [690.0] + [800.0] * 2 * MIN_TRIALS) == MIN_TRIALS


def test_every_n_trials_is_for_tests(monkeypatch):
    monkeypatch.setattr(handover, "_enabled", True)
    monkeypatch.setenv(handover.EVERY_ENV, "2")
    plan = handover.plan()
    assert [plan.due(600.0) for _ in range(2)][-1] == "2 trials"


def test_only_the_console_command_hands_over(monkeypatch):
    """The Python API and the in-process CLI runner never re-execute their process."""
    monkeypatch.setattr(handover, "_enabled", False)
    monkeypatch.setenv(handover.STATE_ENV, json.dumps({"started": 1.0, "budget_mb": 700.0}))
    assert handover.plan() is None
    assert not handover.inherit()


def test_a_successor_inherits_the_state_and_hides_it_from_its_children(monkeypatch):
    monkeypatch.setattr(handover, "_enabled", True)
    monkeypatch.setattr(handover, "_inherited", None)
    state = {"started": 123.0, "budget_mb": 700.0, "count": 2}
    monkeypatch.setenv(handover.STATE_ENV, json.dumps(state))
    assert handover.inherit()
    assert handover.STATE_ENV not in __import__("os").environ
    plan = handover.plan()
    assert (plan.started, plan.budget_mb, plan.count) == (123.0, 700.0, 2)


# ---------------------------------------------------------------- TensorFlow's leak


def test_trial_memory_releases_only_the_custom_gradients_of_the_search():
    import tensorflow as tf

    from tunenet.tuning.tf_memory import PREFIX, TrialMemory, _registry

    before = set(_registry())
    memory = TrialMemory()

    @tf.custom_gradient
    def doubled(x):
        return 2 * x, lambda upstream: 2 * upstream

    tf.function(doubled).get_concrete_function(tf.TensorSpec([], tf.float32))  # graph mode
    added = {name for name in _registry() if name.startswith(PREFIX)} - before
    assert added, "tracing a custom gradient registers it"
    assert memory.release() == len(added)
    assert set(_registry()) == before


# ---------------------------------------------------------------- the whole search


def search_process(config: Path, runs: Path, *extra: str, every: int = 2) -> subprocess.Popen:
    env = {**__import__("os").environ, handover.EVERY_ENV: str(every)}
    return subprocess.Popen(
        [sys.executable, "-c", LOGGED_CLI, "search", str(config), "--runs-dir", str(runs), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.e2e
def test_a_search_handed_over_every_two_trials_records_the_same_run(cli, write_config, tmp_path):
    config = write_config(SEARCH.format(name="handed"), name="handed.yaml")
    process = search_process(config, tmp_path / "handed")
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    assert "hand-over 1 after 2 trial(s)" in stderr
    assert "resume" not in (stdout + stderr).lower() and "reused" not in stderr
    assert stdout.count("run handed: 5 trial(s)") == 1  # one summary, by the last process

    reference = cli("search", config, "--runs-dir", tmp_path / "single", "--quiet")
    assert reference.exit_code == 0, reference.output
    handed, single = tmp_path / "handed" / "handed", tmp_path / "single" / "handed"
    trials = read(handed / "trials.csv")
    assert len(trials) == 5 and trials["trial_id"].is_unique
    assert set(trials["status"]) == {"completed"}
    pd.testing.assert_frame_equal(
        trials.drop(columns=TIMES), read(single / "trials.csv").drop(columns=TIMES)
    )
    epochs = read(handed / "epochs.csv")
    assert not epochs.duplicated(["trial_id", "execution", "epoch"]).any()
    pd.testing.assert_frame_equal(
        epochs.drop(columns=["seconds"]), read(single / "epochs.csv").drop(columns=["seconds"])
    )
    manifest = json.loads((handed / "manifest.json").read_text())
    assert manifest["status"] == "completed"
    assert manifest["best_trial"] in set(trials["trial_id"])


@pytest.mark.slow
@pytest.mark.e2e
def test_ctrl_c_after_a_hand_over_keeps_the_run_for_resume(write_config, tmp_path, cli):
    config = write_config(SEARCH.format(name="stopped"), name="stopped.yaml")
    runs, run = tmp_path / "runs", tmp_path / "runs" / "stopped"
    process = search_process(config, runs)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # into the third trial: after the first hand-over
        if (run / "epochs.csv").exists() and len((run / "epochs.csv").read_text().splitlines()) > 7:
            break
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "--resume" in stderr and "Traceback" not in stderr
    assert json.loads((run / "manifest.json").read_text())["status"] == "interrupted"

    resumed = cli("search", config, "--runs-dir", runs, "--resume", "--quiet")  # no start-up
    assert resumed.exit_code == 0, resumed.output
    trials, epochs = read(run / "trials.csv"), read(run / "epochs.csv")
    assert len(trials) == 5 and set(trials["status"]) == {"completed"}
    assert not epochs.duplicated(["trial_id", "execution", "epoch"]).any()
