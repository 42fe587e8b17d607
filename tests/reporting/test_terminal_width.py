"""The terminal report, the search summary and the search space fit 80, 100 and 120 columns
(COLUMNS, stdout piped) without a cell cut with "…"; piped without COLUMNS: 160 (docs/report.md)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from conftest import REPO, tunenet_command
from tunenet.cli import app
from tunenet.config.objective import Objective
from tunenet.reporting.rich_table import FittedTable, fit_widths, short_names, split_columns
from tunenet.reporting.search import search_summary
from tunenet.reporting.terminal import TEXT_WIDTH, render_rich, render_text

from .helpers import FIXTURES, build

WIDTHS = (80, 100, 120)
LONG_NAMES = {
    "hp.optimizer.learning_rate": [0.001, 0.0001, 0.01, 0.003],
    "hp.regularization.dropout": [0.0, 0.5, 0.5, 0.2],
    "hp.model.units.0": [128, 16, 32, 64],
    "hp.model.units.1": [128, "", 64, 64],
    "hp.model.units.2": [256, "", 64, ""],
    "hp.model.units.3": [512, "", "", ""],
    "hp.training.batch_size": [32, 128, 64, 256],
    "hp.regularization.l2": [1.5e-05, 0.00042, 2.2e-06, 0.0031],
    "hp.optimizer.name": ["adam", "sgd", "rmsprop", "adam"],
}
URL = "https://example.org/" + "a-very-long-path-without-any-space/" * 3  # wider than 80


def long_names_run(root: Path) -> Path:
    """The worked example with nine long hyperparameter names, and a failed trial whose message
    is one word wider than 80 columns."""
    run = root / "long-names"
    shutil.copytree(FIXTURES / "worked-example", run)
    trials = pd.read_csv(run / "trials.csv", dtype={"trial_id": str})
    trials = trials.drop(columns=[c for c in trials.columns if c.startswith("hp.")])
    for index, (name, values) in enumerate(LONG_NAMES.items()):
        trials.insert(2 + index, name, values)
    failed = trials.iloc[[0]].copy()
    failed["trial_id"], failed["status"], failed["message"] = "04", "failed", f"cannot read {URL}"
    for column in ("objective", "train_error", "val_error", "val_accuracy", "accuracy"):
        failed[column] = None
    failed["epochs_trained"], failed["best_epoch"], failed["stopped_early"] = 0, None, False
    pd.concat([trials, failed]).to_csv(run / "trials.csv", index=False)
    manifest = json.loads((run / "manifest.json").read_text())
    (run / "manifest.json").write_text(json.dumps({**manifest, "name": run.name}))
    return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every fixture run and the long-names run, copied into one directory of runs."""
    root = tmp_path_factory.mktemp("runs")
    for fixture in sorted(FIXTURES.iterdir()):
        shutil.copytree(fixture, root / fixture.name, ignore=shutil.ignore_patterns("report"))
    long_names_run(root)
    return root


def report_at(path: Path, columns: str | None) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["report", str(path), "--no-plots"], env={"COLUMNS": columns}, catch_exceptions=False
    )
    return result.exit_code, result.stdout


def assert_fits(text: str, width: int) -> None:
    wide = [line for line in text.splitlines() if len(line) > width]
    assert not wide, f"{len(wide)} line(s) wider than {width}: {wide[0]!r}"
    assert "…" not in text


@pytest.mark.parametrize("width", WIDTHS)
def test_report_of_every_run_fits_without_a_cut_cell(runs: Path, width: int) -> None:
    for run in sorted(p for p in runs.iterdir() if p.is_dir()):
        code, out = report_at(run, str(width))
        assert code == 0, out
        assert_fits(out, width)
        assert "Verdict:" in out


@pytest.mark.parametrize("width", WIDTHS)
def test_summary_of_several_runs_fits(runs: Path, width: int) -> None:
    code, out = report_at(runs, str(width))
    assert code == 0
    assert_fits(out, width)
    assert out.startswith("Runs")
    for run in ("capacity", "long-names", "worked-example"):
        assert f"Run {run}" in out


def test_narrow_trials_table_splits_with_the_trial_ids_repeated_and_whole_numbers(
    runs: Path,
) -> None:
    _, out = report_at(runs / "worked-example", "80")
    assert "Trials (1 of 3)" in out and "Trials (3 of 3)" in out  # with the hyperparameters
    parts = out.split("Best trial")[0].split("Trials (")[1:]
    assert len(parts) == 3
    for part in parts:  # rank and trial in every part
        assert all(f"│ {rank} │ {trial}    │" in part for rank, trial in RANKED)
    # a number is never broken: an error and its ± stay whole, on one line or two
    assert "12.0%" in out and "± 1.9" in out and "high bias and" in out


def test_wide_terminal_keeps_one_table(runs: Path) -> None:
    _, out = report_at(runs / "worked-example", "200")
    assert "Trials" in [line.strip() for line in out.splitlines()] and "(1 of 2)" not in out
    assert "┃ learning_rate ┃" in out  # short names first, which keep it one table


RANKED = [(1, "03"), (2, "00"), (3, "01"), (4, "02")]  # the worked example, best first
WORKED_HPS = {  # its trials.csv: what each trial ran with
    "03": {"layers": "2", "units.0": "64", "units.1": "64", "dropout": "0.2",
           "learning_rate": "0.001", "optimizer": "adam"},
    "01": {"layers": "1", "units.0": "16", "units.1": "", "dropout": "0.5",
           "learning_rate": "0.0001", "optimizer": "sgd"},
}  # fmt: skip


def hp_cells(out: str, trial: str) -> dict[str, str]:
    """The hyperparameter cells of a trial's rows, by column header, across the table's parts."""
    cells: dict[str, str] = {}
    table = out.split("\nTrials", 1)[1].split("short names:")[0]
    for part in table.split("\nTrials")[:]:
        heads = [line.strip("┃").split("┃") for line in part.splitlines() if line[:1] == "┃"]
        header = [" ".join(h.strip() for h in column).strip() for column in zip(*heads)]
        for line in part.splitlines():
            row = [c.strip() for c in line.strip("│").split("│")]
            if line[:1] == "│" and row[1] == trial:
                cells.update(zip(header, row, strict=True))
    return cells


@pytest.mark.parametrize("width", [80, 100, 160])
def test_trials_table_shows_each_trials_hyperparameters_with_a_legend(
    runs: Path, width: int
) -> None:
    _, out = report_at(runs / "worked-example", str(width))
    assert_fits(out, width)
    for trial, values in WORKED_HPS.items():
        cells = hp_cells(out, trial)
        assert {name: cells[name] for name in values} == values, (width, cells)
    legend = " ".join(out.split("short names:")[1].split("Best trial")[0].split())
    assert "learning_rate = optimizer.learning_rate," in legend
    assert "units.0 = model.units.0," in legend and "dropout = regularization.dropout," in legend
    assert "layers = model.layers," in legend and "optimizer = optimizer.name" in legend
    for line in out.split("short names:")[1].split("Best trial")[0].splitlines():
        assert line.count("=") == line.count(" = ")  # a pair is never cut across lines


def test_piped_without_columns_is_160_wide(runs: Path) -> None:
    _, out = report_at(runs / "worked-example", None)
    widths = [len(line) for line in out.splitlines()]
    assert max(widths) <= 160
    assert max(widths) > 120  # the room is used: the long lines are not wrapped at 80


def test_columns_holds_in_a_real_piped_process(runs: Path) -> None:
    env = {**os.environ, "COLUMNS": "100", "PYTHONPATH": str(REPO / "src")}
    result = subprocess.run(
        tunenet_command("report", runs / "long-names", "--no-plots"),
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert_fits(result.stdout, 100)
    assert URL.split("/")[3][:20] in result.stdout.replace("\n", "")


@pytest.mark.parametrize("width", [80, TEXT_WIDTH])
def test_plain_text_of_out_fits_its_width(runs: Path, width: int) -> None:
    report = build(runs / "long-names")
    assert_fits(render_text([report]), TEXT_WIDTH)
    console = Console(file=io.StringIO(), width=width, color_system=None)
    for item in render_rich([report]):
        console.print(item)
    assert_fits(console.file.getvalue(), width)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the search summary


def summary_of(run: Path) -> SimpleNamespace:
    rows = pd.read_csv(run / "trials.csv", dtype={"trial_id": str}).to_dict("records")
    rows = [{k: ("" if pd.isna(v) else v) for k, v in row.items()} for row in rows]
    best = max((r for r in rows if r["objective"] != ""), key=lambda r: r["objective"])
    paths = SimpleNamespace(name=run.name, path=run, best_model_file=run / "best" / "model.keras")
    return SimpleNamespace(
        run=paths, objective=Objective.named("val_accuracy"), rows=rows, best=best,
        seconds=12.5, message="",
    )  # fmt: skip


def render(renderable: object, width: int) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, markup=False)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


@pytest.mark.parametrize("width", WIDTHS)
def test_search_summary_fits_with_short_names_and_a_legend(runs: Path, width: int) -> None:
    out = render(search_summary(summary_of(runs / "long-names")), width)
    assert_fits(out, width)
    words = " ".join(out.split())
    assert "short names: units.0 = model.units.0," in words
    assert "learning_rate = optimizer.learning_rate" in words and "l2 = regularization.l2" in words
    for value in ("0.0031", "2.2e-06", "0.00042", "1.5e-05", "rmsprop", "512", "0.87"):
        assert value in out  # every number whole


def test_search_summary_keeps_full_names_when_they_fit(runs: Path) -> None:
    summary = summary_of(runs / "worked-example")
    out = render(search_summary(summary), 200)
    assert "┃ optimizer.learning_rate ┃" in out and "short names" not in out
    out = render(search_summary(summary), 160)  # short names before a split
    assert "┃ learning_rate ┃" in out and "short names: layers = model.layers" in out
    assert "(1 of" not in out


def test_validate_space_table_fits(write_config, tmp_path: Path) -> None:
    config = write_config(
        """
        name: a-search-space-with-long-names
        data: {source: iris}
        model: {layers: {min: 1, max: 4}, units: [16, 32, 64, 128, 256, 512]}
        regularization: {l2: {min: 1.0e-6, max: 1.0e-2, sampling: log}, dropout: [0.0, 0.2, 0.5]}
        optimizer:
          name: [sgd, momentum, rmsprop, adam, nesterov, adamw]
          learning_rate: {min: 1.0e-4, max: 1.0e-1, sampling: log}
          schedule: [constant, exponential, cosine, step]
        training: {epochs: 3, batch_size: [16, 32, 64, 128, 256]}
        """
    )
    for width in WIDTHS:
        result = CliRunner().invoke(app, ["validate", str(config)], env={"COLUMNS": str(width)})
        assert result.exit_code == 0, result.output
        assert_fits(result.stdout, width)
        assert "nesterov, adamw" in result.stdout and "model.units.3" in result.stdout


# ---------------------------------------------------------------- the fitting itself


def test_short_names_keep_the_layer_index_and_fall_back_on_a_clash() -> None:
    names = ["optimizer.learning_rate", "model.units.0", "optimizer.name", "data.augmentation.flip"]
    assert short_names(names) == {
        "optimizer.learning_rate": "learning_rate",
        "model.units.0": "units.0",
        "optimizer.name": "optimizer",
        "data.augmentation.flip": "flip",
    }
    assert short_names(["model.dropout", "regularization.dropout"]) == {
        "model.dropout": "model.dropout",
        "regularization.dropout": "regularization.dropout",
    }


def test_a_number_breaks_only_before_its_plus_minus() -> None:
    header, rows = (
        ["note", "error", "bias"],
        [["a b c d e f g h i j", "12.0% ± 1.9", "+13.0 pts ± 2.6"]],
    )
    widths = fit_widths(header, rows, 36, right=[False, True, True])
    assert widths is not None and sum(widths) + 3 * 3 + 1 == 36
    out = render(FittedTable("t", header, rows, {"error", "bias"}), 36)
    assert_fits(out, 36)
    assert "12.0%" in out and "± 1.9" in out and "+13.0 pts" in out and "± 2.6" in out


def test_split_repeats_the_key_column() -> None:
    header = ["trial", *(f"column number {i}" for i in range(8))]
    rows = [["0001", *("0.123456" for _ in range(8))]]
    parts = split_columns(header, rows, 40)
    assert len(parts) > 1 and all(part[0] == 0 for part in parts)
    assert sorted({c for part in parts for c in part}) == list(range(9))
    out = render(FittedTable("t", header, rows, set(header[1:])), 40)
    assert_fits(out, 40)
    assert out.count("0001") == len(parts)
