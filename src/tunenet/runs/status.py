"""The status of a trial (trials.csv) and of a run (manifest.json), as docs/run-format.md lists
them. Both are StrEnums: they compare equal to, and are written as, their strings."""

from __future__ import annotations

from enum import StrEnum


class TrialStatus(StrEnum):
    """How a trial ended: the strings of trials.csv's `status` column, in the order reports
    count them."""

    COMPLETED = "completed"
    DIVERGED = "diverged"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    PRUNED = "pruned"
    INFEASIBLE = "infeasible"  # over search.max_params: built, counted, never trained


# A trial with one of these statuses never runs again on --resume; an interrupted one does.
FINAL_STATUSES = (
    TrialStatus.COMPLETED,
    TrialStatus.DIVERGED,
    TrialStatus.FAILED,
    TrialStatus.PRUNED,
    TrialStatus.INFEASIBLE,
)


class RunStatus(StrEnum):
    """manifest.json's `status`: running from the start until the search ends; a run killed
    with SIGKILL stays running."""

    RUNNING = "running"
    COMPLETED = "completed"  # the search ended with a completed trial
    FAILED = "failed"  # no trial completed, or too many failures in a row
    INTERRUPTED = "interrupted"  # Ctrl-C or SIGTERM


class StoppedBy(StrEnum):
    """manifest.json's `stopped_by`: the search rule that ended a run early (absent or null:
    none did). The run's status stays completed when a trial completed."""

    TIME_BUDGET = "time_budget"  # search.time_budget
    NO_GAIN = "no_gain"  # search.stop_after_no_gain
