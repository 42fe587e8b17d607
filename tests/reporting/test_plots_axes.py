"""What each plot shows: axis kinds of the hyperparameters (log, integer, categorical), one y
scale for the learning-curve panels, the history's best so far, importance, the confusion
matrix, the layer dynamics, and odd data that must not break a plot."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tunenet.reporting.plots import build_figures, curves, hyperparameters, insight, search

from .helpers import build, copy_run


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def panel(figure: Figure, xlabel: str) -> Axes:
    return next(a for a in figure.axes if a.get_visible() and a.get_xlabel() == xlabel)


def tick_texts(axis: Axes) -> list[str]:
    axis.figure.draw_without_rendering()
    low, high = sorted(axis.get_xlim())
    return [
        t.get_text()
        for t, loc in zip(axis.get_xticklabels(), axis.get_xticks(), strict=True)
        if low <= loc <= high and t.get_visible() and t.get_text()
    ]


def objective_figure(run: Path) -> Figure:
    figure = hyperparameters.objective_vs_hyperparameters(hyperparameters.search_points(build(run)))
    assert figure is not None
    return figure


def narrow_learning_rates(run: Path) -> None:
    """Learning rates within one decade (only resolved.yaml can say they were sampled on a log
    scale) and a boolean hyperparameter."""
    table = pd.read_csv(run / "trials.csv", dtype={"trial_id": str})
    table["hp.optimizer.learning_rate"] = [0.001, 0.002, 0.005, 0.003]
    table["hp.model.batch_norm"] = [True, False, True, False]
    table.to_csv(run / "trials.csv", index=False)


def test_log_sampled_integer_and_categorical_axes_from_resolved_yaml(tmp_path: Path) -> None:
    run = copy_run("worked-example", tmp_path)
    narrow_learning_rates(run)
    figure = objective_figure(run)
    assert panel(figure, "optimizer.learning_rate").get_xscale() == "log"
    layers = panel(figure, "model.layers")  # {min: 1, max: 2}: whole numbers only
    assert tick_texts(layers) == ["1", "2"]
    assert tick_texts(panel(figure, "model.units.0")) == ["16", "32", "64", "128"]  # a choice
    assert tick_texts(panel(figure, "optimizer.name")) == ["adam", "sgd"]
    assert tick_texts(panel(figure, "model.batch_norm")) == ["false", "true"]


def test_without_resolved_yaml_two_decades_make_a_log_axis(tmp_path: Path) -> None:
    run = copy_run("worked-example", tmp_path)
    (run / "resolved.yaml").unlink()  # learning rates 0.0001 .. 0.01
    figure = objective_figure(run)
    assert panel(figure, "optimizer.learning_rate").get_xscale() == "log"
    assert tick_texts(panel(figure, "model.layers")) == ["1", "2"]
    other = copy_run("worked-example", tmp_path, as_name="narrow")
    narrow_learning_rates(other)
    (other / "resolved.yaml").unlink()
    assert panel(objective_figure(other), "optimizer.learning_rate").get_xscale() == "linear"


def test_parallel_coordinates_place_log_values_evenly(tmp_path: Path) -> None:
    figure = hyperparameters.parallel_coordinates(
        hyperparameters.search_points(build(copy_run("worked-example", tmp_path)))
    )
    axis = figure.axes[0]
    names = [t.get_text() for t in axis.get_xticklabels()]
    assert names[-1] == "val_accuracy" and "optimizer\n.learning_rate" in names
    column = names.index("optimizer\n.learning_rate")
    beside = {
        t.get_text(): t.get_position()[1]
        for t in axis.texts
        if abs(t.get_position()[0] - column - 0.04) < 1e-9
    }
    assert beside == pytest.approx({"0.0001": 0.0, "0.001": 0.5, "0.01": 1.0})
    units = names.index("model.units.1")  # empty for the one-layer trials
    assert "not used" in {
        t.get_text() for t in axis.texts if abs(t.get_position()[0] - units - 0.04) < 1e-9
    }
    assert len(axis.lines) - len(names) == 4  # a line per completed trial, an axis line each


def test_learning_curve_panels_share_one_y_scale(tmp_path: Path) -> None:
    report = build(copy_run("worked-example", tmp_path))
    info = curves.curves_info(report)
    for quantity in ("loss", "accuracy"):
        figure = curves.trial_curves(info, quantity)
        panels = [a for a in figure.axes if a.get_visible()]
        assert len(panels) == 4
        assert len({a.get_ylim() for a in panels}) == 1
        low, high = panels[0].get_ylim()
        values = report.run.epochs[[quantity, f"val_{quantity}"]].to_numpy()
        assert low <= np.nanmin(values) and np.nanmax(values) <= high
        assert all(any(line.get_linestyle() == ":" for line in a.lines) for a in panels)


def test_a_blown_up_loss_puts_every_panel_on_one_log_scale(tmp_path: Path) -> None:
    figure = curves.trial_curves(curves.curves_info(build(copy_run("curves", tmp_path))), "loss")
    panels = [a for a in figure.axes if a.get_visible()]
    assert {a.get_yscale() for a in panels} == {"log"}
    assert len({a.get_ylim() for a in panels}) == 1


def test_history_best_so_far_follows_the_direction(tmp_path: Path) -> None:
    maximized = search.history_info(build(copy_run("curves", tmp_path)))
    assert maximized.trial_ids == ["00", "01", "02", "03"]
    assert maximized.best_so_far[1:].tolist() == [0.90, 0.90, 0.90]  # 0.86, 0.10 are worse
    minimized = search.history_info(build(copy_run("minimal", tmp_path)))
    assert minimized.best_so_far.tolist()[:2] == [0.03, 0.03]  # val_error 0.03 then 0.30
    figure = search.history(minimized)
    assert "minimized" in figure.axes[0].get_title()


def test_importance_says_which_effects_clear_the_noise(tmp_path: Path) -> None:
    figure = search.importance(search.importance_info(build(copy_run("curves", tmp_path))))
    titles = [a.get_title() for a in figure.axes]
    assert titles == ["val_accuracy", "train error (what moves bias)", "gap (what moves variance)"]
    assert [t.get_text() for t in figure.axes[0].texts] == ["p < 0.001"]
    assert figure.axes[0].patches[0].get_alpha() == 1.0
    quiet = search.importance(search.importance_info(build(copy_run("worked-example", tmp_path))))
    words = {t.get_text() for a in quiet.axes for t in a.texts}
    assert words <= {"not tested"} | {w for w in words if w.startswith("not significant")}
    assert search.importance_info(build(copy_run("minimal", tmp_path))) is None


def test_confusion_matrix_shows_counts_per_split(tmp_path: Path) -> None:
    figure = insight.confusion_matrix(insight.confusion_info(build(copy_run("insight", tmp_path))))
    validation, test = figure.axes[:2]
    assert validation.get_title().startswith("validation (359 examples")
    assert test.get_title().startswith("test (360 examples")
    assert [t.get_text() for t in validation.get_yticklabels()] == [str(i) for i in range(10)]
    cells = [int(t.get_text()) for t in validation.texts]
    assert sum(cells) == 359 and len(cells) == 100


def test_dynamics_of_the_best_trial_on_a_log_scale(tmp_path: Path) -> None:
    info = insight.dynamics_info(build(copy_run("insight", tmp_path)))
    assert info.trial_id == "03" and info.layers == ["dense", "dense_1", "dense_2"]
    top, bottom = insight.dynamics(info).axes[:2]
    assert top.get_yscale() == "log" and top.get_ylabel().startswith("gradient norm")
    assert bottom.get_ylabel() == "dead units"
    assert len([line for line in top.lines if line.get_linestyle() == "-"]) == 3
    assert any(line.get_xdata()[0] == 13 for line in top.lines if line.get_linestyle() == ":")


def odd_run(tmp_path: Path) -> Path:
    """One completed trial of one epoch, a failed one, NaNs, one hyperparameter value, a
    one-class confusion matrix and layer rows without gradient norms."""
    run = tmp_path / "odd"
    run.mkdir()
    (run / "trials.csv").write_text(
        "trial_id,status,hp.model.units.0,train_error,val_error,objective,best_epoch\n"
        "0,completed,8,0.1,0.2,0.8,1\n1,failed,8,,,,\n"
    )
    (run / "epochs.csv").write_text(
        "trial_id,epoch,loss,val_loss,accuracy,val_accuracy\n0,1,0.5,0.6,nan,0.8\n1,1,inf,,,\n"
    )
    (run / "layers.csv").write_text(
        "trial_id,execution,epoch,layer,kind,units,grad_norm,weight_norm,update_ratio,"
        "dead_fraction,saturated_fraction\n0,0,1,dense,Dense,8,,1.0,,0.5,0\n"
    )
    (run / "best").mkdir()
    confusion = {"format_version": 1, "trial_id": "0", "labels": ["a"], "splits": {"val": [[3]]}}
    (run / "best" / "confusion.json").write_text(json.dumps(confusion))
    return run


def test_odd_data_draws_without_a_failure(tmp_path: Path, caplog) -> None:
    report = build(odd_run(tmp_path))
    with caplog.at_level(logging.WARNING, logger="tunenet.reporting.plots"):
        figures = build_figures(report)
    assert caplog.records == []
    drawn = {"history", "curves_overlay", "trial_curves_loss", "confusion_matrix", "dynamics"}
    assert drawn <= set(figures)
    assert "parallel" not in figures and "importance" not in figures  # one value: nothing varies
