"""The report as one self-contained HTML file: inline style and script, plots as data: URIs,
tables sortable by a click (or Enter) on a header, readable on a phone and in dark mode. Nothing
is loaded from the network. Several runs: a summary with one row per run, each linking to the
run's section.

Each run's section opens with a dashboard (verdict, best trial, next step, key plot) and a list of
contents; each plot sits as a figure beside the section it belongs to (reporting/figures.py).
"""

from __future__ import annotations

import html
import math
import re
from pathlib import Path
from typing import Any

from tunenet import diagnosis as dx
from tunenet.reporting import figures
from tunenet.reporting.figures import figure_text
from tunenet.reporting.html_figures import (
    dashboard_html,
    figure_html,
    figure_id,
    key_plot,
    page_plots,
)
from tunenet.reporting.html_style import HTML_SCRIPT, HTML_STYLE
from tunenet.reporting.model import Failures, RunReport, TrialReport
from tunenet.reporting.sections import (
    SUMMARY_HEADER,
    about_lines,
    baseline_lines,
    best_lines,
    capacity_about,
    capacity_line,
    capacity_table,
    effect_caption,
    effect_summary,
    effects_about,
    hp_names,
    insight_sections,
    intervals_line,
    recommendation_lines,
    setting_lines,
    shown_note,
    summary_rows,
    trial_columns,
)
from tunenet.runs import TrialStatus


def render_html(
    reports: list[RunReport], failures: Failures | None = None, base: Path | None = None
) -> str:
    """One self-contained HTML file: inline style and script, plots as data: URIs (so `base`,
    where the file goes, does not matter). Several runs, or unreadable ones: a summary first,
    one row per run, the run's name linking to its section."""
    several = len(reports) > 1 or bool(failures)
    title = "tunenet report" if several else reports[0].run.name
    anchors = run_anchors([report.run.name for report in reports])
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>tunenet report: {_e(title)}</title><style>{HTML_STYLE}</style></head><body>",
    ]
    if several:
        parts.append('<h1 id="summary">tunenet report</h1>')
        parts.append(_summary_table(reports, failures, anchors))
    for report, anchor in zip(reports, anchors, strict=True):
        parts.append(f'<section id="{anchor}">')
        parts += _run_html(report, anchor)
        if several:
            parts.append('<p><a href="#summary">Back to the summary</a></p>')
        parts.append("</section>")
    parts.append(f"<script>{HTML_SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"


def run_anchors(names: list[str]) -> list[str]:
    """One id per run, in order: "run-" and the name's letters and digits joined by "-". A name
    that gives the same id as an earlier one (`a_b` after `a-b`) gets "-2", "-3", ... after it."""
    used: set[str] = set()
    anchors = []
    for name in names:
        base = "run-" + (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "unnamed")
        anchor, number = base, 2
        while anchor in used:
            anchor, number = f"{base}-{number}", number + 1
        used.add(anchor)
        anchors.append(anchor)
    return anchors


SUMMARY_MINOR = {"status", "trials", "best trial"}  # hidden on a phone (docs/report.md)


def _summary_table(reports: list[RunReport], failures: Failures | None, anchors: list[str]) -> str:
    """One row per run (unreadable runs last, without a link: they have no section), sortable;
    the best objective sorts by its value, the trials by how many completed."""
    rows = [[(cell, cell) for cell in row] for row in summary_rows(reports, failures)]
    objective, trials = SUMMARY_HEADER.index("best objective"), SUMMARY_HEADER.index("trials")
    for row, report in zip(rows, reports, strict=False):
        row[objective] = (row[objective][0], report.best.objective if report.best else None)
        row[trials] = (row[trials][0], report.counts.get(TrialStatus.COMPLETED, 0))
    links: list[str | None] = [*anchors, *[None] * (len(rows) - len(anchors))]
    return _html_table(
        SUMMARY_HEADER,
        rows,
        kinds=["text", "text", "num", "text", "num", "text"],
        sortable=True,
        links=links,
        css="summary",
        column_classes=["minor" if name in SUMMARY_MINOR else "" for name in SUMMARY_HEADER],
    )


# (id, title, html) of one part of a run's section; figures are added beside it
Part = tuple[str, str, list[str]]


def _run_html(report: RunReport, anchor: str) -> list[str]:
    """A run's section: its name and settings, the dashboard, the contents, then each part with
    its figures; plots whose part is not on the page come last, under Plots."""
    plots = page_plots(report)
    key = key_plot(plots)
    parts = [f"<h1>{_e(report.run.name)}</h1>"]
    parts.append(dashboard_html(report, plots.get(key) if key else None, anchor))
    parts += [f'<p class="meta">{_e(line)}</p>' for line in about_lines(report)]
    parts += [f'<p class="meta">diagnosis: {_e(line)}</p>' for line in setting_lines(report)]
    parts.append(f'<p class="meta">intervals: {_e(intervals_line(report))}</p>')
    stems: dict[str, list[str]] = {}  # part id -> the plots shown there
    for stem in plots:
        if stem != key:
            stems.setdefault(figure_text(stem).section, []).append(stem)
    sections = [(*part, stems.pop(part[0], [])) for part in _parts(report)]
    sections.append(("plots", "Plots", [], [stem for rest in stems.values() for stem in rest]))
    sections = [section for section in sections if section[2] or section[3]]
    parts.append(_contents(sections, anchor))
    for part_id, title, body, shown in sections:
        parts.append(f'<section class="part" id="{part_id}-{anchor}"><h2>{_e(title)}</h2>')
        parts += body + [figure_html(plots[stem], anchor) for stem in shown]
        parts.append("</section>")
    return parts


def _contents(sections: list[tuple[str, str, list[str], list[str]]], anchor: str) -> str:
    """The list of a run's parts, each linking to its part, its figures below it."""
    items = []
    for part_id, title, _, shown in sections:
        figures = "".join(
            f'<li><a href="#{figure_id(stem, anchor)}">{_e(figure_text(stem).title)}</a></li>'
            for stem in shown
        )
        below = f"<ul>{figures}</ul>" if figures else ""
        items.append(f'<li><a href="#{part_id}-{anchor}">{_e(title)}</a>{below}</li>')
    return (
        '<nav class="contents" aria-label="Contents"><h2>Contents</h2>'
        f"<ol>{''.join(items)}</ol></nav>"
    )


def _parts(report: RunReport) -> list[Part]:
    """The parts of a run's section in page order, each (id, title, html); empty ones included
    (they show when a figure belongs there)."""
    lines = best_lines(report) + baseline_lines(report)
    best = ["<ul>" + "".join(f"<li>{_e(line)}</li>" for line in lines) + "</ul>"]
    if report.best and report.best.recommendations:
        items = "".join(f"<li>{_e(line)}</li>" for line in recommendation_lines(report.best))
        best.append(f"<p>Recommendations:</p><ol>{items}</ol>")
    parts: list[Part] = [
        ("verdict", "Verdict", [f'<p class="verdict">{_e(report.verdict)}</p>']),
        (figures.BEST, figures.SECTION_TITLES[figures.BEST], best),
    ]
    ids = {title: part_id for part_id, title in figures.SECTION_TITLES.items()}
    for title, lines in insight_sections(report):
        items = "".join(f"<li>{_e(line)}</li>" for line in lines)
        part_id = ids.get(title) or re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        parts.append((part_id, title, [f"<ul>{items}</ul>"]))
    if report.capacity:
        parts.append((figures.CAPACITY, "Capacity curve", _capacity_html(report)))
    parts += [
        (figures.SEARCH, figures.SECTION_TITLES[figures.SEARCH], []),
        (figures.TRIALS, f"Trials{shown_note(report)}", _trials_html(report)),
        (
            figures.EFFECTS,
            "Hyperparameter effects",
            _effects_html(report) if report.effects else [],
        ),
    ]
    return parts


def _capacity_html(report: RunReport) -> list[str]:
    header, cells = capacity_table(report)
    return [
        f'<p class="meta">{_e(capacity_about(report.capacity))}</p>',
        f'<p class="verdict">{_e(capacity_line(report))}</p>',
        _html_table(header, cells, kinds=["text", "text", "num", "num", "num", "num", "text"]),
    ]


def _trials_html(report: RunReport) -> list[str]:
    """The trials table, best first (so the rank column is marked as sorted), the best trial's
    row highlighted; the hyperparameters right after rank, trial, status and objective, and rank
    and trial stay in view when the table scrolls sideways."""
    trials = sorted(report.trials, key=_rank_order)  # stable: the model's order among ties
    columns = _hp_first(report, trial_columns(report))
    header = [name for name, _, _ in columns]
    hps = set(hp_names(report))
    best = report.best.trial_id if report.best else None
    table = _html_table(
        header,
        [[cell(t) for _, _, cell in columns] for t in trials],
        kinds=[kind for _, kind, _ in columns],
        sortable=True,
        sorted_by=header.index("rank"),
        best_row=next((i for i, t in enumerate(trials) if t.trial_id == best), None),
        css="trials",
        column_classes=["hp" if name in hps else "" for name in header],
    )
    note = "Click a column header to sort; rank and trial stay in view when the table scrolls." + (
        " The best trial's row is highlighted." if best else ""
    )
    return [f'<p class="meta">{note}</p>', table]


def _hp_first(report: RunReport, columns: list) -> list:
    """The trials table's columns with the hyperparameters right after rank, trial, status and
    the objective (whatever order `trial_columns` gives them in)."""
    hps = set(hp_names(report))
    lead = {"rank", "trial", "status", report.objective.name}
    first = [c for c in columns if c[0] in lead and c[0] not in hps]
    return (
        first
        + [c for c in columns if c[0] in hps]
        + [c for c in columns if c[0] not in lead and c[0] not in hps]
    )


def _rank_order(trial: TrialReport) -> tuple[bool, int]:
    return trial.rank is None, trial.rank or 0


def _effects_html(report: RunReport) -> list[str]:
    header, cells = effect_summary(report)
    parts = [
        f'<p class="meta">{_e(effects_about(report))}</p>',
        _html_table(header, cells, kinds=EFFECT_KINDS, sortable=True),
    ]
    tables = []
    for effect in report.effects:
        rows = [
            [
                (r.value, r.value),
                (str(r.trials), r.trials),
                (f"{r.mean_objective:.4g}", r.mean_objective),
            ]
            for r in effect.rows
        ]
        caption = (
            f"<caption><b>{_e(effect.hyperparameter)}</b> ({_e(effect_caption(effect))})</caption>"
        )
        tables.append(
            _html_table(
                ["value", "trials", f"mean {report.objective.name}"],
                rows,
                kinds=["text", "num", "num"],
                caption=caption,
            )
        )
    parts.append('<div class="effects">' + "".join(tables) + "</div>")
    return parts


EFFECT_KINDS = ["text", "num", "num", "num", "text"]  # of sections.effect_summary's columns


def _html_table(
    header: list[str],
    rows: list[list[tuple[str, Any]]],
    *,
    kinds: list[str] | None = None,
    sortable: bool = False,
    sorted_by: int | None = None,
    best_row: int | None = None,
    links: list[str | None] | None = None,
    caption: str = "",
    css: str = "",
    column_classes: list[str] | None = None,
) -> str:
    """A table in its own horizontal scroll box. `sortable`: headers are buttons that sort;
    `sorted_by`: the column the rows come sorted by (ascending), marked with aria-sort;
    `best_row`: the row marked class="best"; `links`: per row, the id its first cell links to;
    `css`: the table's data-table name (the style's hook); `column_classes`: a class per column,
    on its header and cells ("hp": a hyperparameter's header on one line)."""
    kinds = kinds or ["text"] * len(header)
    extra = column_classes or [""] * len(header)
    head = "".join(
        _header_cell(name, sortable, column == sorted_by, extra[column])
        for column, name in enumerate(header)
    )
    body = []
    for index, row in enumerate(rows):
        link = links[index] if links else None
        cells = [
            _body_cell(text, sort, kind, link if column == 0 else None, extra[column])
            for column, ((text, sort), kind) in enumerate(zip(row, kinds, strict=True))
        ]
        row_class = ' class="best"' if index == best_row else ""
        body.append(f"<tr{row_class}>" + "".join(cells) + "</tr>")
    table_class = ' class="sortable"' if sortable else ""
    name = f' data-table="{css}"' if css else ""
    return (
        f'<div class="scroll"><table{table_class}{name}>{caption}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _header_cell(name: str, sortable: bool, sorted_here: bool, css: str = "") -> str:
    if css == "hp":  # a hyperparameter's name stays on one line; the title repeats it in full
        text, attributes = _e(name), f' class="hp" title="{_e(name)}"'
    else:  # <wbr> lets other long dotted names wrap at their dots
        text = _e(name).replace(".", ".<wbr>")
        attributes = f' class="{css}"' if css else ""
    if not sortable:
        return f'<th scope="col"{attributes}>{text}</th>'
    sort = ' aria-sort="ascending"' if sorted_here else ""
    return f'<th scope="col"{attributes}{sort}><button type="button">{text}</button></th>'


def _body_cell(text: str, sort: Any, kind: str, link: str | None = None, extra: str = "") -> str:
    sort_value = "" if sort is None or (isinstance(sort, float) and math.isnan(sort)) else sort
    css = " ".join(filter(None, [_css_class(text) if kind == "text" else "num", extra]))
    content = _label_html(text)
    if link:
        content = f'<a href="#{link}">{content}</a>'
    return f'<td class="{css}" data-sort="{_e(sort_value)}">{content}</td>'


def _css_class(text: str) -> str:
    if text in (TrialStatus.DIVERGED, TrialStatus.FAILED, TrialStatus.INTERRUPTED):
        return f"status-{text}"
    return "long" if len(text) > 24 else ""  # findings, next steps: wrap less


def _label_html(text: str) -> str:
    """A label cell: the label coloured, the uncertain parts after it plain."""
    for label in sorted(dx.LABELS, key=len, reverse=True):
        if text == label or text.startswith(label + " ("):
            rest = text[len(label) :]
            return f'<span class="lbl {label.replace(" ", "-")}">{_e(label)}</span>{_e(rest)}'
    return _e(text)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)
