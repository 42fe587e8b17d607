"""Plots are drawn again only when what they show changed (report/plots/.inputs), say which
plot is being drawn, and `--no-plots` keeps the ones there."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import tunenet.reporting.plots as plots_package

from .helpers import copy_run, run_report

# The minimal fixture's plots (four: the fastest to draw).
MINIMAL = ["history", "curves_overlay", "train_vs_validation_error", "trial_curves_loss"]


def plot_times(run: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (run / "report" / "plots").iterdir()}


@pytest.fixture(scope="module")
def drawn_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The minimal fixture reported once with plots, saying which plot it draws."""
    run = copy_run("minimal", tmp_path_factory.mktemp("runs"))
    _, err = run_report(run, "json", plots=True)
    for number, name in enumerate(MINIMAL, start=1):
        assert f"drawing plots {number}/" in err and f": {name}\n" in err
    return run


@pytest.fixture
def drawn(drawn_once: Path, tmp_path: Path) -> Path:
    """A copy of the reported run (file times kept) for one test to change."""
    return Path(shutil.copytree(drawn_once, tmp_path / "minimal"))


@pytest.fixture
def no_drawing(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every call to draw the plots (the report draws through the package's
    `draw_plots`)."""
    calls: list[str] = []
    real = plots_package.draw_plots

    def spy(report, directory, progress=None):
        calls.append(report.run.path.name)
        return real(report, directory, progress)

    monkeypatch.setattr(plots_package, "draw_plots", spy)
    return calls


def test_a_second_report_of_an_unchanged_run_draws_nothing(drawn: Path, no_drawing) -> None:
    before = plot_times(drawn)
    out, err = run_report(drawn, "json", plots=True)
    assert no_drawing == []
    assert "drawing plots" not in err
    assert plot_times(drawn) == before
    listed = json.loads(out)["plots"]
    assert listed == [f"plots/{name}.png" for name in MINIMAL]  # still shown, in order
    inputs = json.loads((drawn / "report" / "plots" / ".inputs").read_text())
    assert inputs["plots"] == [f"{name}.png" for name in MINIMAL]


@pytest.mark.parametrize("change", ["trials", "option", "missing plot", "missing areas"])
def test_a_change_draws_again(drawn: Path, no_drawing, change: str) -> None:
    options = {}
    if change == "trials":
        trials = drawn / "trials.csv"
        trials.write_text(
            trials.read_text().replace("0001,completed,0.10,0.30", "0001,completed,0.10,0.25")
        )
    elif change == "option":
        options = {"target_error": 0.2}
    elif change == "missing plot":
        (drawn / "report" / "plots" / "history.png").unlink()
    else:
        (drawn / "report" / "plots" / "history.areas.json").unlink()
    _, err = run_report(drawn, "json", plots=True, **options)
    assert no_drawing == ["minimal"]
    assert "drawing plots 1/" in err
    assert (drawn / "report" / "plots" / "history.png").is_file()
    assert (drawn / "report" / "plots" / "history.areas.json").is_file()


def test_drawing_again_removes_plots_that_no_longer_apply(drawn: Path) -> None:
    plots = drawn / "report" / "plots"
    for stale in ("contour.png", "contour.areas.json"):
        (plots / stale).write_text("from an earlier report")
    run_report(drawn, "json", plots=True)  # unchanged: nothing drawn, nothing removed
    assert (plots / "contour.png").exists()
    epochs = drawn / "epochs.csv"
    epochs.write_text(epochs.read_text() + "0001,3,0.4,0.5\n")
    run_report(drawn, "json", plots=True)
    assert not (plots / "contour.png").exists() and not (plots / "contour.areas.json").exists()
    assert sorted(p.name for p in plots.glob("*.png")) == sorted(f"{n}.png" for n in MINIMAL)


def test_no_plots_keeps_the_plots_and_shows_them(drawn: Path, no_drawing) -> None:
    before = plot_times(drawn)
    trials = drawn / "trials.csv"
    trials.write_text(trials.read_text() + "0003,failed,,\n")  # changed: still not drawn
    out, _ = run_report(drawn, "json", plots=False)
    assert no_drawing == []
    assert plot_times(drawn) == before
    assert json.loads(out)["plots"] == [f"plots/{name}.png" for name in MINIMAL]
    html = (drawn / "report" / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == len(MINIMAL)
