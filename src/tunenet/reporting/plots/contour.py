"""The contour plot (Optuna's `plot_contour`): the objective over the plane of the two most
important hyperparameters, interpolated between the completed trials, with the trials on top.

"Most important" is the report's ranking (`search.importance_info`, the order of the importance
plot); hyperparameters it did not test follow in trials.csv's order. Each axis is the one the
other hyperparameter plots use (`hyperparameters.HpAxis`): log for log-sampled keys, evenly
spaced ticks for categories.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.interpolate import griddata
from scipy.spatial import QhullError

from tunenet.reporting.model import RunReport
from tunenet.reporting.plots import hover, style
from tunenet.reporting.plots.hyperparameters import LOG, HpAxis, format_axis, search_points
from tunenet.reporting.plots.search import importance_info

log = logging.getLogger(__name__)

MIN_TRIALS = 4  # completed trials with both values: fewer leave no plane to interpolate
GRID = 100  # interpolation points per axis


@dataclass(frozen=True)
class Contour:
    """The two hyperparameters' axes and the objective of the trials that have both values."""

    x: HpAxis
    y: HpAxis
    objective: pd.Series  # by trial id
    objective_name: str
    maximized: bool
    best: str | None


def contour_info(report: RunReport) -> Contour | None:
    """The two most important varying hyperparameters, or None (with a log line saying why)
    when fewer than two vary or fewer than `MIN_TRIALS` completed trials have both."""
    points = search_points(report)
    ranked = ranked_axes(points.axes, importance_info(report))
    if len(ranked) < 2:
        log.info("contour plot left out: %d hyperparameter(s) varied; it needs 2", len(ranked))
        return None
    x, y = ranked[:2]
    both = x.positions().notna() & y.positions().notna() & points.objective.notna()
    if both.sum() < MIN_TRIALS:
        log.info(
            "contour plot left out: %d completed trial(s) have both %s and %s; it needs %d",
            both.sum(), x.name, y.name, MIN_TRIALS,
        )  # fmt: skip
        return None
    kept = both[both].index
    return Contour(
        x=HpAxis(x.name, x.kind, x.values[kept], x.categories),
        y=HpAxis(y.name, y.kind, y.values[kept], y.categories),
        objective=points.objective[kept],
        objective_name=points.objective_name,
        maximized=points.maximized,
        best=points.best if points.best in kept else None,
    )


def ranked_axes(axes: list[HpAxis], importance) -> list[HpAxis]:
    """`axes` in the importance plot's order, the untested ones after, in their own order."""
    order = importance.hyperparameters if importance is not None else []
    rank = {name: i for i, name in enumerate(order)}
    return sorted(axes, key=lambda hp: rank.get(hp.name, len(rank)))


def contour(info: Contour | None) -> Figure | None:
    """Filled contours of the objective interpolated over the two hyperparameters (linear
    between the trials, nothing outside them), each trial a point, the best a star."""
    if info is None:
        return None
    u, v = _coordinate(info.x), _coordinate(info.y)
    grid_u, grid_v, values = _interpolated(u, v, info.objective.to_numpy(float))
    figure, axis = style.new_figure((7.2, 5.6))
    cmap = "viridis" if info.maximized else "viridis_r"  # the better end is yellow
    filled = axis.contourf(_real(info.x, grid_u), _real(info.y, grid_v), values, 12, cmap=cmap)
    bar = figure.colorbar(filled, ax=axis)
    bar.set_label(f"{info.objective_name} ({'higher' if info.maximized else 'lower'} is better)")
    xs, ys = _real(info.x, u), _real(info.y, v)
    axis.scatter(xs, ys, s=24, color="white", edgecolor="#303030", linewidth=0.8, zorder=4)
    hover.mark_trials(axis, xs, ys, info.objective.index.tolist())
    if info.best is not None:
        i = info.objective.index.get_loc(info.best)
        axis.scatter([xs[i]], [ys[i]], **style.BEST_STAR)
    format_axis(axis, info.x, "x")
    format_axis(axis, info.y, "y")
    axis.set_xlabel(info.x.name)
    axis.set_ylabel(info.y.name)
    axis.set_title(
        f"{info.objective_name} over the two most important hyperparameters "
        f"({len(info.objective)} trials)",
        fontsize=style.TITLE_SIZE,
    )
    return figure


def _coordinate(hp: HpAxis) -> np.ndarray:
    """Where interpolation places each trial: log10 of a log axis, a category's index."""
    positions = hp.positions().to_numpy(float)
    return np.log10(positions) if hp.kind == LOG else positions


def _real(hp: HpAxis, coordinate: np.ndarray) -> np.ndarray:
    return 10**coordinate if hp.kind == LOG else coordinate


def _interpolated(u: np.ndarray, v: np.ndarray, z: np.ndarray):
    """A GRID × GRID mesh over the trials' extent and the objective on it: linear inside their
    convex hull (the mean where trials share a point), nearest when they lie on one line."""
    table = pd.DataFrame({"u": u, "v": v, "z": z}).groupby(["u", "v"], as_index=False).mean()
    grid_u, grid_v = np.meshgrid(_span(table["u"]), _span(table["v"]))
    known, z = table[["u", "v"]].to_numpy(float), table["z"].to_numpy(float)
    try:
        values = griddata(known, z, (grid_u, grid_v), "linear", rescale=True)
    except (QhullError, ValueError):  # collinear points span no triangle
        values = griddata(known, z, (grid_u, grid_v), "nearest")
    return grid_u, grid_v, values


def _span(values: pd.Series) -> np.ndarray:
    return np.linspace(values.min(), values.max(), GRID)
