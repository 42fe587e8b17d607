"""The search tells listeners (tuning/events.py): in order, each event once, and a listener's
error is a warning, never the end of the search."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tunenet.tuning.events import Listeners, SearchListener, SearchStart

START = SearchStart(run_dir=Path("runs/demo"), planned=4, done=1, started=0.0)


class Recorder(SearchListener):
    """Writes down each event it hears, with its name."""

    def __init__(self, name: str, heard: list):
        self.name, self.heard = name, heard

    def on_note(self, text):
        self.heard.append((self.name, "note", text))

    def on_status(self, text):
        self.heard.append((self.name, "status", text))

    def on_result(self, text):
        self.heard.append((self.name, "result", text))

    def on_search_begin(self, start):
        self.heard.append((self.name, "search_begin", start))

    def on_trial_begin(self, trial_id, epochs):
        self.heard.append((self.name, "trial_begin", trial_id, epochs))

    def on_epoch_end(self, trial_id, epoch):
        self.heard.append((self.name, "epoch_end", trial_id, epoch))

    def on_trial_end(self, row, objective, best):
        self.heard.append((self.name, "trial_end", row["trial_id"], objective, best))

    def on_search_end(self, handed_over=False):
        self.heard.append((self.name, "search_end", handed_over))


class Broken(SearchListener):
    """Fails at every event it hears."""

    def __init__(self, error: BaseException = ValueError("boom")):
        self.error, self.calls = error, 0

    def _fail(self, *args):
        self.calls += 1
        raise self.error

    on_note = on_status = on_search_begin = on_trial_begin = _fail
    on_epoch_end = on_trial_end = on_search_end = _fail


@pytest.fixture
def warnings_logged():
    """The warnings of tuning/events.py (the CLI prints them as `warning: ...`)."""
    records: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("tunenet.tuning.events")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def tell_a_search(events: SearchListener) -> None:
    events.on_note("a note")
    events.on_status("a status line")
    events.on_search_begin(START)
    events.on_trial_begin("0001", (0, 2))
    events.on_epoch_end("0001", 1)
    events.on_trial_end({"trial_id": "0001"}, "val_loss", 0.5)
    events.on_search_end()


def test_listeners_hear_each_event_in_the_order_given() -> None:
    heard: list = []
    tell_a_search(Listeners([SearchListener(), Recorder("first", heard), Recorder("then", heard)]))
    assert [entry[0] for entry in heard] == ["first", "then"] * 7  # each event: first, then
    assert [entry[1:] for entry in heard[::2]] == [
        ("note", "a note"),
        ("status", "a status line"),
        ("search_begin", START),
        ("trial_begin", "0001", (0, 2)),
        ("epoch_end", "0001", 1),
        ("trial_end", "0001", "val_loss", 0.5),
        ("search_end", False),
    ]
    assert [entry[1:] for entry in heard[1::2]] == [entry[1:] for entry in heard[::2]]


def test_a_failing_listener_is_one_warning_and_the_search_goes_on(warnings_logged) -> None:
    heard: list = []
    broken = Broken()
    tell_a_search(Listeners([broken, Recorder("after", heard)]))
    assert len(heard) == 7  # the listener after it heard everything
    assert broken.calls == 7  # and the broken one is still told (it may recover)
    assert warnings_logged == ["Broken.on_note failed (ValueError: boom); the search goes on."]


@pytest.mark.parametrize("stop", [KeyboardInterrupt(), SystemExit(130)])
def test_a_stop_raised_in_a_listener_stops_the_search(stop, warnings_logged) -> None:
    with pytest.raises(type(stop)):
        Listeners([Broken(stop)]).on_epoch_end("0001", 1)
    assert warnings_logged == []


def test_the_search_end_is_told_once_however_many_ways_out_call_it() -> None:
    heard: list = []
    events = Listeners([Recorder("only", heard)])
    events.on_search_end(handed_over=True)
    events.on_search_end()
    assert heard == [("only", "search_end", True)]


TINY_GRID = """
    name: events
    seed: 3
    data: {source: iris}
    model: {layers: 1, units: [4, 8]}
    optimizer: {name: adam, learning_rate: 1.0e-2}
    training: {epochs: 2, batch_size: 32}
    search: {strategy: grid, max_trials: 5}
"""


@pytest.mark.e2e
def test_a_real_search_tells_each_trial_and_epoch_and_survives_a_broken_listener(
    write_config, tmp_path, warnings_logged
) -> None:
    from tunenet.config import load as loader
    from tunenet.runs import RunOptions
    from tunenet.tuning import tuner

    config_file = write_config(TINY_GRID)
    options = RunOptions(config_path=config_file, runs_dir=tmp_path / "runs")
    heard: list = []
    summary = tuner.run_search(
        loader.load_config(config_file), options, listeners=[Broken(), Recorder("r", heard)]
    )
    assert summary.exit_code == 0 and len(summary.rows) == 2
    events = [entry[1:] for entry in heard if entry[1] not in ("note", "status", "result")]
    begin, *trials, end = events
    assert begin[0] == "search_begin" and end == ("search_end", False)
    start = begin[1]
    assert (start.run_dir, start.planned, start.done, start.continued) == (
        summary.run.path, 2, 0, False,
    )  # fmt: skip
    objective = summary.objective.name
    for row, told in zip(summary.rows, (trials[:4], trials[4:])):
        trial_id = row["trial_id"]
        assert told[:3] == [
            ("trial_begin", trial_id, (0, 2)),
            ("epoch_end", trial_id, 1),
            ("epoch_end", trial_id, 2),
        ]
        assert told[3][:3] == ("trial_end", trial_id, objective)
    assert trials[-1][3] == pytest.approx(float(summary.best["objective"]))  # the best so far
    statuses = [entry[2] for entry in heard if entry[1] == "status"]
    assert statuses[:2] == ["reading data (iris)", "fitting 3 baselines (majority 1/3)"]
    results = [entry[2] for entry in heard if entry[1] == "result"]
    assert any(line.startswith("baselines (") for line in results)  # what --quiet hides
    first = heard[0][1]  # the broken listener failed there first, and is reported once
    assert warnings_logged == [f"Broken.on_{first} failed (ValueError: boom); the search goes on."]
