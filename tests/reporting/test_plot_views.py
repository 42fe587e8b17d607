"""The contour and timeline plots, and the hover areas beside the per-trial plots, on hand-made
runs whose right answer is known by construction."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from tunenet.reporting.plots import contour, hover, plots_of, search, style, timeline

from .helpers import build

HEADER = "trial_id,status,{hp}train_error,val_error,objective,started_at,finished_at{worker}"


def write_run(path: Path, rows: list[dict], hps: list[str], workers: bool = False) -> Path:
    """A run directory with trials.csv (the given hyperparameter columns; objective 1 - val
    error, maximized by name) and a two-epoch epochs.csv per completed trial."""
    path.mkdir(parents=True)
    head = HEADER.format(hp="".join(f"hp.{h}," for h in hps), worker=",worker" if workers else "")
    lines = [head]
    for row in rows:
        values = [row["id"], row.get("status", "completed")]
        values += [str(row[h]) for h in hps]
        error = row.get("error")
        values += (
            [f"{error / 2:g}", f"{error:g}", f"{1 - error:g}"] if error is not None else [""] * 3
        )
        values += [row.get("start", ""), row.get("end", "")]
        values += [row["worker"]] if workers else []
        lines.append(",".join(values))
    (path / "trials.csv").write_text("\n".join(lines) + "\n")
    epochs = ["trial_id,epoch,loss,val_loss"]
    for row in rows:
        if row.get("error") is not None:
            epochs += [f"{row['id']},1,0.9,0.95", f"{row['id']},2,0.5,0.6"]
    (path / "epochs.csv").write_text("\n".join(epochs) + "\n")
    (path / "manifest.json").write_text(
        json.dumps({"objective": {"name": "val_accuracy", "direction": "max"}})
    )
    return path


def grid_rows() -> list[dict]:
    """A 3 × 3 grid of units × learning rate; the best (lowest error) at 64 units, 0.001."""
    rows = []
    for i, (units, rate) in enumerate((u, r) for u in (16, 64, 256) for r in (0.0001, 0.001, 0.01)):
        error = 0.1 + 0.05 * abs(np.log2(units / 64)) / 2 + 0.05 * abs(np.log10(rate / 0.001))
        rows.append({"id": f"{i:02d}", "model.units.0": units, "optimizer.learning_rate": rate,
                     "error": error})  # fmt: skip
    return rows


# ---------------------------------------------------------------- contour


def test_contour_is_drawn_over_the_two_keys_of_a_grid(tmp_path: Path) -> None:
    report = build(
        write_run(tmp_path / "grid", grid_rows(), ["model.units.0", "optimizer.learning_rate"])
    )
    info = contour.contour_info(report)
    assert info is not None
    assert {info.x.name, info.y.name} == {"model.units.0", "optimizer.learning_rate"}
    with plt.rc_context(style.RC):
        figure = plots_of(report)["contour"](report)
    axis = figure.axes[0]
    scales = {axis.get_xlabel(): axis.get_xscale(), axis.get_ylabel(): axis.get_yscale()}
    assert scales["optimizer.learning_rate"] == "log"  # its values span two decades
    points = axis.collections[-2].get_offsets()  # the trials, under the best trial's star
    assert len(points) == 9
    best = axis.collections[-1].get_offsets()[0]
    rate, units = (
        (best[0], best[1]) if axis.get_xlabel() == "optimizer.learning_rate" else best[::-1]
    )
    assert np.isclose(rate, 0.001) and np.isclose(units, 64)
    assert "over the two most important hyperparameters (9 trials)" in axis.get_title()
    plt.close(figure)


def test_contour_puts_a_categorical_key_on_evenly_spaced_ticks(tmp_path: Path) -> None:
    rows = [
        {"id": f"{i}", "optimizer.name": name, "regularization.dropout": drop, "error": error}
        for i, (name, drop, error) in enumerate(
            [("adam", 0.0, 0.1), ("adam", 0.5, 0.2), ("sgd", 0.0, 0.3), ("sgd", 0.5, 0.35),
             ("rmsprop", 0.0, 0.2), ("rmsprop", 0.5, 0.25)]
        )
    ]  # fmt: skip
    report = build(write_run(tmp_path / "run", rows, ["optimizer.name", "regularization.dropout"]))
    with plt.rc_context(style.RC):
        figure = contour.contour(contour.contour_info(report))
    axis = figure.axes[0]
    names_axis = axis.xaxis if axis.get_xlabel() == "optimizer.name" else axis.yaxis
    assert [t.get_text() for t in names_axis.get_ticklabels()] == ["adam", "rmsprop", "sgd"]
    assert list(names_axis.get_ticklocs()) == [0, 1, 2]
    plt.close(figure)


def test_no_contour_for_one_key_or_too_few_trials(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="tunenet.reporting.plots.contour")
    one = [{**row, "optimizer.learning_rate": 0.001} for row in grid_rows()]
    report = build(write_run(tmp_path / "one", one, ["model.units.0"]))
    assert plots_of(report)["contour"](report) is None
    assert "1 hyperparameter(s) varied; it needs 2" in caplog.text
    few = grid_rows()[::4]  # the diagonal: both keys vary
    report = build(write_run(tmp_path / "few", few, ["model.units.0", "optimizer.learning_rate"]))
    assert contour.contour_info(report) is None
    assert "3 completed trial(s) have both" in caplog.text


# ---------------------------------------------------------------- timeline


def timed_rows() -> list[dict]:
    """Two workers: tuner0 runs 00 (0–60 s) and 02 (60–70 s, failed); tuner1 runs 01
    (5–125 s)."""
    at = "2025-01-01T10:{:02d}:{:02d}+00:00".format
    return [
        {"id": "00", "worker": "tuner0", "start": at(0, 0), "end": at(1, 0), "error": 0.2},
        {"id": "01", "worker": "tuner1", "start": at(0, 5), "end": at(2, 5), "error": 0.1},
        {"id": "02", "worker": "tuner0", "start": at(1, 0), "end": at(1, 10), "status": "failed"},
    ]


def test_timeline_has_a_row_per_worker_and_a_bar_per_trial(tmp_path: Path) -> None:
    report = build(write_run(tmp_path / "run", timed_rows(), [], workers=True))
    with plt.rc_context(style.RC):
        figure = plots_of(report)["timeline"](report)
    axis = figure.axes[0]
    assert [t.get_text() for t in axis.get_yticklabels()] == ["tuner0", "tuner1"]
    bars = {
        (round(60 * p.get_x()), round(60 * p.get_width()), round(p.get_y() + 0.3))
        for p in axis.patches
    }  # drawn in minutes, the unit of a 125 s span
    assert bars == {(0, 60, 0), (5, 120, 1), (60, 10, 0)}  # (start s, length s, worker row)
    colors = {round(60 * p.get_x()): p.get_facecolor() for p in axis.patches}
    assert colors[60] == plt.matplotlib.colors.to_rgba(timeline.STATUS_COLORS["failed"])
    assert colors[0] == plt.matplotlib.colors.to_rgba(timeline.STATUS_COLORS["completed"])
    figure.draw_without_rendering()
    ticks = [t.get_text() for t in axis.get_xticklabels()]
    assert all(len(t.replace("−", "")) <= 4 for t in ticks), ticks  # 0.5, 1, 1.5: no 0.416667
    assert {t.get_text() for t in axis.texts} >= {"00", "01"}  # long bars carry their ids
    assert axis.get_xlabel() == "time since the first trial started (min)"
    plt.close(figure)


def test_no_timeline_for_one_worker_or_a_run_without_workers(tmp_path: Path) -> None:
    one = [{**row, "worker": "tuner0"} for row in timed_rows()]
    report = build(write_run(tmp_path / "one", one, [], workers=True))
    assert plots_of(report)["timeline"](report) is None
    report = build(write_run(tmp_path / "old", timed_rows(), [], workers=False))
    assert timeline.timeline_info(report) is None


# ---------------------------------------------------------------- hover areas


def test_an_area_is_where_its_marker_is_in_the_png(tmp_path: Path) -> None:
    with plt.rc_context(style.RC):
        figure, axis = style.new_figure((4.0, 3.0))
        axis.scatter([0.002, 0.05], [3.0, 7.0], s=80, color="#ff0000")
        axis.set_xscale("log")
        axis.set_xlim(0.001, 0.1)
        axis.set_ylim(0, 10)
        hover.mark_trials(axis, [0.002, 0.05], [3.0, 7.0], ["a", "b"])
        path = hover.save_with_areas(figure, tmp_path / "dots.png", {"a": "trial a"})
    sidecar = json.loads((tmp_path / "dots.areas.json").read_text())
    image = Image.open(path).convert("RGBA")
    assert (sidecar["width"], sidecar["height"]) == image.size == (400, 300)
    assert [a["title"] for a in sidecar["areas"]] == ["trial a", "trial b"]
    for area in sidecar["areas"]:
        assert image.getpixel((round(area["x"]), round(area["y"]))) == (255, 0, 0, 255)
    first, second = sidecar["areas"]
    assert first["x"] < second["x"] and first["y"] > second["y"]  # origin top-left


def test_history_areas_name_each_trial_and_its_hyperparameters(tmp_path: Path) -> None:
    rows = grid_rows()
    rows[4] = {**rows[4], "status": "failed", "error": None}
    report = build(write_run(tmp_path / "run", rows, ["model.units.0", "optimizer.learning_rate"]))
    titles = hover.trial_titles(report)
    assert (
        titles["00"]
        == "trial 00 · model.units.0=16 · optimizer.learning_rate=0.0001 · val_accuracy 0.8"
    )
    assert titles["04"] == "trial 04 · model.units.0=64 · optimizer.learning_rate=0.001 · failed"
    with plt.rc_context(style.RC):
        figure = search.history(search.history_info(report))
        path = hover.save_with_areas(figure, tmp_path / "history.png", titles)
    sidecar = json.loads(path.with_name("history.areas.json").read_text())
    assert sorted(a["title"].split(" · ")[0] for a in sidecar["areas"]) == [
        f"trial {i:02d}" for i in range(9)
    ]
    image = Image.open(path).convert("RGBA")
    for area in sidecar["areas"]:  # a marker is drawn at each area: not the see-through page
        assert image.getpixel((round(area["x"]), round(area["y"])))[3] > 200, area["title"]
