"""Every live line of `tunenet search` fits the terminal (or COLUMNS): a trial's line breaks
between its `name=value` tokens, never inside one; a note wraps at words (docs/cli.md)."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from tunenet.reporting.progress import SearchProgress, trial_chunks
from tunenet.reporting.rich_table import wrap_chunks

CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")
LABEL = "high bias and high variance (bias uncertain)"
HPS = {
    "hp.optimizer.learning_rate": 0.0001839,
    "hp.model.units.0": 512,
    "hp.model.units.1": 256,
    "hp.model.units.2": 128,
    "hp.regularization.dropout": 0.25,
    "hp.regularization.l2": 1.5e-05,
    "hp.optimizer.name": "rmsprop",
    "hp.training.batch_size": 128,
    "hp.model.activation": "leaky_relu",
}
TOKENS = [
    "learning_rate=0.0001839", "units.0=512", "units.1=256", "units.2=128", "dropout=0.25",
    "l2=1.5e-05", "optimizer=rmsprop", "batch_size=128", "activation=leaky_relu",
]  # fmt: skip
ROWS = [
    {"trial_id": "0007", "status": "completed", "objective": 0.9666, "seconds": 31.4,
     "epochs_trained": 12, "stopped_early": True, "message": "", **HPS},
    {"trial_id": "0008", "status": "failed", "objective": None, "seconds": 2.0,
     "message": "ValueError: Input 0 of layer dense_3 is incompatible with the layer shape",
     **HPS},
]  # fmt: skip
WIDTHS = [60, 80, 100, 160]


def terminal(width: int, monkeypatch: pytest.MonkeyPatch) -> Console:
    monkeypatch.setenv("COLUMNS", str(width))  # as a user sets it, or the terminal says it
    # as the CLI's stderr console: soft_wrap, so that a log line is never broken by Rich
    console = Console(file=io.StringIO(), force_terminal=True, color_system=None, soft_wrap=True)
    assert console.width == width
    return console


def shown(console: Console) -> list[str]:
    text = CONTROL.sub("\n", console.file.getvalue())  # type: ignore[attr-defined]
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("width", WIDTHS)
def test_trial_lines_fit_the_width_and_keep_every_token_whole(
    width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    console = terminal(width, monkeypatch)
    progress = SearchProgress(console, total=3, labeler=lambda row: LABEL)
    for row in ROWS:  # no bar: a worker's lines, wrapped as the lines above the bar are
        progress.on_trial_end(row, "val_accuracy", 0.9666)
    lines = shown(console)
    assert max(len(line) for line in lines) <= width
    words = " ".join(lines).split()
    assert words.count("learning_rate=0.0001839") == 2  # whole, in both trials' lines
    assert all(token in words for token in TOKENS)
    assert lines[0].startswith("trial 0007  completed (stopped early at epoch 12)")
    continued = [line for line in lines if not line.startswith("trial ")]
    assert all(line.startswith("  ") for line in continued)  # a trial's lines after its first


@pytest.mark.parametrize("width", WIDTHS)
def test_lines_above_the_bar_keep_every_token_whole(
    width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    console = terminal(width, monkeypatch)
    progress = SearchProgress(console, total=3, labeler=lambda row: LABEL)
    progress.start()
    progress.trial_begin("0007", (0, 12))
    progress.epoch(1)
    progress.trial_end(ROWS[0], "val_accuracy", 0.9666)
    progress.stop()
    assert max(len(line) for line in shown(console)) <= width  # the bar's rows too
    words = " ".join(shown(console)).split()
    assert all(token in words for token in TOKENS)
    assert "learning_rate=0." not in words and "0001839" not in words  # never cut inside


@pytest.mark.parametrize("width", WIDTHS)
def test_a_long_note_wraps_at_words(width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    console = terminal(width, monkeypatch)
    note = "worker tuner1 died (exit code 9); a fresh one reruns its trial " * 3
    SearchProgress(console).on_note(note.strip())
    lines = shown(console)
    assert max(len(line) for line in lines) <= width
    assert " ".join(lines).split() == note.split()


def test_a_piped_log_keeps_one_line_per_trial(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    console = Console(file=io.StringIO(), force_terminal=False, soft_wrap=True)
    SearchProgress(console, total=3).on_trial_end(ROWS[0], "val_accuracy", 0.9)
    assert len(shown(console)) == 1  # a CI log: one line per trial, to grep


def test_wrapping_breaks_only_between_chunks_and_cuts_only_a_word_wider_than_a_line() -> None:
    chunks = trial_chunks(ROWS[0], "val_accuracy", LABEL)
    for width in range(28, 200, 7):  # from the longest token and its indent up
        lines = wrap_chunks(chunks, width)
        assert max(len(line) for line in lines) <= width
        assert all(token in " ".join(lines).split() for token in TOKENS)
    assert wrap_chunks([("", "x" * 25)], 10) == ["x" * 10, "  " + "x" * 8, "  " + "x" * 7]
