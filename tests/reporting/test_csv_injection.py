"""CSV injection: a text cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab,
carriage return) is quoted in `report -f csv` and report.csv; numbers, negative ones too, stay
numbers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tunenet.reporting.tables import spreadsheet_cell

from .helpers import copy_run

HOSTILE = {
    "hp": '=HYPERLINK("http://x","y")',
    "message": "@SUM(1+1)*cmd|' /C calc'!A0",
    "status_text": "+1+cmd",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1+1", "'+1+1"),
        ("-1+cmd", "'-1+cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-0.25", "-0.25"),  # a number written as text stays a number
        ("+3e-5", "+3e-5"),
        ("-inf", "'-inf"),
        ("relu", "relu"),
        (-0.25, -0.25),
        (None, ""),
    ],
)
def test_spreadsheet_cell(value, expected) -> None:
    assert spreadsheet_cell(value) == expected


def hostile_run(tmp_path: Path, name: str, run_name: str) -> Path:
    """The small-split fixture with formulas in a hyperparameter, a message and its name."""
    run = copy_run("small-split", tmp_path, as_name=name)
    lines = (run / "trials.csv").read_text().splitlines()
    header = lines[0].split(",")
    hp, message = header.index("hp.model.units.0"), header.index("message")
    rows = [next(csv.reader([line])) for line in lines[1:]]
    rows[0][hp], rows[0][message] = HOSTILE["hp"], HOSTILE["message"]
    rows[1][hp], rows[1][message] = "-5", HOSTILE["tab"]
    rows[2][message] = HOSTILE["cr"]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    (run / "trials.csv").write_text(buffer.getvalue())
    manifest = json.loads((run / "manifest.json").read_text())
    (run / "manifest.json").write_text(json.dumps({**manifest, "name": run_name}))
    return run


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_report_csv_quotes_every_formula_and_keeps_negative_numbers(cli, tmp_path) -> None:
    hostile_run(tmp_path / "runs", "a", HOSTILE["status_text"])
    hostile_run(tmp_path / "runs", "b", "-b")
    result = cli("report", tmp_path / "runs", "-f", "csv", "--no-plots")
    assert result.exit_code == 0, result.output
    for text in (result.stdout, (tmp_path / "runs/a/report/report.csv").read_text()):
        found = cells(text)
        dangerous = [c for c in found if c.startswith(("=", "+", "@", "\t", "\r"))]
        assert not dangerous, dangerous
        for cell in (c for c in found if c.startswith("-")):
            float(cell)  # every cell starting with "-" is a number
        assert "'" + HOSTILE["hp"] in found and "'" + HOSTILE["message"] in found
        # the tab and CR messages (the reader may drop the leading blank): quoted either way
        assert len([c for c in found if c.startswith("'") and c.endswith("=1+1")]) >= 2
        assert "-5" in found
    assert "'" + HOSTILE["status_text"] in cells(result.stdout)  # the `run` column
    assert "'-b" in cells(result.stdout)
