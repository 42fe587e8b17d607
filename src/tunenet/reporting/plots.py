"""PNG plots of a run, drawn with matplotlib's Agg backend (no display needed).

`draw_plots` takes what each plot needs from the report model; each figure function takes plain
tables and returns a Figure (None when there is nothing to draw); `save` writes it and closes it
so long reports do not pile figures up in memory. Importing this module imports matplotlib
(~0.5 s): import it only when plots are drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, no GUI toolkit import

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator, PercentFormatter  # noqa: E402

from tunenet.diagnosis import (  # noqa: E402
    BOTH,
    GOOD_FIT,
    HIGH_BIAS,
    HIGH_VARIANCE,
    NOT_LEARNING,
    UNCERTAIN,
    CapacityCurve,
    Thresholds,
    completed,
    format_value,
)
from tunenet.reporting.model import RunReport, TrialReport  # noqa: E402
from tunenet.runs import TrialStatus  # noqa: E402

DPI = 100
TRAIN_COLOR = "#0969da"
VAL_COLOR = "#d1242f"
LABEL_COLORS = {
    GOOD_FIT: "#1a7f37",
    HIGH_BIAS: "#bf8700",
    HIGH_VARIANCE: "#0969da",
    BOTH: "#cf222e",
    NOT_LEARNING: "#6e7781",
    UNCERTAIN: "#8250df",
}
OBJECTIVE_COLOR = "#8250df"
BEST_COLOR = "#bf8700"
MUTED = "#57606a"
# Positive values spanning this ratio (two decades) or more get a log x-axis.
LOG_SPAN = 100.0
# Learning-curve small multiples stay readable (and take a few seconds) up to this many trials.
MAX_CURVE_PANELS = 40


def save(figure: Figure, path: Path) -> Path:
    """Write `figure` as a PNG at `path` and close it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI)
    plt.close(figure)
    return path


def draw_plots(report: RunReport, directory: Path) -> list[Path]:
    """Learning curves (loss and the main metric), the error scatter, objective against each
    hyperparameter and, for a capacity search, the capacity curve, as PNG files in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    trials = report.trials[:MAX_CURVE_PANELS]
    curves = {tid: c for tid, c in report.run.epochs.groupby("trial_id")}
    shown = {t.trial_id: curves[t.trial_id] for t in trials if t.trial_id in curves}
    titles = {t.trial_id: f"{t.trial_id} · {_panel_label(t)}" for t in trials}
    best_epochs = {t.trial_id: t.best_epoch for t in trials}
    notes = {t.trial_id: f.text for t in trials for f in t.findings if f.kind == "diverged"}
    figures = {}
    cut = len(trials) < report.total_trials
    subtitle = f"best {len(trials)} of {report.total_trials} trials" if cut else ""
    for quantity in ("loss", report.metric):
        if quantity:
            figures[f"learning_curves_{quantity}"] = learning_curves(
                shown, quantity, titles, best_epochs, notes, subtitle
            )
    points = pd.DataFrame(
        [(t.trial_id, t.train_error, t.val_error, t.label) for t in report.trials if t.fit],
        columns=["trial_id", "train_error", "val_error", "label"],
    )
    figures["train_vs_validation_error"] = error_scatter(points, report.settings.thresholds())
    done = completed(report.run.trials, report.objective.column)
    table = done.set_index("trial_id")[[c for c in done.columns if c.startswith("hp.")]].copy()
    table["objective"] = done.set_index("trial_id")[report.objective.column].astype(float)
    best_id = report.best.trial_id if report.best else None
    figures["objective_vs_hyperparameters"] = objective_vs_hyperparameters(
        table, report.objective.name, best_id
    )
    if report.capacity:
        figures["capacity"] = capacity_curve(
            report.capacity, report.objective.name, report.settings.target_error.value
        )
    return [
        save(figure, directory / f"{name}.png")
        for name, figure in figures.items()
        if figure is not None
    ]


def _panel_label(trial: TrialReport) -> str:
    if any(f.kind == "diverged" for f in trial.findings):
        return "diverged"
    return trial.label or trial.status


def _grid(count: int, columns: int, width: float, height: float) -> tuple[Figure, list]:
    """`count` panels of width × height inches, `columns` per row, with fixed margins in inches
    (matplotlib's constrained layout measures every tick label: seconds for 60 panels)."""
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)
    top, bottom, left, right = 0.75, 0.15, 0.1, 0.1  # inches: title and legend above
    size = (width * columns + left + right, height * rows + top + bottom)
    figure, axes = plt.subplots(rows, columns, figsize=size, squeeze=False)
    figure.subplots_adjust(
        left=left / size[0] + 0.45 / size[0],  # room for y tick labels
        right=1 - right / size[0],
        top=1 - top / size[1],
        bottom=(bottom + 0.4) / size[1],  # room for the x label
        wspace=0.32,
        hspace=0.55,
    )
    flat = list(axes.flat)
    for axis in flat[count:]:
        axis.set_visible(False)
    return figure, flat[:count]


def _below_top(figure: Figure, inches: float) -> float:
    """The figure coordinate `inches` below its top edge (stays put however tall the grid)."""
    return 1 - inches / figure.get_figheight()


def _title(figure: Figure, text: str) -> None:
    figure.suptitle(text, x=0.01, y=_below_top(figure, 0.1), ha="left", va="top", fontsize=11)


def learning_curves(
    curves: Mapping[str, pd.DataFrame],
    quantity: str,
    titles: Mapping[str, str],
    best_epochs: Mapping[str, int | None],
    notes: Mapping[str, str],
    subtitle: str = "",
) -> Figure | None:
    """Small multiples, one panel per trial: `quantity` (e.g. "loss") and `val_<quantity>` per
    epoch, a vertical line at the best epoch, and a red note (e.g. why it diverged).

    Args:
        curves: one execution's epochs.csv rows per trial id.
        quantity: a Keras log key logged for training and validation.
        titles: panel title per trial id.
        best_epochs: best epoch per trial id (None: not marked).
        notes: text drawn in red on the panel (diverged trials).
        subtitle: appended to the figure's title (e.g. "best 40 of 75 trials").
    """
    ids = [tid for tid, curve in curves.items() if quantity in curve.columns]
    if not ids:
        return None
    figure, axes = _grid(len(ids), 4, 3.3, 2.4)
    for axis, tid in zip(axes, ids, strict=True):
        _curve_panel(axis, curves[tid], quantity, best_epochs.get(tid), notes.get(tid))
        axis.set_title(titles.get(tid, tid), fontsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(
        handles, labels, loc="upper right", bbox_to_anchor=(1, _below_top(figure, 0.05)), ncol=3,
        fontsize=8, frameon=False,
    )  # fmt: skip
    title = f"Learning curves: {quantity}" + (f" ({subtitle})" if subtitle else "")
    _title(figure, title)
    return figure


def _curve_panel(axis, curve: pd.DataFrame, quantity: str, best: int | None, note: str | None):
    epochs = curve["epoch"].to_numpy(dtype=float)
    for column, color, name in (
        (quantity, TRAIN_COLOR, "train"),
        (f"val_{quantity}", VAL_COLOR, "validation"),
    ):
        if column in curve.columns:
            values = curve[column].to_numpy(dtype=float)
            values = np.where(np.isfinite(values), values, np.nan)  # gaps, not a broken axis
            axis.plot(epochs, values, color=color, linewidth=1.4, label=name)
    if best:
        axis.axvline(best, color="#57606a", linestyle=":", linewidth=1, label="best epoch")
    if note:
        axis.text(
            0.5,
            0.5,
            note.replace(": ", ":\n", 1),
            transform=axis.transAxes,
            ha="center",
            va="center",
            fontsize=7,
            color=VAL_COLOR,
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": VAL_COLOR},
        )
    # few ticks: tick labels are most of the drawing time of a grid of small panels
    axis.xaxis.set_major_locator(MaxNLocator(5, integer=True))
    axis.yaxis.set_major_locator(MaxNLocator(4))
    axis.tick_params(labelsize=7)
    axis.set_xlabel("epoch", fontsize=7)
    axis.grid(alpha=0.3)


def error_scatter(points: pd.DataFrame, thresholds: Thresholds) -> Figure | None:
    """Train error (x) against validation error (y), one labelled point per trial, with the
    high-bias region (train error > target + bias threshold) and the high-variance region
    (validation - train > variance threshold) shaded, and the diagonal.

    Args:
        points: columns trial_id, train_error, val_error, label.
    """
    if points.empty:
        return None
    train = points["train_error"].to_numpy(dtype=float)
    val = points["val_error"].to_numpy(dtype=float)
    bias_edge = thresholds.target_error + thresholds.bias_threshold
    top = max(val.max(), train.max(), bias_edge + thresholds.variance_threshold) * 1.12 + 0.01
    figure, axis = plt.subplots(figsize=(6.4, 5.6), layout="constrained")
    xs = np.linspace(0, top, 200)
    axis.axvspan(bias_edge, top, color=LABEL_COLORS[HIGH_BIAS], alpha=0.12, linewidth=0)
    axis.fill_between(
        xs, xs + thresholds.variance_threshold, top, color=LABEL_COLORS[HIGH_VARIANCE], alpha=0.12
    )
    axis.plot([0, top], [0, top], color="#57606a", linewidth=1, linestyle="--", label="val = train")
    axis.axvline(thresholds.target_error, color="#57606a", linewidth=1, linestyle=":")
    axis.text(bias_edge + 0.01 * top, 0.02 * top, "high bias", color="#7d4e00", fontsize=9)
    axis.text(0.02 * top, 0.95 * top, "high variance", color="#0550ae", fontsize=9, va="top")
    axis.text(bias_edge + 0.01 * top, 0.95 * top, "both", color="#a40e26", fontsize=9, va="top")
    axis.text(
        thresholds.target_error,
        0.02 * top,
        " target error",
        rotation=90,
        va="bottom",
        fontsize=8,
        color="#57606a",
    )
    for label, group in points.groupby(points["label"].fillna("unknown")):
        axis.scatter(
            group["train_error"],
            group["val_error"],
            s=36,
            color=LABEL_COLORS.get(label, "#57606a"),
            label=label,
            edgecolor="white",
            zorder=3,
        )
    for tid, x, y in zip(points["trial_id"], train, val, strict=True):
        axis.annotate(tid, (x, y), xytext=(4, 3), textcoords="offset points", fontsize=7)
    axis.set_xlim(0, top)
    axis.set_ylim(0, top)
    axis.xaxis.set_major_formatter(PercentFormatter(1.0))
    axis.yaxis.set_major_formatter(PercentFormatter(1.0))
    axis.set_xlabel("train error")
    axis.set_ylabel("validation error")
    axis.set_title(
        f"Bias and variance (target error {thresholds.target_error:g}, thresholds "
        f"{thresholds.bias_threshold:g} / {thresholds.variance_threshold:g})",
        fontsize=10,
    )
    axis.legend(fontsize=8, loc="lower right")
    axis.grid(alpha=0.3)
    return figure


def objective_vs_hyperparameters(
    table: pd.DataFrame, objective: str, best_id: str | None
) -> Figure | None:
    """One panel per `hp.` column: the objective of each completed trial against its value.
    Categorical values as a strip with the mean marked; numbers as a scatter, on a log axis
    when they span two decades or more. The best trial is a star.

    Args:
        table: indexed by trial_id; `hp.` columns and an `objective` column.
    """
    columns = [c for c in table.columns if c.startswith("hp.") and table[c].nunique() > 1]
    if not columns or table.empty:
        return None
    figure, axes = _grid(len(columns), 3, 3.6, 2.8)
    for axis, column in zip(axes, columns, strict=True):
        data = table[[column, "objective"]].dropna()
        panel = _numeric_panel if _is_numeric(data[column]) else _categorical_panel
        xs = panel(axis, data, column)
        if best_id in data.index:
            best_y = data.loc[best_id, "objective"]
            axis.scatter([xs[best_id]], [best_y], marker="*", s=150, color="#bf8700", zorder=4)
        axis.set_title(column[len("hp.") :], fontsize=9)
        axis.set_ylabel(objective, fontsize=8)
        axis.tick_params(labelsize=7)
        axis.grid(alpha=0.3)
    _title(figure, f"{objective} against each hyperparameter")
    return figure


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _numeric_panel(axis, data: pd.DataFrame, column: str) -> pd.Series:
    """Scatter of objective against value; returns each trial's x position."""
    values = data[column].astype(float)
    axis.scatter(values, data["objective"], s=22, color=TRAIN_COLOR, alpha=0.8)
    positive = values[values > 0]
    if len(positive) == len(values) and positive.max() / positive.min() >= LOG_SPAN:
        axis.set_xscale("log")
    return values


def _categorical_panel(axis, data: pd.DataFrame, column: str) -> pd.Series:
    """Jittered strip per value with its mean as a red bar; returns each trial's x position."""
    labels = data[column].map(format_value)
    categories = sorted(labels.unique())
    position = {name: i for i, name in enumerate(categories)}
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(labels))  # fixed: same PNG each run
    xs = labels.map(position).to_numpy(dtype=float) + jitter
    axis.scatter(xs, data["objective"], s=22, color=TRAIN_COLOR, alpha=0.8)
    means = data["objective"].groupby(labels).mean()
    for name, mean in means.items():
        i = position[name]
        axis.hlines(mean, i - 0.3, i + 0.3, color=VAL_COLOR, linewidth=2)
    axis.set_xticks(range(len(categories)), categories, rotation=20 if len(categories) > 3 else 0)
    axis.set_xlim(-0.6, len(categories) - 0.4)
    return pd.Series(xs, index=data.index)


def capacity_curve(curve: CapacityCurve, objective: str, target_error: float) -> Figure | None:
    """Two panels over the steps of a capacity search, in trial order: the objective (best
    step a star; the level a later step had to beat, `min_delta` past the step after which growth
    stopped paying, dotted), then train and validation error with the target error. A dashed
    line (named in the legend) marks where growth stopped paying; the steps after it are shaded.

    The x axis is the step (trial order), labelled with the size (`2×16`) and the trial id:
    sizes double while the units grow, so evenly spaced steps keep the small networks readable,
    and a size that repeats still gets its own point.
    """
    steps = curve.steps
    if not steps:
        return None
    xs = np.arange(len(steps), dtype=float)
    ids = [s.trial_id for s in steps]

    def values(attribute: str) -> np.ndarray:
        raw = [getattr(s, attribute) for s in steps]
        return np.array([np.nan if v is None else float(v) for v in raw], dtype=float)

    score, train, val = values("objective"), values("train_error"), values("val_error")
    width = max(6.4, 0.62 * len(steps) + 2.2)
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(width, 6.6), sharex=True, layout="constrained"
    )
    stop = ids.index(curve.stopped_after) if curve.stopped_after in ids else None
    last_done = max((i for i, v in enumerate(score) if np.isfinite(v)), default=None)
    paying_to_the_end = stop is not None and stop == last_done

    for axis in (top, bottom):
        if stop is not None and not paying_to_the_end:
            axis.axvspan(stop, len(steps) - 0.5, color=MUTED, alpha=0.08, linewidth=0)
            label = f"growth stopped paying after {steps[stop].label}" if axis is top else None
            axis.axvline(stop, color=MUTED, linestyle="--", linewidth=1.2, label=label)
        axis.grid(alpha=0.3)
        axis.tick_params(labelsize=8)

    _gapped_line(top, xs, score, OBJECTIVE_COLOR, objective)
    if curve.best in ids:
        i = ids.index(curve.best)
        top.scatter(
            [xs[i]],
            [score[i]],
            marker="*",
            s=220,
            color=BEST_COLOR,
            zorder=4,
            label=f"best ({curve.best})",
        )
    if stop is not None and not paying_to_the_end:
        sign = 1 if curve.objective.maximized else -1
        bar = score[stop] + sign * curve.min_delta
        beat = f"to beat: {format_value(bar)} ({'+' if sign > 0 else '−'}min_delta)"
        top.hlines(
            bar,
            stop,
            len(steps) - 0.5,
            color=OBJECTIVE_COLOR,
            linestyle=":",
            linewidth=1.2,
            label=beat,
        )
    elif paying_to_the_end:
        top.text(
            0.99,
            0.04,
            "still paying at the last step",
            transform=top.transAxes,
            ha="right",
            fontsize=8,
            color=MUTED,
        )
    for i, step in enumerate(steps):
        if step.status != TrialStatus.COMPLETED:
            top.text(
                xs[i],
                0.5,
                step.status,
                transform=top.get_xaxis_transform(),
                rotation=90,
                ha="center",
                va="center",
                fontsize=8,
                color=VAL_COLOR,
            )
    top.set_ylabel(objective, fontsize=9)
    top.legend(fontsize=8, loc="best")

    _gapped_line(bottom, xs, train, TRAIN_COLOR, "train error")
    _gapped_line(bottom, xs, val, VAL_COLOR, "validation error")
    bottom.axhline(
        target_error,
        color=MUTED,
        linestyle=":",
        linewidth=1.2,
        label=f"target error {target_error:g}",
    )
    highest = np.nanmax(np.concatenate([train, val, [target_error]]))
    bottom.set_ylim(0, (highest if np.isfinite(highest) else 1) * 1.1 + 0.01)
    bottom.yaxis.set_major_formatter(PercentFormatter(1.0))
    bottom.set_ylabel("error", fontsize=9)
    bottom.legend(fontsize=8, loc="best")
    bottom.set_xticks(xs, [f"{s.label}\n{s.trial_id}" for s in steps])
    bottom.set_xlim(-0.5, len(steps) - 0.5)
    bottom.set_xlabel(
        "model size (layers × units per layer), trial id below; in trial order", fontsize=9
    )
    figure.suptitle(
        f"Capacity curve: {objective} and errors as the network grows "
        f"(min_delta {curve.min_delta:g})",
        fontsize=11,
    )
    return figure


def _gapped_line(axis, xs: np.ndarray, ys: np.ndarray, color: str, label: str) -> None:
    """A line with markers through the finite points; a failed step leaves a dashed bridge."""
    finite = np.isfinite(ys)
    if not finite.any():
        return
    axis.plot(xs[finite], ys[finite], color=color, linewidth=1, linestyle=":", alpha=0.6)
    axis.plot(xs, ys, color=color, linewidth=1.6, marker="o", markersize=5, label=label)
