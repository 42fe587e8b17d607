"""The search's stop rules (docs/guide.md, "When to stop, what it costs, what to keep"), on
hand-written trials.csv rows and a clock the test moves: the no-gain rule, the time budget and
the proposal cap of search.max_params. No training."""

from __future__ import annotations

import pytest
from scipy.stats import binomtest

from tunenet.config import load as loader
from tunenet.tuning.stop_rules import (
    MAX_PROPOSALS,
    NO_GAIN,
    TIME_BUDGET,
    StopRules,
    duration_text,
    gains,
    no_gain,
)

VAL_N = 1000


def row(trial_id: int, val_error: float, status: str = "completed", **extra) -> dict:
    """A classification row measured on 1000 validation examples, finished in id order."""
    return {
        "trial_id": f"{trial_id:02d}",
        "status": status,
        "val_error": val_error,
        "val_n": VAL_N,
        "finished_at": f"2026-01-01T00:00:{trial_id:02d}.000+00:00",
        **extra,
    }


def search(**keys) -> object:
    raw = {"data": {"source": "iris"}, "search": {"max_trials": 20, **keys}}
    return loader.validate_dict(raw).search


# ---------------------------------------------------------------- no gain beyond the noise


def test_a_gain_must_clear_newcombes_interval():
    best = row(1, 0.10)
    assert gains(row(2, 0.06), best, regression=False)  # 4 points on 1000: beyond the noise
    assert not gains(row(2, 0.09), best, regression=False)  # 1 point: within it
    assert not gains(row(2, 0.12), best, regression=False)  # worse


def test_regression_uses_the_standard_errors():
    best = {"trial_id": "1", "status": "completed", "val_error": 0.50, "val_error_se": 0.01}
    clear = {**best, "trial_id": "2", "val_error": 0.44}  # 6 se apart, se 0.014 together
    close = {**best, "trial_id": "2", "val_error": 0.48}  # 2 se apart: 1.4 combined se
    assert gains(clear, best, regression=True)
    assert not gains(close, best, regression=True)


def test_stops_after_n_trials_in_a_row_without_a_gain_beyond_the_noise():
    rows = [row(0, 0.20), row(1, 0.10), row(2, 0.098), row(3, 0.101), row(4, 0.099)]
    assert no_gain(rows[:4], 3, regression=False) is None  # 2 in a row so far
    stop = no_gain(rows, 3, regression=False)
    low, high = binomtest(98, VAL_N).proportion_ci(method="wilson")
    spread = 100 * (high - low) / 2  # trial 2, the best so far: 9.8% ± 1.8
    assert stop.reason == NO_GAIN
    assert stop.detail == (
        "3 trials in a row without a gain beyond the noise; best so far trial 02 "
        f"(val error 9.8% ± {spread:.1f})"
    )


def test_a_gain_beyond_the_noise_starts_the_count_again():
    rows = [row(0, 0.20), row(1, 0.19), row(2, 0.195), row(3, 0.10), row(4, 0.101)]
    assert no_gain(rows, 3, regression=False) is None  # trial 3 gained: 1 in a row since
    assert no_gain(rows, 1, regression=False).detail.startswith("1 trials in a row")


def test_each_trial_is_compared_with_the_best_so_far():
    # each is 0.8 points better than the last: none beats the best before it beyond the noise
    # (a 3-point drift from trial 0 does not count: trial 3 is compared with trial 2)
    rows = [row(i, 0.20 - 0.008 * i) for i in range(4)]
    stop = no_gain(rows, 3, regression=False)
    assert stop is not None and "best so far trial 03" in stop.detail
    # a trial within the noise of the best so far but beyond the noise of trial 0 is no gain
    rows = [row(0, 0.20), row(1, 0.17), row(2, 0.155)]
    assert gains(rows[2], rows[0], regression=False)
    assert not gains(rows[2], rows[1], regression=False)
    assert no_gain(rows, 1, regression=False) is not None


def test_trials_that_did_not_complete_neither_count_nor_break_the_run():
    rows = [
        row(0, 0.10),
        row(1, 0.10),
        row(2, 0.0, status="failed"),
        row(3, 0.0, status="infeasible", params=10**6),
        row(4, 0.05, status="pruned"),
        row(5, 0.10),
    ]
    assert no_gain(rows, 2, regression=False).detail.startswith("2 trials in a row")
    assert no_gain(rows, 3, regression=False) is None


def test_the_order_is_the_order_trials_finished():
    # with workers, trial 2 may finish before trial 1: the gain counts when it happened
    rows = [row(0, 0.20), {**row(1, 0.10), "finished_at": "2026-01-01T00:00:09.000+00:00"}]
    rows.append(row(2, 0.199))
    assert no_gain(rows, 1, regression=False) is None  # 0, 2 (no gain), then 1 gains


# ---------------------------------------------------------------- the time budget


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_budget_that_fits_exactly_three_trials():
    clock, rows = Clock(), []
    rules = StopRules(search(time_budget="30s"), False, lambda: rows, clock=clock)
    rules.start(clock())
    started = 0
    while not rules.refuse(started):  # each trial takes 10 s: at 0, 10 and 20 s
        started += 1
        clock.now += 10.0
        rows.append(row(started, 0.1))
    assert started == 3
    assert rules.stop.reason == TIME_BUDGET
    assert (
        rules.stop.detail == "the time budget of 30s is spent (30s since the first trial started)"
    )
    assert rules.deadline() == pytest.approx(1000.0 + 33.0)  # a running trial: budget + 10%


def test_the_budget_counts_from_the_first_trials_start_and_resume_gets_a_fresh_one():
    clock = Clock()
    rules = StopRules(search(time_budget="1m"), False, list, clock=clock)
    clock.now += 3600  # data, baselines: before the first trial, not counted
    rules.start(clock())
    assert not rules.refuse(0)
    clock.now += 59
    assert not rules.refuse(1)
    clock.now += 1
    assert rules.refuse(2)
    again = StopRules(search(time_budget="1m"), False, list, clock=clock)  # --resume
    again.start(clock())
    assert not again.refuse(3)


def test_no_budget_no_deadline():
    rules = StopRules(search(), False, list, clock=Clock())
    rules.start(0.0)
    assert rules.deadline() is None and not rules.refuse(5)


@pytest.mark.parametrize(
    ("seconds", "text"), [(1800, "30m"), (5400, "1h 30m"), (95, "1m 35s"), (12.5, "12.5s")]
)
def test_durations_read_as_written(seconds, text):
    assert duration_text(seconds) == text


# ---------------------------------------------------------------- max_params and the cap


def test_infeasible_trials_do_not_count_toward_max_trials():
    rows = [row(0, 0.1), row(1, 0.0, status="infeasible")]
    assert not StopRules(search(max_trials=2, max_params=100), False, lambda: rows).refuse(2)
    rows.append(row(2, 0.1))
    finished = StopRules(search(max_trials=2, max_params=100), False, lambda: rows)
    assert finished.refuse(3) and finished.stop is None  # two trained: the ordinary end


def test_the_oracle_proposes_nothing_once_the_budget_is_spent(tmp_path):
    import keras_tuner as kt

    from tunenet.tuning.oracles import guard

    clock = Clock()
    hps = kt.HyperParameters()
    hps.Int("units", 1, 1000)
    oracle = kt.oracles.RandomSearchOracle(
        objective=kt.Objective("score", "max"), max_trials=20, hyperparameters=hps, seed=1
    )
    oracle._set_project_dir(str(tmp_path), "tuner")
    rules = StopRules(search(time_budget=30), False, list, clock=clock)
    guard(oracle, rules)
    clock.now += 600  # loading, baselines, workers starting: the clock starts at the first ask
    assert rules.started is None
    statuses = []
    for _ in range(5):
        trial = oracle.create_trial("tuner0")
        statuses.append(trial.status)
        if trial.status == "RUNNING":
            clock.now += 10.0
            oracle.update_trial(trial.trial_id, {"score": 1.0})
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
    assert statuses == ["RUNNING"] * 3 + ["STOPPED"] * 2
    assert rules.stop.reason == TIME_BUDGET
    assert rules.started == 1600.0


def test_the_proposals_stop_at_five_times_max_trials():
    rows = [row(i, 0.0, status="infeasible", params=5000) for i in range(10)]
    rules = StopRules(search(max_trials=2, max_params=100), False, lambda: rows[:9])
    assert not rules.refuse(9)
    rules = StopRules(search(max_trials=2, max_params=100), False, lambda: rows)
    assert rules.refuse(10)
    assert rules.stop.reason == MAX_PROPOSALS
    assert rules.stop.detail == (
        "10 trials proposed (search.max_trials × 5), 10 of them infeasible "
        "(over search.max_params = 100)"
    )


def test_without_max_params_there_is_no_cap():
    rules = StopRules(search(max_trials=2), False, list)
    assert rules.refuse(2) and rules.stop is None  # keras-tuner's own max_trials


# ---------------------------------------------------------------- the command-line options


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--time-budget", "5x", "--time-budget: got '5x' (str), expected a duration"),
        ("--time-budget", "0", "--time-budget: got '0' (str), expected a duration"),
        ("--max-params", "0", "--max-params"),
    ],
)
def test_a_bad_option_value_exits_2_naming_the_option(
    cli, write_config, tmp_path, option, value, said
):
    config = write_config("data: {source: iris}\n")
    result = cli("search", config, "--runs-dir", tmp_path / "runs", option, value, "--quiet")
    assert result.exit_code == 2
    assert said in " ".join((result.stdout + result.stderr).split())
    assert not (tmp_path / "runs").exists()  # refused before anything is written


# ---------------------------------------------------------------- what the strategy is told


def infeasible_runner(tmp_path, strategy: str):
    import io

    from rich.console import Console

    from tunenet.data.dataset import load_dataset
    from tunenet.reporting.progress import SearchProgress
    from tunenet.runs import RunDir
    from tunenet.tuning.trial import Infeasible, SearchContext, TrialRunner

    raw = {"data": {"source": "iris"}, "search": {"strategy": strategy, "max_params": 100}}
    config = loader.validate_dict(raw)
    progress = SearchProgress(Console(file=io.StringIO()), total=0, quiet=True)
    (tmp_path / "run").mkdir()
    context = SearchContext(config, load_dataset(config), RunDir(tmp_path / "run"), progress)
    runner = TrialRunner()
    runner.setup(context)

    def too_big(trial, values, seed, index, row):
        row.update(params=500, model_bytes=2000)  # as _fit counts them, before any epoch
        raise Infeasible(500, 100)

    runner._fit = too_big
    return runner


def new_trial(trial_id: str):
    import keras_tuner as kt

    from tunenet.tuning.kt_compat import Trial

    return Trial(hyperparameters=kt.HyperParameters(), trial_id=trial_id)


def test_random_and_grid_skip_an_infeasible_trial(tmp_path):
    import keras_tuner as kt

    runner = infeasible_runner(tmp_path, "random")
    with pytest.raises(kt.errors.FailedTrialError, match="above search.max_params = 100"):
        runner.run_trial(new_trial("0"))
    runner.context.trials.reload()
    row = runner.context.trials.find("0")
    assert (row["status"], row["params"], row["model_bytes"]) == ("infeasible", "500", "2000")
    assert row["epochs_trained"] == "" and row["objective"] == ""


def test_bayesian_learns_an_infeasible_trial_as_the_worst_objective_seen(tmp_path):
    import keras_tuner as kt

    runner = infeasible_runner(tmp_path, "bayesian")
    with pytest.raises(kt.errors.FailedTrialError):  # nothing completed yet: skipped
        runner.run_trial(new_trial("0"))
    trials = runner.context.trials
    for trial_id, value in (("1", 0.9), ("2", 0.7)):
        trials.put({"trial_id": trial_id, "status": "completed", "objective": value})
    assert runner.run_trial(new_trial("3")) == {"val_accuracy": 0.7}
