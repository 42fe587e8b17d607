"""Will more data help? The data-size learning curve of `tunenet learning-curve` (docs/guide.md).

The best trial's hyperparameters are retrained on growing fractions of the training split; each
fraction gives a train error and a validation error with their 95% intervals. At the largest
fraction:

- `True`: the train→validation gap clears its noise (the curves have not met) and validation
  error fell beyond its noise from the previous fraction: more data is likely to help.
- `False`: the gap is inside its noise (the curves have met: the bias is the problem) and
  validation error did not fall beyond its noise: no sign that more data would help.
- `None` otherwise, with the reason and how to become sure.

The gap's interval is Newcombe's (classification) or the normal interval of a difference
(regression), from the two errors' intervals (`intervals.difference_ci`). The validation-error
change between the last two fractions uses the same interval as if the two errors were
independent; they are measured on the same validation examples, so a paired comparison would be
tighter: the independent one is conservative (it says "uncertain" more often than a paired test
would). A "no" only says the gap is inside its noise; when that noise still allows a gap above
`diagnosis.variance_threshold`, the reason says so and how to become sure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import pandas as pd

from tunenet.diagnosis.intervals import Interval, difference_ci
from tunenet.diagnosis.text import points, points_ci, with_ci
from tunenet.runs.cells import integer, number

VARIANCE_THRESHOLD = 0.05  # diagnosis.variance_threshold's default: a gap that matters


@dataclass(frozen=True)
class CurvePoint:
    """One fraction of the learning curve: a row of learning_curve.csv."""

    fraction: float
    examples: int
    train_error: Optional[float]
    train_error_ci: Optional[Interval]
    val_error: Optional[float]
    val_error_ci: Optional[Interval]
    seconds: Optional[float] = None


@dataclass(frozen=True)
class LearningCurve:
    """The curve and its verdict.

    Attributes:
        points: one per fraction, smallest first.
        more_data_helps: True, False or None (uncertain), by the rule of the module docstring.
        reason: one sentence with the numbers and their ±, and, when None, how to become sure.
        gap, gap_ci: validation − train error at the largest fraction, and its 95% interval.
        val_drop, val_drop_ci: previous − last validation error (positive: it fell).
    """

    points: list[CurvePoint]
    more_data_helps: Optional[bool]
    reason: str
    gap: Optional[float] = None
    gap_ci: Optional[Interval] = None
    val_drop: Optional[float] = None
    val_drop_ci: Optional[Interval] = None


def verdict_word(value: Optional[bool]) -> str:
    """`more_data_helps` as the report says it: yes, no, uncertain."""
    return {True: "yes", False: "no", None: "uncertain"}[value]


def curve_points(table: pd.DataFrame) -> list[CurvePoint]:
    """learning_curve.csv's rows (columns of `runs.insight.LEARNING_CURVE_COLUMNS`) as points,
    sorted by fraction; a missing number is None."""
    points = []
    for _, row in table.sort_values("fraction").iterrows():
        points.append(
            CurvePoint(
                fraction=float(row["fraction"]),
                examples=integer(row["examples"]) or 0,
                train_error=number(row["train_error"]),
                train_error_ci=_interval(row, "train_error"),
                val_error=number(row["val_error"]),
                val_error_ci=_interval(row, "val_error"),
                seconds=number(row.get("seconds")),
            )
        )
    return points


def learning_curve(
    table: pd.DataFrame, proportions: bool = True, variance_threshold: float = VARIANCE_THRESHOLD
) -> LearningCurve:
    """The curve of a learning_curve.csv table and whether more data is likely to help.

    Args:
        table: learning_curve.csv as read by `runs.insight.read_learning_curve`.
        proportions: classification errors (Newcombe's interval of a difference); False for
            regression (normal intervals). Default: True.
        variance_threshold: the gap that matters (`diagnosis.variance_threshold`): a "no"
            whose gap interval reaches above it says how to become sure. Default 0.05.
    """
    return judge(curve_points(table), proportions, variance_threshold)


def judge(
    points: list[CurvePoint],
    proportions: bool = True,
    variance_threshold: float = VARIANCE_THRESHOLD,
) -> LearningCurve:
    """Apply the rule of the module docstring to points sorted by fraction."""
    if len(points) < 2:
        return LearningCurve(points, None, _too_few(points))
    previous, last = points[-2], points[-1]
    missing = _missing(previous, last)
    if missing:
        return LearningCurve(points, None, missing)
    gap = last.val_error - last.train_error  # type: ignore[operator]
    gap_ci = difference_ci(
        last.val_error,
        last.val_error_ci,
        last.train_error,
        last.train_error_ci,
        proportions,  # type: ignore[arg-type]
    )
    drop = previous.val_error - last.val_error  # type: ignore[operator]
    drop_ci = difference_ci(
        previous.val_error,
        previous.val_error_ci,
        last.val_error,
        last.val_error_ci,
        proportions,  # type: ignore[arg-type]
    )
    assert gap_ci is not None and drop_ci is not None  # _missing checked the intervals
    apart, fell = gap_ci[0] > 0, drop_ci[0] > 0
    verdict: Optional[bool] = True if apart and fell else False if not apart and not fell else None
    reason = _reason(verdict, last, previous, gap, gap_ci, drop, drop_ci)
    if verdict is False and gap_ci[1] > variance_threshold:
        reason += _how_sure(gap_ci, variance_threshold)
    return LearningCurve(points, verdict, reason, gap, gap_ci, drop, drop_ci)


def _reason(
    verdict: Optional[bool],
    last: CurvePoint,
    previous: CurvePoint,
    gap: float,
    gap_ci: Interval,
    drop: float,
    drop_ci: Interval,
) -> str:
    apart = gap_ci[0] > 0
    where = f"at {last.examples:,} examples the gap is {_pm(gap, gap_ci)}"
    met = " (inside its noise: no sign that the curves are apart)"
    where += " (curves apart)" if apart else met
    change = _change(drop, drop_ci, previous.examples)
    if verdict is True:
        return f"{where} and {change}: more data is likely to help."
    if verdict is False:
        return (
            f"{where} and {change}, inside its noise: no sign that more data would help. If "
            "the error is still too high, the remedy is on the bias side (a bigger network, less "
            "regularization or better features), not more data."
        )
    sure = (
        "To become sure: a larger validation split (data.split.validation) narrows both "
        "intervals, and a wider step between the last two fractions (e.g. --fractions 0.25,1.0) "
        "makes a real fall larger than its noise."
    )
    if apart:
        return f"{where}, but {change}, inside its noise: uncertain whether more data helps. {sure}"
    return (
        f"{where}, yet {change}, beyond its noise: uncertain, the validation error may still be "
        f"falling toward the train error. {sure}"
    )


def _how_sure(gap_ci: Interval, threshold: float) -> str:
    """A "no" from wide intervals: how large the gap may still be, and how to become sure."""
    return (
        f" The gap may still be as large as {points(gap_ci[1])} (above the variance threshold, "
        f"{threshold * 100:g} pts): to become sure, validate on more examples (raise "
        "data.split.validation)."
    )


def _change(drop: float, drop_ci: Interval, examples: int) -> str:
    """ "validation error fell 3.1 pts ± 2.5 from 539 examples" (rose when negative)."""
    amount = with_ci(f"{abs(drop) * 100:.1f} pts", drop_ci)
    verb = "changed by" if round(drop * 100, 1) == 0 else "fell" if drop > 0 else "rose"
    return f"validation error {verb} {amount} from {examples:,} examples"


def _pm(value: float, ci: Interval) -> str:
    """ "+5.2 pts ± 2.1": a difference of errors in percentage points, ± half its interval."""
    return points_ci(value, ci)


def _too_few(points: list[CurvePoint]) -> str:
    return (
        f"the curve has {len(points)} fraction(s); the verdict compares the last two. Run "
        "tunenet learning-curve with two fractions or more (the default: 0.1,0.25,0.5,1.0)."
    )


def _missing(previous: CurvePoint, last: CurvePoint) -> Optional[str]:
    """Why the last two points cannot be compared (an error or interval missing), or None."""
    for point in (previous, last):
        for split, error, ci in (
            ("train", point.train_error, point.train_error_ci),
            ("validation", point.val_error, point.val_error_ci),
        ):
            if error is None:
                return (
                    f"the {split} error at fraction {point.fraction:g} is missing (the fit "
                    "diverged or the file was cut): uncertain. Run tunenet learning-curve again."
                )
            if ci is None:
                return (
                    f"the {split} error at fraction {point.fraction:g} has no interval "
                    f"({'train' if split == 'train' else 'val'}_error_low/_high are empty): "
                    "uncertain. Run tunenet learning-curve again to record them."
                )
    return None


def _interval(row: Any, column: str) -> Optional[Interval]:
    low, high = number(row.get(f"{column}_low")), number(row.get(f"{column}_high"))
    return None if low is None or high is None else (low, high)
