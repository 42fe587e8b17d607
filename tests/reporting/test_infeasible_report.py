"""Trials over search.max_params (status `infeasible`, never trained) in every report format: listed
with their status, parameters and message, left out of the diagnosis like failed trials
(docs/run-format.md). A hand-written run: no training."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import write_csv

MESSAGE = "infeasible: 4,099 trainable parameters, above search.max_params = 1,000; not trained."


def trial(trial_id: str, status: str, units: int, params: int, **values) -> dict:
    row = {
        "trial_id": trial_id, "status": status, "hp.model.units": units, "train_error": "",
        "val_error": "", "objective": "", "val_accuracy": "", "epochs_trained": "",
        "best_epoch": "", "train_n": 90, "val_n": 30, "message": "", "params": params,
        "model_bytes": 4 * params, "retry_of": "", "worker": "",
    }  # fmt: skip
    row.update(values)
    return row


@pytest.fixture
def run(tmp_path: Path) -> Path:
    done = dict(epochs_trained=3, best_epoch=3)
    write_csv(
        tmp_path / "trials.csv",
        [
            trial("0", "completed", 8, 67, train_error=0.05, val_error=0.10, objective=0.90,
                  val_accuracy=0.90, **done),
            trial("1", "infeasible", 512, 4099, message=MESSAGE),
            trial("2", "completed", 16, 131, train_error=0.04, val_error=0.067,
                  objective=0.933, val_accuracy=0.933, **done),
        ],
    )  # fmt: skip
    curves = [
        {"trial_id": t, "execution": 0, "epoch": e, "loss": 1 / e, "val_loss": 1.1 / e}
        for t in ("0", "2")
        for e in (1, 2, 3)
    ]
    write_csv(tmp_path / "epochs.csv", curves)
    return tmp_path


def test_report_json_lists_the_infeasible_trial_outside_the_diagnosis(cli, run):
    result = cli("report", run, "--format", "json", "--no-plots")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["verdict"].startswith("3 trials: 2 completed, 1 infeasible.")
    trials = {row["trial_id"]: row for row in report["trials"]}
    assert trials["1"]["status"] == "infeasible"
    assert trials["1"]["message"] == MESSAGE
    assert trials["1"].get("label") is None  # no bias/variance verdict: never trained
    assert trials["1"].get("recommendations") in (None, [])


@pytest.mark.parametrize("form", ["table", "markdown", "csv"])
def test_every_format_lists_it_with_its_status_and_message(cli, run, form):
    result = cli("report", run, "--format", form, "--no-plots")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert re.search(r"\b1\W+infeasible\b", text)  # trial 1's row, with its status
    if form != "table":  # the terminal's table wraps the message within its cell
        assert "infeasible: 4,099 trainable parameters" in text


def test_the_html_page_lists_it(cli, run, tmp_path):
    page = tmp_path / "page.html"
    result = cli("report", run, "--format", "html", "--no-plots", "--out", page)
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert ">infeasible<" in html and "4,099 trainable parameters" in html
