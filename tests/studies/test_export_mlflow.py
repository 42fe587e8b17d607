"""`tunenet export RUN --to mlflow` against a real local MLflow store (sqlite), read back with
MlflowClient: experiment, parent and nested runs, params, full metric histories, tags,
artifacts; exporting again; --follow while the files grow; no mlflow installed."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest

from tunenet import api
from tunenet.studies.export_mlflow import DEFAULT_URI, INSTALL, export_mlflow, tracking_uri

from .export_helpers import LOSSES, RUN_ID, grow_run, make_run, set_status

mlflow = pytest.importorskip("mlflow")
from mlflow.tracking import MlflowClient  # noqa: E402


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    """One sqlite store for the module (creating its tables takes seconds); each test uses its
    own experiment."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def in_tmp(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)  # MLflow puts artifacts under ./mlruns
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path


def runs_of(client: MlflowClient, experiment: str) -> tuple:
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"no experiment {experiment}"
    runs = client.search_runs([found.experiment_id])
    parents = [r for r in runs if "tunenet.trial_id" not in r.data.tags]
    trials = {r.data.tags["tunenet.trial_id"]: r for r in runs if r not in parents}
    assert len(parents) == 1
    return parents[0], trials


def history(client: MlflowClient, run, key: str) -> list[tuple[int, float]]:
    return sorted(
        (m.step, round(m.value, 6)) for m in client.get_metric_history(run.info.run_id, key)
    )


def expected(trial: str, execution: int, column: str = "loss") -> list[tuple[int, float]]:
    values = {"loss": lambda v: v, "val_loss": lambda v: v + 0.1, "accuracy": lambda v: 1 - v / 2}
    return sorted(
        (epoch, round(values[column](loss), 6))
        for (t, e, epoch), loss in LOSSES.items()
        if t == trial and e == execution
    )


def test_export_writes_a_parent_run_and_one_nested_run_per_trial(in_tmp, store, cli):
    run = make_run(in_tmp)
    result = cli("export", run, "--to", "mlflow", "--tracking-uri", store, "--experiment", "first")
    assert result.exit_code == 0, result.output
    assert "exported 3 trials to MLflow experiment 'first'" in result.stdout
    client = MlflowClient(store)
    parent, trials = runs_of(client, "first")
    report = json.loads(_download(client, parent, "report/report.json", in_tmp).read_text())

    assert parent.info.run_name == "handmade" and parent.info.status == "FINISHED"
    assert parent.data.tags["tunenet.run_id"] == RUN_ID
    assert parent.data.tags["tunenet.verdict"] == report["verdict"]
    assert parent.data.tags["tunenet.version"]
    assert parent.data.metrics["final_val_error"] == pytest.approx(0.35)  # the best trial's
    names = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"config.yaml", "resolved.yaml", "report", "best_model"} <= names
    assert {a.path for a in client.list_artifacts(parent.info.run_id, "best_model")} == {
        "best_model/README.md", "best_model/model.keras"}  # fmt: skip
    assert (run / "best/model.keras").read_bytes() == _download(
        client, parent, "best_model/model.keras", in_tmp).read_bytes()  # fmt: skip
    assert "<html" in _download(client, parent, "report/report.html", in_tmp).read_text().lower()

    assert sorted(trials) == ["0", "1", "2"]
    by_id = {t["trial_id"]: t for t in report["trials"]}
    for trial_id, child in trials.items():
        tags = child.data.tags
        assert tags["mlflow.parentRunId"] == parent.info.run_id
        assert tags["tunenet.run_id"] == RUN_ID
        assert tags["tunenet.status"] == by_id[trial_id]["status"]
        assert tags["tunenet.label"] == by_id[trial_id]["label"]
        assert tags["tunenet.findings"] == ", ".join(f["kind"] for f in by_id[trial_id]["findings"])
    assert trials["0"].data.params == {"model.units.0": "64", "optimizer.learning_rate": "0.001"}
    assert trials["2"].info.status == "FAILED" and trials["0"].info.status == "FINISHED"
    assert trials["2"].data.metrics == {}  # failed before any epoch

    # every epoch, step = epoch; the second execution suffixed _exec1
    assert history(client, trials["0"], "loss") == expected("0", 0)
    assert history(client, trials["0"], "accuracy") == expected("0", 0, "accuracy")
    assert history(client, trials["1"], "val_loss") == expected("1", 0, "val_loss")
    assert history(client, trials["1"], "loss_exec1") == expected("1", 1)
    assert history(client, trials["0"], "layers/dense_0/grad_norm") == [
        (1, 0.1),
        (2, 0.2),
        (3, 0.3),
    ]
    assert history(client, trials["0"], "layers/output/dead_fraction") == []  # empty cells
    # final errors with their 95% interval ends, as report.json gives them
    metrics = trials["0"].data.metrics
    assert metrics["final_val_error"] == pytest.approx(by_id["0"]["val_error"])
    assert [metrics["final_val_error_low"], metrics["final_val_error_high"]] == pytest.approx(
        by_id["0"]["val_error_ci"])  # fmt: skip
    assert metrics["final_test_error"] == pytest.approx(0.36)
    assert metrics["objective"] == pytest.approx(0.65)
    assert "final_test_error" not in trials["1"].data.metrics  # trials.csv leaves it empty


def test_exporting_again_updates_the_same_runs_and_logs_only_new_epochs(in_tmp, store):
    run = make_run(in_tmp)
    first = api.export(run, "mlflow", tracking_uri=store, experiment="again")
    assert first.points > 0
    second = api.export(run, "mlflow", tracking_uri=store, experiment="again")
    assert second.points == 0
    assert (second.parent_run_id, second.trial_runs) == (first.parent_run_id, first.trial_runs)
    with (run / "epochs.csv").open("a") as epochs:
        epochs.write("0,0,4,0.5,0.75,0.6,0.7,0.001,0.5\n")  # the search went on
    third = api.export(run, "mlflow", tracking_uri=store, experiment="again")
    assert third.points == 6  # the new row's 6 measured columns, nothing else
    client = MlflowClient(store)
    parent, trials = runs_of(client, "again")
    assert parent.info.run_id == first.parent_run_id and len(trials) == 3
    assert history(client, trials["0"], "loss") == [*expected("0", 0), (4, 0.5)]
    assert history(client, trials["1"], "loss_exec1") == expected("1", 1)
    assert len(client.get_metric_history(trials["0"].info.run_id, "final_val_error")) == 1


@pytest.mark.parametrize("workers", [False, True], ids=["one-process", "workers"])
def test_follow_exports_while_the_search_writes_and_ends_with_it(in_tmp, store, workers):
    run = make_run(in_tmp, status="running")  # no trials.csv yet

    passes: list[str] = []
    exported = threading.Event()

    def search():  # starts once the export has seen the empty run; with workers, two trials'
        exported.wait(60)  # rows interleave in the same files
        grow_run(run, pause=lambda: time.sleep(0.03), workers=workers)
        set_status(run, "completed")

    def log(line: str) -> None:
        passes.append(line)
        exported.set()

    writer = threading.Thread(target=search)
    writer.start()
    try:
        result = export_mlflow(
            run, uri=store, experiment=f"follow-{workers}", follow_run=True, poll_seconds=0.05,
            log=log,
        )  # fmt: skip
    finally:
        exported.set()
        writer.join()
    assert passes[0].startswith("exported 0 trials") and len(passes) >= 2
    client = MlflowClient(store)
    parent, trials = runs_of(client, f"follow-{workers}")
    assert result.parent_run_id == parent.info.run_id and parent.info.status == "FINISHED"
    assert sorted(trials) == ["0", "1", "2"]
    assert history(client, trials["0"], "loss") == expected("0", 0)
    assert history(client, trials["1"], "loss") == expected("1", 0)
    assert history(client, trials["1"], "loss_exec1") == expected("1", 1)
    assert trials["1"].data.tags["tunenet.status"] == "completed"
    assert trials["2"].info.status == "FAILED"
    assert "best_model" in {a.path for a in client.list_artifacts(parent.info.run_id)}


def test_follow_stops_at_once_on_a_finished_run(in_tmp, store):
    run = make_run(in_tmp)
    started = time.monotonic()
    result = api.export(run, "mlflow", tracking_uri=store, experiment="done", follow=True)
    assert time.monotonic() - started < 20 and len(result.trial_runs) == 3


def test_without_mlflow_the_command_exits_2_with_the_install_line(in_tmp, cli, monkeypatch):
    run = make_run(in_tmp)
    for name in [m for m in sys.modules if m == "mlflow" or m.startswith("mlflow.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "mlflow", None)  # `import mlflow` raises ImportError
    result = cli("export", run, "--to", "mlflow")
    assert result.exit_code == 2
    assert INSTALL in result.stderr.splitlines()
    assert "Traceback" not in result.output and not (in_tmp / "mlflow.db").exists()


@pytest.mark.parametrize("where", ["missing", "file", "empty", "runs"])
def test_a_path_that_is_not_a_run_exits_2_saying_so(in_tmp, cli, where):
    path = {"missing": in_tmp / "nope", "file": in_tmp / "a.txt", "empty": in_tmp / "empty",
            "runs": in_tmp}[where]  # fmt: skip
    (in_tmp / "a.txt").write_text("x")
    (in_tmp / "empty").mkdir()
    if where == "runs":
        make_run(in_tmp)
    result = cli("export", path, "--to", "mlflow")
    assert result.exit_code == 2
    message = {"missing": "no such file or directory", "file": "is not a run directory",
               "empty": "is not a run directory", "runs": "export one run at a time"}[where]  # fmt: skip
    assert message in result.stderr and "Traceback" not in result.output
    assert not (in_tmp / "mlflow.db").exists()  # checked before MLflow makes a store


def test_options_of_the_other_target_are_refused(in_tmp, cli):
    run = make_run(in_tmp)
    result = cli("export", run, "--to", "mlflow", "--logdir", in_tmp / "tb")
    assert result.exit_code == 2 and "--logdir is for --to tensorboard" in result.stderr


def test_a_tracking_uri_mlflow_refuses_exits_2_naming_it(in_tmp, cli):
    run = make_run(in_tmp)
    result = cli("export", run, "--to", "mlflow", "--tracking-uri", "bogus://tracker")
    assert result.exit_code == 2
    assert "MLflow at bogus://tracker refused the export" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.output


def test_the_tracking_uri_is_the_option_else_the_environment_else_sqlite_here(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri(None) == DEFAULT_URI == "sqlite:///mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracker:5000")
    assert tracking_uri(None) == "http://tracker:5000"
    assert tracking_uri("sqlite:///other.db") == "sqlite:///other.db"


def _download(client: MlflowClient, run, path: str, tmp: Path) -> Path:
    target = tmp / "downloads" / run.info.run_id
    target.mkdir(parents=True, exist_ok=True)
    return Path(client.download_artifacts(run.info.run_id, path, str(target)))
