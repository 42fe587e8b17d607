"""PNG plots of a run, drawn with matplotlib's Agg backend (no display needed).

Each plot is a data object taken from the report (`*_info`), then a small renderer that returns a
Figure, or None when there is nothing to draw (Optuna's visualization habit). `build_figures`
makes them in the order the report shows them; `draw_plots` writes them as PNG files. Every
plot uses `style`: one colour per label, the best trial a gold star. Importing this package
imports matplotlib (~0.5 s): import it only when plots are drawn.

Modules: `style` (the look, no overlapping text), `curves` (epochs.csv), `search` (history,
bias and variance, importance), `hyperparameters` (objective against each one, parallel
coordinates), `contour` (the two most important ones), `timeline` (trials per worker),
`insight` (confusion matrix, layer dynamics), `capacity`, `hover` (where each trial's marker is,
for the HTML page's hover titles).
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
    contour,
    curves,
    hover,
    hyperparameters,
    insight,
    search,
    style,
    timeline,
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
CONTOUR = "contour"
TIMELINE = "timeline"

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
        CONTOUR: lambda r: contour.contour(contour.contour_info(r)),
        TIMELINE: lambda r: timeline.timeline(timeline.timeline_info(r)),
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
    with matplotlib.rc_context(style.RC):
        drawn = ((name, draw_one(report, name, plot)) for name, plot in plots_of(report).items())
        return {name: figure for name, figure in drawn if figure is not None}


def draw_one(report: RunReport, name: str, plot: Plot) -> Figure | None:
    """One plot of the report (under `style.RC`), or None when it has no data or fails."""
    try:
        figure = plot(report)
        if figure is not None:
            style.thin_ticks(figure)
        return figure
    except Exception:  # a plot must never stop the report; the log says why
        log.warning("plot %s of %s left out", name, report.run.path, exc_info=True)
        return None


def draw_plots(
    report: RunReport, directory: Path, progress: Callable[[str], None] | None = None
) -> list[Path]:
    """Write the report's plots as PNG files in `directory`, each with its hover areas
    (`<stem>.areas.json`) when it marks trials; returns the PNGs in display order. `progress`
    hears "drawing plots 3/11: parallel" before each plot."""
    directory.mkdir(parents=True, exist_ok=True)
    plots = plots_of(report)
    titles = hover.trial_titles(report)
    paths = []
    with matplotlib.rc_context(style.RC):
        for number, (name, plot) in enumerate(plots.items(), start=1):
            if progress is not None:
                progress(f"drawing plots {number}/{len(plots)}: {name}")
            figure = draw_one(report, name, plot)
            if figure is not None:
                paths.append(hover.save_with_areas(figure, directory / f"{name}.png", titles))
    return paths
