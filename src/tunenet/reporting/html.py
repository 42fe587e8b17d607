"""The report as one self-contained HTML file: inline style and script, plots as data: URIs,
tables sortable by a click (or Enter) on a header, readable on a phone and in dark mode. Nothing
is loaded from the network. Several runs: a summary with one row per run, each linking to the
run's section.
"""

from __future__ import annotations

import base64
import html
import math
import re
from pathlib import Path
from typing import Any

from tunenet import diagnosis as dx
from tunenet.reporting.model import Failures, RunReport, TrialReport
from tunenet.reporting.sections import (
    SUMMARY_HEADER,
    about_lines,
    baseline_lines,
    best_lines,
    capacity_about,
    capacity_line,
    capacity_plot,
    capacity_table,
    effect_caption,
    effect_summary,
    effects_about,
    insight_sections,
    intervals_line,
    other_plots,
    recommendation_lines,
    setting_lines,
    shown_note,
    summary_rows,
    trial_columns,
)
from tunenet.runs import TrialStatus

# Colours are variables so that dark mode (prefers-color-scheme) only swaps the palette. Wide
# tables scroll in their own box (.scroll) so that the page never scrolls sideways on a phone.
HTML_STYLE = """
:root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--muted:#57606a;--line:#d0d7de;
--head:#f6f8fa;--stripe:#f6f8fa;--accent:#0969da;--best:#fff8c5;--bad:#cf222e;
--good-fit:#dafbe1;--high-bias:#fff1c2;--high-variance:#ddf4ff;--both:#ffd8d3;--grey:#eaeef2}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;
--line:#3d444d;--head:#151b23;--stripe:#151b23;--accent:#4493f8;--best:#3b2e00;--bad:#ff7b72;
--good-fit:#1b4721;--high-bias:#4b3800;--high-variance:#0c3a5e;--both:#5d1f1a;--grey:#2f353d}}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;
max-width:1200px;padding:0 1rem;color:var(--fg);background:var(--bg);overflow-wrap:break-word}
a{color:var(--accent)}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid var(--line)}
.meta{color:var(--muted);margin:.2rem 0}
.verdict{background:var(--head);border-left:4px solid var(--accent);padding:.8rem 1rem}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.6rem 0;font-size:13px}
th,td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
th{background:var(--head)}tbody tr:nth-child(even){background:var(--stripe)}
th button{all:inherit;display:inline;cursor:pointer;padding:0;border:0;background:none}
th button:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
table.sortable th button::after{content:"\\a0\\2195";color:var(--muted)}
table.sortable th[aria-sort=ascending] button::after{content:"\\a0\\2191";color:var(--fg)}
table.sortable th[aria-sort=descending] button::after{content:"\\a0\\2193";color:var(--fg)}
tr.best td{background:var(--best);font-weight:600}
tr.best td:first-child{box-shadow:inset 4px 0 var(--accent)}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.long{min-width:13em}
.lbl{border-radius:4px;padding:0 5px;white-space:nowrap;color:var(--fg)}
.good-fit{background:var(--good-fit)}.high-bias{background:var(--high-bias)}
.high-variance{background:var(--high-variance)}.high-bias-and-high-variance{background:var(--both)}
.not-learning{background:var(--both)}.uncertain,.pruned{background:var(--grey)}
.status-diverged,.status-failed,.diverged,.failed{color:var(--bad)}
.effects{display:flex;flex-wrap:wrap;gap:1.2rem}.effects>div{min-width:0;max-width:100%}
.effects table{margin:0}
img{max-width:100%;height:auto;border:1px solid var(--line);margin:.5rem 0;background:#fff}
@media (max-width:600px){body{margin:1rem auto;padding:0 .6rem}h1{font-size:1.3rem}}
"""


# A click (or Enter/Space: headers are buttons) sorts by that column: ascending first, again for
# descending. Numbers sort as numbers, text as text, empty cells last either way. aria-sort moves
# to the sorted column.
HTML_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  headers.forEach(function (th, column) {
    th.querySelector("button").addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute("data-sort");
        var y = b.cells[column].getAttribute("data-sort");
        if (x === "" || y === "") { return (x === "") - (y === ""); }
        var nx = Number(x), ny = Number(y);
        var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


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
        parts += _run_html(report)
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


def _summary_table(reports: list[RunReport], failures: Failures | None, anchors: list[str]) -> str:
    """One row per run (unreadable runs last, without a link: they have no section)."""
    rows = [[(cell, cell) for cell in row] for row in summary_rows(reports, failures)]
    links: list[str | None] = [*anchors, *[None] * (len(rows) - len(anchors))]
    return _html_table(SUMMARY_HEADER, rows, links=links)


def _run_html(report: RunReport) -> list[str]:
    parts = [f"<h1>{_e(report.run.name)}</h1>"]
    parts += [f'<p class="meta">{_e(line)}</p>' for line in about_lines(report)]
    parts += [f'<p class="meta">diagnosis: {_e(line)}</p>' for line in setting_lines(report)]
    parts.append(f'<p class="meta">intervals: {_e(intervals_line(report))}</p>')
    parts += [
        "<h2>Verdict</h2>",
        f'<p class="verdict">{_e(report.verdict)}</p>',
        "<h2>Best trial</h2>",
    ]
    lines = best_lines(report) + baseline_lines(report)
    parts.append("<ul>" + "".join(f"<li>{_e(line)}</li>" for line in lines) + "</ul>")
    if report.best and report.best.recommendations:
        items = "".join(f"<li>{_e(line)}</li>" for line in recommendation_lines(report.best))
        parts.append(f"<p>Recommendations:</p><ol>{items}</ol>")
    for title, lines in insight_sections(report):
        items = "".join(f"<li>{_e(line)}</li>" for line in lines)
        parts.append(f"<h2>{_e(title)}</h2><ul>{items}</ul>")
    if report.capacity:
        header, cells = capacity_table(report)
        parts += [
            "<h2>Capacity curve</h2>",
            f'<p class="meta">{_e(capacity_about(report.capacity))}</p>',
            f'<p class="verdict">{_e(capacity_line(report))}</p>',
            _html_table(header, cells, kinds=["text", "text", "num", "num", "num", "num", "text"]),
        ]
        plot = capacity_plot(report)
        if plot:
            parts.append(_html_image(plot))
    parts += _trials_html(report)
    if report.effects:
        parts += _effects_html(report)
    if other_plots(report):
        parts.append("<h2>Plots</h2>")
        parts += [_html_image(plot) for plot in other_plots(report)]
    return parts


def _trials_html(report: RunReport) -> list[str]:
    """The trials table, best first (so the rank column is marked as sorted), the best trial's
    row highlighted."""
    trials = sorted(report.trials, key=_rank_order)  # stable: the model's order among ties
    columns = trial_columns(report)
    header = [name for name, _, _ in columns]
    best = report.best.trial_id if report.best else None
    table = _html_table(
        header,
        [[cell(t) for _, _, cell in columns] for t in trials],
        kinds=[kind for _, kind, _ in columns],
        sortable=True,
        sorted_by=header.index("rank"),
        best_row=next((i for i, t in enumerate(trials) if t.trial_id == best), None),
    )
    note = "Click a column header to sort." + (
        " The best trial's row is highlighted." if best else ""
    )
    return [f"<h2>Trials{shown_note(report)}</h2>", f'<p class="meta">{note}</p>', table]


def _rank_order(trial: TrialReport) -> tuple[bool, int]:
    return trial.rank is None, trial.rank or 0


def _effects_html(report: RunReport) -> list[str]:
    header, cells = effect_summary(report)
    parts = [
        f'<h2>Hyperparameter effects</h2><p class="meta">{_e(effects_about(report))}</p>',
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


def _html_image(plot: Path) -> str:
    data = base64.b64encode(plot.read_bytes()).decode("ascii")
    return f'<img alt="{_e(plot.stem.replace("_", " "))}" src="data:image/png;base64,{data}">'


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
) -> str:
    """A table in its own horizontal scroll box. `sortable`: headers are buttons that sort;
    `sorted_by`: the column the rows come sorted by (ascending), marked with aria-sort;
    `best_row`: the row marked class="best"; `links`: per row, the id its first cell links to."""
    kinds = kinds or ["text"] * len(header)
    head = "".join(
        _header_cell(name, sortable, column == sorted_by) for column, name in enumerate(header)
    )
    body = []
    for index, row in enumerate(rows):
        link = links[index] if links else None
        cells = [
            _body_cell(text, sort, kind, link if column == 0 else None)
            for column, ((text, sort), kind) in enumerate(zip(row, kinds, strict=True))
        ]
        row_class = ' class="best"' if index == best_row else ""
        body.append(f"<tr{row_class}>" + "".join(cells) + "</tr>")
    table_class = ' class="sortable"' if sortable else ""
    return (
        f'<div class="scroll"><table{table_class}>{caption}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _header_cell(name: str, sortable: bool, sorted_here: bool) -> str:
    # <wbr> lets long dotted names (optimizer.learning_rate) wrap at their dots
    text = _e(name).replace(".", ".<wbr>")
    if not sortable:
        return f'<th scope="col">{text}</th>'
    sort = ' aria-sort="ascending"' if sorted_here else ""
    return f'<th scope="col"{sort}><button type="button">{text}</button></th>'


def _body_cell(text: str, sort: Any, kind: str, link: str | None = None) -> str:
    sort_value = "" if sort is None or (isinstance(sort, float) and math.isnan(sort)) else sort
    css = _css_class(text) if kind == "text" else "num"
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
