"""The report in the terminal: Rich renderables, the same as plain text for `--out`, and the best
trial in a few lines for the end of `tunenet search`.
"""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console, Group, RenderableType
from rich.text import Text

from tunenet import diagnosis as dx
from tunenet.errors import shell_command
from tunenet.reporting.model import Failures, RunReport, build_report, resolve_settings
from tunenet.reporting.rich_table import FittedTable, short_names
from tunenet.reporting.sections import (
    SUMMARY_HEADER,
    about_lines,
    balance_lines,
    baseline_lines,
    best_lines,
    bias_cell,
    capacity_line,
    capacity_table,
    effect_summary,
    effects_about,
    error_cell,
    hp_names,
    insight_sections,
    intervals_line,
    label_cell,
    recommendation_lines,
    setting_lines,
    short_findings,
    shown_note,
    summary_rows,
    texts,
    variance_cell,
)
from tunenet.runs import load_run

TEXT_WIDTH = 120  # of the plain-text table written by --out


def render_rich(reports: list[RunReport], failures: Failures | None = None) -> list[RenderableType]:
    """Renderables for the terminal: a summary of several runs, then each run. Every table fits
    the console's width (`FittedTable`): cells wrap, or the table splits, never cut."""
    items: list[RenderableType] = []
    if len(reports) > 1 or failures:
        items += [FittedTable("Runs", SUMMARY_HEADER, summary_rows(reports, failures)), Text("")]
    for report in reports:
        items += _run_rich(report)
    return items


def _run_rich(report: RunReport) -> list[RenderableType]:
    items: list[RenderableType] = [Text(f"Run {report.run.name}", style="bold")]
    items += [Text(line, style="dim") for line in about_lines(report)]
    items += [Text(f"diagnosis: {line}", style="dim") for line in setting_lines(report)]
    items.append(Text(f"intervals: {intervals_line(report)}", style="dim"))
    classes = balance_lines(report)  # before the table: accuracy there can mislead
    if classes:
        items += [Text(""), Text("Classes:", style="bold")]
        items += [Text(f"  {line}", style="yellow") for line in classes]
    items += [Text(""), _trials_rich(report), Text("")]
    items += [Text(line) for line in best_lines(report, balance=False) + baseline_lines(report)]
    if report.best and report.best.recommendations:
        items.append(Text("Recommendations:"))
        items += [
            Text(f"  {i}. {line}") for i, line in enumerate(recommendation_lines(report.best), 1)
        ]
    for title, lines in insight_sections(report):
        items += [Text(""), Text(f"{title}:", style="bold")]
        items += [Text(f"  {line}") for line in lines]
    if report.capacity:
        items += _capacity_rich(report)
    if report.effects:
        items += _effects_rich(report)
    items += [Text(""), Text("Verdict: ", style="bold") + Text(report.verdict), Text("")]
    return items


def _trials_rich(report: RunReport) -> FittedTable:
    """The trials, best first: rank, id, status, objective, then the hyperparameters each trial
    ran with, then its errors and diagnosis. Too wide for the console: the hyperparameters take
    their short names with a legend, then the table splits, rank and trial in every part."""
    names = hp_names(report)
    header = ["#", "trial", "status", report.objective.name, *names]
    header += ["train err", "val err", "bias", "variance", "diagnosis", "findings"]
    rows = [
        [
            str(t.rank or ""),
            t.trial_id,
            t.status,
            dx.format_value(t.objective),
            *(dx.format_value(t.hyperparameters.get(name)) for name in names),
            error_cell(t, "train"),
            error_cell(t, "val"),
            bias_cell(t),
            variance_cell(t),
            label_cell(t),
            short_findings(t),
        ]
        for t in report.trials
    ]
    numbers = {"#", "train err", "val err", "bias", "variance"}
    title = f"Trials{shown_note(report)}"
    return FittedTable(title, header, rows, numbers, keys=2, short=short_names(names))


def _capacity_rich(report: RunReport) -> list[RenderableType]:
    """The capacity curve: its sentence, then one row per step of growth."""
    line = capacity_line(report)
    header, rows = capacity_table(report)
    numbers = {"hidden units", report.objective.name, "train error", "val error"}
    return [
        Text(""),
        Text("Capacity curve: ", style="bold") + Text(line[0].lower() + line[1:]),
        Text(""),
        FittedTable("Capacity", header, texts(rows), numbers),
    ]


def _effects_rich(report: RunReport) -> list[RenderableType]:
    """What the hyperparameters did (tested against the noise), then the mean objective per
    value; * marks the best value of an effect larger than the noise."""
    header, rows = effect_summary(report)
    summary = FittedTable("Hyperparameter effects", header, texts(rows), set(header[1:4]))
    means_rows = [
        [
            effect.hyperparameter if i == 0 else "",
            row.value + (" *" if effect.significant and row.value == effect.best_value else ""),
            str(row.trials),
            f"{row.mean_objective:.4g}",
        ]
        for effect in report.effects
        for i, row in enumerate(effect.rows)
    ]
    means = FittedTable(
        f"Mean {report.objective.name} per value",
        ["hyperparameter", "value", "trials", "mean"],
        means_rows,
        {"trials", "mean"},
    )
    about = Text(effects_about(report), style="dim")
    return [Text(""), summary, about, Text(""), means]


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
    lines = best_lines(report, hyperparameters=False) + baseline_lines(report)[:1]
    if report.best and report.best.recommendations:
        lines.append("Next: " + recommendation_lines(report.best)[0])
    lines.append(f"Full report: {shell_command('tunenet', 'report', run_dir)}")
    return "\n".join(lines)
