"""The report as markdown: one run, or a summary table of several runs then each run."""

from __future__ import annotations

from pathlib import Path

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
    texts,
    trial_columns,
)


def render_markdown(
    reports: list[RunReport], failures: Failures | None = None, base: Path | None = None
) -> str:
    """Markdown of one run, or a summary table then each run. Image links are relative to
    `base` (the directory the markdown file is written to); None: the plots' own paths."""
    lines: list[str] = []
    if len(reports) > 1 or failures:
        lines += [
            "# tunenet report",
            "",
            *_md_table(SUMMARY_HEADER, summary_rows(reports, failures)),
            "",
        ]
    for report in reports:
        lines += _run_markdown(report, base, level=2 if len(reports) > 1 or failures else 1)
    return "\n".join(lines).rstrip() + "\n"


def _run_markdown(report: RunReport, image_base: Path | None, level: int) -> list[str]:
    h = "#" * level
    lines = [f"{h} tunenet report: {report.run.name}", ""]
    lines += [f"- {line}" for line in about_lines(report)]
    lines += [f"- diagnosis settings: {line}" for line in setting_lines(report)]
    lines.append(f"- intervals: {intervals_line(report)}")
    lines += ["", f"{h}# Verdict", "", report.verdict, "", f"{h}# Best trial", ""]
    lines += [f"- {line}" for line in best_lines(report) + baseline_lines(report)]
    if report.best and report.best.recommendations:
        lines += ["", "Recommendations:", ""]
        lines += [f"{i}. {line}" for i, line in enumerate(recommendation_lines(report.best), 1)]
    for title, section in insight_sections(report):
        lines += ["", f"{h}# {title}", "", *(f"- {_md(line)}" for line in section)]
    if report.capacity:
        header, cells = capacity_table(report)
        lines += ["", f"{h}# Capacity curve", "", capacity_about(report.capacity), ""]
        lines += [capacity_line(report), "", *_md_table(header, texts(cells))]
        plot = capacity_plot(report)
        if plot:
            lines += ["", f"![capacity curve]({_relative(plot, image_base)})"]
    shown = shown_note(report)
    columns = trial_columns(report)
    header = [name for name, _, _ in columns]
    rows = [[cell(t)[0] for _, _, cell in columns] for t in report.trials]
    lines += ["", f"{h}# Trials{shown}", "", *_md_table(header, rows)]
    if report.effects:
        header, cells = effect_summary(report)
        lines += ["", f"{h}# Hyperparameter effects", "", effects_about(report), ""]
        lines += _md_table(header, texts(cells))
        for effect in report.effects:
            rows = [[r.value, str(r.trials), f"{r.mean_objective:.4g}"] for r in effect.rows]
            lines += ["", f"**{effect.hyperparameter}** ({effect_caption(effect)})", ""]
            lines += _md_table(["value", "trials", f"mean {report.objective.name}"], rows)
    if other_plots(report):
        lines += ["", f"{h}# Plots", ""]
        for plot in other_plots(report):
            target = _relative(plot, image_base)
            lines += [f"![{plot.stem.replace('_', ' ')}]({target})", ""]
    return lines + [""]


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return lines


def _relative(path: Path, base: Path | None) -> str:
    if base is None:
        return path.as_posix()
    try:
        return Path(path).resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()
