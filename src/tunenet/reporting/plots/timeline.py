"""The timeline of a search run with `--workers`: one row per worker (trials.csv's `worker`),
each trial a bar from `started_at` to `finished_at` coloured by status, its id on the bar when
it fits. Drawn only when the run has two workers or more: one row says nothing the history does
not."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from tunenet import diagnosis as dx
from tunenet.reporting.model import RunReport
from tunenet.reporting.plots import hover, style
from tunenet.runs import TrialStatus

# A status's colour: the label colour of the same word where there is one.
STATUS_COLORS = {
    TrialStatus.COMPLETED: style.LABEL_COLORS[dx.GOOD_FIT],
    TrialStatus.PRUNED: style.LABEL_COLORS[TrialStatus.PRUNED],
    TrialStatus.DIVERGED: style.LABEL_COLORS[TrialStatus.DIVERGED],
    TrialStatus.FAILED: style.LABEL_COLORS[TrialStatus.FAILED],
    "infeasible": "#bc4c00",
    TrialStatus.INTERRUPTED: style.LABEL_COLORS[style.UNLABELLED],
}
UNITS = ((7200, 3600, "h"), (120, 60, "min"), (0, 1, "s"))  # (span above, seconds per unit, name)


@dataclass(frozen=True)
class Timeline:
    """One row per timed trial: trial_id, worker, start and end (seconds since the first
    start), status; the workers in row order."""

    trials: pd.DataFrame
    workers: list[str]


def timeline_info(report: RunReport) -> Timeline | None:
    """The timed trials of a run with two workers or more, else None."""
    table = report.run.trials
    needed = {"worker", "started_at", "finished_at"}
    if not needed <= set(table.columns):
        return None
    start = pd.to_datetime(table["started_at"], utc=True, errors="coerce", format="ISO8601")
    end = pd.to_datetime(table["finished_at"], utc=True, errors="coerce", format="ISO8601")
    worker = table["worker"].astype("string").str.strip()
    timed = start.notna() & end.notna() & worker.notna() & (worker != "")
    if worker[timed].nunique() < 2:
        return None
    origin = start[timed].min()
    trials = pd.DataFrame({
        "trial_id": table.loc[timed, "trial_id"].astype(str),
        "worker": worker[timed],
        "start": (start[timed] - origin).dt.total_seconds(),
        "end": (end[timed] - origin).dt.total_seconds(),
        "status": table.loc[timed, "status"].astype(str),
    })  # fmt: skip
    return Timeline(trials, sorted(trials["worker"].unique(), key=_worker_order))


def _worker_order(name: str) -> tuple[int, str]:
    """tuner2 before tuner10."""
    digits = "".join(c for c in name if c.isdigit())
    return (int(digits) if digits else -1, name)


def timeline(info: Timeline | None) -> Figure | None:
    """One row per worker; each trial a bar over its time, coloured by status."""
    if info is None:
        return None
    trials = info.trials
    rows = {worker: i for i, worker in enumerate(info.workers)}
    figure, axis = style.new_figure((9.0, 1.6 + 0.5 * len(info.workers)))
    ys = trials["worker"].map(rows).to_numpy(float)
    span = float(trials["end"].max()) or 1.0
    seconds, unit = next((per, name) for above, per, name in UNITS if span > above)
    start = trials["start"].to_numpy(float) / seconds  # drawn in the unit: round ticks
    widths = np.maximum(trials["end"].to_numpy(float) / seconds - start, 0.0)
    colors = [STATUS_COLORS.get(s, style.LABEL_COLORS[style.UNLABELLED]) for s in trials["status"]]
    axis.barh(ys, widths, left=start, height=0.6, color=colors, edgecolor="white", lw=0.5)
    centres = start + widths / 2
    hover.mark_trials(axis, centres, ys, trials["trial_id"].tolist())
    axis.xaxis.set_major_locator(MaxNLocator(8, steps=[1, 2, 2.5, 5, 10]))
    axis.set_xlim(0, span / seconds * 1.01)
    axis.set_yticks(range(len(info.workers)), info.workers)
    axis.set_ylim(len(info.workers) - 0.5, -0.5)  # the first worker on top
    axis.set_xlabel(f"time since the first trial started ({unit})")
    axis.grid(axis="x", alpha=style.GRID_ALPHA)
    _bar_ids(axis, centres, ys, widths, trials["trial_id"].tolist())
    present = [s for s in STATUS_COLORS if s in set(trials["status"])]
    handles = [Patch(color=STATUS_COLORS[s], label=str(s)) for s in present]
    style.figure_legend(figure, handles)
    axis.set_title(
        f"Timeline: {len(trials)} trials on {len(info.workers)} workers", fontsize=style.TITLE_SIZE
    )
    return figure


def _bar_ids(axis, centres: np.ndarray, ys: np.ndarray, widths: np.ndarray, ids: list[str]):
    """Each trial's id in the middle of its bar, left out where the bar is too short for it."""
    figure = axis.figure
    figure.draw_without_rendering()
    renderer = figure.canvas.get_renderer()
    to_pixels = axis.transData.transform
    for x, y, width, trial_id in zip(centres, ys, widths, ids, strict=True):
        text = axis.text(
            x, y, trial_id, ha="center", va="center", fontsize=style.SMALL_SIZE, color="white",
            zorder=4,
        )  # fmt: skip
        room = to_pixels((x + width / 2, y))[0] - to_pixels((x - width / 2, y))[0]
        if text.get_window_extent(renderer).width + 4 > room:
            text.remove()
