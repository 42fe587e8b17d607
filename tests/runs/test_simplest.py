"""The simplest tied trial and the trial best/ keeps (docs/report.md, "The simplest tied trial"):
known answers from hand-written trials.csv rows."""

from __future__ import annotations

import math

import pytest
from scipy.stats import binomtest

from tunenet.config.objective import Objective
from tunenet.runs.simplest import kept_trial, simplest_tied

ACCURACY = Objective("val_accuracy", "max")
LOSS = Objective("val_loss", "min")


def row(trial_id: str, params: object, val_error: float, **extra: object) -> dict:
    """A completed classification trial measured on 400 validation examples (as read from
    trials.csv: text cells)."""
    values = {
        "trial_id": trial_id,
        "status": "completed",
        "params": "" if params is None else str(params),
        "val_error": str(val_error),
        "objective": str(1 - val_error),
        "val_n": "400",
    }
    values.update({key: str(value) for key, value in extra.items()})
    return values


def newcombe(error_a: float, error_b: float, n: int) -> tuple[float, float]:
    """Newcombe's hybrid score interval of a − b from scipy's Wilson intervals."""
    a = binomtest(round(error_a * n), n).proportion_ci(method="wilson")
    b = binomtest(round(error_b * n), n).proportion_ci(method="wilson")
    difference = error_a - error_b
    below = math.hypot(error_a - a.low, b.high - error_b)
    above = math.hypot(a.high - error_a, error_b - b.low)
    return difference - below, difference + above


# The widest network is best (4.0%); the second widest is 1 point worse on 400 examples (tied);
# the narrow ones are 12 and 20 points worse: beyond the noise.
SEARCH = [
    row("0", 1_000, 0.20),
    row("1", 113_000, 0.04),
    row("2", 12_416, 0.05),
    row("3", 3_000, 0.12),
]


def test_the_second_largest_network_is_tied_with_the_largest() -> None:
    found = simplest_tied(SEARCH, "1", ACCURACY, regression=False)
    assert found is not None
    assert found.trial_id == "2"
    assert found.params == 12_416 and found.best_params == 113_000
    assert found.ratio == pytest.approx(113_000 / 12_416)
    assert found.difference == pytest.approx(0.01)  # its error minus the best's: worse
    assert found.difference_ci == pytest.approx(newcombe(0.05, 0.04, 400), abs=1e-9)
    assert found.difference_ci[0] < 0 < found.difference_ci[1]
    assert found.to_dict() == {
        "trial_id": "2",
        "params": 12_416,
        "ratio": pytest.approx(9.101, abs=1e-3),
        "difference": pytest.approx(0.01),
        "difference_ci": [pytest.approx(v) for v in newcombe(0.05, 0.04, 400)],
    }


def test_a_smaller_network_clearly_worse_is_not_tied() -> None:
    assert newcombe(0.12, 0.04, 400)[0] > 0  # the known answer: beyond the noise
    only_worse = [SEARCH[1], SEARCH[3], SEARCH[0]]
    assert simplest_tied(only_worse, "1", ACCURACY, regression=False) is None


def test_the_fewest_parameters_among_the_tied_and_ties_to_the_better_objective() -> None:
    rows = [*SEARCH, row("4", 12_416, 0.045), row("5", 50_000, 0.04)]
    found = simplest_tied(rows, "1", ACCURACY, regression=False)
    assert found is not None and found.trial_id == "4"  # 12,416 like trial 2, but better


def test_regression_uses_the_standard_errors() -> None:
    def reg(trial_id: str, params: int, error: float, se: float) -> dict:
        values = row(trial_id, params, error, val_error_se=se, objective=error)
        del values["val_n"]
        return values

    best = reg("0", 40_000, 0.20, 0.01)
    # 0.22 vs 0.20 with standard errors 0.01 each: ± 1.96 × √2 × 0.01 = ± 0.0277: tied
    tied = reg("1", 5_000, 0.22, 0.01)
    # the same difference measured ten times more precisely (± 0.0028): not tied
    precise = reg("2", 1_000, 0.22, 0.001)
    found = simplest_tied([best, tied, precise], "0", LOSS, regression=True)
    assert found is not None and found.trial_id == "1"
    assert found.ratio == pytest.approx(8.0)
    half = 1.959963984540054 * math.sqrt(2) * 0.01
    assert found.difference_ci == pytest.approx((0.02 - half, 0.02 + half))
    # without its standard error a regression trial cannot be said tied
    unknown = reg("1", 5_000, 0.22, 0.01)
    unknown["val_error_se"] = ""
    assert simplest_tied([best, unknown], "0", LOSS, regression=True) is None


def test_missing_params_give_none() -> None:
    without = [{**values, "params": ""} for values in SEARCH]
    assert simplest_tied(without, "1", ACCURACY, regression=False) is None
    old = [{k: v for k, v in values.items() if k != "params"} for values in SEARCH]
    assert simplest_tied(old, "1", ACCURACY, regression=False) is None
    best_unknown = [SEARCH[0], {**SEARCH[1], "params": ""}, SEARCH[2]]
    assert simplest_tied(best_unknown, "1", ACCURACY, regression=False) is None


def test_the_best_being_the_smallest_gives_none() -> None:
    rows = [row("0", 500, 0.04), row("1", 113_000, 0.045), row("2", 12_416, 0.05)]
    assert simplest_tied(rows, "0", ACCURACY, regression=False) is None


def test_only_completed_trials_count() -> None:
    pruned = {**row("4", 100, 0.04), "status": "pruned"}
    failed = {**row("5", 100, 0.04), "status": "failed"}
    found = simplest_tied([*SEARCH, pruned, failed], "1", ACCURACY, regression=False)
    assert found is not None and found.trial_id == "2"


def test_kept_trial_follows_the_rule() -> None:
    assert kept_trial(SEARCH, "best", ACCURACY, regression=False) == "1"
    assert kept_trial(SEARCH, "simplest_tied", ACCURACY, regression=False) == "2"
    alone = [SEARCH[1], SEARCH[3]]
    assert kept_trial(alone, "simplest_tied", ACCURACY, regression=False) == "1"
    assert kept_trial([{**SEARCH[1], "status": "failed"}], "best", ACCURACY, False) is None
