"""The report in the terminal, and the best trial in a few lines for the end of a search."""

from __future__ import annotations

from pathlib import Path

from tunenet.reporting import best_trial_text

from .helpers import FIXTURES, copy_run, run_report


def test_best_trial_text_has_the_diagnosis_and_the_top_recommendation() -> None:
    text = best_trial_text(FIXTURES / "curves")
    assert text.splitlines()[0].startswith("Best trial 01: val_accuracy 0.9")
    assert "Diagnosis: high bias" in text
    assert "Next: Train longer: raise training.epochs (now 10)" in text


def test_table_prints_the_settings_the_labels_and_the_verdict(tmp_path: Path) -> None:
    out, err = run_report(copy_run("worked-example", tmp_path), "table")
    assert "target error 0.13 (resolved.yaml)" in out
    assert "high bias and high variance" in out
    assert "Verdict:" in out
    assert "report files:" in err
