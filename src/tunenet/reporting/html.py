"""The report as one self-contained HTML file: inline style and script, plots as data: URIs,
tables sortable by a click on a header. Works offline.
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path
from typing import Any

from tunenet import diagnosis as dx
from tunenet.reporting.model import Failures, RunReport
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

HTML_STYLE = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1200px;
padding:0 1rem;color:#1f2328}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #d0d7de}
.meta{color:#57606a;margin:.2rem 0}.verdict{background:#f6f8fa;border-left:4px solid #0969da;
padding:.8rem 1rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:13px}
th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0}table.sortable th{cursor:pointer;user-select:none}
table.sortable th::after{content:" \\2195";color:#8c959f}
th.asc::after{content:" \\2191"}th.desc::after{content:" \\2193"}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.scroll{overflow-x:auto}td.long{min-width:13em}
.lbl{border-radius:4px;padding:0 5px;white-space:nowrap}
.good-fit{background:#dafbe1}.high-bias{background:#fff1c2}.high-variance{background:#ddf4ff}
.high-bias-and-high-variance{background:#ffd8d3}.status-diverged,.status-failed{color:#cf222e}
.not-learning{background:#ffd8d3}.uncertain{background:#eaeef2}.diverged,.failed{color:#cf222e}
.pruned{background:#eaeef2}
.effects{display:flex;flex-wrap:wrap;gap:1.2rem}.effects table{margin:0}
img{max-width:100%;border:1px solid #d0d7de;margin:.5rem 0}
"""


# Click a header to sort by it; numbers sort by their data-sort value, empty cells last.
HTML_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, column) {
    th.addEventListener("click", function () {
      var ascending = !th.classList.contains("asc");
      table.querySelectorAll("th").forEach(function (h) { h.classList.remove("asc", "desc"); });
      th.classList.add(ascending ? "asc" : "desc");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute("data-sort");
        var y = b.cells[column].getAttribute("data-sort");
        if (x === "" || y === "") { return (x === "") - (y === ""); }
        var nx = parseFloat(x), ny = parseFloat(y);
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
    where the file goes, does not matter)."""
    title = reports[0].run.name if len(reports) == 1 and not failures else "tunenet report"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>tunenet report: {_e(title)}</title><style>{HTML_STYLE}</style></head><body>",
    ]
    if len(reports) > 1 or failures:
        parts.append("<h1>tunenet report</h1>")
        parts.append(
            _html_table(
                SUMMARY_HEADER, [[(c, c) for c in row] for row in summary_rows(reports, failures)]
            )
        )
    for report in reports:
        parts += _run_html(report)
    parts.append(f"<script>{HTML_SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"


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
    shown = shown_note(report)
    parts.append(f'<h2>Trials{shown}</h2><p class="meta">Click a column header to sort.</p>')
    columns = trial_columns(report)
    rows = [[cell(t) for _, _, cell in columns] for t in report.trials]
    header = [name for name, _, _ in columns]
    kinds = [kind for _, kind, _ in columns]
    parts.append(_html_table(header, rows, kinds=kinds, sortable=True))
    if report.effects:
        about = effects_about(report)
        parts.append(f'<h2>Hyperparameter effects</h2><p class="meta">{_e(about)}</p>')
        header, cells = effect_summary(report)
        parts.append(_html_table(header, cells, kinds=EFFECT_KINDS, sortable=True))
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
                f"<caption><b>{_e(effect.hyperparameter)}</b> "
                f"({_e(effect_caption(effect))})</caption>"
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
    if other_plots(report):
        parts.append("<h2>Plots</h2>")
        parts += [_html_image(plot) for plot in other_plots(report)]
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
    caption: str = "",
) -> str:
    kinds = kinds or ["text"] * len(header)
    # <wbr> lets long dotted names (optimizer.learning_rate) wrap at their dots
    head = "".join(f"<th>{_e(h).replace('.', '.<wbr>')}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for (text, sort), kind in zip(row, kinds, strict=True):
            sort_value = (
                "" if sort is None or (isinstance(sort, float) and math.isnan(sort)) else sort
            )
            css = _css_class(text) if kind == "text" else "num"
            cells.append(f'<td class="{css}" data-sort="{_e(sort_value)}">{_label_html(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    table_class = ' class="sortable"' if sortable else ""
    return (
        f'<div class="scroll"><table{table_class}>{caption}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


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
