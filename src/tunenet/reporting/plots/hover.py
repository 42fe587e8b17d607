"""Hover areas of the per-trial plots (docs/report.md, "Hover"): where each trial's marker lands
in the saved PNG, and what it was, in `report/plots/<stem>.areas.json`:

    {"width": W, "height": H, "areas": [{"x": px, "y": px, "r": px, "title": "trial 3 · ..."}]}

Coordinates are the PNG's own pixels, origin top-left. A plot marks its trials with
`mark_trials` while drawing; `save_with_areas` writes the PNG, then reads each mark's place
through its axis transform (the layout is final once the figure is saved).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.transforms import Transform

from tunenet import diagnosis as dx
from tunenet.reporting.model import RunReport
from tunenet.reporting.plots import style
from tunenet.runs import TrialStatus, write_atomic

RADIUS = 7  # pixels: about a marker and a half, easy to point at
SIDECAR = ".areas.json"
SEPARATOR = " · "


@dataclass(frozen=True)
class Marks:
    """Trial markers drawn at (xs, ys) in `transform`'s coordinates (an axis' data by default)."""

    axis: Axes
    xs: np.ndarray
    ys: np.ndarray
    trial_ids: list[str]
    transform: Transform | None = None


def mark_trials(
    axis: Axes,
    xs: Sequence[float],
    ys: Sequence[float],
    trial_ids: Sequence[str],
    transform: Transform | None = None,
) -> None:
    """Remember that trial `trial_ids[i]`'s marker is at (xs[i], ys[i]) in `axis`."""
    marks = Marks(
        axis, np.asarray(xs, dtype=float), np.asarray(ys, dtype=float), [str(t) for t in trial_ids],
        transform,
    )  # fmt: skip
    figure = axis.figure
    figure._tunenet_marks = [*getattr(figure, "_tunenet_marks", []), marks]


def trial_titles(report: RunReport) -> dict[str, str]:
    """Per trial id: "trial 3 · model.units.0=64 · optimizer.learning_rate=0.001 ·
    val_accuracy 0.931" (its status instead of the objective when it did not complete)."""
    trials = report.run.trials
    hp_columns = [c for c in trials.columns if c.startswith("hp.")]
    column = report.objective.column
    titles = {}
    for _, row in trials.iterrows():
        parts = [f"trial {row['trial_id']}"]
        parts += [
            f"{c[len('hp.') :]}={dx.format_value(row[c])}" for c in hp_columns if _filled(row[c])
        ]
        value = row.get(column)
        if row.get("status") == TrialStatus.COMPLETED and _filled(value):
            parts.append(f"{report.objective.name} {dx.format_value(value)}")
        else:
            parts.append(str(row.get("status", "")))
        titles[str(row["trial_id"])] = SEPARATOR.join(parts)
    return titles


def _filled(value: object) -> bool:
    return value is not None and not (np.isscalar(value) and pd.isna(value))


def save_with_areas(figure: Figure, path: Path, titles: dict[str, str]) -> Path:
    """Save `figure` as `path` (style.save's look) and, when it marks trials, the hover areas
    beside it; a stale areas file of the same plot is removed. Closes the figure."""
    sidecar = path.with_name(path.stem + SIDECAR)
    figure.set_dpi(style.DPI)  # the saved pixels are the drawn pixels: transforms map to them
    style.write_png(figure, path)
    marks = getattr(figure, "_tunenet_marks", [])
    if marks:
        write_atomic(sidecar, json.dumps(areas(figure, marks, titles), ensure_ascii=False) + "\n")
    else:
        sidecar.unlink(missing_ok=True)
    plt.close(figure)
    return path


def areas(figure: Figure, marks: list[Marks], titles: dict[str, str]) -> dict:
    """The sidecar's content for a figure drawn at `style.DPI` (see the module's docstring)."""
    width, height = figure.canvas.get_width_height()
    found = []
    for mark in marks:
        transform = mark.transform or mark.axis.transData
        inside = np.isfinite(mark.xs) & np.isfinite(mark.ys)
        if not inside.any():
            continue
        points = transform.transform(np.column_stack([mark.xs[inside], mark.ys[inside]]))
        ids = [t for t, keep in zip(mark.trial_ids, inside, strict=True) if keep]
        for trial_id, (x, y) in zip(ids, points, strict=True):
            top = height - y
            if 0 <= x <= width and 0 <= top <= height:
                title = titles.get(trial_id, f"trial {trial_id}")
                found.append({"x": round(float(x), 1), "y": round(float(top), 1), "r": RADIUS,
                              "title": title})  # fmt: skip
    return {"width": width, "height": height, "areas": found}
