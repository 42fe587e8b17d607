"""Plots of the curves in epochs.csv: one panel per trial (training and validation on one y scale
shared by every panel), and every trial's validation curve overlaid on shared axes."""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from tunenet.reporting.model import RunReport, TrialReport
from tunenet.reporting.plots import style

# Small multiples stay readable (and take a few seconds) up to this many trials.
MAX_CURVE_PANELS = 40


@dataclass(frozen=True)
class Curves:
    """The epochs of the trials shown (ranked), what each panel says, and the best trial."""

    curves: dict[str, pd.DataFrame]  # epochs.csv rows (last execution) per trial id, in order
    titles: dict[str, str]
    labels: dict[str, str | None]
    best_epochs: dict[str, int | None]
    notes: dict[str, str]  # drawn in red on the panel (why a trial diverged)
    best: str | None
    subtitle: str  # "best 40 of 75 trials" when cut


def curves_info(report: RunReport) -> Curves:
    trials = report.trials[:MAX_CURVE_PANELS]
    grouped = {tid: c for tid, c in report.run.epochs.groupby("trial_id")}
    cut = len(trials) < report.total_trials
    return Curves(
        curves={t.trial_id: grouped[t.trial_id] for t in trials if t.trial_id in grouped},
        titles={t.trial_id: f"{t.trial_id} · {_panel_label(t)}" for t in trials},
        labels={t.trial_id: _panel_label(t) for t in trials},
        best_epochs={t.trial_id: t.best_epoch for t in trials},
        notes={t.trial_id: f.text for t in trials for f in t.findings if f.kind == "diverged"},
        best=report.best.trial_id if report.best else None,
        subtitle=f"best {len(trials)} of {report.total_trials} trials" if cut else "",
    )


def _panel_label(trial: TrialReport) -> str:
    if any(f.kind == "diverged" for f in trial.findings):
        return "diverged"
    return trial.label or trial.status


def shared_limits(columns: list[np.ndarray]) -> tuple[tuple[float, float] | None, bool]:
    """((low, high) of every finite value with a margin, log scale?) for panels that share one y
    axis; a log scale when the values are positive and span two decades (a blown-up loss would
    flatten every other curve on a linear one)."""
    values = np.concatenate([c[np.isfinite(c)] for c in columns]) if columns else np.array([])
    if values.size == 0:
        return None, False
    low, high = float(values.min()), float(values.max())
    if style.spans_decades(values):
        return (low / 1.3, high * 1.3), True
    margin = (high - low) * 0.06 or abs(high) * 0.1 or 0.1
    return (low - margin, high + margin), False


def trial_curves(info: Curves, quantity: str) -> Figure | None:
    """Small multiples, one panel per trial: `quantity` (e.g. "loss") and `val_<quantity>` per
    epoch on one y scale shared by all panels, a dotted line at the best epoch (a star on the
    best trial's), and a red note on diverged trials."""
    ids = [tid for tid, curve in info.curves.items() if quantity in curve.columns]
    if not ids:
        return None
    figure, axes = _grid(len(ids), 4, 3.3, 2.4)
    columns = [
        style.finite(info.curves[tid][c])
        for tid in ids
        for c in (quantity, f"val_{quantity}")
        if c in info.curves[tid].columns
    ]
    limits, log = shared_limits(columns)
    for axis, tid in zip(axes, ids, strict=True):
        _curve_panel(axis, info.curves[tid], quantity, info.best_epochs.get(tid), tid == info.best)
        if tid in info.notes:
            _note(axis, info.notes[tid])
        if log:
            style.log_axis(axis, "y")
        else:
            axis.yaxis.set_major_locator(MaxNLocator(5))
        if limits:
            axis.set_ylim(*limits)
        best = tid == info.best
        axis.set_title(
            info.titles.get(tid, tid) + (" · best" if best else ""),
            fontsize=style.PANEL_TITLE_SIZE, color=style.label_color(info.labels.get(tid)),
            fontweight="bold" if best else "normal",
        )  # fmt: skip
    handles = [
        Line2D([], [], color=style.TRAIN_COLOR, label="train"),
        Line2D([], [], color=style.VAL_COLOR, label="validation"),
        Line2D([], [], color=style.MUTED, linestyle=":", label="best epoch"),
    ]
    figure.legend(
        handles=handles, loc="upper right", bbox_to_anchor=(1, _below_top(figure, 0.35)), ncol=3,
        fontsize=style.TICK_SIZE, frameon=False,
    )  # fmt: skip
    scale = "log scale, " if log else ""
    title = f"Learning curves: {quantity} ({scale}one y scale for every panel)"
    _title(figure, title + (f", {info.subtitle}" if info.subtitle else ""))
    return figure


def _grid(count: int, columns: int, width: float, height: float) -> tuple[Figure, list]:
    """`count` panels of width × height inches, `columns` per row, with fixed margins in inches
    (matplotlib's constrained layout measures every tick label: seconds for 60 panels)."""
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)
    top, bottom, left, right = 0.85, 0.15, 0.1, 0.1  # inches: title and legend above
    size = (max(width * columns + left + right, 6.4), height * rows + top + bottom)
    figure, axes = plt.subplots(rows, columns, figsize=size, squeeze=False)
    figure.subplots_adjust(
        left=(left + 0.5) / size[0],  # room for y tick labels
        right=1 - right / size[0],
        top=1 - top / size[1],
        bottom=(bottom + 0.4) / size[1],  # room for the x label
        wspace=0.35 if columns > 1 else 0.2,
        hspace=0.6,
    )
    flat = list(axes.flat)
    for axis in flat[count:]:
        axis.set_visible(False)
    return figure, flat[:count]


def _below_top(figure: Figure, inches: float) -> float:
    """The figure coordinate `inches` below its top edge (stays put however tall the grid)."""
    return 1 - inches / figure.get_figheight()


def _title(figure: Figure, text: str) -> None:
    figure.suptitle(
        text, x=0.01, y=_below_top(figure, 0.08), ha="left", va="top", fontsize=style.TITLE_SIZE
    )


def _curve_panel(axis: Axes, curve: pd.DataFrame, quantity: str, best: int | None, is_best: bool):
    epochs = curve["epoch"].to_numpy(dtype=float)
    for column, color in ((quantity, style.TRAIN_COLOR), (f"val_{quantity}", style.VAL_COLOR)):
        if column in curve.columns:
            values = style.finite(curve[column])
            axis.plot(
                epochs, values, color=color, linewidth=1.4, marker="." if len(epochs) < 3 else ""
            )
    if best:
        axis.axvline(best, color=style.MUTED, linestyle=":", linewidth=1)
        val = f"val_{quantity}"
        if is_best and val in curve.columns and (curve["epoch"] == best).any():
            y = float(curve.loc[curve["epoch"] == best, val].iloc[0])
            if np.isfinite(y):
                axis.scatter([best], [y], **style.BEST_STAR)
    # few ticks: tick labels are most of the drawing time of a grid of small panels
    axis.xaxis.set_major_locator(MaxNLocator(5, integer=True))
    if len(epochs) == 1:
        axis.set_xlim(epochs[0] - 1, epochs[0] + 1)
    axis.tick_params(labelsize=style.SMALL_SIZE)
    axis.set_xlabel("epoch", fontsize=style.SMALL_SIZE)
    axis.grid(alpha=style.GRID_ALPHA)


def _note(axis: Axes, note: str) -> None:
    axis.text(
        0.5, 0.5, _wrap(note, 38), transform=axis.transAxes, ha="center", va="center",
        fontsize=style.SMALL_SIZE, color=style.VAL_COLOR, zorder=7,
        bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": style.VAL_COLOR},
    )  # fmt: skip


def _wrap(text: str, width: int) -> str:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + len(word) < width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines[:4])


# ---------------------------------------------------------------- overlay


@dataclass(frozen=True)
class Overlay:
    """Every trial's curve of one validation quantity, its label, and the best trial."""

    quantity: str
    curves: dict[str, pd.DataFrame]  # epoch and the quantity, per trial id
    labels: dict[str, str | None]
    best: str | None
    best_epoch: int | None


def overlay_info(report: RunReport) -> Overlay | None:
    """The objective's validation curve when epochs.csv logs it, else val_loss."""
    epochs = report.run.epochs
    quantity = report.objective.name if report.objective.name in epochs.columns else "val_loss"
    if quantity not in epochs.columns:
        return None
    labels = {t.trial_id: style.shown_label(t) for t in report.trials}
    curves = {tid: c[["epoch", quantity]] for tid, c in epochs.groupby("trial_id")}
    best = report.best
    return Overlay(
        quantity, curves, labels, best.trial_id if best else None, best.best_epoch if best else None
    )


def curves_overlay(info: Overlay | None) -> Figure | None:
    """Every trial's validation curve on one pair of axes, coloured by label, thin and pale; the
    best trial thick on top with a star at its best epoch."""
    if info is None or not info.curves:
        return None
    columns = [style.finite(c[info.quantity]) for c in info.curves.values()]
    limits, log = shared_limits(columns)
    if limits is None:
        return None
    figure, axis = style.new_figure(style.WIDE)
    for tid, curve in info.curves.items():
        best = tid == info.best
        axis.plot(
            curve["epoch"].to_numpy(dtype=float), style.finite(curve[info.quantity]),
            color=style.label_color(info.labels.get(tid)),
            linewidth=style.BEST_LINE_WIDTH if best else style.OTHER_LINE_WIDTH,
            alpha=1.0 if best else style.OTHER_ALPHA, zorder=5 if best else 2,
            marker="." if len(curve) < 3 else "",
        )  # fmt: skip
    _best_star(axis, info)
    if log:
        style.log_axis(axis, "y")
    axis.set_ylim(*limits)
    axis.xaxis.set_major_locator(MaxNLocator(8, integer=True))
    axis.set_xlabel("epoch")
    axis.set_ylabel(info.quantity)
    axis.grid(alpha=style.GRID_ALPHA)
    labels = [info.labels.get(tid) for tid in info.curves]
    style.figure_legend(
        figure, style.label_handles(labels, info.best), loc="outside right upper", ncol=1
    )
    axis.set_title(
        f"{info.quantity} of every trial (shared axes; the best trial thick)",
        fontsize=style.TITLE_SIZE,
    )
    return figure


def _best_star(axis: Axes, info: Overlay) -> None:
    curve = info.curves.get(info.best or "")
    if curve is None or not info.best_epoch:
        return
    at = curve[curve["epoch"] == info.best_epoch][info.quantity]
    if len(at) and np.isfinite(float(at.iloc[0])):
        axis.scatter([info.best_epoch], [float(at.iloc[0])], **style.BEST_STAR)
