"""The report in the terminal: Rich renderables, the same as plain text for `--out`, and the best
trial in a few lines for the end of `tunenet search`.
"""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from tunenet import diagnosis as dx
from tunenet.reporting.model import Failures, RunReport, build_report, resolve_settings
from tunenet.reporting.sections import (
    SUMMARY_HEADER,
    about_lines,
    best_lines,
    capacity_line,
    recommendation_lines,
    setting_lines,
    short_findings,
    shown_note,
    summary_rows,
)
from tunenet.runs import load_run

TEXT_WIDTH = 120  # of the plain-text table written by --out


def render_rich(reports: list[RunReport], failures: Failures | None = None) -> list[RenderableType]:
    """Renderables for the terminal: a summary of several runs, then each run."""
    items: list[RenderableType] = []
    if len(reports) > 1 or failures:
        table = Table(title=Text("Runs"), title_justify="left")
        for name in SUMMARY_HEADER:
            table.add_column(Text(name))
        for row in summary_rows(reports, failures):
            table.add_row(*[Text(c) for c in row])
        items += [table, Text("")]
    for report in reports:
        items += _run_rich(report)
    return items


def _run_rich(report: RunReport) -> list[RenderableType]:
    items: list[RenderableType] = [Text(f"Run {report.run.name}", style="bold")]
    items += [Text(line, style="dim") for line in about_lines(report)]
    items += [Text(f"diagnosis: {line}", style="dim") for line in setting_lines(report)]
    shown = shown_note(report)
    table = Table(title=Text(f"Trials{shown}"), title_justify="left")
    names = [
        "#",
        "trial",
        "status",
        report.objective.name,
        "train err",
        "val err",
        "bias",
        "variance",
        "diagnosis",
        "findings",
    ]
    for name in names:
        table.add_column(
            Text(name),
            justify="right"
            if name in ("#", "train err", "val err", "bias", "variance")
            else "left",
        )
    for t in report.trials:
        fit = t.fit
        table.add_row(
            *[
                Text(v)
                for v in (
                    str(t.rank or ""),
                    t.trial_id,
                    t.status,
                    dx.format_value(t.objective),
                    dx.percent(t.train_error),
                    dx.percent(t.val_error),
                    dx.points(fit.avoidable_bias) if fit else "",
                    dx.points(fit.variance) if fit else "",
                    t.label or "",
                    short_findings(t),
                )
            ]
        )
    items += [Text(""), table, Text("")]
    items += [Text(line) for line in best_lines(report)]
    if report.best and report.best.recommendations:
        items.append(Text("Recommendations:"))
        items += [
            Text(f"  {i}. {line}") for i, line in enumerate(recommendation_lines(report.best), 1)
        ]
    if report.capacity:
        items += [
            Text(""),
            Text("Capacity curve: ", style="bold")
            + Text(capacity_line(report)[0].lower() + capacity_line(report)[1:]),
        ]
    if report.effects:
        effects = Table(
            title=Text(f"Hyperparameter effects (mean {report.objective.name})"),
            title_justify="left",
        )
        for name in ("hyperparameter", "value", "trials", "mean"):
            effects.add_column(Text(name))
        for effect in report.effects:
            for i, row in enumerate(effect.rows):
                marker = " *" if row.value == effect.best_value else ""
                effects.add_row(
                    Text(effect.hyperparameter if i == 0 else ""),
                    Text(row.value + marker),
                    Text(str(row.trials)),
                    Text(f"{row.mean_objective:.4g}"),
                )
        items += [Text(""), effects]
    items += [Text(""), Text("Verdict: ", style="bold") + Text(report.verdict), Text("")]
    return items


def render_text(
    reports: list[RunReport], failures: Failures | None = None, base: Path | None = None
) -> str:
    """The terminal tables as plain text, TEXT_WIDTH columns wide (`--format table --out FILE`)."""
    console = Console(
        file=io.StringIO(), width=TEXT_WIDTH, color_system=None, markup=False, highlight=False
    )
    console.print(Group(*render_rich(reports, failures)))
    return console.file.getvalue()  # type: ignore[attr-defined]


def best_trial_text(run_dir: Path) -> str:
    """A few plain lines about a run's best trial: its diagnosis and the top recommendation.
    `tunenet search` prints them at the end.

    Raises:
        RunDirError: the run directory cannot be read.
    """
    run = load_run(run_dir)
    report = build_report(run, resolve_settings(run))
    lines = best_lines(report, hyperparameters=False)
    if report.best and report.best.recommendations:
        lines.append("Next: " + recommendation_lines(report.best)[0])
    lines.append(f"Full report: tunenet report {run_dir}")
    return "\n".join(lines)
