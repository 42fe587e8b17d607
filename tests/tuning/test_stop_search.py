"""Searches that stop early or train nothing (docs/guide.md, "When to stop, what it costs, what to
keep"): a space of only infeasible models, the no-gain rule and the time budget, end to end on
iris, as the user sees them: exit code, messages, trials.csv, epochs.csv, manifest.json."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import tunenet
from tunenet.tuning.events import SearchListener

BASE = {
    "data": {"source": "iris"},
    "model": {"layers": 1, "units": 8},
    "training": {"epochs": 1, "early_stopping": False, "monitor_layers": False},
    "search": {"strategy": "grid"},
}


def config(name: str, **sections) -> dict:
    raw = {"name": name, **{key: dict(value) for key, value in BASE.items()}}
    for section, keys in sections.items():
        raw[section] = {**raw.get(section, {}), **keys}
    return raw


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.e2e
def test_a_space_of_only_infeasible_models_trains_nothing_and_exits_1(tmp_path):
    raw = config("too-big", model={"layers": 1, "units": [16, 32, 64]})
    path = tmp_path / "too-big.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    env = {**os.environ, "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-m", "tunenet.cli", "search", str(path), "--runs-dir",
         str(tmp_path / "runs"), "--max-params", "100", "--quiet"],
        capture_output=True, text=True, env=env, timeout=240,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    said = " ".join((result.stdout + result.stderr).split())
    # 4 features -> units -> 3 classes: (4 + 1) * 16 + (16 + 1) * 3 = 131 for the smallest
    assert (
        "no trial completed: all 3 proposed models exceed search.max_params = 100 "
        "(the smallest has 131 trainable parameters)" in said
    )
    assert "Raise search.max_params (--max-params)" in said
    run = tmp_path / "runs" / "too-big"
    trials = rows(run / "trials.csv")
    assert [row["status"] for row in trials] == ["infeasible"] * 3
    assert [int(row["params"]) for row in trials] == [131, 259, 515]
    assert [int(row["model_bytes"]) for row in trials] == [524, 1036, 2060]
    assert all(row["epochs_trained"] == "" and row["val_error"] == "" for row in trials)
    assert trials[0]["message"].startswith(
        "infeasible: 131 trainable parameters, above search.max_params = 100; not trained."
    )
    assert rows(run / "epochs.csv") == []  # no epoch of any of them
    assert manifest(run)["status"] == "failed"
    report = tunenet.report(run).to_dict()
    assert [trial["status"] for trial in report["trials"]] == ["infeasible"] * 3


@pytest.mark.e2e
def test_no_gain_beyond_the_noise_stops_the_search(tmp_path):
    # a learning rate far too small to learn in one epoch: every trial stays near chance, so no
    # trial beats the first beyond the noise of 30 validation examples
    rates = [1.0e-6, 1.1e-6, 1.2e-6, 1.3e-6, 1.4e-6, 1.5e-6]
    raw = config(
        "no-gain",
        optimizer={"name": "sgd", "learning_rate": rates},
        search={"max_trials": 6, "stop_after_no_gain": 2},
    )
    stopped = []

    class Listener(SearchListener):
        def on_search_stopped(self, reason: str, detail: str) -> None:
            stopped.append((reason, detail))

    result = tunenet.search(raw, runs_dir=tmp_path / "runs", listeners=[Listener()])
    trials = result.trials
    assert trials["status"].tolist() == ["completed"] * 3  # the first, then 2 without gain
    summary = result.summary
    assert summary.stopped_by == "no_gain"
    assert summary.stopped.startswith(
        "2 trials in a row without a gain beyond the noise; best so far trial "
    )
    assert stopped == [("no_gain", summary.stopped)]
    assert manifest(result.run_dir)["stopped_by"] == "no_gain"
    assert manifest(result.run_dir)["status"] == "completed"


@pytest.mark.e2e
def test_a_trial_past_the_budget_stops_at_an_epoch_end_and_runs_again_on_resume(tmp_path):
    runs = tmp_path / "runs"
    raw = config("budget", optimizer={"learning_rate": [0.01, 0.02, 0.03]})
    first = tunenet.search({**raw, "search": {**raw["search"], "max_trials": 1}}, runs_dir=runs)
    assert manifest(first.run_dir).get("stopped_by") is None
    # trial 1 would train 400 epochs (seconds); the budget of 1 s stops it at 1.1 s
    longer = {**raw, "training": {**raw["training"], "epochs": 400}}
    resumed = tunenet.search(
        {**longer, "search": {**raw["search"], "max_trials": 3}},
        runs_dir=runs, resume=True, time_budget="1s",
    )  # fmt: skip
    trials = rows(resumed.run_dir / "trials.csv")
    assert [row["status"] for row in trials] == ["completed", "interrupted"]
    assert trials[1]["message"] == "stopped at search.time_budget + 10%; runs again on --resume"
    epochs = [row for row in rows(resumed.run_dir / "epochs.csv") if row["trial_id"] == "1"]
    assert 1 <= len(epochs) < 400
    assert resumed.summary.stopped.startswith("the time budget of 1s is spent (")
    assert resumed.summary.stopped.endswith(
        "; trial 1 stopped at the budget + 10% and runs again on --resume"
    )
    recorded = manifest(resumed.run_dir)
    assert (recorded["status"], recorded["stopped_by"]) == ("completed", "time_budget")
    # --resume without a budget runs the interrupted trial again, under its own id
    again = tunenet.search({**raw, "search": {**raw["search"], "max_trials": 2}}, runs_dir=runs,
                           resume=True)  # fmt: skip
    trials = rows(again.run_dir / "trials.csv")
    assert [(row["trial_id"], row["status"]) for row in trials] == [
        ("0", "completed"),
        ("1", "completed"),
    ]
    assert manifest(again.run_dir)["stopped_by"] is None
