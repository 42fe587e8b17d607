"""best/confusion.json: the best model's confusion matrix, written by the search (docs/run-format.md)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest

from tunenet.runs import RunDir

IRIS = """\
name: iris
seed: 3
data: {source: iris, split: {validation: 0.3, test: 0.3}}
model: {layers: 1, units: [4, 16]}
optimizer: {name: adam, learning_rate: 0.01}
training: {epochs: 3, batch_size: 16, early_stopping: false, monitor_layers: false}
search: {strategy: grid, max_trials: 2}
"""


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory):
    """Two trials, three epochs each, with a test split."""
    from typer.testing import CliRunner

    from tunenet.cli import app

    root = tmp_path_factory.mktemp("iris")
    config = root / "iris.yaml"
    config.write_text(IRIS)
    result = CliRunner().invoke(app, ["search", str(config), "--runs-dir", str(root / "runs")])
    assert result.exit_code == 0, result.output
    run = root / "runs" / "iris"
    trials = pd.read_csv(run / "trials.csv", dtype={"trial_id": str})
    confusion = json.loads((run / "best" / "confusion.json").read_text())
    return run, trials, confusion


def best_of(trials: pd.DataFrame) -> pd.Series:
    return trials.loc[trials["test_error"].notna()].iloc[0]  # test_error: the best trial only


@pytest.mark.e2e
def test_confusion_json_is_the_best_trials_in_class_order(iris_run):
    run, trials, confusion = iris_run
    assert confusion["format_version"] == 1
    assert confusion["labels"] == ["setosa", "versicolor", "virginica"]
    assert confusion["trial_id"] == best_of(trials)["trial_id"]
    assert json.loads((run / "manifest.json").read_text())["best_trial"] == confusion["trial_id"]
    assert set(confusion["splits"]) == {"val", "test"}


@pytest.mark.e2e
def test_counts_sum_to_the_split_sizes(iris_run):
    _, trials, confusion = iris_run
    best = best_of(trials)
    for split in ("val", "test"):
        matrix = confusion["splits"][split]
        assert len(matrix) == 3 and all(len(row) == 3 for row in matrix)
        assert sum(map(sum, matrix)) == best[f"{split}_n"]


@pytest.mark.e2e
def test_diagonal_matches_the_recorded_errors_of_the_same_epoch(iris_run):
    _, trials, confusion = iris_run
    best = best_of(trials)
    for split in ("val", "test"):
        matrix = confusion["splits"][split]
        accuracy = sum(matrix[i][i] for i in range(3)) / sum(map(sum, matrix))
        assert accuracy == pytest.approx(1 - best[f"{split}_error"], abs=1e-6)


@pytest.mark.e2e
def test_the_report_shows_it(iris_run, cli):
    run, _, _ = iris_run
    result = cli("report", run, "--format", "json", "--no-plots")
    assert result.exit_code == 0, result.stderr
    confusion = json.loads(result.stdout)["confusion"]
    assert confusion["labels"] == ["setosa", "versicolor", "virginica"]
    assert set(confusion["splits"]) == {"val", "test"}


def test_nothing_is_written_for_regression(tmp_path):
    from tunenet.tuning.confusion import add_test_confusion, write_best_confusion

    run = RunDir(tmp_path / "run")
    pipelines = SimpleNamespace(dataset=SimpleNamespace(task="regression", y_test=[1.0]))
    assert write_best_confusion(run, "0000", None, pipelines) is None
    assert add_test_confusion(run, "0000", None, pipelines) is None
    assert not run.confusion_file.exists()
