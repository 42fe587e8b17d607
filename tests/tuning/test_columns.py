"""trials.csv's last columns (docs/run-format.md): when each trial ran, the split sizes and, for regression,
the standard error of each error; and runs written before them still resume."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

import tunenet
from tunenet.config import load as loader
from tunenet.config.objective import Objective
from tunenet.data.dataset import load_dataset
from tunenet.reporting.progress import SearchProgress
from tunenet.runs import RunDir
from tunenet.tuning.pipelines import standard_error
from tunenet.tuning.trial import Execution, SearchContext, score_row

NEW = ["started_at", "finished_at", "train_n", "val_n", "test_n"]
STANDARD_ERRORS = ["train_error_se", "val_error_se", "test_error_se"]
LOG_LOSSES = ["train_log_loss", "val_log_loss", "val_log_loss_se"]
OLD_END = ["test_error", "objective", "seconds", "seed", "message"]
COST = ["params", "model_bytes", "retry_of", "worker"]  # after all the others

IRIS = {
    "name": "iris-columns",
    "data": {"source": "iris"},
    "model": {"layers": 1, "units": 8},
    "optimizer": {"learning_rate": [0.01, 0.03]},
    "training": {"epochs": 2},
    "search": {"strategy": "grid", "max_trials": 1},
}
DIABETES = {
    "name": "diabetes-columns",
    "data": {"source": "diabetes", "limit": 120},
    "model": {"layers": 1, "units": 8},
    "optimizer": {"learning_rate": [0.01, 0.03]},
    "training": {"epochs": 2},
    "search": {"strategy": "grid"},
}


def context_of(raw: dict, tmp_path: Path) -> SearchContext:
    config = loader.validate_dict(raw)
    progress = SearchProgress(Console(file=io.StringIO()), total=0, quiet=True)
    (tmp_path / "run").mkdir()
    return SearchContext(config, load_dataset(config), RunDir(tmp_path / "run"), progress)


def read_rows(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


# ---------------------------------------------------------------- without training


@pytest.mark.parametrize(("raw", "extra"), [(IRIS, LOG_LOSSES), (DIABETES, STANDARD_ERRORS)])
def test_new_columns_follow_the_old_ones_in_order(raw, extra, tmp_path):
    columns = context_of(raw, tmp_path).trial_columns()
    expected = OLD_END + NEW + extra + COST
    assert columns[-len(expected) :] == expected


def test_a_row_starts_with_its_split_sizes_and_start_time(tmp_path):
    context = context_of(DIABETES, tmp_path)
    row = context.base_row("0", {}, seed=1)
    assert (row["train_n"], row["val_n"], row["test_n"]) == (72, 24, 24)  # 120 rows, 60/20/20
    assert datetime.fromisoformat(row["started_at"]).tzinfo == timezone.utc
    # milliseconds: trials of about a second are counted from these times (benchmarks/README.md)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", row["started_at"])


def test_standard_error_is_std_over_root_n():
    errors = np.array([0.1, 0.5, 0.2, 0.9])
    assert standard_error(errors) == pytest.approx(np.std(errors, ddof=1) / 2)
    assert standard_error(np.array([0.3])) is None and standard_error(None) is None


def test_score_row_averages_each_example_over_executions_first():
    first, second = np.array([0.0, 1.0, 2.0]), np.array([2.0, 1.0, 0.0])
    runs = [
        Execution(None, {1: {"val_loss": 1.0}}, 1, False, False, 1.0, 1.0, first, first),
        Execution(None, {1: {"val_loss": 1.0}}, 1, False, False, 1.0, 1.0, second, None),
    ]
    row = score_row(runs, ["val_loss"], Objective("val_loss", "min"))
    assert row["train_error_se"] == 0.0  # every example's mean is 1: no spread
    assert row["val_error_se"] == pytest.approx(np.std(first, ddof=1) / math.sqrt(3))


def test_classification_rows_have_no_standard_errors():
    runs = [Execution(None, {1: {"val_loss": 1.0}}, 1, False, False, 0.1, 0.2)]
    row = score_row(runs, ["val_loss"], Objective("val_loss", "min"))
    assert row["train_error_se"] is None and row["val_error_se"] is None


# ---------------------------------------------------------------- searches that train


def check_times(trials: pd.DataFrame) -> None:
    for _, row in trials.iterrows():
        started, finished = (datetime.fromisoformat(row[key]) for key in NEW[:2])
        assert started.tzinfo == timezone.utc and started <= finished


@pytest.mark.e2e
def test_classification_columns_match_the_manifest(tmp_path):
    result = tunenet.search(IRIS, runs_dir=tmp_path / "runs")
    trials = result.trials
    assert list(trials.columns[-len(NEW + LOG_LOSSES + COST) :]) == NEW + LOG_LOSSES + COST
    assert not set(STANDARD_ERRORS) & set(trials.columns)
    # 4 features -> 8 units -> 3 classes: (4 + 1) * 8 + (8 + 1) * 3 trainable parameters
    assert trials["params"].tolist() == [67]
    assert trials["model_bytes"].tolist() == [4 * 67]
    assert trials["retry_of"].isna().all() and trials["worker"].isna().all()  # in-process
    check_times(trials)
    sizes = json.loads((result.run_dir / "manifest.json").read_text())["data"]["sizes"]
    row = trials.iloc[0]
    assert row["train_n"] + row["val_n"] + row["test_n"] == 150
    assert [row["train_n"], row["val_n"], row["test_n"]] == [
        sizes["train"],
        sizes["validation"],
        sizes["test"],
    ]


@pytest.mark.e2e
def test_regression_standard_errors(tmp_path):
    result = tunenet.search(DIABETES, runs_dir=tmp_path / "runs")
    trials = result.trials.set_index("trial_id")
    assert list(trials.columns[-7:-4]) == STANDARD_ERRORS
    assert not set(LOG_LOSSES) & set(trials.columns)  # classification only
    check_times(trials)
    for split in ("train", "val"):
        se = trials[f"{split}_error_se"]
        assert (np.isfinite(se) & (se > 0) & (se < trials[f"{split}_error"])).all()
    best = result.best["trial_id"]
    assert trials["test_error_se"].notna().tolist() == (trials.index == best).tolist()
    # the saved best model, evaluated here by hand, gives the recorded val_error and its SE
    config = loader.validate_dict(DIABETES)
    dataset = load_dataset(config)
    model = tunenet_model(result.run_dir)
    predicted = np.asarray(model.predict(dataset.x_val, verbose=0), dtype="float64").ravel()
    errors = (dataset.y_val - predicted) ** 2 / dataset.target_variance
    assert trials.loc[best, "val_error"] == pytest.approx(errors.mean(), rel=1e-4)
    expected = errors.std(ddof=1) / math.sqrt(len(errors))
    assert trials.loc[best, "val_error_se"] == pytest.approx(expected, rel=1e-4)


def tunenet_model(run_dir: Path):
    from tunenet.models.saved import load_best_model

    return load_best_model(RunDir(run_dir).best_model_file)


@pytest.mark.e2e
def test_a_run_written_before_the_new_columns_resumes_and_reports(tmp_path):
    runs = tmp_path / "runs"
    first = tunenet.search(IRIS, runs_dir=runs)
    added = NEW + LOG_LOSSES + COST
    old_columns = [c for c in first.trials.columns if c not in added]
    first.trials[old_columns].to_csv(first.run_dir / "trials.csv", index=False)
    recorded = read_rows(first.run_dir / "trials.csv")[1][0]

    assert tunenet.report(first.run_dir).to_dict()["trials"]  # the old format still reports

    resumed = tunenet.search(IRIS, runs_dir=runs, resume=True, max_trials=2)
    header, rows = read_rows(resumed.run_dir / "trials.csv")
    assert header[-len(added) :] == added  # the header gains the new columns
    old, new = rows
    assert {key: old[key] for key in old_columns if key != "test_error"} == {
        key: recorded[key] for key in old_columns if key != "test_error"
    }
    assert all(old[key] == "" for key in added)  # never measured: left empty, not made up
    assert all(new[key] != "" for key in NEW + LOG_LOSSES + ["params", "model_bytes"])
    assert tunenet.report(resumed.run_dir).to_dict()["trials"]
