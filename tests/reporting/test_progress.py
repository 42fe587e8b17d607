"""The search's progress on stderr: a live display on a terminal, plain lines in a CI log, a line
per finished trial, nothing with --quiet (docs/cli.md)."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from rich.console import Console

from tunenet.reporting.progress import SearchProgress, trial_line
from tunenet.tuning.events import Listeners, SearchStart

ESCAPE = re.compile(r"\x1b")
RICH_RED = "249;38;114"  # Rich's default colour of a bar in progress: reads as a failure


def row(trial_id: str, status: str = "completed", objective: float | None = 0.9, **extra) -> dict:
    values = {
        "trial_id": trial_id,
        "status": status,
        "objective": objective,
        "seconds": 2.25,
        "epochs_trained": 3,
        "stopped_early": False,
        "hp.optimizer.learning_rate": 0.001,
        "hp.model.units.0": 64,
        "hp.model.units.1": "",  # inactive: this trial has one layer
        "hp.optimizer.name": "adam",
        "message": "",
    }
    return {**values, **extra}


def console(terminal: bool) -> Console:
    return Console(
        file=io.StringIO(), force_terminal=terminal, width=100, color_system="truecolor",
        markup=False, highlight=False,
    )  # fmt: skip


def drive(progress: SearchProgress, trials: list[dict]) -> None:
    progress.start()
    for trial in trials:
        progress.trial_begin(trial["trial_id"], (0, 3))
        for epoch in (1, 2, 3):
            progress.epoch(epoch)
        progress.trial_end(trial, "val_accuracy", 0.95)
    progress.stop()
    progress.stop()  # the search calls it on every way out


TRIALS = [
    row("0000", objective=0.95, stopped_early=True, epochs_trained=2),
    row("0001", "diverged", None, message="the loss became NaN or infinite"),
    row("0002", "failed", None, message="ValueError: bad shape"),
    row("0003", "pruned", 0.5, epochs_trained=1),
]


def test_plain_lines_when_stderr_is_not_a_terminal() -> None:
    out = console(False)
    drive(SearchProgress(out, total=5), TRIALS)
    lines = out.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert not ESCAPE.search("\n".join(lines))  # no colour, no cursor movement
    assert lines[0] == "search: 5 trial(s) planned"
    assert len(lines) == 6  # start, one per trial, end: no animation
    first = lines[1]
    assert first.startswith("trial 0000  completed (stopped early at epoch 2)  val_accuracy 0.95")
    assert "2.2s" in first and "learning_rate=0.001 units.0=64 optimizer=adam" in first
    assert "units.1" not in first  # only the hyperparameters this trial has
    assert "1/5 done, best val_accuracy 0.95" in first and "left" in first
    assert lines[2].startswith("trial 0001  diverged: the loss became NaN or infinite  2.2s")
    assert lines[3].startswith("trial 0002  failed: ValueError: bad shape")
    assert lines[4].startswith("trial 0003  pruned at epoch 1  val_accuracy 0.5")
    assert lines[5].startswith("search ended: 4 of 5 planned trial(s) done, best val_accuracy 0.95")


def test_an_infeasible_trial_is_not_counted_as_one_of_the_planned_trials() -> None:
    out = console(False)
    message = "infeasible: 5,953 trainable parameters, above search.max_params = 5,000"
    trials = [TRIALS[0], row("0001", "infeasible", None, message=message), TRIALS[3]]
    drive(SearchProgress(out, total=2), trials)
    lines = out.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert "1/2 done" in lines[1] and "1/2 done" in lines[2] and "2/2 done" in lines[3]
    assert lines[-1].startswith(
        "search ended: 2 of 2 planned trial(s) done (1 more infeasible, not trained)"
    )


def test_quiet_shows_nothing() -> None:
    for terminal in (True, False):
        out = console(terminal)
        drive(SearchProgress(out, total=5, quiet=True), TRIALS)
        assert out.file.getvalue() == ""  # type: ignore[attr-defined]


def test_terminal_prints_a_line_per_trial_and_ends_neutral_when_the_search_ends_early() -> None:
    out = console(True)
    drive(SearchProgress(out, total=5), TRIALS)
    text = out.file.getvalue()  # type: ignore[attr-defined]
    plain = " ".join(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).split())
    for trial in TRIALS:  # printed above the live display, wrapped at the console's width
        assert " ".join(trial_line(trial, "val_accuracy").split()) in plain
    assert "4/5" in plain and "ended after 4 of 5" in plain
    assert RICH_RED not in text  # the bar is never red
    last = text.rsplit("trials", 1)[1]  # the display's final state
    assert "\x1b[36m" in last  # cyan: neutral


def test_terminal_bar_ends_green_when_every_planned_trial_ran() -> None:
    out = console(True)
    drive(SearchProgress(out, total=2), TRIALS[:2])
    last = out.file.getvalue().rsplit("trials", 1)[1]  # type: ignore[attr-defined]
    assert "\x1b[32m" in last and "ended after" not in last and RICH_RED not in last


def test_epoch_clock_restarts_for_each_trial() -> None:
    progress = SearchProgress(console(True), total=3)
    progress.start()
    progress.trial_begin("0000", (0, 2))
    progress.epoch(1)
    progress.epoch(2)  # every epoch done: Rich stops this task's clock
    progress.trial_end(row("0000"), "val_accuracy", 0.9)
    progress.trial_begin("0001", (0, 2))
    task = progress._progress.tasks[1]  # type: ignore[union-attr]
    before = task.elapsed
    time.sleep(0.05)
    assert not task.finished and task.elapsed > before  # the clock runs again
    assert task.fields["count"] == "epoch 1/2" and task.description == "trial 0001"
    progress.stop()


def test_eta_from_this_sessions_pace_and_unknown_without_a_plan() -> None:
    progress = SearchProgress(console(False), total=4)
    progress.start(done=1)  # a resume: the earlier trial does not count in the pace
    assert progress.eta() is None
    progress.started -= 10.0  # ten seconds into the session
    progress.trial_begin("0001", (0, 4))
    progress.epoch(2)  # half a trial in ten seconds
    assert progress.eta() == pytest.approx(50.0, rel=0.05)  # 2.5 trials left at 20 s each
    unknown = SearchProgress(console(False), total=0)
    unknown.start()
    unknown.trial_end(row("0000"), "val_accuracy", 0.9)
    assert unknown.eta() is None
    assert "1 done" in unknown.console.file.getvalue()  # type: ignore[attr-defined]


# ---------------------------------------------------------------- as a listener of the search


def start(planned: int = 3, done: int = 0, ago: float = 0.0, continued: bool = False):
    return SearchStart(Path("runs/demo"), planned, done, time.time() - ago, continued)


def test_notes_show_even_when_quiet_and_status_lines_only_without() -> None:
    for quiet in (False, True):
        out = console(False)
        events = Listeners([SearchProgress(out, quiet=quiet)])
        events.on_note("worker tuner0 died (exit code 9); a fresh one reruns its trial")
        events.on_status("baselines (0.1 s): majority 60.0% validation error")
        shown = out.file.getvalue().splitlines()  # type: ignore[attr-defined]
        assert shown[0].startswith("worker tuner0 died") and len(shown) == 2 - quiet


def test_the_search_start_sets_the_plan_and_the_clock() -> None:
    progress = SearchProgress(console(False))
    progress.on_search_begin(start(planned=4, done=1, ago=30.0))
    assert progress.total == 4 and progress.done == 1 and progress.elapsed() >= 30.0
    lines = progress.console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines == ["search: 4 trial(s) planned, 1 done before"]


def test_a_hand_over_draws_no_end_line_and_its_successor_no_start_line() -> None:
    out = console(False)
    first = SearchProgress(out)
    first.on_search_begin(start())
    first.on_search_end(handed_over=True)
    first.on_search_end()  # the ways out of the search that follow draw nothing either
    successor = SearchProgress(out)
    successor.on_search_begin(start(done=1, ago=60.0, continued=True))
    successor.on_trial_end(row("0001"), "val_accuracy", 0.9)
    successor.on_search_end()
    lines = out.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines[0] == "search: 3 trial(s) planned" and len(lines) == 3
    assert lines[1].startswith("trial 0001") and "2/3 done" in lines[1]
    assert lines[2].startswith("search ended: 2 of 3 planned trial(s) done")


def test_a_hand_over_erases_the_live_display() -> None:
    out = console(True)
    progress = SearchProgress(out)
    progress.on_search_begin(start())
    progress.on_search_end(handed_over=True)
    assert progress._progress is None and progress.quiet
    assert "ended after" not in out.file.getvalue()  # type: ignore[attr-defined]


TINY_GRID = """
    name: progress-lines
    seed: 3
    data: {source: wine}
    model: {layers: 1, units: [4, 8]}
    optimizer: {name: adam, learning_rate: 1.0e-2}
    training: {epochs: 2, batch_size: 32}
    search: {strategy: grid, max_trials: 5}
"""


@pytest.mark.e2e
def test_a_real_search_logs_plain_lines_and_a_summary_that_fits(write_config, tmp_path) -> None:
    from typer.testing import CliRunner

    from tunenet.cli import app

    config = write_config(TINY_GRID)
    result = CliRunner().invoke(
        app, ["search", str(config), "--runs-dir", str(tmp_path / "runs")], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    log = result.stderr.splitlines()
    assert not ESCAPE.search(result.stderr)
    assert "search: 2 trial(s) planned" in log  # the grid's 2 points, under max_trials 5
    finished = [line for line in log if line.startswith("trial ")]
    assert len(finished) == 2
    assert all("  completed" in line and "units.0=" in line for line in finished)
    # from the first second, what it is doing: a line per stage, in order, then the trials
    stages = [
        f"reading config ({config.name})", "reading data (wine)", "loading TensorFlow",
        "fitting 3 baselines (majority 1/3)", "fitting 3 baselines (boosting 3/3)",
        "search: 2 trial(s) planned", f"building trial {finished[0].split()[1]}", finished[0],
    ]  # fmt: skip
    assert [log.index(line) for line in stages] == sorted(log.index(line) for line in stages)
    assert log[0] == stages[0] and sum(line.startswith("building trial") for line in log) == 1
    assert any(line.startswith("baselines (") for line in log)
    # each line carries the label `tunenet report` gives that trial
    from tunenet import report

    labels = {t["trial_id"]: t["label"] for t in report(tmp_path / "runs").to_dict()["trials"]}
    for line in finished:
        trial_id = line.split()[1]
        assert f"  {labels[trial_id]}  " in line, (line, labels)
    assert log[-1].startswith("search ended: 2 of 2 planned trial(s) done, best val_accuracy")
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "…" not in result.stdout and "best trial " in result.stdout
    quiet = CliRunner().invoke(
        app,
        ["search", str(config), "--runs-dir", str(tmp_path / "runs"), "--overwrite", "-q",
         "--max-trials", "1"],
    )  # fmt: skip
    assert quiet.exit_code == 0 and "trial " not in quiet.stderr
    assert "best trial " in quiet.stdout


# ---------------------------------------------------------------- from the first second


def test_statuses_are_plain_lines_until_the_first_trial_line() -> None:
    out = console(False)
    events = Listeners([SearchProgress(out)])
    events.on_status("reading config (iris.yaml)")
    events.on_status("reading config (iris.yaml)")  # told twice: shown once
    events.on_status("loading TensorFlow")
    events.on_status("fitting 3 baselines (majority 1/3)")
    events.on_result("baselines (0.1 s): logistic 3.3%, majority 66.7% validation error")
    events.on_search_begin(start(planned=2))
    events.on_status("building trial 0")
    events.on_trial_end(row("0"), "val_accuracy", 0.9)
    events.on_status("building trial 1")  # after the first trial line: the trial lines say it
    events.on_status("")
    lines = out.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines[:6] == [
        "reading config (iris.yaml)",
        "loading TensorFlow",
        "fitting 3 baselines (majority 1/3)",
        "baselines (0.1 s): logistic 3.3%, majority 66.7% validation error",
        "search: 2 trial(s) planned",
        "building trial 0",
    ]
    assert lines[6].startswith("trial 0  completed") and len(lines) == 7


def test_quiet_shows_no_status_and_no_result() -> None:
    for terminal in (True, False):
        out = console(terminal)
        events = Listeners([SearchProgress(out, quiet=True)])
        events.on_status("loading TensorFlow")
        events.on_result("baselines (0.1 s): majority 60.0% validation error")
        events.on_status("")
        assert out.file.getvalue() == ""  # type: ignore[attr-defined]


def test_on_a_terminal_the_status_is_a_spinner_line_then_the_trials_bar_says_it() -> None:
    out = console(True)
    progress = SearchProgress(out)
    progress.on_status("loading TensorFlow")
    assert progress._status is not None  # a live spinner line, at once
    progress.on_result("baselines (0.1 s): majority 60.0% validation error")  # stays, above it
    progress.on_status("fitting 3 baselines (logistic 2/3)")
    progress.on_search_begin(start(planned=2))
    assert progress._status is None  # erased: the trials bar takes over
    progress.on_status("building trial 0")
    task = progress._progress.tasks[0]  # type: ignore[union-attr]
    assert task.fields["info"] == "building trial 0"
    progress.on_trial_end(row("0"), "val_accuracy", 0.9)
    assert task.fields["info"] == "best val_accuracy 0.9"
    progress.on_search_end()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.file.getvalue())  # type: ignore[attr-defined]
    assert "loading TensorFlow" in text and "fitting 3 baselines (logistic 2/3)" in text
    assert "baselines (0.1 s): majority 60.0% validation error\n" in text


def test_an_empty_status_takes_the_spinner_away() -> None:
    progress = SearchProgress(console(True))
    progress.on_status("reading data (iris)")
    progress.on_status("")  # the search failed before its trials: the line goes
    assert progress._status is None
