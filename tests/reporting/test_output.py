"""`tunenet report` end to end on the fixture runs: the files under <run>/report/, every format on
stdout or in --out, directories of runs, the exit codes, and no TensorFlow."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tunenet.cli import app

from .helpers import copy_run, run_report


def test_report_files_are_written_under_the_run(rendered: Path) -> None:
    names = sorted(p.name for p in (rendered / "report").iterdir())
    assert names == ["plots", "report.csv", "report.html", "report.json", "report.md"]
    plots = sorted(p.name for p in (rendered / "report" / "plots").glob("*.png"))
    assert plots == [
        "curves_overlay.png",
        "history.png",
        "importance.png",
        "objective_vs_hyperparameters.png",
        "parallel.png",
        "train_vs_validation_error.png",
        "trial_curves_accuracy.png",
        "trial_curves_loss.png",
    ]
    assert all(
        p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        for p in (rendered / "report/plots").glob("*.png")
    )
    others = sorted(p.name for p in (rendered / "report" / "plots").glob("*[!g]"))
    assert others == [  # the plot cache's key, and hover areas of the per-trial plots
        ".inputs",
        "history.areas.json",
        "objective_vs_hyperparameters.areas.json",
        "parallel.areas.json",
        "train_vs_validation_error.areas.json",
    ]


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
    plots = list((run / "report" / "plots").glob("*.png"))
    assert html_text.count('src="data:image/png;base64,') == len(plots) == 10  # each plot once
    assert "Capacity curve: growth stopped paying after 1×32 (trial 03" in out


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
    assert (run / "report" / "plots" / "trial_curves_loss.png").is_file()


def test_every_format_works_with_tensorflow_unimportable(tmp_path: Path) -> None:
    run = copy_run("worked-example", tmp_path)
    result = run_blocked(tmp_path, "-c", EVERY_FORMAT, str(run))
    assert result.returncode == 0, result.stderr
    for marker in ("Verdict:", "| rank | trial |", "rank,trial_id,status", '"format_version": 1'):
        assert marker in result.stdout
    assert result.stdout.rstrip().endswith("</html>")
