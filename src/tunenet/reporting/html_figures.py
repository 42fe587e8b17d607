"""The HTML page's plots and first screen: each plot in a `<figure>` with a heading, a caption,
one line on how to read it and a real alt text (reporting/figures.py), a hover layer where the
plot has a sidecar of trial areas, and the dashboard that opens a run's section.

Plots are the PNG files of `report/plots/`: those drawn for this report, or, when none were drawn
(`--no-plots`), the ones already there, so that a report without plots keeps them on the page.
"""

from __future__ import annotations

import base64
import html
import json
import math
import struct
from pathlib import Path

from tunenet import diagnosis as dx
from tunenet.reporting.figures import FIGURES, TRIAL_CURVES, figure_text
from tunenet.reporting.model import RunReport
from tunenet.reporting.sections import balance_lines, error_cell, next_step
from tunenet.reporting.simplest import simplest_text

KEY_PLOTS = ("tradeoff", "history")  # the first one present opens the page


def page_plots(report: RunReport) -> dict[str, Path]:
    """The run's plots by stem, in the report's order: those drawn for this report, else the PNG
    files already in `report/plots/` (a report with --no-plots keeps showing them)."""
    plots = list(report.plots)
    if not plots:
        directory = report.report_dir / "plots"
        try:
            plots = sorted(directory.glob("*.png"), key=_plot_order)
        except OSError:
            plots = []
    return {p.stem: p for p in plots if p.is_file() and not p.is_symlink()}


def _plot_order(path: Path) -> tuple[int, int, str]:
    stems = list(FIGURES)
    if path.stem in stems:
        return stems.index(path.stem), 0, ""
    if path.stem.startswith(TRIAL_CURVES):  # after the bias-variance plot; loss first
        return (
            stems.index("train_vs_validation_error"),
            1 + (path.stem != "trial_curves_loss"),
            path.stem,
        )
    return len(stems), 0, path.stem


def key_plot(plots: dict[str, Path]) -> str | None:
    """The stem of the plot shown on the first screen: the trade-off when drawn, else history."""
    return next((stem for stem in KEY_PLOTS if stem in plots), None)


def figure_html(path: Path, anchor: str) -> str:
    """One plot as a figure: heading, image (as a data: URI) with its hover layer, caption and
    how to read it. `anchor` makes its id unique on the page."""
    text = figure_text(path.stem)
    data = path.read_bytes()
    size = _png_size(data)
    dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
    image = (
        f'<img alt="{_e(text.alt)}"{dims} '
        f'src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'
    )
    how = (
        f'<span class="how">How to read it: {_e(text.how_to_read)}</span>'
        if text.how_to_read
        else ""
    )
    return (
        f'<figure class="plot" id="{figure_id(path.stem, anchor)}">'
        f"<h3>{_e(text.title)}</h3>"
        f'<div class="plot-box">{image}{areas_svg(path)}</div>'
        f"<figcaption>{_e(text.caption)}{how}</figcaption></figure>"
    )


def figure_id(stem: str, anchor: str) -> str:
    """The id of plot `stem`'s figure in run `anchor`'s section ("fig-": never a part's id)."""
    return f"fig-{stem.replace('_', '-')}-{anchor}"


def _png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's header, or None when it is not one."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", data[16:24])


def areas_svg(path: Path) -> str:
    """The hover layer of a plot: an inline SVG over the image, in the PNG's pixel coordinates,
    with one transparent circle and its <title> per area of `<stem>.areas.json` (the trial and
    its hyperparameters). Empty when there is no sidecar or it cannot be read."""
    sidecar = path.with_name(f"{path.stem}.areas.json")
    try:
        spec = json.loads(sidecar.read_text(encoding="utf-8"))
        width, height = float(spec["width"]), float(spec["height"])
        areas = [
            (float(a["x"]), float(a["y"]), float(a["r"]), str(a["title"])) for a in spec["areas"]
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    numbers = [width, height, *(n for x, y, r, _ in areas for n in (x, y, r))]
    if not areas or width <= 0 or height <= 0 or not all(math.isfinite(n) for n in numbers):
        return ""
    circles = "".join(
        f'<circle cx="{x:g}" cy="{y:g}" r="{max(r, 1):g}"><title>{_e(title)}</title></circle>'
        for x, y, r, title in areas
    )
    return (
        f'<svg class="areas" viewBox="0 0 {width:g} {height:g}" '
        f'preserveAspectRatio="none" role="group" aria-label="trials in the plot">{circles}</svg>'
    )


# ----------------------------------------------------------------------- the first screen


def dashboard_html(report: RunReport, key: Path | None, anchor: str) -> str:
    """The first screen of a run: verdict, best trial, simplest tied trial (when known), next
    step, and the key plot beside them."""
    cards = [
        _card("Verdict", f'<p class="big">{_e(report.headline)}</p>', "verdict-card"),
        _card("Best trial", _best_card(report)),
    ]
    simplest = simplest_tied_text(report)
    if simplest:
        cards.append(_card("Simplest tied trial", f"<p>{_e(simplest)}</p>"))
    step = _next_step(report)
    if step:
        cards.append(_card("Next step", f"<p>{_e(step)}</p>"))
    plot = figure_html(key, anchor) if key else ""
    css = "dashboard" if plot else "dashboard no-plot"  # without a plot: cards side by side
    return f'<div class="{css}"><div class="cards">{"".join(cards)}</div>{plot}</div>'


def _card(title: str, body: str, css: str = "") -> str:
    classes = f"card {css}".strip()
    return f'<div class="{classes}"><h2>{_e(title)}</h2>{body}</div>'


def _best_card(report: RunReport) -> str:
    best = report.best
    if best is None:
        return "<p>No completed trial.</p>"
    score = f"{report.objective.name} {dx.format_value(best.objective)}"
    parts = [
        f'<p class="big">Trial {_e(best.trial_id)}: {_e(score)}</p>',
        f"<p>validation error {_e(error_cell(best, 'val'))}"
        + (f", test error {_e(error_cell(best, 'test'))}" if best.test_error is not None else "")
        + "</p>",
    ]
    if best.hyperparameters:
        values = ", ".join(
            f"<code>{_e(k)}={_e(dx.format_value(v))}</code>"
            for k, v in best.hyperparameters.items()
        )
        parts.append(f'<p class="hps">{values}</p>')
    # imbalanced classes, or no better than the majority: on the first screen, not only below
    parts += [f'<p class="warn">{_e(line)}</p>' for line in balance_lines(report)]
    held = report.kept_trial
    if held and held != best.trial_id:
        parts.append(
            f'<p class="meta">best/ holds trial {_e(held)}, not this one (search.keep).</p>'
        )
    return "".join(parts)


def _next_step(report: RunReport) -> str:
    """The best trial's first recommendation, in full; its key and value when it has no text."""
    best = report.best
    if best is None or not best.recommendations:
        return ""
    return best.recommendations[0].text or next_step(best)


def simplest_tied_text(report: RunReport) -> str:
    """ "Trial 7: 12,416 parameters (9.2× fewer than the best), validation error 4.1% vs 3.8%
    (+0.3 pts ± 2.0: tied)" under the card's title; empty when the report names none."""
    found, best = report.simplest_tied, report.best
    if found is None or best is None or best.val_error is None:
        return ""
    text = simplest_text(found, best.val_error, best.val_error + found.difference)
    return text[0].upper() + text[1:]


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)
