"""Ctrl-C and SIGTERM end a trial as `interrupted`, never `failed`, whatever error they come
out as; without a stop, a trial's own error is `failed` and the search goes on."""

from __future__ import annotations

import io
import os
import signal
from pathlib import Path
from types import SimpleNamespace

import keras_tuner as kt
import pytest
from rich.console import Console

from tunenet.config import load as loader
from tunenet.data.dataset import load_dataset
from tunenet.reporting.progress import SearchProgress
from tunenet.runs import RunDir, TrialTable
from tunenet.tuning import trial as trial_module
from tunenet.tuning import tuner as tuner_module
from tunenet.tuning.kt_compat import Trial
from tunenet.tuning.trial import SearchContext, TrialRunner, stopped

# what TensorFlow made of a KeyboardInterrupt in the field (issue: Ctrl-C in a trial's first
# seconds was recorded as this failure, and the search went on)
TURNED = ValueError("None values not supported.")


@pytest.fixture
def stop_flag():
    """The search's stop flag, as the signal handler sets it; cleared afterwards."""
    yield lambda: setattr(trial_module, "stop_requested", True)
    trial_module.stop_requested = False


@pytest.fixture
def runner(tmp_path: Path) -> TrialRunner:
    config = loader.validate_dict({"data": {"source": "iris"}, "model": {"units": [8, 16]}})
    progress = SearchProgress(Console(file=io.StringIO()), total=0, quiet=True)
    (tmp_path / "run").mkdir()
    context = SearchContext(config, load_dataset(config), RunDir(tmp_path / "run"), progress)
    runner = TrialRunner()
    runner.setup(context)
    return runner


def failing_fit(error: BaseException, stop=None):
    """A fit that raises `error`; first, `stop()` when given (Ctrl-C during the fit)."""

    def fit(*args, **kwargs):
        if stop is not None:
            stop()
        raise error

    return fit


def recorded(runner: TrialRunner, trial_id: str) -> dict:
    table = TrialTable(runner.context.trials.path, runner.context.trial_columns())
    table.reload()
    return table.find(trial_id)


def new_trial(trial_id: str = "01") -> Trial:
    return Trial(hyperparameters=kt.HyperParameters(), trial_id=trial_id)


def test_the_decision_is_interrupted_for_any_error_once_a_stop_is_requested(stop_flag):
    assert stopped(KeyboardInterrupt())
    assert not stopped(TURNED)
    stop_flag()
    assert stopped(TURNED) and stopped(OSError(28, "No space left on device"))


def test_an_error_during_a_stop_records_interrupted_and_stops_the_search(runner, stop_flag):
    runner._fit = failing_fit(TURNED, stop=stop_flag)
    with pytest.raises(KeyboardInterrupt):  # not FailedTrialError: keras-tuner would go on
        runner.run_trial(new_trial())
    row = recorded(runner, "01")
    assert row["status"] == "interrupted"
    assert row["message"] == "interrupted; runs again on --resume"


def test_the_same_error_without_a_stop_is_the_trials_failure(runner):
    runner._fit = failing_fit(TURNED)
    with pytest.raises(kt.errors.FailedTrialError):
        runner.run_trial(new_trial())
    row = recorded(runner, "01")
    assert row["status"] == "failed"
    assert row["message"] == "ValueError: None values not supported."


def test_a_stop_that_looks_like_a_full_disk_is_still_a_stop(runner, stop_flag):
    runner._fit = failing_fit(OSError(28, "No space left on device"), stop=stop_flag)
    with pytest.raises(KeyboardInterrupt):  # not CannotWrite (exit 2, "free some space")
        runner.run_trial(new_trial())
    assert recorded(runner, "01")["status"] == "interrupted"


def test_a_stop_after_the_trials_row_keeps_the_row(runner):
    """Ctrl-C after trials.csv has the trial's final row (in the end-of-trial display): the
    trial is done and keeps its row; it is not run again."""
    runner._fit = lambda *args: SimpleNamespace(pruned="")

    def score(row, executions, trial_id, seconds):
        runner.context.trials.put({**row, "status": "completed", "objective": 0.9})
        raise KeyboardInterrupt

    runner.context.score = score
    with pytest.raises(KeyboardInterrupt):
        runner.run_trial(new_trial())
    assert recorded(runner, "01")["status"] == "completed"


def test_a_lost_stop_is_caught_before_scoring(runner, stop_flag):
    """The KeyboardInterrupt was dropped (a finalizer) after the last epoch: the trial is
    not scored as if it had ended normally."""
    runner._fit = lambda *args: stop_flag() or SimpleNamespace(pruned="")
    runner.context.score = failing_fit(AssertionError("scored"))
    with pytest.raises(KeyboardInterrupt):
        runner.run_trial(new_trial())
    assert recorded(runner, "01")["status"] == "interrupted"


def test_a_failure_stays_failed_and_the_flag_stays_down(runner):
    runner._fit = failing_fit(RuntimeError("bad shapes"))
    with pytest.raises(kt.errors.FailedTrialError):
        runner.run_trial(new_trial("02"))
    assert trial_module.stop_requested is False


def test_ctrl_c_and_sigterm_set_the_flag_then_raise(stop_flag):
    before = {number: signal.getsignal(number) for number in tuner_module.STOP_SIGNALS}
    for number in tuner_module.STOP_SIGNALS:
        with tuner_module.stop_on_signals():
            assert trial_module.stop_requested is False
            with pytest.raises(KeyboardInterrupt):
                os.kill(os.getpid(), number)
                signal.sigtimedwait([], 0.1)  # let the handler run here
            assert trial_module.stop_requested is True
            os.kill(os.getpid(), number)  # the same stop again, at once: no second raise
        assert trial_module.stop_requested is False  # the next search starts clean
    assert {number: signal.getsignal(number) for number in tuner_module.STOP_SIGNALS} == before


def test_an_ignored_ctrl_c_stays_ignored():
    """A background job (`make test &`) ignores SIGINT: the search does not take it over."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with tuner_module.stop_on_signals():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is tuner_module._interrupt
    finally:
        signal.signal(signal.SIGINT, previous)


class RaisesInFinalizer:
    """An object whose finalizer raises, as a Ctrl-C landing in a garbage collection does."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __del__(self) -> None:
        raise self.error


def test_a_stop_lost_in_a_finalizer_prints_no_traceback(monkeypatch):
    """Python prints "Exception ignored ... KeyboardInterrupt" for it; the stop flag already
    stops the search, so the user sees no traceback. Other errors there are still reported."""
    import gc
    import sys

    reported = []
    monkeypatch.setattr(sys, "unraisablehook", lambda item: reported.append(item.exc_value))
    recorder = sys.unraisablehook
    with tuner_module.stop_on_signals():
        RaisesInFinalizer(KeyboardInterrupt())
        RaisesInFinalizer(ValueError("a real bug"))
        gc.collect()
    assert [type(error) for error in reported] == [ValueError]
    assert sys.unraisablehook is recorder  # the search gives the hook back
