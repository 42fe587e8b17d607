"""`tunenet report` on hand-made run directories (tests/fixtures/runs): no training."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from tunenet import report
from tunenet.cli import app
from tunenet.errors import RunDirError, TunenetError

FIXTURES = Path(__file__).parent / "fixtures" / "runs"


def copy_run(name: str, tmp_path: Path, as_name: str | None = None) -> Path:
    """A fixture run copied under tmp_path, because the report writes into <run>/report/."""
    target = tmp_path / (as_name or name)
    shutil.copytree(FIXTURES / name, target)
    return target


def build(path: Path, **options) -> report.RunReport:
    run = report.load_run(path)
    return report.build_report(run, report.resolve_settings(run, **options))


def by_id(run_report: report.RunReport) -> dict[str, report.TrialReport]:
    return {t.trial_id: t for t in run_report.trials}


def consoles() -> tuple[Console, Console, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return (
        Console(file=out, width=200, markup=False, highlight=False),
        Console(file=err, width=200, markup=False, highlight=False),
        out,
        err,
    )


def run_report(path: Path, fmt: str, **options) -> tuple[str, str]:
    console, log, out, err = consoles()
    settings = {
        "out_path": None,
        "plots": False,
        "target_error": None,
        "bias_threshold": None,
        "variance_threshold": None,
        "top": None,
    }
    settings.update(options)
    report.run(path, fmt=fmt, console=console, log=log, **settings)
    return out.getvalue(), err.getvalue()


# ---------------------------------------------------------------- diagnosis of the fixtures


def test_worked_example_is_reproduced_exactly() -> None:
    result = build(FIXTURES / "worked-example")
    labels = {tid: t.label for tid, t in by_id(result).items()}
    assert labels == {
        "00": "high variance",
        "01": "high bias",
        "02": "high bias and high variance",
        "03": "good fit",
    }
    assert result.settings.target_error.value == 0.13
    assert result.settings.target_error.source == "resolved.yaml"
    assert result.best is not None and result.best.trial_id == "03"
    assert result.best.test_error == pytest.approx(0.14)
    assert [t.trial_id for t in result.trials] == ["03", "00", "01", "02"]  # ranked


def test_options_override_the_run_thresholds() -> None:
    result = build(FIXTURES / "worked-example", target_error=0.0, variance_threshold=0.2)
    assert result.settings.target_error.source == "--target-error"
    assert result.settings.variance_threshold.value == 0.2
    assert result.settings.bias_threshold.source == "resolved.yaml"
    assert by_id(result)["00"].label == "high bias"  # 12 % train error, target 0


def test_out_of_range_threshold_option_is_a_user_error() -> None:
    with pytest.raises(TunenetError, match="--target-error 13"):
        build(FIXTURES / "worked-example", target_error=13)


def test_curve_findings_of_the_fixture() -> None:
    trials = by_id(build(FIXTURES / "curves"))
    assert [(f.kind, f.epoch) for f in trials["00"].findings] == [("diverged", 4)]
    assert trials["00"].status == "diverged" and trials["00"].rank is None
    assert [(f.kind, f.epoch) for f in trials["03"].findings] == [("diverged", 4)]  # blew up
    assert [f.kind for f in trials["01"].findings] == ["still_improving"]
    assert trials["01"].recommendations[0].key == "training.epochs"
    assert [(f.kind, f.epoch) for f in trials["02"].findings] == [
        ("overfitting", 5),
        ("stopped_early", 10),
    ]
    assert trials["02"].findings[0].text.startswith("overfitting began at epoch 5")
    assert trials["00"].recommendations[0].key == "optimizer.learning_rate"


def test_a_run_with_only_the_two_minimal_csv_files() -> None:
    result = build(FIXTURES / "minimal")
    assert sorted(p.name for p in (FIXTURES / "minimal").iterdir()) == ["epochs.csv", "trials.csv"]
    assert result.objective.name == "val_error" and result.objective.direction == "min"
    assert result.settings.target_error.source == "default"
    trials = by_id(result)
    assert trials["0000"].label == "good fit" and trials["0000"].rank == 1
    assert trials["0001"].label == "high bias and high variance"
    assert trials["0002"].status == "failed" and trials["0002"].label is None
    assert [f.kind for f in trials["0001"].findings] == ["overfitting"]


def test_last_execution_is_used_and_duplicate_epochs_keep_the_last_row(tmp_path: Path) -> None:
    # trials.csv's best_epoch/epochs_trained/stopped_early describe a trial's last execution
    run = copy_run("minimal", tmp_path)
    (run / "epochs.csv").write_text(
        "trial_id,execution,epoch,loss,val_loss\n"
        "0000,0,1,nan,nan\n0000,1,1,0.9,0.95\n0000,1,2,0.5,0.6\n0000,1,2,0.5,0.55\n"
        "0001,0,1,0.9,0.9\n0001,0,2,0.4,0.7\n"
    )
    loaded = report.load_run(run)
    assert len(loaded.epochs) == 4  # execution 0 of 0000 dropped, its epoch 2 kept once
    assert loaded.epochs.query("trial_id == '0000' and epoch == 2")["val_loss"].item() == 0.55
    result = build(run)
    assert not any(f.kind == "diverged" for f in by_id(result)["0000"].findings)


def test_best_trial_text_has_the_diagnosis_and_the_top_recommendation() -> None:
    text = report.best_trial_text(FIXTURES / "curves")
    assert text.splitlines()[0].startswith("Best trial 01: val_accuracy 0.9")
    assert "Diagnosis: high bias" in text
    assert "Next: Train longer: raise training.epochs (now 10)" in text


# ---------------------------------------------------------------- formats


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The worked example reported once with plots (matplotlib is the slow part)."""
    run = copy_run("worked-example", tmp_path_factory.mktemp("runs"))
    run_report(run, "table", plots=True)
    return run


def test_report_files_are_written_under_the_run(rendered: Path) -> None:
    names = sorted(p.name for p in (rendered / "report").iterdir())
    assert names == ["plots", "report.csv", "report.html", "report.json", "report.md"]
    plots = sorted(p.name for p in (rendered / "report" / "plots").iterdir())
    assert plots == [
        "learning_curves_accuracy.png",
        "learning_curves_loss.png",
        "objective_vs_hyperparameters.png",
        "train_vs_validation_error.png",
    ]
    assert all(
        p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in (rendered / "report/plots").iterdir()
    )


def test_json_parses_back_with_the_documented_structure(rendered: Path) -> None:
    document = json.loads((rendered / "report" / "report.json").read_text())
    assert document["format_version"] == 1
    assert document["run"]["name"] == "worked-example"
    assert document["objective"] == {
        "name": "val_accuracy",
        "direction": "max",
        "column": "objective",
        "source": "manifest.json",
    }
    assert document["settings"]["target_error"] == {"value": 0.13, "source": "resolved.yaml"}
    assert document["best_trial"] == "03"
    assert document["counts"] == {"trials": 4, "completed": 4}
    trial = document["trials"][1]
    assert trial["trial_id"] == "00" and trial["label"] == "high variance"
    assert trial["hyperparameters"]["model.units.0"] == 128
    assert trial["high_variance"] is True and trial["variance"] == pytest.approx(0.13)
    assert {f["kind"] for f in trial["findings"]} == {"overfitting", "stopped_early"}
    assert {"key", "action", "value", "text", "evidence", "agrees"} == set(
        trial["recommendations"][0]
    )
    assert document["effects"][0]["rows"][0].keys() == {"value", "trials", "mean_objective"}
    assert "plots/learning_curves_loss.png" in document["plots"]
    assert document["verdict"].startswith("4 trials: 4 completed.")


def test_csv_parses_back(rendered: Path) -> None:
    table = pd.read_csv(rendered / "report" / "report.csv", dtype={"trial_id": str})
    assert table["trial_id"].tolist() == ["03", "00", "01", "02"]
    assert table["label"].tolist() == [
        "good fit",
        "high variance",
        "high bias",
        "high bias and high variance",
    ]
    assert "hp.optimizer.learning_rate" in table.columns
    assert table.loc[0, "test_error"] == pytest.approx(0.14)


def test_markdown_holds_the_trials_table_and_links_the_plots(rendered: Path) -> None:
    text = (rendered / "report" / "report.md").read_text()
    assert text.startswith("# tunenet report: worked-example")
    assert "| rank | trial | status | val_accuracy |" in text
    assert "| 2 | 00 | completed | 0.75 | 12.0% | 25.0% |" in text
    assert "](plots/train_vs_validation_error.png)" in text
    assert "target error 0.13 (resolved.yaml)" in text


def test_html_is_one_self_contained_file_with_a_sortable_table(rendered: Path) -> None:
    text = (rendered / "report" / "report.html").read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert text.count('src="data:image/png;base64,') == 4
    assert "http" not in text  # no external script, style or image
    assert '<table class="sortable">' in text and "<script>" in text
    assert 'data-sort="0.87"' in text
    assert "high bias and high variance" in text


def test_table_prints_the_settings_the_labels_and_the_verdict(tmp_path: Path) -> None:
    out, err = run_report(copy_run("worked-example", tmp_path), "table")
    assert "target error 0.13 (resolved.yaml)" in out
    assert "high bias and high variance" in out
    assert "Verdict:" in out
    assert "report files:" in err


@pytest.mark.parametrize("fmt", ["markdown", "csv", "json", "html"])
def test_every_format_on_stdout_for_the_minimal_run(tmp_path: Path, fmt: str) -> None:
    out, _ = run_report(copy_run("minimal", tmp_path), fmt)
    parse = {
        "markdown": lambda text: "| rank | trial |" in text,
        "csv": lambda text: len(pd.read_csv(io.StringIO(text), dtype={"trial_id": str})) == 3,
        "json": lambda text: json.loads(text)["best_trial"] == "0000",
        "html": lambda text: text.rstrip().endswith("</html>"),
    }
    assert parse[fmt](out)


def test_out_writes_the_chosen_format_there(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.json"
    out, err = run_report(copy_run("minimal", tmp_path), "json", out_path=target)
    assert out == ""
    assert json.loads(target.read_text())["format_version"] == 1
    assert f"wrote {target}" in err


def test_top_keeps_the_best_trials(tmp_path: Path) -> None:
    out, _ = run_report(copy_run("worked-example", tmp_path), "json", top=2)
    document = json.loads(out)
    assert [t["trial_id"] for t in document["trials"]] == ["03", "00"]
    assert document["counts"]["trials"] == 4


def test_a_directory_of_two_runs(tmp_path: Path) -> None:
    copy_run("worked-example", tmp_path / "runs")
    copy_run("curves", tmp_path / "runs")
    out, _ = run_report(tmp_path / "runs", "json")
    document = json.loads(out)
    assert [r["name"] for r in document["runs"]] == ["curves", "worked-example"]
    assert [r["best_trial"] for r in document["runs"]] == ["01", "03"]
    assert [r["run"]["name"] for r in document["reports"]] == ["curves", "worked-example"]
    assert (tmp_path / "runs" / "curves" / "report" / "report.json").is_file()
    table, _ = run_report(tmp_path / "runs", "table")
    assert table.index("Runs") < table.index("Run curves") < table.index("Run worked-example")
    csv_text, _ = run_report(tmp_path / "runs", "csv")
    assert set(pd.read_csv(io.StringIO(csv_text))["run"]) == {"curves", "worked-example"}


def test_an_unreadable_run_in_a_directory_is_skipped_with_a_warning(tmp_path: Path) -> None:
    copy_run("minimal", tmp_path / "runs")
    broken = tmp_path / "runs" / "broken"
    broken.mkdir()
    (broken / "epochs.csv").write_text("trial_id,epoch,loss,val_loss\n")
    out, err = run_report(tmp_path / "runs", "json")
    assert json.loads(out)["runs"][1]["status"] == "unreadable"
    assert "trials.csv: missing" in err


# ---------------------------------------------------------------- bad run directories


def test_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="is not a run directory") as error:
        report.find_runs(tmp_path)
    assert str(tmp_path) in str(error.value)


def test_a_missing_column_is_named_with_the_file(tmp_path: Path) -> None:
    run = copy_run("minimal", tmp_path)
    (run / "trials.csv").write_text("trial_id,status,train_error\n0000,completed,0.1\n")
    with pytest.raises(RunDirError) as error:
        report.load_run(run)
    assert "trials.csv" in str(error.value) and "'val_error'" in str(error.value)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty"),
        (b"trial_id,epoch,loss,val_loss\n0000,1,0.5\n0000,2,0.4,0.3,9,9\n", "not a readable CSV"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe\x00binary", "epochs.csv"),
        (b"trial_id,epoch,loss,val_loss\n0000,1,zero,0.3\n", "'loss' must hold numbers"),
    ],
)
def test_an_unreadable_epochs_csv(tmp_path: Path, content: bytes, problem: str) -> None:
    run = copy_run("minimal", tmp_path)
    (run / "epochs.csv").write_bytes(content)
    with pytest.raises(RunDirError, match=problem) as error:
        report.load_run(run)
    assert "epochs.csv" in str(error.value)


def test_an_unreadable_manifest_is_a_warning_not_an_error(tmp_path: Path) -> None:
    run = copy_run("curves", tmp_path)
    (run / "manifest.json").write_text("{not json")
    loaded = report.load_run(run)
    assert loaded.manifest is None and "manifest.json" in loaded.warnings[0]


# ---------------------------------------------------------------- the CLI


def test_cli_report_exits_0(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["report", str(copy_run("curves", tmp_path)), "--format", "json", "--no-plots"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["best_trial"] == "01"


def test_cli_report_on_a_non_run_directory_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert str(tmp_path) in result.output
    assert "Traceback" not in result.output


BLOCKER = 'raise ImportError("blocked: tunenet report must not import TensorFlow or Keras")\n'

# Every format in one process (each extra interpreter costs a second); plots: the -m test.
EVERY_FORMAT = """
import sys
from tunenet.cli import app
for fmt in ("table", "markdown", "csv", "json", "html"):
    app(["report", sys.argv[1], "--format", fmt, "--no-plots"], standalone_mode=False)
blocked = [m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "keras_tuner")]
assert not blocked, blocked
"""


def run_blocked(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Run Python with tensorflow, keras and keras_tuner made unimportable."""
    blocked = tmp_path / "blocked"
    for package in ("tensorflow", "keras", "keras_tuner"):
        (blocked / package).mkdir(parents=True, exist_ok=True)
        (blocked / package / "__init__.py").write_text(BLOCKER)
    path = os.pathsep.join([str(blocked), os.environ.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
        timeout=120,
    )


def test_the_blocker_blocks(tmp_path: Path) -> None:
    result = run_blocked(tmp_path, "-c", "import tensorflow")
    assert result.returncode != 0 and "blocked" in result.stderr


def test_python_m_tunenet_report_json_with_tensorflow_unimportable(tmp_path: Path) -> None:
    run = copy_run("curves", tmp_path)
    result = run_blocked(tmp_path, "-m", "tunenet.cli", "report", str(run), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["best_trial"] == "01"
    assert (run / "report" / "plots" / "learning_curves_loss.png").is_file()


def test_every_format_works_with_tensorflow_unimportable(tmp_path: Path) -> None:
    run = copy_run("worked-example", tmp_path)
    result = run_blocked(tmp_path, "-c", EVERY_FORMAT, str(run))
    assert result.returncode == 0, result.stderr
    for marker in ("Verdict:", "| rank | trial |", "rank,trial_id,status", '"format_version": 1'):
        assert marker in result.stdout
    assert result.stdout.rstrip().endswith("</html>")


# ---------------------------------------------------------------- the capacity curve


@pytest.fixture(scope="module")
def capacity_rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The capacity fixture reported once with plots; the run and the Rich table output."""
    run = copy_run("capacity", tmp_path_factory.mktemp("runs"))
    out, _ = run_report(run, "table", plots=True)
    return run, out


def test_capacity_json_has_the_steps_in_trial_order_and_where_growth_stopped(
    capacity_rendered: tuple[Path, str],
) -> None:
    run, _ = capacity_rendered
    capacity = json.loads((run / "report" / "report.json").read_text())["capacity"]
    assert set(capacity) == {"steps", "best_trial", "stopped_after", "min_delta"}
    steps = capacity["steps"]
    assert [s["trial_id"] for s in steps] == ["00", "01", "02", "03", "04", "05"]  # CSV: 05, 04
    assert [s["label"] for s in steps] == ["1×4", "1×8", "1×16", "1×32", "2×32", "3×32"]
    assert [s["size"] for s in steps] == [4, 8, 16, 32, 64, 96]
    assert steps[5]["layers"] == 3 and steps[5]["widths"] == [32, 32, 32]
    assert steps[3] == {
        "trial_id": "03",
        "status": "completed",
        "layers": 1,
        "widths": [32],
        "size": 32,
        "label": "1×32",
        "objective": 0.925,
        "train_error": 0.03,
        "val_error": 0.075,
    }
    assert steps[4]["status"] == "failed" and steps[4]["objective"] is None
    # 05 beats 03 by 0.935 - 0.925 = 0.010000000000000009, not more than min_delta 0.01
    assert capacity["stopped_after"] == "03" and capacity["best_trial"] == "05"
    assert capacity["min_delta"] == 0.01


def test_capacity_plot_markdown_html_table_and_verdict(capacity_rendered: tuple[Path, str]) -> None:
    run, out = capacity_rendered
    plot = run / "report" / "plots" / "capacity.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    document = json.loads((run / "report" / "report.json").read_text())
    assert "plots/capacity.png" in document["plots"]
    line = "Growth stopped paying after 1×32 (trial 03, val_accuracy 0.925)"
    assert line in document["verdict"]
    markdown = (run / "report" / "report.md").read_text()
    section = markdown[markdown.index("## Capacity curve") : markdown.index("## Trials")]
    assert line in section
    assert (
        "| trial | size | hidden units | val_accuracy | train error | val error | note |" in section
    )
    assert "| 03 | 1×32 | 32 | 0.925 | 3.0% | 7.5% | growth stopped paying after" in section
    assert "| 04 | 2×32 | 64 |  |  |  | failed |" in section
    assert "![capacity curve](plots/capacity.png)" in section
    assert markdown.count("plots/capacity.png") == 1  # not again under Plots
    html_text = (run / "report" / "report.html").read_text()
    assert "<h2>Capacity curve</h2>" in html_text
    assert html_text.count('src="data:image/png;base64,') == 5
    assert "Capacity curve: growth stopped paying after 1×32 (trial 03" in out


def test_a_run_of_another_strategy_has_a_null_capacity(rendered: Path) -> None:
    document = json.loads((rendered / "report" / "report.json").read_text())
    assert document["capacity"] is None
    assert "Capacity curve" not in (rendered / "report" / "report.md").read_text()
    assert "growth" not in document["verdict"].lower()


def test_capacity_is_recognized_from_resolved_yaml_alone(tmp_path: Path) -> None:
    run = copy_run("capacity", tmp_path)
    (run / "manifest.json").unlink()
    curve = build(run).capacity
    assert curve is not None and curve.stopped_after == "03"
    resolved = (run / "resolved.yaml").read_text().replace("strategy: capacity", "strategy: random")
    (run / "resolved.yaml").write_text(resolved.replace("  min_delta: 0.01\n", ""))
    assert build(run).capacity is None


def test_capacity_fixed_widths_come_from_resolved_yaml(tmp_path: Path) -> None:
    run = copy_run("capacity", tmp_path)
    trials = pd.read_csv(run / "trials.csv", dtype=str, keep_default_na=False)
    trials.drop(columns=[c for c in trials.columns if c.startswith("hp.model.units")]).to_csv(
        run / "trials.csv", index=False
    )
    resolved = (run / "resolved.yaml").read_text().replace("units: [4, 8, 16, 32]", "units: 16")
    (run / "resolved.yaml").write_text(resolved.replace("  min_delta: 0.01\n", ""))
    curve = build(run).capacity
    assert curve is not None
    assert [s.label for s in curve.steps] == ["1×16"] * 4 + ["2×16", "3×16"]
    assert curve.min_delta == report.DEFAULT_MIN_DELTA  # no search.min_delta: the default


def test_capacity_sizes_of_a_cnn_with_filters_growth() -> None:
    trials = pd.DataFrame({"trial_id": ["0"], "status": ["completed"], "hp.model.filters.0": [8.0]})
    resolved = {"model": {"kind": "cnn", "layers": 3, "filters_growth": 2}}
    run = report.Run(Path("x"), "x", trials, trials.iloc[0:0], None, resolved)
    assert report._model_size(trials.iloc[0], run) == {"layers": 3, "widths": (8, 16, 32)}
