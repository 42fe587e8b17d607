"""The best trial as every format names it: tied for best (and how the one shown was picked), and
the effects table's header naming what its last column holds."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd
import pytest

from .helpers import build, copy_run, run_report

FORMATS = ("table", "markdown", "html")


def tied_run(tmp_path: Path, saved: str | None = None) -> Path:
    """small-split with trial 03 given trial 00's validation result: two trials tied for best;
    `saved`: manifest.json's best_trial (the model in best/)."""
    run = copy_run("small-split", tmp_path)
    trials = pd.read_csv(run / "trials.csv", dtype={"trial_id": str})
    best = trials["trial_id"] == "00"
    for column in ("val_accuracy", "val_error", "objective"):
        trials.loc[trials["trial_id"] == "03", column] = trials.loc[best, column].item()
    trials.to_csv(run / "trials.csv", index=False)
    if saved is not None:
        manifest = json.loads((run / "manifest.json").read_text())
        (run / "manifest.json").write_text(json.dumps({**manifest, "best_trial": saved}))
    return run


def joined(text: str) -> str:
    return " ".join(html.unescape(text).split())


def test_tied_best_trials_are_named_with_how_the_shown_one_was_picked(tmp_path):
    report = build(tied_run(tmp_path))
    assert report.best.trial_id == "00" and report.tied_with == ["03"]
    words = "tied for best with 03; shown: the first by trial id"
    assert f"The best trial, 00 ({words}), reached val_accuracy 0.8962" in report.verdict
    assert report.headline.startswith("best 00 (tied with 03): ")
    for fmt in FORMATS:
        out, _ = run_report(tied_run(tmp_path / fmt), fmt)
        assert f"Best trial 00 ({words}): val_accuracy 0.8962" in joined(out), fmt
    out, _ = run_report(tied_run(tmp_path / "json"), "json")
    document = json.loads(out)
    assert document["tied_for_best"] == {"trials": ["00", "03"], "chosen": "the first by trial id"}
    assert document["best_trial"] == "00"


def test_the_trial_saved_in_best_is_shown_among_tied_ones(tmp_path):
    report = build(tied_run(tmp_path, saved="03"))
    assert report.best.trial_id == "03" and report.tied_with == ["00"]
    assert report.trials[0].trial_id == "03"  # first in the tables too
    assert "03 (tied for best with 00; shown: the one saved in best/)" in report.verdict


def test_a_single_best_trial_says_nothing_of_ties(tmp_path):
    report = build(copy_run("small-split", tmp_path))
    assert report.tied_with == [] and "tied" not in report.verdict
    out, _ = run_report(copy_run("small-split", tmp_path / "json"), "json")
    assert json.loads(out)["tied_for_best"] is None


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_effects_header_says_it_holds_the_significance_test(tmp_path, fmt):
    out, _ = run_report(copy_run("small-split", tmp_path), fmt)
    text = joined(out)
    assert "significance test for val_accuracy" in text
    assert "test (val_accuracy)" not in text


def test_a_best_trial_below_the_target_beyond_the_noise_is_said_to_beat_it(tmp_path):
    # trial 00: train error 6.9% on 320 rows, 13 points below a 20% target (± about 3)
    report = build(copy_run("small-split", tmp_path), target_error=0.2)
    assert report.best.fit.beats_target
    assert "the target is not a floor" in report.verdict
    assert "diagnosis.target_error" in report.verdict
    assert "the target is not a floor" not in build(copy_run("small-split", tmp_path / "b")).verdict
