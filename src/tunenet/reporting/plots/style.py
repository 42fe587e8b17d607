"""The one look of every plot: sizes, fonts, a colour per label, the best trial's mark, and the
helpers that keep text from overlapping (annotation placement, tick thinning).

Importing this module selects matplotlib's Agg backend (no display, no GUI toolkit).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, no GUI toolkit import

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from tunenet import diagnosis as dx  # noqa: E402
from tunenet.diagnosis.labels import DIVERGED, FAILED, PRUNED  # noqa: E402

DPI = 100
TITLE_SIZE = 11
PANEL_TITLE_SIZE = 9
LABEL_SIZE = 9
TICK_SIZE = 8
SMALL_SIZE = 7
WIDE = (9.0, 5.0)  # inches: one-panel plots over trials or epochs
SQUARE = (6.4, 5.6)

# Plots are drawn once for light and dark pages: transparent backgrounds, text in a mid grey
# (contrast 4.4:1 on white, 4.3:1 on #111, the most both allow) and series colours of at least
# 3:1 on both (docs/report.md, "Plots").
TEXT = "#787878"
TRAIN_COLOR = "#0969da"
VAL_COLOR = "#cf222e"
OBJECTIVE_COLOR = "#8250df"
MUTED = "#768390"
GRID_ALPHA = 0.3
# Layers in order (dynamics): a hue ramp whose every colour is 3:1 or more on white and on #111.
LAYER_RAMP = ("#0969da", "#8250df", "#bf3989", "#e16f24")
# Text over lines (parallel coordinates' values): white on a mid-grey badge, legible on any page.
BADGE = {"boxstyle": "round,pad=0.15", "facecolor": TEXT, "alpha": 0.9, "linewidth": 0}
# Trials cut from the report's trials by --top (their label is not computed for it).
UNLABELLED = "not in --top"
LABEL_COLORS = {
    dx.GOOD_FIT: "#1a7f37",
    dx.HIGH_BIAS: "#e16f24",
    dx.HIGH_VARIANCE: "#0969da",
    dx.BOTH: "#cf222e",
    dx.NOT_LEARNING: "#6e7781",
    dx.UNCERTAIN: "#8250df",
    DIVERGED: "#bf3989",
    FAILED: "#9a6700",
    PRUNED: "#1b7c83",
    UNLABELLED: "#9ea7b3",
}
# The best trial, the same everywhere: a gold star with a dark edge, and a thick line.
BEST_COLOR = "#ffd33d"
BEST_EDGE = "#24292f"
BEST_STAR = {"marker": "*", "s": 260, "color": BEST_COLOR, "edgecolor": BEST_EDGE, "zorder": 6}
BEST_LINE_WIDTH = 2.6
OTHER_LINE_WIDTH = 1.0
OTHER_ALPHA = 0.45
# Positive values spanning this ratio (two decades) or more get a log axis.
LOG_SPAN = 100.0
# Matplotlib settings every plot is drawn with (`draw_plots` applies them).
RC = {
    "font.size": LABEL_SIZE,
    "axes.titlesize": PANEL_TITLE_SIZE,
    "axes.labelsize": LABEL_SIZE,
    "xtick.labelsize": TICK_SIZE,
    "ytick.labelsize": TICK_SIZE,
    "legend.fontsize": TICK_SIZE,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.facecolor": "none",
    "savefig.transparent": True,
    "text.color": TEXT,
    "axes.labelcolor": TEXT,
    "axes.edgecolor": TEXT,
    "xtick.color": TEXT,
    "ytick.color": TEXT,
    "grid.color": TEXT,
    "legend.facecolor": "none",
    "legend.edgecolor": TEXT,
    "legend.labelcolor": TEXT,
}


def label_color(label: str | None) -> str:
    """The colour of a trial's label (`dx.LABELS`); grey for none."""
    return LABEL_COLORS.get(label or UNLABELLED, LABEL_COLORS[UNLABELLED])


def shown_label(trial) -> str:
    """A trial's label (`dx.LABELS`), else its status (an interrupted trial has no label)."""
    return trial.label or trial.status


def label_order(labels: Sequence[str | None]) -> list[str]:
    """The labels present, in the order of `LABEL_COLORS` (legends read the same everywhere)."""
    present = {label or UNLABELLED for label in labels}
    return [label for label in LABEL_COLORS if label in present] + sorted(
        present - set(LABEL_COLORS)
    )


def new_figure(size: tuple[float, float], rows: int = 1, columns: int = 1, **options):
    """A figure with constrained layout (it measures every label: no text overlaps)."""
    return plt.subplots(rows, columns, figsize=size, layout="constrained", **options)


def save(figure: Figure, path: Path) -> Path:
    """Write `figure` as a PNG at `path` and close it."""
    write_png(figure, path)
    plt.close(figure)
    return path


def write_png(figure: Figure, path: Path) -> None:
    """Write `figure` as a PNG at `path` (`DPI`, the whole figure, transparent background)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI, transparent=True)


def finite(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Floats with inf turned into NaN (a gap in a line, not a broken axis)."""
    array = np.asarray(values, dtype=float)
    return np.where(np.isfinite(array), array, np.nan)


def spans_decades(values: np.ndarray) -> bool:
    """All finite values positive and spanning `LOG_SPAN` or more: a log axis reads them."""
    shown = values[np.isfinite(values)]
    return bool(len(shown)) and shown.min() > 0 and shown.max() / shown.min() >= LOG_SPAN


def log_axis(axis: Axes, which: str = "x") -> None:
    """A log scale; matplotlib labels some minor ticks when the range is under a decade (then
    `thin_ticks` keeps them apart)."""
    (axis.set_xscale if which == "x" else axis.set_yscale)("log")


def label_handles(labels: Sequence[str | None], best: str | None) -> list:
    """Legend entries: one per label present, and the best trial's star."""
    handles = [
        Line2D([], [], color=label_color(label), marker="o", linestyle="", label=label)
        for label in label_order(labels)
    ]
    if best:
        handles.append(
            Line2D(
                [], [], marker="*", markersize=13, linestyle="", color=BEST_COLOR,
                markeredgecolor=BEST_EDGE, label=f"best (trial {best})",
            )
        )  # fmt: skip
    return handles


def legend_for_labels(axis: Axes, labels: Sequence[str | None], best: str | None, **options):
    """An axis legend with one entry per label present, and the best trial's star."""
    return axis.legend(handles=label_handles(labels, best), **options)


def figure_legend(figure: Figure, handles: list, **options):
    """A legend below the plots, outside them (constrained layout makes room for it)."""
    defaults = {"loc": "outside lower center", "ncol": min(len(handles), 5), "frameon": False}
    return figure.legend(handles=handles, **{**defaults, **options})


def wrap_name(name: str, width: int = 14) -> str:
    """A dotted name split on its dots into lines of about `width` characters."""
    lines: list[str] = []
    for part in name.split("."):
        if lines and len(lines[-1]) + len(part) + 1 <= width:
            lines[-1] += "." + part
        else:
            lines.append(part if not lines else "." + part)
    return "\n".join(lines)


# ---------------------------------------------------------------- no overlapping text


def visible_texts(figure: Figure) -> list[Text]:
    """Every visible, non-empty text of the figure: tick labels in view, axis labels, titles,
    texts and annotations, legends, the figure's own texts and legends."""
    found: list[Text] = [*figure.texts]
    if figure._suptitle is not None:
        found.append(figure._suptitle)
    for legend in figure.legends:
        found += legend.get_texts() + [legend.get_title()]
    for axis in figure.axes:
        if not axis.get_visible():
            continue
        found += tick_labels(axis.xaxis) + tick_labels(axis.yaxis)
        found += [axis.xaxis.label, axis.yaxis.label, *axis.texts]
        found += [axis.title, axis._left_title, axis._right_title]
        legend = axis.get_legend()
        if legend is not None and legend.get_visible():
            found += legend.get_texts() + [legend.get_title()]
    unique = {id(t): t for t in found}  # the suptitle is also one of figure.texts
    return [t for t in unique.values() if t.get_visible() and t.get_text().strip()]


def tick_labels(axis) -> list[Text]:
    """The major and minor tick labels of an x or y axis whose ticks are in view."""
    low, high = sorted(axis.get_view_interval())
    span = (high - low) * 1e-9
    ticks = axis.get_major_ticks() + axis.get_minor_ticks()
    labels = []
    for tick in ticks:
        if low - span <= tick.get_loc() <= high + span:
            labels += [label for label in (tick.label1, tick.label2) if label.get_visible()]
    return labels


def text_boxes(figure: Figure) -> list[tuple[Text, object]]:
    """(text, window extent) of every visible text after a draw."""
    renderer = figure.canvas.get_renderer()
    return [(t, t.get_window_extent(renderer)) for t in visible_texts(figure)]


def overlaps(a, b, tolerance: float = 1.0) -> bool:
    """Two boxes overlap by more than `tolerance` pixels both ways (touching is fine)."""
    return (
        min(a.x1, b.x1) - max(a.x0, b.x0) > tolerance
        and min(a.y1, b.y1) - max(a.y0, b.y0) > tolerance
    )


def thin_ticks(figure: Figure) -> None:
    """Hide every other tick label of an axis whose labels overlap, until none do."""
    figure.draw_without_rendering()
    renderer = figure.canvas.get_renderer()
    for axis in figure.axes:
        for ticks in (tick_labels(axis.xaxis), tick_labels(axis.yaxis)):
            shown = [t for t in ticks if t.get_text()]
            step = 1
            while step < len(shown) and _crowded(shown[::step], renderer):
                step += 1
            for index, tick in enumerate(shown):
                tick.set_visible(index % step == 0)


def _crowded(ticks: list[Text], renderer) -> bool:
    boxes = [t.get_window_extent(renderer) for t in ticks]
    return any(overlaps(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


# Offsets (points) tried in turn for a point's label: right, above, left, below, diagonals.
OFFSETS = ((5, 3), (5, -10), (-5, 3), (-5, -10), (0, 8), (0, -14), (9, 9), (-9, -16))


def place_labels(axis: Axes, xs: Sequence[float], ys: Sequence[float], names: Sequence[str]):
    """Label points without overlap: each label tries `OFFSETS` in turn and is left out when none
    is free (the point stays; its trial is in the tables)."""
    figure = axis.figure
    figure.draw_without_rendering()
    renderer = figure.canvas.get_renderer()
    taken = [box for _, box in text_boxes(figure)]
    frame = axis.get_window_extent(renderer)
    for x, y, name in zip(xs, ys, names, strict=True):
        if not (math.isfinite(x) and math.isfinite(y)):
            continue
        for dx_, dy in OFFSETS:
            text = axis.annotate(
                name, (x, y), xytext=(dx_, dy), textcoords="offset points",
                fontsize=SMALL_SIZE, ha="left" if dx_ >= 0 else "right",
            )  # fmt: skip
            box = text.get_window_extent(renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0
            if inside and box.y1 <= frame.y1 and not any(overlaps(box.padded(2), t) for t in taken):
                taken.append(box)
                break
            text.remove()
