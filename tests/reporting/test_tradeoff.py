"""report/plots/tradeoff.png (docs/report.md, "The simplest tied trial"): the objective with its
interval against the trainable parameters, the tied trials marked, drawn only when trials.csv has
`params`."""

from __future__ import annotations

import matplotlib
import pytest

from tunenet.reporting import plots
from tunenet.reporting.plots import style
from tunenet.reporting.plots.tradeoff import tradeoff, tradeoff_info
from tunenet.runs.intervals import wilson

from .helpers import build
from .params_runs import write_params_run


def test_the_points_are_the_completed_trials_with_their_intervals(tmp_path) -> None:
    info = tradeoff_info(build(write_params_run(tmp_path / "run")))
    assert info is not None
    assert info.trial_ids == ["2", "3", "5", "7"]  # trial 4 failed: no model, no point
    assert info.params.tolist() == [1_500, 114_227, 48_000, 12_416]
    assert info.accuracy and info.quantity == "val_accuracy"
    assert info.values.tolist() == pytest.approx([0.88, 0.962, 0.955, 0.959])
    low, high = wilson(0.038, 1000)  # the best's error interval, as accuracy
    assert (info.lows[1], info.highs[1]) == pytest.approx((1 - high, 1 - low))
    assert info.tied == [False, True, True, True]  # the best is tied with itself
    assert (info.best, info.simplest) == ("3", "7")


def test_the_figure_marks_the_tied_the_simplest_and_the_best(tmp_path) -> None:
    info = tradeoff_info(build(write_params_run(tmp_path / "run")))
    with matplotlib.rc_context(style.RC):
        figure = tradeoff(info)
    axis = figure.axes[0]
    assert axis.get_xscale() == "log"
    labels = [text.get_text() for text in axis.get_legend().get_texts()]
    assert labels == [
        "not tied with the best",
        "tied with the best (the difference's interval holds 0)",
        "simplest tied (trial 7)",
        "best (trial 3)",
    ]
    assert "val_accuracy" in axis.get_ylabel() and "parameters" in axis.get_xlabel()


def test_the_png_is_written_for_a_run_with_params(tmp_path) -> None:
    report = build(write_params_run(tmp_path / "run"))
    assert "tradeoff" in plots.plots_of(report)
    written = plots.draw_plots(report, tmp_path / "run" / "report" / "plots")
    assert tmp_path / "run" / "report" / "plots" / "tradeoff.png" in written
    assert (tmp_path / "run" / "report" / "plots" / "tradeoff.png").stat().st_size > 1000


def test_no_plot_without_params(tmp_path) -> None:
    report = build(write_params_run(tmp_path / "run", with_params=False))
    assert tradeoff_info(report) is None
    assert plots.plots_of(report)["tradeoff"](report) is None  # so no tradeoff.png is written
