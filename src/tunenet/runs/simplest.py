"""The simplest tied trial, and which trial's model `best/` holds (docs/report.md, "The simplest
tied trial"; docs/guide.md, "When to stop, what it costs, what to keep").

Among the completed trials whose validation error is tied with the best trial's (the 95%
interval of the difference includes zero: Newcombe's for classification, the standard errors'
for regression), the simplest is the one with the fewest trainable parameters (`params`), ties
going to the better objective. The search keeps its model under `search.keep: simplest_tied`
and the report names it: both ask here, from trials.csv's rows, so that they agree.

Pure: rows in, values out (rows are trials.csv's dicts of text or a DataFrame's rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Optional

from tunenet.config.objective import Objective
from tunenet.runs.cells import integer, number
from tunenet.runs.intervals import Interval, difference_ci, error_ci
from tunenet.runs.status import TrialStatus

KEEP_RULES = ("best", "simplest_tied")  # search.keep
# An interval's end this close to zero includes it (float rounding of equal errors).
TIE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class SimplestTied:
    """The trial with the fewest parameters tied with the best, and how it compares."""

    trial_id: str
    params: int
    ratio: float  # the best trial's params / its params
    difference: float  # its val_error − the best's: a fraction, positive when worse
    difference_ci: Interval  # the difference's 95% interval (it includes zero)
    best_params: int

    def to_dict(self) -> dict[str, Any]:
        """report.json's `simplest_tied`."""
        return {
            "trial_id": self.trial_id,
            "params": self.params,
            "ratio": self.ratio,
            "difference": self.difference,
            "difference_ci": [self.difference_ci[0], self.difference_ci[1]],
        }


def simplest_tied(
    rows: Iterable[Mapping],
    best_id: str,
    objective: Objective,
    regression: bool,
    column: str = "objective",
) -> Optional[SimplestTied]:
    """The simplest trial tied with the trial `best_id`, or None when that is the best itself,
    or the best has no `params`.

    Args:
        rows: trials.csv's rows (`trial_id`, `status`, `params`, `val_error`, `val_n`, and for
            regression `val_error_se`; `column` for the objective).
        best_id: the best trial's id.
        objective: the search's objective, for ties in `params`.
        regression: the errors are regression's (standard errors), else proportions.
        column: the rows' objective column.
    """
    rows = list(rows)
    best = _row_of(rows, best_id)
    best_params = _params(best) if best is not None else None
    if best is None or best_params is None:
        return None
    intervals = tied_trials(rows, best_id, regression)
    tied = []
    for order, row in enumerate(rows):
        params, ci = _params(row), intervals.get(str(row.get("trial_id")))
        if row is not best and params is not None and ci is not None:
            rank = (params, objective.sort_key(number(row.get(column))), order)
            tied.append((rank, row, params, ci))
    if not tied:
        return None
    (size, score, _), row, params, ci = min(tied, key=lambda found: found[0])
    if (size, score) >= (best_params, objective.sort_key(number(best.get(column)))):
        return None  # the best is itself the simplest (or as simple and better)
    return SimplestTied(
        trial_id=str(row["trial_id"]),
        params=params,
        ratio=best_params / params,
        difference=float(number(row.get("val_error"))) - float(number(best.get("val_error"))),  # type: ignore[arg-type]
        difference_ci=ci,
        best_params=best_params,
    )


def tied_trials(rows: Iterable[Mapping], best_id: str, regression: bool) -> dict[str, Interval]:
    """The completed trials tied with the trial `best_id` (itself included, at (0, 0)), each
    with the 95% interval of its validation error minus the best's, which includes zero."""
    rows = list(rows)
    best = _row_of(rows, best_id)
    if best is None:
        return {}
    tied = {str(best_id): (0.0, 0.0)}
    for row in rows:
        if row is best or row.get("status") != TrialStatus.COMPLETED:
            continue
        ci = tie_interval(row, best, regression)
        if ci is not None and ci[0] <= TIE_TOLERANCE and ci[1] >= -TIE_TOLERANCE:
            tied[str(row.get("trial_id"))] = ci
    return tied


def tie_interval(row: Mapping, best: Mapping, regression: bool) -> Optional[Interval]:
    """The 95% interval of `row`'s validation error minus `best`'s; None when either error or
    its noise (classification: `val_n`; regression: `val_error_se`) is not recorded."""
    errors = [number(trial.get("val_error")) for trial in (row, best)]
    intervals = [val_interval(trial, regression) for trial in (row, best)]
    if None in errors or None in intervals:
        return None
    return difference_ci(errors[0], intervals[0], errors[1], intervals[1], not regression)  # type: ignore[arg-type]


def kept_trial(
    rows: Iterable[Mapping],
    rule: str,
    objective: Objective,
    regression: bool,
    column: str = "objective",
) -> Optional[str]:
    """The trial whose model `best/` holds under `search.keep: rule`: the best completed trial,
    or with `simplest_tied` the simplest trial tied with it; None when no trial completed."""
    rows = list(rows)
    completed = [row for row in rows if row.get("status") == TrialStatus.COMPLETED]
    best = objective.best(completed, column)
    if best is None:
        return None
    if rule == "simplest_tied":
        found = simplest_tied(rows, str(best["trial_id"]), objective, regression, column)
        if found is not None:
            return found.trial_id
    return str(best["trial_id"])


def _row_of(rows: list[Mapping], trial_id: str) -> Optional[Mapping]:
    return next((row for row in rows if str(row.get("trial_id")) == str(trial_id)), None)


def val_interval(row: Mapping, regression: bool) -> Optional[Interval]:
    """The 95% interval of a row's validation error (None: its noise is not recorded)."""
    error = row.get("val_error")
    if regression:
        return error_ci(error, None, number(row.get("val_error_se")))
    return error_ci(error, integer(row.get("val_n")))


def _params(row: Mapping) -> Optional[int]:
    params = integer(row.get("params"))
    return params if params is not None and params > 0 else None
