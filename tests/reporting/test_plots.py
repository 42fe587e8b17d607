"""The report's plots on the standard fixture runs: which files each run gets, that they are
PNGs shown by the renderers, and that no two texts of a figure overlap."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

from tunenet.reporting.model import RunReport
from tunenet.reporting.plots import build_figures, draw_plots, style
from tunenet.reporting.sections import capacity_plot, other_plots

from .helpers import FIXTURES, build, copy_run

SEARCH = [
    "history",
    "curves_overlay",
    "train_vs_validation_error",
    "importance",
    "objective_vs_hyperparameters",
    "parallel",
    "trial_curves_loss",
    "trial_curves_accuracy",
]
# With a contour: two hyperparameters varied, four completed trials or more having both (the
# others have one hyperparameter, or their two most important ones share two trials).
CONTOUR = [*SEARCH[:6], "contour", *SEARCH[6:]]
EXPECTED = {
    "capacity": [*CONTOUR, "capacity"],
    "curves": SEARCH,
    "minimal": ["history", "curves_overlay", "train_vs_validation_error", "trial_curves_loss"],
    "small-split": CONTOUR,
    "worked-example": SEARCH,
    "insight": [*SEARCH, "confusion_matrix", "dynamics", "learning_curve"],
    "imbalanced": [*CONTOUR, "confusion_matrix"],
    "custom": [*CONTOUR[:3], "tradeoff", *CONTOUR[3:], "dynamics"],  # it records params
}


def test_every_standard_fixture_is_covered() -> None:
    assert sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()) == sorted(EXPECTED)


@dataclass
class Drawn:
    """One fixture's figures drawn once: what the tests read of each, and the files."""

    report: RunReport
    texts: dict[str, list[tuple[str, object]]]  # plot -> (text, window extent)
    files: list[Path]


def text_boxes(figure: Figure) -> list[tuple[str, object]]:
    """Window extents of every visible text: tick labels in view, axis labels, titles, legend
    texts, annotations and the figure's own texts (collected here, not with the code under
    test)."""
    figure.draw_without_rendering()
    renderer = figure.canvas.get_renderer()
    found: list[Text] = list(figure.texts)
    for legend in figure.legends:
        found += legend.get_texts()
    for axis in figure.axes:
        if not axis.get_visible():
            continue
        for scale in (axis.xaxis, axis.yaxis):
            low, high = sorted(scale.get_view_interval())
            pad = (high - low) * 1e-9
            ticks = scale.get_major_ticks() + scale.get_minor_ticks()
            found += [t.label1 for t in ticks if low - pad <= t.get_loc() <= high + pad]
            found.append(scale.label)
        found += [axis.title, axis._left_title, axis._right_title, *axis.texts]
        if axis.get_legend():
            found += axis.get_legend().get_texts()
    unique = {id(t): t for t in found if t.get_visible() and t.get_text().strip()}
    return [(t.get_text(), t.get_window_extent(renderer)) for t in unique.values()]


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def drawn(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Drawn:
    run = copy_run(request.param, tmp_path_factory.mktemp("plots"))
    report = build(run)
    figures = build_figures(report)
    texts = {name: text_boxes(figure) for name, figure in figures.items()}
    directory = report.report_dir / "plots"
    report.plots = [style.save(f, directory / f"{name}.png") for name, f in figures.items()]
    return Drawn(report, texts, report.plots)


def test_each_fixture_gets_its_plots_as_pngs_in_display_order(drawn: Drawn) -> None:
    name = drawn.report.run.path.name
    assert [p.stem for p in drawn.files] == EXPECTED[name]
    for path in drawn.files:
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size[0] > 300
    shown = [p.stem for p in other_plots(drawn.report)]
    assert shown == [n for n in EXPECTED[name] if n != "capacity"]
    assert (capacity_plot(drawn.report) is not None) == (name == "capacity")


def test_no_two_texts_of_a_figure_overlap(drawn: Drawn) -> None:
    for plot, boxes in drawn.texts.items():
        assert boxes, plot
        for i, (text, a) in enumerate(boxes):
            for other, b in boxes[i + 1 :]:
                width = min(a.x1, b.x1) - max(a.x0, b.x0)
                height = min(a.y1, b.y1) - max(a.y0, b.y0)
                assert width <= 1 or height <= 1, f"{plot}: {text!r} overlaps {other!r}"


def test_draw_plots_writes_what_it_returns(tmp_path: Path) -> None:
    report = build(copy_run("minimal", tmp_path))
    paths = draw_plots(report, tmp_path / "out")
    assert sorted(paths) == sorted((tmp_path / "out").glob("*.png"))
    areas = sorted(p.name for p in (tmp_path / "out").glob("*.areas.json"))
    assert areas == ["history.areas.json", "train_vs_validation_error.areas.json"]
    assert [p.name for p in paths][:2] == ["history.png", "curves_overlay.png"]
    assert plt.get_fignums() == []  # every figure closed once written
