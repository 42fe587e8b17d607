"""What each trial's quality cost (docs/report.md, "The simplest tied trial"): the objective with
its 95% interval against the trainable parameters (trials.csv `params`, log axis), the trials
tied with the best marked, the best a gold star.

Accuracy objectives are drawn as accuracy, error objectives as the validation error; any other
objective (a loss) by the validation error, on which the tie is decided.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from tunenet.reporting.model import RunReport
from tunenet.reporting.noise import is_regression
from tunenet.reporting.plots import hover, style
from tunenet.runs import TrialStatus
from tunenet.runs.cells import integer, number
from tunenet.runs.simplest import tied_trials, val_interval

TIED_COLOR = "#1a7f37"  # style's good-fit green: 3:1 on light and dark pages
TIED_MARKER = "D"


@dataclass(frozen=True)
class Tradeoff:
    """The completed trials with `params` and a validation error: their sizes, the value drawn
    with its interval, which are tied with the best, the best and the simplest tied."""

    trial_ids: list[str]
    params: np.ndarray
    values: np.ndarray
    lows: np.ndarray
    highs: np.ndarray
    tied: list[bool]
    best: str | None
    simplest: str | None
    quantity: str  # the y axis
    accuracy: bool  # values are 1 − the validation error


def tradeoff_info(report: RunReport) -> Tradeoff | None:
    """The points of the plot, from every trial of trials.csv (not only those `--top` shows);
    None when no completed trial has `params`."""
    if "params" not in report.run.trials.columns:
        return None
    rows = [row for _, row in report.run.trials.iterrows()]
    regression = is_regression(report.run)
    best = report.best.trial_id if report.best else None
    tied = tied_trials(rows, best, regression) if best else {}
    accuracy = "accuracy" in report.objective.name
    points = []
    for row in rows:
        size, error = integer(row.get("params")), number(row.get("val_error"))
        if row.get("status") != TrialStatus.COMPLETED or not size or error is None:
            continue
        low, high = val_interval(row, regression) or (error, error)
        if accuracy:
            error, low, high = 1 - error, 1 - high, 1 - low
        trial_id = str(row["trial_id"])
        points.append((trial_id, size, error, low, high, trial_id in tied))
    if not points:
        return None
    ids, sizes, values, lows, highs, marked = zip(*points, strict=True)
    return Tradeoff(
        trial_ids=list(ids),
        params=np.asarray(sizes, dtype=float),
        values=np.asarray(values, dtype=float),
        lows=np.asarray(lows, dtype=float),
        highs=np.asarray(highs, dtype=float),
        tied=list(marked),
        best=best,
        simplest=report.simplest_tied.trial_id if report.simplest_tied else None,
        quantity=report.objective.name if accuracy else "validation error",
        accuracy=accuracy,
    )


def tradeoff(info: Tradeoff | None) -> Figure | None:
    """The plot: one point per trial with its interval as an error bar; x the parameters on a
    log axis."""
    if info is None:
        return None
    figure, axis = style.new_figure(style.WIDE)
    spread = np.vstack([info.values - info.lows, info.highs - info.values]).clip(min=0)
    handles = []  # the legend in drawing order
    for tied, color, marker, label in (
        (False, style.MUTED, "o", "not tied with the best"),
        (True, TIED_COLOR, TIED_MARKER, "tied with the best (the difference's interval holds 0)"),
    ):
        chosen = np.array([flag == tied for flag in info.tied])
        if not chosen.any():
            continue
        drawn = axis.errorbar(
            info.params[chosen],
            info.values[chosen],
            yerr=spread[:, chosen],
            fmt=marker,
            color=color,
            ecolor=color,
            elinewidth=1.0,
            capsize=3,
            markersize=6,
            label=label,
            zorder=3,
        )
        handles.append(drawn)
    ids = info.trial_ids
    hover.mark_trials(axis, info.params, info.values, ids)  # its hover areas (docs/report.md)
    if info.simplest in ids:
        i = ids.index(info.simplest)
        ring = axis.scatter(
            [info.params[i]], [info.values[i]], s=190, facecolors="none", edgecolors=TIED_COLOR,
            linewidths=1.6, zorder=5, label=f"simplest tied (trial {info.simplest})",
        )  # fmt: skip
        handles.append(ring)
    if info.best in ids:
        i = ids.index(info.best)
        star = f"best (trial {info.best})"
        handles.append(
            axis.scatter([info.params[i]], [info.values[i]], **style.BEST_STAR, label=star)
        )
    style.log_axis(axis, "x")
    axis.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    axis.set_xlabel("trainable parameters (trials.csv params, log scale)")
    axis.set_ylabel(f"{info.quantity} (95% interval)")
    better = "higher" if info.accuracy else "lower"
    axis.set_title(f"What each trial's {info.quantity} cost in parameters ({better} is better)")
    axis.grid(alpha=style.GRID_ALPHA)
    axis.legend(handles=handles, loc="best", frameon=False)
    return figure
