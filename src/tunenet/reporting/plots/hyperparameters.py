"""Plots over the hyperparameters: the objective against each one, and parallel coordinates.

Each hyperparameter gets one kind of axis, the same in both plots (`HpAxis`): categorical for
choices and booleans, log for log-sampled ranges, integer ticks for integer ones. The kind comes
from resolved.yaml (a list is a choice; a range's `sampling: log`; integer bounds), else from the
values (text or booleans: categorical; positive values spanning two decades: log; whole numbers:
integer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator

from tunenet import diagnosis as dx
from tunenet.reporting.model import RunReport
from tunenet.reporting.plots import hover, style
from tunenet.runs import config_value

CATEGORY, LOG, INTEGER, LINEAR = "category", "log", "integer", "linear"
# Where parallel coordinates put a trial without a value (model.units.1 of a one-layer net).
NOT_USED = -0.14
LAYER_SUFFIX = re.compile(r"\.\d+$")  # model.units.0: the per-layer value of model.units


@dataclass(frozen=True)
class HpAxis:
    """One hyperparameter's axis: `name` without `hp.`, `kind` (category, log, integer, linear),
    the values per trial id, and the categories in axis order (category axes only)."""

    name: str
    kind: str
    values: pd.Series
    categories: tuple[str, ...] = ()

    def positions(self) -> pd.Series:
        """Each trial's place on a category axis (0, 1, ...), else its value."""
        if self.kind != CATEGORY:
            return self.values.astype(float)
        index = {name: i for i, name in enumerate(self.categories)}
        return self.values.map(lambda v: index.get(dx.format_value(v), np.nan)).astype(float)


@dataclass(frozen=True)
class SearchPoints:
    """The completed trials with an objective: their hyperparameter axes (varying ones only),
    objective, label, and the best trial."""

    axes: list[HpAxis]
    objective: pd.Series
    labels: pd.Series
    objective_name: str
    maximized: bool
    best: str | None


def search_points(report: RunReport) -> SearchPoints:
    done = dx.completed(report.run.trials, report.objective.column).set_index("trial_id")
    labels = {t.trial_id: style.shown_label(t) for t in report.trials}
    axes = [
        hp_axis(column[len("hp.") :], done[column], report.run.resolved)
        for column in done.columns
        if column.startswith("hp.") and done[column].dropna().nunique() > 1
    ]
    return SearchPoints(
        axes=axes,
        objective=done[report.objective.column].astype(float),
        labels=pd.Series([labels.get(i) for i in done.index], index=done.index, dtype=object),
        objective_name=report.objective.name,
        maximized=report.objective.maximized,
        best=report.best.trial_id if report.best else None,
    )


def hp_axis(name: str, values: pd.Series, resolved: dict | None) -> HpAxis:
    """The axis of hyperparameter `name` given its values and the run's resolved.yaml."""
    declared = _declared(name, resolved)
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if not numeric or isinstance(declared, list):
        return HpAxis(name, CATEGORY, values, _categories(values))
    numbers = values.astype(float).to_numpy()
    if isinstance(declared, dict):
        if declared.get("sampling") == "log":
            return HpAxis(name, LOG, values)
        whole = all(isinstance(declared.get(k), int) for k in ("min", "max"))
        return HpAxis(name, INTEGER if whole else LINEAR, values)
    if style.spans_decades(numbers):
        return HpAxis(name, LOG, values)
    shown = numbers[np.isfinite(numbers)]
    whole = bool(len(shown)) and bool(np.all(shown == np.round(shown)))
    return HpAxis(name, INTEGER if whole else LINEAR, values)


def _declared(name: str, resolved: dict | None) -> object:
    """What resolved.yaml says of `name` (a list, a range mapping, a value), or None."""
    for key in (name, LAYER_SUFFIX.sub("", name)):
        found, value = config_value(resolved, key)
        if found:
            return value
    return None


def _categories(values: pd.Series) -> tuple[str, ...]:
    """The distinct values as text, numbers in numeric order, the rest alphabetically."""
    distinct = values.dropna().unique().tolist()
    try:
        distinct.sort(key=float)
    except (TypeError, ValueError):
        distinct.sort(key=str)
    names = [dx.format_value(v) for v in distinct]
    return tuple(dict.fromkeys(names))


def format_axis(axis: Axes, hp: HpAxis, which: str = "x") -> None:
    """Scale, ticks and labels of one hyperparameter on an x or y axis."""
    target = axis.xaxis if which == "x" else axis.yaxis
    if hp.kind == LOG:
        style.log_axis(axis, which)
    elif hp.kind == CATEGORY:
        count = len(hp.categories)
        target.set_ticks(range(count), hp.categories)
        (axis.set_xlim if which == "x" else axis.set_ylim)(-0.6, count - 0.4)
        longest = max((len(c) for c in hp.categories), default=0)
        if which == "x" and longest * count > 24:
            axis.tick_params(axis="x", labelrotation=30)
            for label in axis.get_xticklabels():
                label.set_horizontalalignment("right")
    elif hp.kind == INTEGER:
        target.set_major_locator(MaxNLocator(6, integer=True))
    else:
        target.set_major_locator(MaxNLocator(5))


# ---------------------------------------------------------------- objective against each one


def objective_vs_hyperparameters(points: SearchPoints) -> Figure | None:
    """One panel per varying hyperparameter: the objective of each completed trial against its
    value, coloured by label; a category's mean as a black bar; the best trial a star."""
    if not points.axes or points.objective.empty:
        return None
    columns = min(3, len(points.axes))
    rows = -(-len(points.axes) // columns)
    figure, grid = style.new_figure((3.4 * columns + 0.4, 2.9 * rows + 0.7), rows, columns)
    panels = list(np.atleast_1d(grid).flat)
    for axis, hp in zip(panels, points.axes, strict=False):
        _objective_panel(axis, hp, points)
    for axis in panels[len(points.axes) :]:
        axis.set_visible(False)
    best = points.best if points.best in points.objective else None
    style.figure_legend(figure, style.label_handles(points.labels.tolist(), best))
    figure.suptitle(
        f"{points.objective_name} against each hyperparameter", fontsize=style.TITLE_SIZE
    )
    return figure


def _objective_panel(axis: Axes, hp: HpAxis, points: SearchPoints) -> None:
    xs = hp.positions()
    ys = points.objective
    kept = xs.notna() & ys.notna()
    xs, ys = xs[kept], ys[kept]
    if hp.kind == CATEGORY:  # spread the points of one value so that they do not hide each other
        xs = xs + np.random.default_rng(0).uniform(-0.15, 0.15, len(xs))
        means = ys.groupby(hp.positions()[kept]).mean()
        axis.hlines(
            means.to_numpy(), means.index - 0.3, means.index + 0.3, color=style.TEXT, lw=1.6
        )
    colors = [style.label_color(points.labels.get(i)) for i in xs.index]
    axis.scatter(xs, ys, s=26, c=colors, alpha=0.85, edgecolor="white", linewidth=0.5, zorder=3)
    hover.mark_trials(axis, xs.to_numpy(), ys.to_numpy(), xs.index.tolist())
    if points.best in xs.index:
        axis.scatter([xs[points.best]], [ys[points.best]], **style.BEST_STAR)
    format_axis(axis, hp, "x")
    axis.yaxis.set_major_locator(MaxNLocator(5))
    axis.set_xlabel(hp.name)
    axis.set_ylabel(points.objective_name)
    axis.grid(alpha=style.GRID_ALPHA)


# ---------------------------------------------------------------- parallel coordinates


def parallel_coordinates(points: SearchPoints) -> Figure | None:
    """One vertical axis per varying hyperparameter, then the objective; each completed trial a
    line through its values, coloured by label, the best one thick on top. Each axis is scaled
    to [0, 1] (log for log-sampled values, evenly spaced categories) and labelled with its real
    values."""
    if not points.axes or len(points.objective) < 2:
        return None
    objective = HpAxis(points.objective_name, LINEAR, points.objective)
    axes = [*points.axes, objective]
    scaled = pd.DataFrame({i: _scaled(hp) for i, hp in enumerate(axes)})
    width = max(6.4, 1.45 * len(axes) + 1.2)
    figure, axis = style.new_figure((width, 4.8))
    order = sorted(scaled.index, key=lambda tid: tid == points.best)  # the best drawn last
    for tid in order:
        best = tid == points.best
        axis.plot(
            range(len(axes)), scaled.loc[tid].to_numpy(dtype=float),
            color=style.label_color(points.labels.get(tid)),
            linewidth=style.BEST_LINE_WIDTH if best else 1.3,
            alpha=1.0 if best else 0.6, zorder=5 if best else 2,
        )  # fmt: skip
    last = scaled[len(axes) - 1]  # each trial's line ends at its objective
    hover.mark_trials(axis, np.full(len(last), len(axes) - 1), last.to_numpy(), last.index.tolist())
    if points.best in scaled.index:
        axis.scatter([len(axes) - 1], [scaled.loc[points.best, len(axes) - 1]], **style.BEST_STAR)
    for i, hp in enumerate(axes):
        axis.axvline(i, color=style.MUTED, linewidth=0.8, zorder=1)
        _axis_ticks(axis, i, hp)
    axis.set_xlim(-0.15, len(axes) - 0.35)
    axis.set_ylim(NOT_USED - 0.06, 1.06)
    axis.set_yticks([])
    axis.spines[["left", "bottom"]].set_visible(False)
    axis.set_xticks(range(len(axes)), [style.wrap_name(hp.name) for hp in axes])
    axis.tick_params(axis="x", length=0)
    best = points.best if points.best in scaled.index else None
    style.figure_legend(figure, style.label_handles(points.labels.tolist(), best))
    figure.suptitle(
        f"Parallel coordinates: hyperparameters and {points.objective_name} of each completed "
        "trial",
        fontsize=style.TITLE_SIZE,
    )
    return figure


def _scaled(hp: HpAxis) -> pd.Series:
    """The values mapped to [0, 1] on this axis (a single value sits in the middle)."""
    values = hp.positions()
    if hp.kind == LOG:
        values = np.log10(values.where(values > 0))
    if hp.kind == CATEGORY:
        low, high = 0.0, float(max(len(hp.categories) - 1, 0))
    else:
        low, high = values.min(), values.max()
    if not np.isfinite(high - low) or high == low:
        scaled = values.where(values.isna(), 0.5)
    else:
        scaled = (values - low) / (high - low)
    return scaled.fillna(NOT_USED)


def _axis_ticks(axis: Axes, index: int, hp: HpAxis) -> None:
    """The real values beside axis `index`: the categories, else a few round values."""
    if hp.kind == CATEGORY:
        count = len(hp.categories)
        ticks = [
            (i / (count - 1) if count > 1 else 0.5, name) for i, name in enumerate(hp.categories)
        ]
    else:
        ticks = _numeric_ticks(hp)
    if hp.values.isna().any():
        ticks.append((NOT_USED, "not used"))
    for y, text in ticks:
        axis.text(
            index + 0.04, y, text, fontsize=style.SMALL_SIZE, va="center", ha="left",
            color="white", bbox=style.BADGE, zorder=7,
        )  # fmt: skip


def _numeric_ticks(hp: HpAxis) -> list[tuple[float, str]]:
    values = hp.values.astype(float)
    values = values[np.isfinite(values)]
    if values.empty:
        return []
    low, high = values.min(), values.max()
    if low == high:
        return [(0.5, dx.format_value(low))]
    if hp.kind == LOG:
        ticks = LogLocator(base=10, numticks=5).tick_values(low, high)
        scale = np.log10
    else:
        ticks = MaxNLocator(4, integer=hp.kind == INTEGER).tick_values(low, high)
        scale = np.asarray
    ticks = [t for t in ticks if low - 1e-12 <= t <= high + 1e-12] or [low, high]
    span = scale(high) - scale(low)
    formatter = FuncFormatter(lambda v, _: dx.format_value(float(v)))
    return [(float((scale(t) - scale(low)) / span), formatter(t)) for t in ticks]
