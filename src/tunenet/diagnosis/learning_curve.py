"""Will more data help? The data-size learning curve of `tunenet learning-curve` (docs/guide.md).

The best trial's hyperparameters are retrained on growing fractions of the training split; each
fraction gives a train error and a validation error with their 95% intervals. Two tests:

- the gap: validation − train error at the largest fraction, with Newcombe's interval
  (classification) or the normal interval of a difference (regression), from the two errors'
  intervals (`intervals.difference_ci`);
- the trend over the whole curve: a weighted least-squares line of validation error on
  log2(examples), each point weighted by 1 / the variance its own interval gives (half its width
  / 1.96, squared). The slope is the change of validation error per doubling of the data, with a
  95% interval. The points' intervals are the noise; where the points scatter about the line
  more than those allow (reduced chi-square above 1), the slope's standard error is scaled up by
  the square root of it (never down). The normal quantile is kept: Student's t on n − 2 degrees
  of freedom would make any 3-point curve uncertain (t = 12.7 on one degree), however clearly
  it falls.

Then:

- `True`: the gap clears its noise (the curves have not met) and the slope's interval is below
  zero (validation error falls with more data): more data is likely to help.
- `False`: the gap is inside its noise (the curves have met: the bias is the problem) and the
  slope shows no fall beyond its noise. A curve that falls beyond its noise is never `False`.
- `None` otherwise, with the reason and how to become sure.

The points are measured on the same validation examples, so treating them as independent is
conservative (it says "uncertain" more often than a paired test would). A "no" only says the gap
is inside its noise; when that noise still allows a gap above `diagnosis.variance_threshold`,
the reason says so and how to become sure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import pandas as pd

from tunenet.diagnosis.intervals import Interval, Z, difference_ci
from tunenet.diagnosis.text import points, points_ci
from tunenet.runs.cells import integer, number

VARIANCE_THRESHOLD = 0.05  # diagnosis.variance_threshold's default: a gap that matters
SMALLEST_SD = 1e-4  # a point whose interval has no width still weighs as if ±0.02 pts


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
        val_slope, val_slope_ci: the change of validation error per doubling of the examples
            over the whole curve (negative: it falls), and its 95% interval.
    """

    points: list[CurvePoint]
    more_data_helps: Optional[bool]
    reason: str
    gap: Optional[float] = None
    gap_ci: Optional[Interval] = None
    val_drop: Optional[float] = None
    val_drop_ci: Optional[Interval] = None
    val_slope: Optional[float] = None
    val_slope_ci: Optional[Interval] = None


@dataclass(frozen=True)
class Trend:
    """Validation error against log2(examples), weighted by the points' own intervals.

    Attributes:
        slope: change of validation error per doubling of the examples (negative: it falls).
        slope_ci: its 95% interval.
        points: how many fractions the line was fitted to.
        scatter: the reduced chi-square of the fit (None with two points); above 1 the points
            scatter more than their intervals say, and the interval was widened for it.
    """

    slope: float
    slope_ci: Interval
    points: int
    scatter: Optional[float]

    @property
    def falls(self) -> bool:
        return self.slope_ci[1] < 0


def trend(points: list[CurvePoint]) -> Optional[Trend]:
    """The weighted line of the module docstring, or None without two usable points (a
    validation error with its interval, at two different sizes or more)."""
    usable = [p for p in points if p.val_error is not None and p.val_error_ci and p.examples > 0]
    if len({p.examples for p in usable}) < 2:
        return None
    x = np.log2([p.examples for p in usable])
    y = np.array([p.val_error for p in usable], dtype=float)
    sd = np.array([(p.val_error_ci[1] - p.val_error_ci[0]) / (2 * Z) for p in usable])  # type: ignore[index]
    weight = 1 / np.maximum(sd, SMALLEST_SD) ** 2
    x_mean, y_mean = np.average(x, weights=weight), np.average(y, weights=weight)
    sxx = float(np.sum(weight * (x - x_mean) ** 2))
    slope = float(np.sum(weight * (x - x_mean) * (y - y_mean)) / sxx)
    se, scatter = 1 / np.sqrt(sxx), None
    freedom = len(usable) - 2
    if freedom > 0:
        residual = y - (y_mean + slope * (x - x_mean))
        scatter = float(np.sum(weight * residual**2) / freedom)
        se *= np.sqrt(max(1.0, scatter))  # more scatter than the intervals allow: widen
    half = float(Z * se)
    return Trend(slope, (slope - half, slope + half), len(usable), scatter)


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
    last = points[-1]
    missing = _missing(last)
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
    assert gap_ci is not None  # _missing checked the intervals
    drop, drop_ci = _last_step(points[-2], last, proportions)
    line = trend(points)
    if line is None:
        return LearningCurve(points, None, _too_few(points), gap, gap_ci, drop, drop_ci)
    apart = gap_ci[0] > 0
    verdict: Optional[bool] = (
        True if apart and line.falls else False if not apart and not line.falls else None
    )
    reason = _reason(verdict, last, gap, gap_ci, line)
    if verdict is False and gap_ci[1] > variance_threshold:
        reason += _how_sure(gap_ci, variance_threshold)
    return LearningCurve(
        points, verdict, reason, gap, gap_ci, drop, drop_ci, line.slope, line.slope_ci
    )


def _last_step(
    previous: CurvePoint, last: CurvePoint, proportions: bool
) -> tuple[Optional[float], Optional[Interval]]:
    """previous − last validation error and its interval (kept in report.json; the verdict
    reads the whole curve)."""
    if previous.val_error is None or last.val_error is None:
        return None, None
    drop = previous.val_error - last.val_error
    ci = difference_ci(
        previous.val_error, previous.val_error_ci, last.val_error, last.val_error_ci, proportions
    )
    return drop, ci


def _reason(
    verdict: Optional[bool], last: CurvePoint, gap: float, gap_ci: Interval, line: Trend
) -> str:
    apart = gap_ci[0] > 0
    where = f"at {last.examples:,} examples the gap is {_pm(gap, gap_ci)}"
    met = " (inside its noise: no sign that the curves are apart)"
    where += " (curves apart)" if apart else met
    change = _slope_text(line)
    if verdict is True:
        return f"{where} and {change}: more data is likely to help."
    if verdict is False:
        return (
            f"{where} and {change}, inside its noise: no sign that more data would help. If "
            "the error is still too high, the remedy is on the bias side (a bigger network, less "
            "regularization or better features), not more data."
        )
    sure = (
        "To become sure: a larger validation split (data.split.validation) narrows every "
        "interval, and more fractions spread wider (e.g. --fractions 0.1,0.25,0.5,1.0) steady "
        "the trend."
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


def _slope_text(line: Trend) -> str:
    """ "over 4 fractions validation error falls 6.2 pts per doubling of the data (95% interval
    3.2 to 9.2)"; rises when the slope is positive."""
    fall, (low, high) = -line.slope, sorted((-line.slope_ci[0], -line.slope_ci[1]))
    if round(fall * 100, 1) == 0:
        verb, amount = "changes by", 0.0
    else:
        verb, amount = ("falls", fall) if fall > 0 else ("rises", -fall)
        low, high = (low, high) if fall > 0 else (-high, -low)
    widened = (
        f", widened: the points scatter {line.scatter:.1f}× the variance their intervals allow"
        if line.scatter is not None and line.scatter > 1
        else ""
    )
    return (
        f"over {line.points} fractions validation error {verb} {amount * 100:.1f} pts per "
        f"doubling of the data (95% interval {low * 100:.1f} to {high * 100:.1f}{widened})"
    )


def _pm(value: float, ci: Interval) -> str:
    """ "+5.2 pts ± 2.1": a difference of errors in percentage points, ± half its interval."""
    return points_ci(value, ci)


def _too_few(points: list[CurvePoint]) -> str:
    usable = sum(1 for p in points if p.val_error is not None and p.val_error_ci)
    return (
        f"the curve has {len(points)} fraction(s), {usable} with a validation error and its "
        "interval; the verdict fits a trend over the fractions and needs two or more: "
        "uncertain. Run tunenet learning-curve with two fractions or more (the default: "
        "0.1,0.25,0.5,1.0)."
    )


def _missing(last: CurvePoint) -> Optional[str]:
    """Why the largest fraction's gap cannot be measured (an error or interval missing)."""
    for split, error, ci in (
        ("train", last.train_error, last.train_error_ci),
        ("validation", last.val_error, last.val_error_ci),
    ):
        if error is None:
            return (
                f"the {split} error at fraction {last.fraction:g} is missing (the fit "
                "diverged or the file was cut): uncertain. Run tunenet learning-curve again."
            )
        if ci is None:
            return (
                f"the {split} error at fraction {last.fraction:g} has no interval "
                f"({'train' if split == 'train' else 'val'}_error_low/_high are empty): "
                "uncertain. Run tunenet learning-curve again to record them."
            )
    return None


def _interval(row: Any, column: str) -> Optional[Interval]:
    low, high = number(row.get(f"{column}_low")), number(row.get(f"{column}_high"))
    return None if low is None or high is None else (low, high)
