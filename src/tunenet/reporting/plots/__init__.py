"""PNG plots of a run, drawn with matplotlib's Agg backend (no display needed).

Each plot is a data object taken from the report (`*_info`), then a small renderer that returns a
Figure, or None when there is nothing to draw (Optuna's visualization habit). `build_figures`
makes them in the order the report shows them; `draw_plots` writes them as PNG files. Every
plot uses `style`: one colour per label, the best trial a gold star. Importing this package
imports matplotlib (~0.5 s): import it only when plots are drawn.

Modules: `style` (the look, no overlapping text), `curves` (epochs.csv), `search` (history,
bias and variance, importance), `hyperparameters` (objective against each one, parallel
coordinates), `insight` (confusion matrix, layer dynamics), `capacity`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from tunenet.reporting.learning_curve_plot import learning_curve_figure
from tunenet.reporting.model import RunReport
from tunenet.reporting.plots import (
    capacity,
    curves,
    hyperparameters,
    insight,
    search,
    style,
    tradeoff,
)

log = logging.getLogger(__name__)

# docs/report.md: the file names start with these words (the learning curves per trial are
# `trial_curves_<quantity>`: "learning_curve" is the data-size curve of `tunenet learning-curve`).
HISTORY = "history"
OVERLAY = "curves_overlay"
ERRORS = "train_vs_validation_error"
IMPORTANCE = "importance"
OBJECTIVE = "objective_vs_hyperparameters"
PARALLEL = "parallel"
CONFUSION = "confusion_matrix"
DYNAMICS = "dynamics"
LEARNING_CURVE = "learning_curve"
CAPACITY = "capacity"

Plot = Callable[[RunReport], Figure | None]


def _trial_curves(quantity: str) -> Plot:
    return lambda report: curves.trial_curves(curves.curves_info(report), quantity)


def _learning_curve(report: RunReport) -> Figure | None:
    """learning_curve.csv drawn as `tunenet learning-curve` draws it."""
    table = report.run.learning_curve
    if table is None or table.empty or table["examples"].isna().all():
        return None
    return learning_curve_figure(table)


def plots_of(report: RunReport) -> dict[str, Plot]:
    """The plots of this report, by file name (without .png), in the order the report shows
    them: the search first, then per trial, then inside the best model."""
    quantities = ["loss"] + ([report.metric] if report.metric else [])
    return {
        HISTORY: lambda r: search.history(search.history_info(r)),
        OVERLAY: lambda r: curves.curves_overlay(curves.overlay_info(r)),
        ERRORS: lambda r: search.error_scatter(
            search.error_points(r), r.settings.thresholds(), r.best.trial_id if r.best else None
        ),
        "tradeoff": lambda r: tradeoff.tradeoff(tradeoff.tradeoff_info(r)),
        IMPORTANCE: lambda r: search.importance(search.importance_info(r)),
        OBJECTIVE: lambda r: hyperparameters.objective_vs_hyperparameters(
            hyperparameters.search_points(r)
        ),
        PARALLEL: lambda r: hyperparameters.parallel_coordinates(hyperparameters.search_points(r)),
        **{f"trial_curves_{q}": _trial_curves(q) for q in quantities},
        CONFUSION: lambda r: insight.confusion_matrix(insight.confusion_info(r)),
        DYNAMICS: lambda r: insight.dynamics(insight.dynamics_info(r)),
        LEARNING_CURVE: _learning_curve,
        CAPACITY: lambda r: (
            capacity.capacity_curve(r.capacity, r.objective.name, r.settings.target_error.value)
            if r.capacity
            else None
        ),
    }


def build_figures(report: RunReport) -> dict[str, Figure]:
    """Every plot this report has data for, by file name without .png. A plot that fails on odd
    data is logged and left out: the report goes on without it."""
    figures = {}
    with matplotlib.rc_context(style.RC):
        for name, plot in plots_of(report).items():
            try:
                figure = plot(report)
                if figure is not None:
                    style.thin_ticks(figure)
                    figures[name] = figure
            except Exception:  # a plot must never stop the report; the log says why
                log.warning("plot %s of %s left out", name, report.run.path, exc_info=True)
    return figures


def draw_plots(report: RunReport, directory: Path) -> list[Path]:
    """Write the report's plots as PNG files in `directory`; returns them in display order."""
    directory.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context(style.RC):
        return [
            style.save(figure, directory / f"{name}.png")
            for name, figure in build_figures(report).items()
        ]
