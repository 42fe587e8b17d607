"""When a search stops proposing trials before max_trials (docs/guide.md, "When to stop, what it
costs, what to keep"): `search.time_budget`, `search.stop_after_no_gain`, and the cap of
`max_trials × 5` proposals that `search.max_params` brings.

Plain Python over trials.csv's rows and a clock: the process that holds the oracle (an
in-process search, or the chief of `--workers`) asks `StopRules.refuse` before each proposal
(`oracles.guard`), so that workers stop starting trials when the chief says so. No TensorFlow.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Optional

from tunenet.config.sections import SearchConfig
from tunenet.runs.cells import number
from tunenet.runs.intervals import difference_ci, error_ci, half_width
from tunenet.runs.status import TrialStatus
from tunenet.runs.tables import trial_order

PROPOSALS_PER_TRIAL = 5  # with search.max_params: at most max_trials × 5 proposals
OVERRUN = 1.1  # a trial still training at the budget + 10% stops at its next epoch end
TIME_BUDGET, NO_GAIN, MAX_PROPOSALS = "time_budget", "no_gain", "max_proposals"


@dataclass(frozen=True)
class Stop:
    """Why a search stopped early: `reason` (time_budget, no_gain or max_proposals) and
    `detail`, the sentence the search's last line gives after "stopped: "."""

    reason: str
    detail: str


def proposal_cap(search: SearchConfig) -> Optional[int]:
    """The most trials the oracle may propose: max_trials × 5 with search.max_params (infeasible
    trials do not count toward max_trials), else None (max_trials itself)."""
    return search.max_trials * PROPOSALS_PER_TRIAL if search.max_params else None


def trained_count(proposed: int, rows: Iterable[dict]) -> int:
    """The proposed trials that count toward max_trials: all but the infeasible ones."""
    return proposed - sum(row.get("status") == TrialStatus.INFEASIBLE for row in rows)


# ---------------------------------------------------------------- no gain beyond the noise


def _interval(row: dict, regression: bool) -> Optional[tuple[float, float]]:
    se = row.get("val_error_se") if regression else None
    return error_ci(number(row.get("val_error")), number(row.get("val_n")), number(se))


def gains(row: dict, anchor: dict, regression: bool) -> bool:
    """Whether `row`'s validation error is below `anchor`'s beyond the noise: the 95% interval
    of the difference (Newcombe's for classification, the standard errors for regression) is
    entirely below zero. Without split sizes or standard errors, any lower error gains."""
    error, best = number(row.get("val_error")), number(anchor.get("val_error"))
    if error is None or best is None:
        return False
    ci = difference_ci(
        error, _interval(row, regression), best, _interval(anchor, regression), not regression
    )
    return error < best if ci is None else ci[1] < 0


def _finish_order(row: dict) -> tuple:
    return (row.get("finished_at") or "", trial_order(str(row.get("trial_id", ""))))


def no_gain(rows: Iterable[dict], patience: int, regression: bool) -> Optional[Stop]:
    """Stop when the last `patience` completed trials, in the order they finished, each failed
    to beat the best trial so far (the lowest validation error when it finished) beyond the
    noise. A trial better within the noise becomes the best so far without resetting the count.
    Trials that did not complete neither count nor break the run."""
    completed = sorted(
        (row for row in rows if row.get("status") == TrialStatus.COMPLETED), key=_finish_order
    )
    best, streak = None, 0
    for row in completed:
        if best is None or gains(row, best, regression):
            best, streak = row, 0
            continue
        streak += 1
        if _lower(row, best):
            best = row
    if best is None or streak < patience:
        return None
    detail = (
        f"{streak} trials in a row without a gain beyond the noise; best so far trial "
        f"{best['trial_id']} ({_error_text(best, regression)})"
    )
    return Stop(NO_GAIN, detail)


def _lower(row: dict, best: dict) -> bool:
    error, lowest = number(row.get("val_error")), number(best.get("val_error"))
    return error is not None and (lowest is None or error < lowest)


def _error_text(row: dict, regression: bool) -> str:
    error = number(row.get("val_error"))
    if error is None:
        return "val error unknown"
    spread = half_width(_interval(row, regression))
    if regression:
        return f"val error {error:.4g}" + ("" if spread is None else f" ± {spread:.2g}")
    text = f"val error {100 * error:.1f}%"
    return text if spread is None else f"{text} ± {100 * spread:.1f}"


# ---------------------------------------------------------------- the rules together


def duration_text(seconds: float) -> str:
    """1800 -> "30m", 5400 -> "1h 30m", 95 -> "1m 35s", 12.5 -> "12.5s"."""
    if seconds < 60:
        return f"{seconds:.3g}s"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h"] if hours else []
    parts += [f"{minutes}m"] if minutes else []
    parts += [f"{secs}s"] if secs else []
    return " ".join(parts)


class StopRules:
    """The search's stop rules, asked before each proposal.

    Args:
        search: the config's `search` section (max_trials, max_params, time_budget,
            stop_after_no_gain).
        regression: the task is regression (standard errors instead of Newcombe's interval).
        rows: reads trials.csv's rows as they are now (workers write them).
        clock: `time.time`; a test gives its own.
    """

    def __init__(
        self,
        search: SearchConfig,
        regression: bool,
        rows: Callable[[], list[dict]],
        clock: Callable[[], float] = time.time,
    ):
        self.search, self.regression, self.rows, self.clock = search, regression, rows, clock
        self.started: Optional[float] = None
        self.stop: Optional[Stop] = None
        self.extra = 0  # trials allowed beyond max_trials (--retry-failed's retries)
        self.on_start: Callable[[], None] = lambda: None  # told when the clock starts

    def begin(self) -> None:
        """A trial is asked for: the budget's clock starts now, unless it runs already (with
        workers, the first trial starts when a worker has loaded and asks for it)."""
        if self.started is None:
            self.start(self.clock())

    def start(self, started: float) -> None:
        """The budget counts from `started` (`clock()` at the first trial's start)."""
        self.started = started
        self.on_start()

    def deadline(self) -> Optional[float]:
        """When a running trial stops at its next epoch end: the budget plus 10%."""
        budget = self.search.time_budget
        if budget is None or self.started is None:
            return None
        return self.started + budget * OVERRUN

    def refuse(self, proposed: int) -> bool:
        """Whether the oracle must not propose another trial, `proposed` trials proposed so far.
        A stop rule that refuses is kept in `stop` (the first one wins)."""
        if self.stop is not None:
            return True
        rows = self.rows()
        if trained_count(proposed, rows) >= self.search.max_trials + self.extra:
            return True  # max_trials reached: the search's ordinary end
        self.stop = self.budget_stop() or self._no_gain(rows) or self._proposals(proposed, rows)
        return self.stop is not None

    def budget_stop(self) -> Optional[Stop]:
        """The time budget's stop when it is spent, else None."""
        budget = self.search.time_budget
        if budget is None or self.started is None:
            return None
        spent = self.clock() - self.started
        if spent < budget:
            return None
        return Stop(
            TIME_BUDGET,
            f"the time budget of {duration_text(budget)} is spent "
            f"({duration_text(spent)} since the first trial started)",
        )

    def _no_gain(self, rows: list[dict]) -> Optional[Stop]:
        patience = self.search.stop_after_no_gain
        return None if patience is None else no_gain(rows, patience, self.regression)

    def _proposals(self, proposed: int, rows: list[dict]) -> Optional[Stop]:
        cap = proposal_cap(self.search)
        if cap is None or proposed < cap + self.extra:
            return None
        infeasible = proposed - trained_count(proposed, rows)
        return Stop(
            MAX_PROPOSALS,
            f"{proposed} trials proposed (search.max_trials × {PROPOSALS_PER_TRIAL}), "
            f"{infeasible} of them infeasible (over search.max_params = "
            f"{self.search.max_params:,})",
        )
