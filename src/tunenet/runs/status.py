"""The status of a trial, as trials.csv records it (docs/run-format.md)."""

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


# A trial with one of these statuses never runs again on --resume; an interrupted one does.
FINAL_STATUSES = (
    TrialStatus.COMPLETED,
    TrialStatus.DIVERGED,
    TrialStatus.FAILED,
    TrialStatus.PRUNED,
)
