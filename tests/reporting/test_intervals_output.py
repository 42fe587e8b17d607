"""The 95% intervals of docs/report.md in every format, computed from the run's files alone, and the
labels they allow (tests/fixtures/runs/small-split: 320 / 106 / 106 examples, a 1×4 network with a
gap inside the noise, one at the majority class, one diverged, one interrupted)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tunenet.diagnosis.intervals import wilson
from tunenet.reporting.rich_table import fit_widths
from tunenet.reporting.terminal import render_text

from .helpers import FIXTURES, build, by_id, copy_run, run_report


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """small-split reported once (no plots): the run and the terminal table."""
    run = copy_run("small-split", tmp_path_factory.mktemp("runs"))
    out, _ = run_report(run, "table")
    return run, out


def test_report_json_carries_the_intervals_and_the_labels(reported: tuple[Path, str]) -> None:
    run, _ = reported
    document = json.loads((run / "report" / "report.json").read_text())
    trials = {t["trial_id"]: t for t in document["trials"]}
    best = trials["00"]
    assert best["train_error_ci"] == pytest.approx(list(wilson(0.06875, 320)))
    assert best["val_error_ci"] == pytest.approx(list(wilson(0.103774, 106)))
    assert best["test_error_ci"] == pytest.approx(list(wilson(0.09434, 106)))
    low, high = best["train_error_ci"]
    assert best["bias_ci"] == pytest.approx([low - 0.03, high - 0.03])
    assert best["variance_ci"][0] < 0 < best["variance_ci"][1]
    assert best["intervals_source"] == "trials.csv train_n, val_n, test_n"
    # a 3.5-point gap over 106 validation rows: above the 2-point threshold, inside the noise
    assert best["label"] == "uncertain" and best["uncertain"] == ["variance"]
    assert "validation set of 106 examples: ±5.9 pts" in best["reason"]
    assert "data.split.validation" in best["reason"]
    assert "search.executions_per_trial" in best["reason"]
    assert trials["01"]["label"] == "high bias" and trials["01"]["uncertain"] == ["variance"]
    assert trials["03"]["label"] == "high variance"
    assert "3.0 pts below target" in trials["03"]["explanation"]
    # at the majority class of baselines.csv (37.2%): not learning, not "high bias"
    assert trials["02"]["label"] == "not learning"
    assert trials["02"]["high_bias"] is False and trials["02"]["high_variance"] is False
    assert "baselines.csv" in trials["02"]["reason"]
    assert trials["04"]["label"] == "diverged" and trials["04"]["bias_ci"] is None
    assert trials["05"]["status"] == "interrupted" and trials["05"]["label"] is None
    assert all(t["label"] != "high bias and high variance" for t in trials.values())


def test_the_plus_minus_shows_in_every_format(reported: tuple[Path, str]) -> None:
    run, terminal = reported
    markdown = (run / "report" / "report.md").read_text()
    html = (run / "report" / "report.html").read_text()
    for text in (terminal, markdown, html):
        assert "6.9% ± 2.8" in text and "10.4% ± 5.9" in text
        assert "± is half the 95% interval" in text
    assert "| 1 | 00 | completed | 0.8962 | 6.9% ± 2.8 | 10.4% ± 5.9 | 9.4% ± 5.6 |" in markdown
    assert "+3.9 pts ± 2.8 | +3.5 pts ± 6.6 | uncertain (variance) |" in markdown
    # 0 of 320 wrong against a 3% target: the interval [-3.0, -1.8] is lopsided, so its ends
    assert "3.0 pts below target [-3.0, -1.8]" in markdown and "-3.0 pts" not in markdown
    assert '<span class="lbl uncertain">uncertain</span> (variance)' in html
    assert "Uncertain: the train-to-validation gap (+3.5 pts) is above its threshold" in markdown
    table = pd.read_csv(run / "report" / "report.csv", dtype={"trial_id": str}).set_index(
        "trial_id"
    )
    assert table.loc["00", "val_error_pm"] == pytest.approx(0.0587, abs=1e-4)
    assert table.loc["00", "uncertain"] == "variance"
    assert pd.isna(table.loc["04", "val_error_pm"]) and table.loc["04", "label"] == "diverged"


def test_the_terminal_table_cuts_no_word_at_120_columns(reported: tuple[Path, str]) -> None:
    run, _ = reported
    text = render_text([build(run)])  # TEXT_WIDTH: 120 columns
    trials_table = text.split("Best trial")[0]
    assert "…" not in trials_table
    assert "±" in trials_table


def test_fit_widths_keeps_every_word_whole() -> None:
    header = ["trial", "findings"]
    rows = [["00", "overfitting from epoch 7; stopped early at epoch 12"]]
    widths = fit_widths(header, rows, 40)
    assert widths is not None and sum(widths) == 40 - 7 and min(widths) >= len("trial")
    assert widths[1] >= len("overfitting")
    assert fit_widths(header, rows, 200) == [5, len(rows[0][1])]
    assert fit_widths(header, rows, 20) == [5, 8]  # too narrow: the longest word is cut


def test_split_sizes_from_the_manifest_when_trials_csv_has_none(tmp_path: Path) -> None:
    run = copy_run("small-split", tmp_path)
    trials = pd.read_csv(run / "trials.csv", dtype={"trial_id": str})
    trials.drop(columns=["train_n", "val_n", "test_n"]).to_csv(run / "trials.csv", index=False)
    best = by_id(build(run))["00"]
    assert best.intervals_source == "manifest.json data.sizes"
    assert best.val_error_ci == pytest.approx(wilson(0.103774, 106))
    assert best.label == "uncertain"


def test_without_any_size_the_point_values_decide(tmp_path: Path) -> None:
    result = build(FIXTURES / "minimal", target_error=0.0)
    trials = by_id(result)
    assert trials["0001"].label == "high bias and high variance"
    assert trials["0001"].val_error_ci is None and trials["0001"].fit is not None
    assert trials["0001"].fit.bias_ci is None and trials["0001"].fit.uncertain == ()
    run = copy_run("minimal", tmp_path)
    run_report(run, "table")
    document = json.loads((run / "report" / "report.json").read_text())
    assert document["trials"][0]["val_error_ci"] is None
    assert document["trials"][0]["variance_ci"] is None
    assert "no intervals" in (run / "report" / "report.md").read_text()


def test_regression_intervals_come_from_the_standard_errors(tmp_path: Path) -> None:
    run = copy_run("minimal", tmp_path)
    (run / "trials.csv").write_text(
        "trial_id,status,train_error,val_error,train_n,val_n,test_n,"
        "train_error_se,val_error_se,test_error_se\n"
        "0000,completed,0.30,0.60,500,100,100,0.02,0.05,\n"
        "0001,completed,0.30,0.40,500,100,100,0.02,0.06,\n"
        "0002,completed,0.97,1.01,500,100,100,0.05,0.08,\n"
    )
    (run / "manifest.json").write_text(
        json.dumps({"format_version": 1, "data": {"task": "regression", "sizes": {}}})
    )
    (run / "epochs.csv").write_text(
        "trial_id,epoch,loss,val_loss\n0000,1,1,1\n0001,1,1,1\n0002,1,1,1\n"
    )
    trials = by_id(build(run, target_error=0.1))
    assert trials["0000"].label == "high bias and high variance"
    assert trials["0000"].val_error_ci == pytest.approx((0.502, 0.698), abs=1e-3)
    assert trials["0000"].intervals_source == "trials.csv *_error_se"
    assert trials["0001"].label == "high bias"
    assert trials["0001"].fit is not None and trials["0001"].fit.uncertain == ("variance",)
    assert trials["0002"].label == "not learning"  # the mean's normalized MSE is 1


def test_the_worked_example_keeps_its_labels_with_its_split_sizes() -> None:
    trials = by_id(build(FIXTURES / "worked-example"))
    labels = {tid: t.label for tid, t in trials.items()}
    assert labels == {
        "00": "high variance",
        "01": "high bias",
        "02": "high bias and high variance",
        "03": "good fit",
    }
    for trial in trials.values():
        assert trial.val_error_ci is not None
        assert trial.fit is not None and trial.fit.uncertain == ()
    assert trials["03"].intervals_source == "manifest.json data.sizes"
