"""The HTML page as a dashboard, without a browser: the first screen, the contents, each plot a
figure with its caption beside its section, the trials table's column order and sticky columns,
the sortable runs summary, hover circles from a plot's sidecar, and plots kept by --no-plots."""

from __future__ import annotations

import json
import re
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

from tunenet.reporting.figures import FIGURES, figure_text
from tunenet.reporting.html import render_html

from .helpers import build, copy_run
from .test_html_page import Page


class Figures(HTMLParser):
    """Each <figure>: its id, the id of the section it sits in, its heading, the img's alt and
    whether it has a figcaption (with its text)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.figures: list[dict] = []
        self._sections: list[str] = []
        self._into: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section":
            self._sections.append(found.get("id") or "")
        elif tag == "figure":
            self.figures.append(
                {"id": found.get("id"), "section": self._sections[-1], "h3": "", "caption": ""}
            )
        elif self.figures and tag == "img" and "alt" not in self.figures[-1]:
            self.figures[-1]["alt"] = found.get("alt") or ""
        elif self.figures and tag in ("h3", "figcaption"):
            self._into = "h3" if tag == "h3" else "caption"

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._sections.pop()
        elif tag in ("h3", "figcaption"):
            self._into = None

    def handle_data(self, data: str) -> None:
        if self._into:
            self.figures[-1][self._into] += data


def tiny_png(path: Path, width: int = 40, height: int = 20) -> Path:
    """A real PNG of `width` × `height` grey pixels (no matplotlib needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\0" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


@pytest.fixture(scope="module")
def page(rendered: Path) -> str:
    """The worked example's report.html with its plots, as `tunenet report` wrote it."""
    return (rendered / "report" / "report.html").read_text()


def test_each_plot_is_a_figure_with_heading_caption_how_to_read_and_alt(
    page: str, rendered: Path
) -> None:
    stems = sorted(p.stem for p in (rendered / "report" / "plots").glob("*.png"))
    figures = Figures(page).figures
    assert len(figures) == len(stems) == page.count('src="data:image/png;base64,')
    for figure in figures:
        stem = next(
            s for s in stems if figure["id"] == f"fig-{s.replace('_', '-')}-run-worked-example"
        )
        text = figure_text(stem)
        assert figure["h3"] == text.title
        assert figure["caption"] == f"{text.caption}How to read it: {text.how_to_read}"
        assert figure["alt"] == f"{text.title}: {text.caption}"  # words, not the file name
    alts = [f["alt"] for f in figures]
    assert "Learning curves per trial: loss: One panel per trial" in " ".join(alts)


def test_figures_sit_beside_their_sections_and_the_key_plot_opens_the_page(page: str) -> None:
    where = {
        f["id"][4:].removesuffix("-run-worked-example"): f["section"] for f in Figures(page).figures
    }
    assert where["train-vs-validation-error"] == "trials-run-worked-example"
    assert where["trial-curves-loss"] == "trials-run-worked-example"
    assert where["importance"] == "effects-run-worked-example"
    assert where["parallel"] == "effects-run-worked-example"
    assert where["curves-overlay"] == "search-run-worked-example"
    # the key plot (no trade-off here: the history) is on the first screen, once
    assert where["history"] == "run-worked-example"
    dashboard = page[page.index('<div class="dashboard') : page.index('<nav class="contents"')]
    assert 'id="fig-history-run-worked-example"' in dashboard
    assert "Verdict" in dashboard and "best 03: good fit" in dashboard
    assert "Trial 03: val_accuracy 0.87" in dashboard
    assert "validation error 13.0% ± 3.5" in dashboard
    assert "<code>optimizer.learning_rate=0.001</code>" in dashboard
    assert page.index('<div class="dashboard') < page.index("<h2>Trials")


def test_the_contents_link_to_every_part_of_the_run_and_its_figures(page: str) -> None:
    nav = page[page.index('<nav class="contents"') : page.index("</nav>")]
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', nav)
    parts = [(target, title) for target, title in links if not target.startswith("fig-")]
    assert [title for _, title in parts] == [
        "Verdict",
        "Best trial",
        "How the search went",
        "Trials",
        "Hyperparameter effects",
    ]
    ids = Page(page).ids
    for target, title in parts:
        assert ids.count(target) == 1
        assert re.search(f'<section class="part" id="{target}"><h2>{re.escape(title)}', page)
    figures = {target: title for target, title in links if target.startswith("fig-")}
    assert figures["fig-parallel-run-worked-example"] == "Parallel coordinates"
    assert "fig-history-run-worked-example" not in figures  # on the first screen, above
    for target, title in figures.items():
        assert ids.count(target) == 1
        assert re.search(f'<figure class="plot" id="{target}"><h3>{re.escape(title)}</h3>', page)
    assert len(figures) == page.count("<figure") - 1


def test_the_trials_table_puts_hyperparameters_after_the_objective_and_keeps_rank_in_view(
    page: str,
) -> None:
    trials = Page(page).table_after(page, "Trials")
    headers = [h["text"] for h in trials["headers"]]
    assert headers[:10] == [
        "rank",
        "trial",
        "status",
        "val_accuracy",
        "model.layers",
        "model.units.0",
        "model.units.1",
        "regularization.dropout",
        "optimizer.learning_rate",
        "optimizer.name",
    ]
    assert headers[10:12] == ["train error", "val error"]
    units = next(h for h in trials["headers"] if h["text"] == "model.units.0")
    assert units["class"] == "hp" and units["title"] == "model.units.0"  # on one line
    assert "model.units.<wbr>0" not in page
    assert [row["cells"][4:7] for row in trials["rows"]][0] == ["2", "64", "64"]  # trial 03
    assert '<table class="sortable" data-table="trials">' in page
    style = page[page.index("<style>") : page.index("</style>")]
    sticky = "table[data-table=trials] tr>:nth-child(1),table[data-table=trials] tr>:nth-child(2)"
    assert sticky + "{position:sticky" in style
    assert "table[data-table=trials] tr>:nth-child(2){left:4.6em" in style
    assert "th.hp{white-space:nowrap}" in style
    assert "background:#fff}" not in style.replace("--bg:#fff", "")  # no white box behind plots


def test_a_plots_sidecar_becomes_hover_circles_with_titles(tmp_path: Path) -> None:
    run = copy_run("worked-example", tmp_path)
    plots = run / "report" / "plots"
    tiny_png(plots / "history.png", 900, 500)
    areas = [
        {"x": 148.7, "y": 218, "r": 7, "title": "trial 00 · model.units.0=128 · val_accuracy 0.75"},
        {"x": 450, "y": 435.8, "r": 6, "title": "trial 02 · <odd> & name"},
    ]
    sidecar = {"width": 900, "height": 500, "areas": areas}
    (plots / "history.areas.json").write_text(json.dumps(sidecar))
    tiny_png(plots / "parallel.png")
    (plots / "parallel.areas.json").write_text("{not json")  # unreadable: no hover, still shown
    text = render_html([build(run)])

    svg = re.search(r'<svg class="areas" viewBox="0 0 900 500"[^>]*>(.*?)</svg>', text)
    assert svg, "no hover layer over the history plot"
    assert re.findall(r"<title>(.*?)</title>", svg.group(1)) == [
        "trial 00 · model.units.0=128 · val_accuracy 0.75",
        "trial 02 · &lt;odd&gt; &amp; name",
    ]
    assert '<circle cx="148.7" cy="218" r="7">' in svg.group(1)
    assert 'width="900" height="500"' in text  # the image keeps its shape while it loads
    assert text.count("<svg") == 1 and 'id="fig-parallel-run-worked-example"' in text


def test_no_plots_keeps_the_plots_and_the_page_shows_them(tmp_path: Path, cli) -> None:
    run = copy_run("worked-example", tmp_path)
    plots = run / "report" / "plots"
    kept = [
        tiny_png(plots / f"{stem}.png") for stem in ("history", "importance", "trial_curves_loss")
    ]
    result = cli("report", run, "--no-plots")
    assert result.exit_code == 0, result.output
    assert all(path.is_file() for path in kept)
    figures = Figures((run / "report" / "report.html").read_text()).figures
    assert sorted(f["h3"] for f in figures) == sorted(
        [FIGURES["history"].title, FIGURES["importance"].title, "Learning curves per trial: loss"]
    )


def test_the_dashboard_names_the_simplest_tied_trial_and_what_best_holds(tmp_path: Path) -> None:
    report = build(copy_run("worked-example", tmp_path))
    assert report.best is not None and report.best.val_error == pytest.approx(0.13)
    report.simplest_tied = SimpleNamespace(
        trial_id="7", params=12416, ratio=9.2, difference=0.003, difference_ci=(-0.017, 0.023)
    )
    report.kept, report.kept_trial = "simplest_tied", "7"
    text = render_html([report])
    dashboard = text[text.index('<div class="dashboard') : text.index('<nav class="contents"')]
    card = (
        "<h2>Simplest tied trial</h2><p>Trial 7: 12,416 parameters (9.2× fewer than the best), "
        "validation error 13.3% vs 13.0% (+0.3 pts ± 2.0: tied)</p>"
    )
    assert card in dashboard
    assert "best/ holds trial 7, not this one (search.keep)." in dashboard
    assert "Simplest tied: trial 7: 12,416 parameters" in text  # and beside the best trial below


def test_the_runs_summary_sorts_and_keeps_best_objective_and_verdict_on_a_phone(
    tmp_path: Path,
) -> None:
    reports = [build(copy_run(name, tmp_path)) for name in ("capacity", "worked-example")]
    text = render_html(reports)
    summary = Page(text).tables[0]
    assert '<table class="sortable" data-table="summary">' in text
    assert all(h.get("button") for h in summary["headers"])
    minor = [h["text"] for h in summary["headers"] if h.get("class") == "minor"]
    assert minor == ["status", "trials", "best trial"]  # hidden on a phone; the rest stays
    style = text[text.index("<style>") : text.index("</style>")]
    assert (
        "@media (max-width:600px)" in style
        and "table[data-table=summary] .minor{display:none}" in style
    )
    # the best objective sorts by its value, not its text
    objective_sorts = re.findall(r'data-sort="([0-9.]+)">val_accuracy', text)
    assert objective_sorts == ["0.935", "0.87"]


def test_every_id_on_a_page_with_capacity_and_insight_parts_is_unique(tmp_path: Path) -> None:
    reports = []
    for name in ("capacity", "insight"):
        run = copy_run(name, tmp_path)
        for stem in ("capacity", "dynamics", "learning_curve", "confusion_matrix", "history"):
            tiny_png(run / "report" / "plots" / f"{stem}.png")
        reports.append(build(run))
    page = Page(render_html(reports))
    assert len(page.ids) == len(set(page.ids))
    assert {"capacity-run-capacity", "fig-capacity-run-capacity"} <= set(page.ids)
    assert {"dynamics-run-insight", "fig-dynamics-run-insight"} <= set(page.ids)
