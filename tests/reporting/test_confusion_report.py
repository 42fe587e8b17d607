"""The best model's confusion matrix in the report, from a hand-written best/confusion.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scipy.stats import binomtest

from tunenet.diagnosis import error_ci, percent_ci
from tunenet.reporting.sections import insight_sections

from .helpers import build, copy_run, run_report

TITLE = "Confusion matrix"


def with_confusion(tmp_path: Path, splits: dict, labels=("no", "yes"), trial_id="00") -> Path:
    """The small-split fixture (binary, best trial 00, 106 validation rows) with a matrix."""
    run = copy_run("small-split", tmp_path)
    (run / "best").mkdir()
    payload = {"format_version": 1, "trial_id": trial_id, "labels": list(labels), "splits": splits}
    (run / "best" / "confusion.json").write_text(json.dumps(payload), encoding="utf-8")
    return run


def errors(wrong: int, n: int) -> str:
    """An error as the report prints it, with its Wilson interval."""
    return percent_ci(wrong / n, error_ci(wrong / n, n))


def section(run: Path) -> list[str]:
    found = dict(insight_sections(build(run)))
    return found.get(TITLE, [])


def test_balanced_classes_without_an_outlier_give_one_line(tmp_path):
    # 11 mistakes of 106 = trials.csv's val_error of trial 00 (0.103774)
    run = with_confusion(tmp_path, {"val": [[50, 3], [8, 45]]})
    lines = section(run)
    assert len(lines) == 1
    assert f"Validation error {errors(11, 106)} on 106 examples" in lines[0]
    assert "yes predicted as no (8×)" in lines[0]
    assert "Classes are balanced" in lines[0]
    assert "no class's error stands out beyond its noise" in lines[0]


def test_imbalanced_classes_show_the_error_per_class_with_its_interval(tmp_path):
    run = with_confusion(tmp_path, {"val": [[80, 2], [9, 15]], "test": [[79, 3], [7, 17]]})
    text = "\n".join(section(run))
    assert "Classes are imbalanced (the largest has 3.4× the validation examples" in text
    low, high = binomtest(9, 24).proportion_ci(method="wilson")
    assert f"yes 37.5% [{low:.1%}, {high:.1%}] of 24 (stands out)" in text
    assert "no 2.4% [" in text and "of 82;" in text
    assert "Validation: the error of class(es) yes lies above the overall 10.4%" in text
    assert f"Test error {errors(10, 106)} on 106 examples" in text
    assert "Test: the error of class(es) yes lies above the overall 9.4%" in text


def test_a_class_standing_out_is_shown_even_when_classes_are_balanced(tmp_path):
    matrix = [[39, 1, 0], [0, 40, 0], [12, 0, 28]]  # class c: 30% wrong, the rest 1 in 80
    run = with_confusion(tmp_path, {"val": matrix}, labels=("a", "b", "c"))
    text = "\n".join(section(run))
    assert "Classes are balanced (the largest has 1.0×" in text
    assert "c 30.0% [" in text and "(stands out)" in text
    assert "a 2.5% [" in text and "a 2.5% [0.4%, 12.9%] of 40 (stands out)" not in text
    assert "the error of class(es) c lies above the overall 10.8%" in text


def test_a_small_class_inside_its_noise_is_not_said_to_stand_out(tmp_path):
    # yes: 1 of 6 wrong (16.7%) against 5.7% overall, but its interval [3.0%, 56.4%] reaches it
    run = with_confusion(tmp_path, {"val": [[95, 5], [1, 5]]})
    text = "\n".join(section(run))
    assert "imbalanced" in text  # 100 against 6: per-class errors are shown
    assert "yes 16.7% [3.0%, 56.4%] of 6" in text and "(stands out)" not in text
    assert "Validation: no class's error stands out beyond its noise" in text


def test_report_json_carries_the_matrix_per_split_and_the_per_class_errors(tmp_path):
    run = with_confusion(tmp_path, {"val": [[80, 2], [9, 15]], "test": [[79, 3], [7, 17]]})
    out, _ = run_report(run, "json")
    confusion = json.loads(out)["confusion"]
    assert confusion["labels"] == ["no", "yes"] and confusion["trial_id"] == "00"
    assert confusion["imbalanced"] is True
    assert confusion["splits"]["val"]["matrix"] == [[80, 2], [9, 15]]
    assert confusion["splits"]["test"]["matrix"] == [[79, 3], [7, 17]]
    val = confusion["splits"]["val"]
    assert val["n"] == 106 and val["error"] == pytest.approx(11 / 106)
    yes = val["per_class"][1]
    assert yes["label"] == "yes" and yes["n"] == 24 and yes["error"] == pytest.approx(9 / 24)
    low, high = binomtest(9, 24).proportion_ci(method="wilson")
    assert yes["error_ci"] == pytest.approx([low, high])
    assert yes["stands_out"] is True and val["per_class"][0]["stands_out"] is False


def test_every_renderer_shows_the_section(tmp_path):
    run = with_confusion(tmp_path, {"val": [[80, 2], [9, 15]]})
    for fmt in ("table", "markdown", "html"):
        out, _ = run_report(run, fmt)
        assert TITLE in out, fmt
        assert "(stands out)" in out, fmt


def test_a_matrix_of_another_trial_is_said_to_be_so(tmp_path):
    run = with_confusion(tmp_path, {"val": [[50, 3], [8, 45]]}, trial_id="03")
    lines = section(run)
    assert lines[0].startswith("Note: best/confusion.json is trial 03's, not the best trial 00's")


def test_without_confusion_json_there_is_no_section_and_json_says_null(tmp_path):
    run = copy_run("small-split", tmp_path)
    assert section(run) == []
    out, _ = run_report(run, "json")
    assert json.loads(out)["confusion"] is None


def test_a_damaged_confusion_json_is_a_warning_not_a_failure(tmp_path):
    run = with_confusion(tmp_path, {"val": [[50, 3], [8, 45]]})
    (run / "best" / "confusion.json").write_text('{"labels": ["no", "yes"], "splits": {"val": [[1')
    out, err = run_report(run, "markdown")
    assert TITLE not in out
    assert "confusion.json: unreadable" in out + err


def test_one_class_in_ten_clearing_its_own_interval_is_not_a_finding_after_correction():
    """With ten classes, a class whose 95% interval just clears the overall error is what chance
    gives one time in a few: only a difference that survives Holm's correction stands out."""
    from tunenet.diagnosis import error_ci
    from tunenet.reporting.confusion import split_confusion

    wrong = [3, 4, 4, 4, 3, 4, 4, 4, 3, 10]  # of 36 examples each; the last one is borderline
    matrix = [[36 - w if j == i else (w if j == (i + 1) % 10 else 0) for j in range(10)]
              for i, w in enumerate(wrong)]  # fmt: skip
    split = split_confusion("val", matrix, [str(i) for i in range(10)])
    last = split.classes[-1]
    assert error_ci(last.error, last.n)[0] > split.error  # its own interval clears the overall
    assert not last.stands_out and split.standing_out == []

    matrix[-1] = [16 if j == 0 else 0 for j in range(9)] + [20]  # 44% against about 13%
    labels = [c.label for c in split_confusion("val", matrix, [str(i) for i in range(10)]).classes]
    found = split_confusion("val", matrix, [str(i) for i in range(10)]).standing_out
    assert [c.label for c in found] == ["9"] and labels[-1] == "9"
