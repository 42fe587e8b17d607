"""The Python API (docs/api.md): search, report, validate, and the errors they raise."""

from __future__ import annotations

import inspect
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer

import tunenet
from conftest import REPO
from tunenet.cli import app

TINY = {
    "name": "iris-api",
    "data": {"source": "iris"},
    "model": {"layers": 1, "units": 8},
    "optimizer": {"learning_rate": [0.003, 0.01, 0.03]},
    "training": {"epochs": 2},
    "search": {"strategy": "grid", "max_trials": 2},
}
# trials.csv's columns in order (docs/run-format.md; *_error_se only for regression)
DOCUMENTED_COLUMNS = [
    "trial_id", "status", "hp.optimizer.learning_rate", "epochs_trained", "best_epoch", "stopped_early",
    "loss", "val_loss", "accuracy", "val_accuracy", "train_error", "val_error", "test_error",
    "objective", "seconds", "seed", "message", "started_at", "finished_at", "train_n", "val_n",
    "test_n", "train_log_loss", "val_log_loss", "val_log_loss_se", "params", "model_bytes", "retry_of",
    "worker",
]  # fmt: skip


def test_validate_returns_the_config_and_its_space():
    checked = tunenet.validate(TINY)
    assert checked.config.name == "iris-api"
    assert [hp.name for hp in checked.hyperparameters] == ["optimizer.learning_rate"]
    assert "grid size: 3" in checked.summary


def test_validate_reads_a_file_too():
    checked = tunenet.validate(REPO / "configs" / "quickstart.yaml")
    assert checked.config.name == "quickstart"


def test_a_bad_dict_raises_config_error_naming_each_key():
    bad = {"data": {"source": "iris"}, "model": {"unitz": 3}, "training": {"epochs": "many"}}
    with pytest.raises(tunenet.ConfigError) as caught:
        tunenet.validate(bad)
    problems = {problem.key: problem.message for problem in caught.value.errors}
    assert set(problems) == {"model.unitz", "training.epochs"}
    assert "did you mean 'units'" in problems["model.unitz"]
    assert "'many'" in problems["training.epochs"]
    assert "model.unitz" in str(caught.value)


def test_a_bad_file_gives_line_numbers(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("data: {source: iris}\nmodel:\n  unitz: 3\n")
    with pytest.raises(tunenet.ConfigError) as caught:
        tunenet.validate(path)
    [problem] = caught.value.errors
    assert (problem.key, problem.line) == ("model.unitz", 3)


def test_search_of_a_dict_without_name_asks_for_one(tmp_path):
    config = {key: value for key, value in TINY.items() if key != "name"}
    with pytest.raises(tunenet.ConfigError, match="name=") as caught:
        tunenet.search(config, runs_dir=tmp_path / "runs")
    assert caught.value.errors[0].key == "name"
    assert not (tmp_path / "runs").exists()


def test_search_refuses_unknown_options(tmp_path):
    with pytest.raises(TypeError, match="max_trail"):
        tunenet.search(TINY, runs_dir=tmp_path / "runs", max_trail=3)


def test_search_takes_every_option_of_the_search_command():
    """`tunenet.search` and `tunenet search` cannot drift apart: same names, same defaults,
    each keyword in docs/api.md's table."""
    command = typer.main.get_command(app).commands["search"]
    cli = {param.name: param.default for param in command.params}
    api = inspect.signature(tunenet.search).parameters
    assert set(api) == set(cli) | {"console", "listeners"}
    assert Path(api["runs_dir"].default) == cli["runs_dir"]
    assert (api["quiet"].default, cli["quiet"]) == (True, False)  # a notebook shows no progress
    for name in set(cli) - {"config", "runs_dir", "quiet"}:
        assert api[name].default == cli[name], name
    table = (REPO / "docs" / "api.md").read_text()
    assert [name for name in api if f"| `{name}` |" not in table] == []


def test_report_of_a_directory_without_runs_raises_run_dir_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(tunenet.RunDirError, match="empty"):
        tunenet.report(tmp_path / "empty")


def test_report_reads_a_run_without_writing(tmp_path):
    run = tmp_path / "minimal"
    shutil.copytree(REPO / "tests" / "fixtures" / "runs" / "minimal", run)
    report = tunenet.report(run)
    document = report.to_dict()
    assert document["run"]["name"] == "minimal"
    assert all("label" in trial for trial in document["trials"])
    assert not (run / "report").exists()
    assert "# " in report.render("markdown")


def test_import_and_validate_do_not_load_tensorflow():
    code = (
        "import sys, tunenet\n"
        "tunenet.search, tunenet.validate({'data': {'source': 'iris'}})\n"
        "print([m for m in ('tensorflow', 'keras', 'keras_tuner') if m in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# ---------------------------------------------------------------- searches that train


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory) -> tunenet.SearchResult:
    """One tiny search on iris (2 grid points, 2 epochs) shared by the tests below."""
    runs = tmp_path_factory.mktemp("api") / "runs"
    return tunenet.search(TINY, runs_dir=runs)


@pytest.mark.e2e
def test_search_returns_the_run_and_its_tables(searched):
    assert searched.run_dir.name == "iris-api" and searched.run_dir.is_dir()
    trials = searched.trials
    assert list(trials.columns) == DOCUMENTED_COLUMNS
    assert (trials["train_n"] + trials["val_n"] + trials["test_n"] == 150).all()
    ids = trials["trial_id"].tolist()
    assert len(ids) == 2 and all(isinstance(trial_id, str) for trial_id in ids)
    assert sorted(set(searched.epochs["trial_id"])) == ids
    assert searched.epochs.groupby("trial_id")["epoch"].max().tolist() == [2, 2]


@pytest.mark.e2e
def test_best_is_the_best_row(searched):
    completed = searched.trials[searched.trials["status"] == "completed"]
    best_id = completed.loc[completed["val_accuracy"].idxmax(), "trial_id"]
    assert searched.best["trial_id"] == best_id
    assert searched.best["objective"] == completed["val_accuracy"].max()
    assert searched.best["test_error"] is not None


@pytest.mark.e2e
def test_config_yaml_is_written_from_the_dict(searched):
    checked = tunenet.validate(searched.run_dir / "config.yaml")
    assert checked.config == tunenet.validate(TINY).config


@pytest.mark.e2e
def test_report_of_the_search_labels_every_trial(searched):
    document = tunenet.report(searched.run_dir).to_dict()
    assert [trial["trial_id"] for trial in document["trials"]][0] == searched.best["trial_id"]
    assert all(trial["label"] for trial in document["trials"])


@pytest.mark.e2e
def test_an_existing_run_is_not_reused_silently(searched):
    with pytest.raises(tunenet.RunDirError, match="--resume"):
        tunenet.search(TINY, runs_dir=searched.run_dir.parent)


@pytest.mark.e2e
def test_resume_continues_the_run(searched, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(searched.run_dir, runs / "iris-api")
    resumed = tunenet.search(TINY, runs_dir=runs, resume=True, max_trials=3)
    assert resumed.trials["trial_id"].tolist()[:2] == searched.trials["trial_id"].tolist()
    assert len(resumed.trials) == 3
    assert resumed.trials["hp.optimizer.learning_rate"].tolist() == [0.003, 0.01, 0.03]


@pytest.mark.e2e
def test_a_search_where_no_trial_completes_raises_search_error(tmp_path):
    config = {
        "name": "diverges",
        "data": {"source": "diabetes"},
        "optimizer": {"name": "sgd", "learning_rate": 1e6},
        "training": {"epochs": 2},
        "search": {"max_trials": 1},
    }
    with pytest.raises(tunenet.SearchError, match="no trial completed") as caught:
        tunenet.search(config, runs_dir=tmp_path / "runs")
    assert caught.value.run_dir == tmp_path / "runs" / "diverges"
    assert [row["status"] for row in caught.value.summary.rows] == ["diverged"]
