"""The data-size learning curve as a figure: train and validation error against the number of
training examples, each with its 95% interval as a band (docs/guide.md).

`tunenet learning-curve` saves it as `runs/<name>/learning_curve.png`; the report draws it as
`report/plots/learning_curve.png`. Importing this module selects matplotlib's Agg backend; it
never imports TensorFlow.
"""

from __future__ import annotations

from typing import Optional

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, no GUI toolkit import

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

TRAIN_COLOR = "#0969da"  # the report's colours for train and validation curves
VAL_COLOR = "#cf222e"
SIZE = (7.0, 4.5)  # inches


def learning_curve_figure(
    table: pd.DataFrame, title: Optional[str] = None, verdict: Optional[str] = None
) -> Figure:
    """Train and validation error against examples, with their 95% intervals as bands.

    Args:
        table: learning_curve.csv's columns (`examples`, `train_error`, `train_error_low`,
            `train_error_high`, `val_error`, `val_error_low`, `val_error_high`); rows with a
            missing error (a diverged fit) are left out.
        title: the figure's title. Default: "Learning curve".
        verdict: a short line under the title, e.g. "more data helps: yes". Default: none.

    Returns:
        A matplotlib Figure; the caller saves and closes it.
    """
    figure, axes = plt.subplots(figsize=SIZE, dpi=100)
    rows = table.sort_values("examples")
    for split, color, name in (
        ("train", TRAIN_COLOR, "train error"),
        ("val", VAL_COLOR, "validation error"),
    ):
        shown = rows.dropna(subset=[f"{split}_error"])
        x, y = shown["examples"], shown[f"{split}_error"]
        axes.plot(x, y, marker="o", color=color, label=name, linewidth=1.8)
        bands = shown.dropna(subset=[f"{split}_error_low", f"{split}_error_high"])
        axes.fill_between(
            bands["examples"],
            bands[f"{split}_error_low"],
            bands[f"{split}_error_high"],
            color=color,
            alpha=0.18,
            linewidth=0,
            label=f"{name}, 95% interval",
        )
    axes.set_xlabel("training examples")
    axes.set_ylabel("error")
    low, high = _band_edges(rows)
    axes.set_ylim(low - 0.03 * (high - low), high + 0.05 * (high - low))  # markers at 0 show
    axes.grid(alpha=0.3)
    axes.legend(loc="upper right", fontsize=8)
    axes.set_title(title or "Learning curve", fontsize=11, loc="left")
    if verdict:
        axes.text(0.0, 1.0, verdict, transform=axes.transAxes, fontsize=8, va="bottom",
                  ha="left", color="#57606a")  # fmt: skip
        axes.set_title(title or "Learning curve", fontsize=11, loc="left", pad=16)
    figure.tight_layout()
    return figure


def _band_edges(rows: pd.DataFrame) -> tuple[float, float]:
    """The lowest and highest value drawn, from 0 (a regression interval may dip below it)."""
    columns = [f"{split}_error{end}" for split in ("train", "val") for end in ("", "_low", "_high")]
    values = pd.concat([rows[column] for column in columns]).dropna()
    if not len(values):
        return 0.0, 1.0
    low, high = min(0.0, float(values.min())), float(values.max())
    return low, high if high > low else low + 1.0
