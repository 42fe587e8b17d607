"""The simplest tied trial in every format (docs/report.md, "The simplest tied trial"), and the
model best/ holds under search.keep, from hand-written runs whose answers are known."""

from __future__ import annotations

import json

import pytest

from tunenet.runs.intervals import difference_ci, wilson

from .helpers import build, run_report
from .params_runs import write_params_run

# trial 7: 4.1% of 1000 against the best's 3.8% of 1000; Newcombe's interval of the difference
LOW, HIGH = difference_ci(0.041, wilson(0.041, 1000), 0.038, wilson(0.038, 1000))
SENTENCE = (
    "Simplest tied: trial 7: 12,416 parameters (9.2× fewer than the best), validation error "
    "4.1% vs 3.8% (+0.3 pts ± 1.7: tied)."
)


def test_the_known_interval_is_tied() -> None:
    assert LOW < 0 < HIGH
    assert (HIGH - LOW) / 2 == pytest.approx(0.0174, abs=5e-4)  # the "± 1.7" of SENTENCE


def test_the_report_names_the_simplest_tied_trial(tmp_path) -> None:
    report = build(write_params_run(tmp_path / "run"))
    found = report.simplest_tied
    assert report.best.trial_id == "3"
    assert found is not None and found.trial_id == "7"  # trial 5 is tied too, but larger
    assert found.params == 12_416 and found.best_params == 114_227
    assert found.ratio == pytest.approx(114_227 / 12_416)
    assert found.difference == pytest.approx(0.003)
    assert found.difference_ci == pytest.approx((LOW, HIGH))
    assert report.kept == "best" and report.kept_trial == "3"  # no kept in the manifest


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_every_text_format_says_it_beside_the_best_trial(tmp_path, fmt: str) -> None:
    out, _ = run_report(write_params_run(tmp_path / "run"), fmt)
    lines = [line.lstrip("- ") for line in out.splitlines()]
    best = next(i for i, line in enumerate(lines) if line.startswith("Best trial 3"))
    assert lines[best + 1] == SENTENCE
    assert "best/ holds" not in out  # search.keep: best (the default) says nothing more


def test_report_json_has_the_spec_fields(tmp_path) -> None:
    out, _ = run_report(write_params_run(tmp_path / "run"), "json")
    found = json.loads(out)["simplest_tied"]
    assert set(found) == {"trial_id", "params", "ratio", "difference", "difference_ci"}
    assert found["trial_id"] == "7" and found["params"] == 12_416
    assert found["ratio"] == pytest.approx(9.2, abs=0.01)
    assert found["difference"] == pytest.approx(0.003)  # worse than the best: positive
    assert found["difference_ci"] == pytest.approx([LOW, HIGH])
    assert json.loads(out)["kept"] == {"rule": "best", "trial_id": "3"}


def test_the_report_says_best_holds_the_simplest_tied(tmp_path) -> None:
    run = write_params_run(tmp_path / "run", kept={"rule": "simplest_tied", "trial_id": "7"})
    report = build(run)
    assert report.kept == "simplest_tied" and report.kept_trial == "7"
    for fmt in ("table", "markdown"):
        out, _ = run_report(run, fmt)
        assert "best/ holds trial 7, the simplest tied (search.keep)." in out, fmt
    document = json.loads(run_report(run, "json")[0])
    assert document["kept"] == {"rule": "simplest_tied", "trial_id": "7"}


def test_keep_simplest_tied_with_the_best_the_simplest_keeps_the_best(tmp_path) -> None:
    trials = [("3", 1_000, 0.038, "completed"), ("5", 48_000, 0.045, "completed")]
    run = write_params_run(
        tmp_path / "run", kept={"rule": "simplest_tied", "trial_id": "3"}, trials=trials
    )
    report = build(run)
    assert report.simplest_tied is None and report.kept == "best"
    out, _ = run_report(run, "table")
    assert "Simplest tied" not in out and "best/ holds" not in out
    assert json.loads(run_report(run, "json")[0])["simplest_tied"] is None


def test_an_old_run_without_params_reports_as_before(tmp_path) -> None:
    run = write_params_run(tmp_path / "run", with_params=False)
    report = build(run)
    assert report.simplest_tied is None and report.kept == "best"
    out, _ = run_report(run, "markdown")
    assert "Simplest tied" not in out
    assert json.loads(run_report(run, "json")[0])["simplest_tied"] is None


def test_a_tie_at_the_top_does_not_claim_best_holds_the_best_when_it_holds_the_simplest(
    tmp_path,
) -> None:
    trials = [
        ("2", 1_500, 0.120, "completed"),
        ("3", 114_227, 0.038, "completed"),
        ("6", 90_000, 0.038, "completed"),  # the same objective as trial 3
        ("7", 12_416, 0.041, "completed"),
    ]
    kept = {"rule": "simplest_tied", "trial_id": "7"}
    run = write_params_run(tmp_path / "run", kept=kept, trials=trials)
    out, _ = run_report(run, "table")
    assert "Best trial 3 (tied for best with 6; shown: the search's best)" in out
    assert "the one saved in best/" not in out
    assert "best/ holds trial 7, the simplest tied (search.keep)." in out


@pytest.mark.parametrize(
    ("stopped_by", "words"),
    [
        ("no_gain", "ended early by search.stop_after_no_gain (no gain beyond the noise)"),
        ("time_budget", "ended early by search.time_budget (the time budget ran out)"),
    ],
)
def test_the_report_says_which_search_key_ended_the_search(tmp_path, stopped_by, words) -> None:
    run = write_params_run(tmp_path / "run")
    manifest = json.loads((run / "manifest.json").read_text())
    (run / "manifest.json").write_text(json.dumps({**manifest, "stopped_by": stopped_by}))
    for fmt in ("table", "markdown"):
        assert f"status completed, {words}" in run_report(run, fmt)[0], fmt
    assert json.loads(run_report(run, "json")[0])["run"]["stopped_by"] == stopped_by


def test_a_run_that_ran_its_course_says_nothing_of_stopping(tmp_path) -> None:
    run = write_params_run(tmp_path / "run")
    assert "ended early" not in run_report(run, "table")[0]
    assert json.loads(run_report(run, "json")[0])["run"]["stopped_by"] is None


def test_the_confusion_matrix_of_the_kept_trial_is_said_to_be_of_the_model_best_holds(tmp_path):
    from tunenet.runs.insight import write_confusion
    from tunenet.runs.paths import RunDir

    run = write_params_run(tmp_path / "run", kept={"rule": "simplest_tied", "trial_id": "7"})
    write_confusion(
        RunDir(run), "7", ["a", "b", "c"], {"val": [[300, 5, 5], [5, 320, 5], [5, 6, 349]]}
    )
    out, _ = run_report(run, "table")
    assert "Of trial 7, the model best/ holds (search.keep), not trial 3." in out
    assert "a resume that found a better trial" not in out
