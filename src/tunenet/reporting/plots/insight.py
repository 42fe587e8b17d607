"""Plots of what happened inside training (docs/dynamics.md, docs/report.md): the best
model's confusion matrix (best/confusion.json) and the best trial's layer dynamics (layers.csv)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from tunenet.reporting.model import RunReport
from tunenet.reporting.plots import style

SPLIT_TITLES = {"train": "training", "val": "validation", "test": "test"}
# Cell counts are written up to this many classes; beyond, colours only.
MAX_COUNTED_CLASSES = 15

# ---------------------------------------------------------------- confusion matrix


@dataclass(frozen=True)
class Confusion:
    """The best model's confusion matrices: rows the true class, columns the predicted one."""

    trial_id: str
    labels: list[str]
    splits: dict[str, np.ndarray]  # validation first, then test, then any other


def confusion_info(report: RunReport) -> Confusion | None:
    data = report.run.confusion
    if not data or not data.get("splits"):
        return None
    order = {"val": 0, "test": 1}
    names = sorted(data["splits"], key=lambda name: (order.get(name, 2), name))
    splits = {name: np.asarray(data["splits"][name], dtype=float) for name in names}
    splits = {name: m for name, m in splits.items() if m.size}
    if not splits:
        return None
    return Confusion(str(data.get("trial_id", "")), [str(x) for x in data["labels"]], splits)


def confusion_matrix(info: Confusion | None) -> Figure | None:
    """One matrix per split (validation, then test beside it): colours are the share of each true
    class (row-normalised), the numbers are counts."""
    if info is None:
        return None
    count = len(info.splits)
    side = min(6.0, max(3.4, 0.42 * len(info.labels) + 1.6))
    figure, grid = style.new_figure((side * count + 1.0, side + 0.6), 1, count)
    panels = list(np.atleast_1d(grid).flat)
    image = None
    for axis, (name, matrix) in zip(panels, info.splits.items(), strict=True):
        image = _matrix_panel(axis, matrix, info.labels)
        total = int(matrix.sum())
        accuracy = np.trace(matrix) / total if total else float("nan")
        axis.set_title(
            f"{SPLIT_TITLES.get(name, name)} ({total} examples, accuracy {accuracy:.1%})"
        )
    if image is not None:
        bar = figure.colorbar(image, ax=panels, shrink=0.8)
        bar.set_label("share of the true class")
        bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    best = f" (trial {info.trial_id})" if info.trial_id else ""
    figure.suptitle(f"Confusion matrix of the best model{best}", fontsize=style.TITLE_SIZE)
    return figure


def _matrix_panel(axis: Axes, matrix: np.ndarray, labels: list[str]):
    rows = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
    image = axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    size = len(labels)
    if size <= MAX_COUNTED_CLASSES:
        font = style.SMALL_SIZE if size > 8 else style.TICK_SIZE
        for (i, j), value in np.ndenumerate(matrix):
            axis.text(
                j, i, f"{int(value)}", ha="center", va="center", fontsize=font,
                color="white" if shares[i, j] > 0.6 else "black",
            )  # fmt: skip
    step = max(1, -(-size // 20))
    ticks = list(range(0, size, step))
    axis.set_xticks(ticks, [labels[i] for i in ticks])
    axis.set_yticks(ticks, [labels[i] for i in ticks])
    if max((len(labels[i]) for i in ticks), default=0) * len(ticks) > 24:  # else they fit flat
        axis.tick_params(axis="x", labelrotation=45)
        for label in axis.get_xticklabels():
            label.set_horizontalalignment("right")
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    for spine in axis.spines.values():
        spine.set_visible(False)
    return image


# ---------------------------------------------------------------- layer dynamics


@dataclass(frozen=True)
class Dynamics:
    """The best trial's layers.csv rows (epoch, layer, grad_norm, dead_fraction, ...), its layers
    in network order, and its best epoch."""

    trial_id: str
    table: pd.DataFrame
    layers: list[str]
    best_epoch: int | None


def dynamics_info(report: RunReport) -> Dynamics | None:
    table, best = report.run.layers, report.best
    if table is None or table.empty or best is None:
        return None
    rows = table[table["trial_id"] == best.trial_id].sort_values(["epoch"], kind="stable")
    if rows.empty:
        return None
    layers = list(dict.fromkeys(rows["layer"].tolist()))  # the order the recorder wrote them
    return Dynamics(best.trial_id, rows, layers, best.best_epoch)


def dynamics(info: Dynamics | None) -> Figure | None:
    """Two panels over the epochs of the best trial, one line per layer (first blue, last
    orange): the gradient norm on a log scale (vanishing: the first layers far below the last;
    exploding: growing by orders of magnitude) and the share of dead units."""
    if info is None:
        return None
    grad = info.table["grad_norm"].to_numpy(dtype=float)
    if not np.isfinite(grad).any() and not np.isfinite(info.table["dead_fraction"]).any():
        return None
    figure, (top, bottom) = style.new_figure((8.6, 6.4), 2, 1, sharex=True)
    colors = _layer_colors(len(info.layers))
    for layer, color in zip(info.layers, colors, strict=True):
        rows = info.table[info.table["layer"] == layer]
        epochs = rows["epoch"].to_numpy(dtype=float)
        marker = "o" if len(rows) < 3 else ""
        norms = style.finite(rows["grad_norm"])
        top.plot(epochs, np.where(norms > 0, norms, np.nan), color=color, marker=marker,
                 label=_layer_name(rows, layer))  # fmt: skip
        bottom.plot(epochs, style.finite(rows["dead_fraction"]), color=color, marker=marker)
    positive = grad[np.isfinite(grad) & (grad > 0)]
    if positive.size:
        style.log_axis(top, "y")
    top.set_ylabel("gradient norm (log)")
    bottom.set_ylabel("dead units")
    bottom.set_ylim(-0.03, 1.03)
    bottom.yaxis.set_major_formatter(PercentFormatter(1.0))
    bottom.xaxis.set_major_locator(MaxNLocator(8, integer=True))
    bottom.set_xlabel("epoch")
    for axis in (top, bottom):
        if info.best_epoch:
            axis.axvline(info.best_epoch, color=style.MUTED, linestyle=":", linewidth=1.2)
        axis.grid(alpha=style.GRID_ALPHA)
    handles = top.get_legend_handles_labels()[0]
    if info.best_epoch:
        handles.append(
            top.axvline(info.best_epoch, color=style.MUTED, linestyle=":", label="best epoch")
        )
    style.figure_legend(figure, handles, ncol=min(len(handles), 4))
    figure.suptitle(
        f"Layer dynamics of the best trial ({info.trial_id}), one line per layer",
        fontsize=style.TITLE_SIZE,
    )
    return figure


def _layer_colors(count: int) -> list:
    """From blue (the first layer) through purple to orange (the last): a hue ramp of even
    lightness, legible on light and dark pages alike (a dark-to-light ramp is not)."""
    from matplotlib.colors import LinearSegmentedColormap

    ramp = LinearSegmentedColormap.from_list("layers", style.LAYER_RAMP)
    return [ramp(i / max(count - 1, 1)) for i in range(count)]


def _layer_name(rows: pd.DataFrame, layer: str) -> str:
    """ "dense_1 (Dense, 64)": the layer, its kind and units when recorded."""
    first = rows.iloc[0]
    parts = [str(first["kind"])] if pd.notna(first["kind"]) else []
    if pd.notna(first["units"]):
        parts.append(f"{int(first['units'])}")
    return f"{layer} ({', '.join(parts)})" if parts else str(layer)
