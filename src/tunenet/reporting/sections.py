"""The report's sections as plain lines and table cells, shared by every renderer: what the
run is, the settings used, the best trial, its recommendations, the capacity curve, the trials
table and the summary of several runs. Renderers only lay these out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pandas as pd

from tunenet import diagnosis as dx
from tunenet.reporting.model import Failures, RunReport, TrialReport
from tunenet.runs import TrialStatus

SHORT_FINDINGS = {
    "diverged": "diverged at epoch {epoch}",
    "still_improving": "still improving at epoch {epoch}",
    "overfitting": "overfitting from epoch {epoch}",
    "stopped_early": "stopped early at epoch {epoch}",
}
Cell = tuple[str, Any]  # (text shown, value to sort by)
SUMMARY_HEADER = ["run", "status", "trials", "best trial", "best objective", "verdict"]
CAPACITY_PLOT = "capacity.png"  # shown in the capacity section, not with the other plots


def about_lines(report: RunReport) -> list[str]:
    manifest = report.run.manifest or {}
    lines = [f"status {manifest.get('status', 'unknown (no manifest.json)')}"]
    data = manifest.get("data")
    if isinstance(data, dict) and data.get("source"):
        sizes = data.get("sizes") if isinstance(data.get("sizes"), dict) else {}
        split = "".join(f"; {k} {v}" for k, v in sizes.items())
        lines.append(f"data {data['source']} ({data.get('task', 'task unknown')}{split})")
    o = report.objective
    lines.append(f"objective {o.name}, {o.goal} (source: {o.source})")
    return lines


def setting_lines(report: RunReport) -> list[str]:
    s = report.settings
    limit = s.epoch_limit.value if s.epoch_limit.value is not None else "unknown"
    return [
        f"target error {s.target_error.value:g} ({s.target_error.source}), "
        f"bias threshold {s.bias_threshold.value:g} ({s.bias_threshold.source}), "
        f"variance threshold {s.variance_threshold.value:g} ({s.variance_threshold.source})",
        f"epoch limit {limit} ({s.epoch_limit.source})",
    ]


def shown_note(report: RunReport) -> str:
    """After the trials table's title when `--top` cut it: " (best 10 of 40)"; else ""."""
    if len(report.trials) < report.total_trials:
        return f" (best {len(report.trials)} of {report.total_trials})"
    return ""


def hp_names(report: RunReport) -> list[str]:
    return [c[len("hp.") :] for c in report.run.trials.columns if c.startswith("hp.")]


def short_findings(trial: TrialReport) -> str:
    """The findings in a few words; a failed trial's message when it has no finding."""
    if not trial.findings and trial.message:
        return trial.message if len(trial.message) <= 80 else trial.message[:77] + "..."
    return "; ".join(SHORT_FINDINGS[f.kind].format(epoch=f.epoch) for f in trial.findings)


def next_step(trial: TrialReport) -> str:
    if not trial.recommendations:
        return ""
    rec = trial.recommendations[0]
    return f"{rec.action} {rec.key}" + (
        f" to {dx.format_value(rec.value)}" if rec.value is not None else ""
    )


def trial_columns(report: RunReport) -> list[tuple[str, str, Callable[[TrialReport], Cell]]]:
    """(header, kind, cell) of the trials table in markdown and HTML: the diagnosis first, the
    hyperparameters after it. Columns of kind "num" sort as numbers."""

    def fit_cell(attribute: str) -> Callable[[TrialReport], Cell]:
        def cell(t: TrialReport) -> Cell:
            value = getattr(t.fit, attribute) if t.fit else None
            return dx.points(value), value

        return cell

    def hp_cell(name: str) -> Callable[[TrialReport], Cell]:
        return lambda t: (dx.format_value(t.hyperparameters.get(name)), t.hyperparameters.get(name))

    def text(value: str) -> Cell:
        return value, value

    columns: list[tuple[str, str, Callable[[TrialReport], Cell]]] = [
        ("rank", "num", lambda t: (str(t.rank or ""), t.rank)),
        ("trial", "text", lambda t: text(t.trial_id)),
        ("status", "text", lambda t: text(t.status)),
        (report.objective.name, "num", lambda t: (dx.format_value(t.objective), t.objective)),
        ("train error", "num", lambda t: (dx.percent(t.train_error), t.train_error)),
        ("val error", "num", lambda t: (dx.percent(t.val_error), t.val_error)),
    ]
    if any(t.test_error is not None for t in report.trials):
        columns.append(("test error", "num", lambda t: (dx.percent(t.test_error), t.test_error)))
    columns += [
        ("bias", "num", fit_cell("avoidable_bias")),
        ("variance", "num", fit_cell("variance")),
        ("diagnosis", "text", lambda t: text(t.label or "")),
        ("findings", "text", lambda t: text(short_findings(t))),
        ("next", "text", lambda t: text(next_step(t))),
    ]
    for name in hp_names(report):
        kind = "num" if _numeric_hp(report, name) else "text"
        columns.append((name, kind, hp_cell(name)))
    return columns


def _numeric_hp(report: RunReport, name: str) -> bool:
    column = report.run.trials[f"hp.{name}"]
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def best_lines(report: RunReport, hyperparameters: bool = True) -> list[str]:
    """Plain lines about the best trial (shared by markdown, table and `best_trial_text`)."""
    best = report.best
    if best is None:
        return ["No completed trial."]
    errors = (
        f"train error {dx.percent(best.train_error)}, validation error {dx.percent(best.val_error)}"
    )
    if best.test_error is not None:
        errors += f", test error {dx.percent(best.test_error)}"
    score = f"{report.objective.name} {dx.format_value(best.objective)}"
    lines = [f"Best trial {best.trial_id}: {score}; {errors}."]
    if hyperparameters and best.hyperparameters:
        lines.append(
            "Hyperparameters: "
            + ", ".join(f"{k}={dx.format_value(v)}" for k, v in best.hyperparameters.items())
        )
    if best.fit:
        lines.append(
            f"Diagnosis: {best.fit.label} (avoidable bias {dx.points(best.fit.avoidable_bias)}, "
            f"variance {dx.points(best.fit.variance)})."
        )
    lines += [f"Finding: {f.text}." for f in best.findings]
    return lines


def recommendation_lines(trial: TrialReport) -> list[str]:
    lines = []
    for rec in trial.recommendations:
        line = rec.text
        if rec.evidence:
            verb = {True: "agrees", False: "disagrees", None: "says"}[rec.agrees]
            line += f" The search {verb}: {rec.evidence}."
        lines.append(line)
    return lines


def capacity_plot(report: RunReport) -> Path | None:
    return next((p for p in report.plots if p.name == CAPACITY_PLOT), None)


def other_plots(report: RunReport) -> list[Path]:
    """The plots of the Plots section: all but the capacity curve, shown in its own section."""
    return [p for p in report.plots if p.name != CAPACITY_PLOT]


def capacity_about(curve: dx.CapacityCurve) -> str:
    return (
        "The capacity search grows the network one step per trial, units (filters) per layer "
        "first, then layers. Size: layers × units per layer (widths joined with - when they "
        f"differ); hidden units: their sum. min_delta {curve.min_delta:g} (search.min_delta)."
    )


def capacity_line(report: RunReport) -> str:
    assert report.capacity is not None
    return dx.capacity_sentence(report.capacity)


def capacity_table(report: RunReport) -> tuple[list[str], list[list[Cell]]]:
    """(header, rows of (text, sort value)) of the capacity table, in trial order."""
    curve = report.capacity
    assert curve is not None
    header = ["trial", "size", "hidden units", report.objective.name, "train error", "val error"]
    rows = []
    for step in curve.steps:
        notes = []
        if step.trial_id == curve.best:
            notes.append("best")
        if step.trial_id == curve.stopped_after:
            notes.append("growth stopped paying after this step")
        if step.status != TrialStatus.COMPLETED:
            notes.append(step.status)
        rows.append(
            [
                (step.trial_id, step.trial_id),
                (step.label, step.size),
                (dx.format_value(step.size), step.size),
                (dx.format_value(step.objective), step.objective),
                (dx.percent(step.train_error), step.train_error),
                (dx.percent(step.val_error), step.val_error),
                ("; ".join(notes), "; ".join(notes)),
            ]
        )
    return [*header, "note"], rows


def texts(rows: list[list[Cell]]) -> list[list[str]]:
    return [[text for text, _ in row] for row in rows]


def summary_rows(reports: list[RunReport], failures: Failures | None) -> list[list[str]]:
    rows = []
    for r in reports:
        best = r.best
        objective = f"{r.objective.name} {dx.format_value(best.objective)}" if best else ""
        trials = f"{r.counts.get(TrialStatus.COMPLETED, 0)}/{r.total_trials} completed"
        status = (r.run.manifest or {}).get("status", "unknown")
        rows.append(
            [r.run.name, str(status), trials, best.trial_id if best else "", objective, r.headline]
        )
    rows += [[p.name, "unreadable", "", "", "", m] for p, m in failures or []]
    return rows
