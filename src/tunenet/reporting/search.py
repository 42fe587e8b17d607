"""Rich renderables for the search: its space (`tunenet validate`) and its end (`tunenet search`).

Needs neither pandas nor the report model: `validate` stays light.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tunenet.config import Config
from tunenet.space import HyperParameter


def space_table(config: Config, hps: list[HyperParameter]) -> Any:
    """The search space of `tunenet validate`: name, kind, values or range, condition."""
    table = Table(title=f"search space of {config.name or 'config'}", title_justify="left")
    for column in ("hyperparameter", "kind", "values", "active when"):
        table.add_column(column)
    for hp in hps:
        when = f"{hp.parent} in {list(hp.parent_values)}" if hp.parent else ""
        table.add_row(Text(hp.name), hp.kind, Text(hp.describe()), Text(when))
    if not hps:
        return Text("no tuned hyperparameters: every key is fixed (one trial).")
    return table


def _cell(value: Any) -> str:
    if value is None or value == "":
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(value) if isinstance(value, (bool, int)) else f"{number:.4g}"


def search_summary(summary: Any) -> Any:
    """The trials of a finished search, best first, and where the files are."""
    objective = summary.objective
    rows = [row for row in summary.rows if row.get("objective") not in (None, "")]
    rows.sort(key=lambda row: objective.sort_key(row["objective"]))  # best first
    rows += [row for row in summary.rows if row.get("objective") in (None, "")]
    hp_columns = sorted({key for row in summary.rows for key in row if key.startswith("hp.")})
    table = Table(
        title=f"run {summary.run.name}: {len(summary.rows)} trial(s)", title_justify="left"
    )
    for column in ("trial", "status", objective.name, "train_error", "val_error", *hp_columns):
        table.add_column(column.removeprefix("hp."))
    for row in rows[:20]:
        cells = [row.get("objective"), row.get("train_error"), row.get("val_error"),
                 *(row.get(column) for column in hp_columns)]  # fmt: skip
        table.add_row(row["trial_id"], row["status"], *(Text(_cell(cell)) for cell in cells))
    lines = [table]
    if summary.best is not None:
        best = summary.best
        lines.append(
            Text(
                f"best trial {best['trial_id']}: {objective.name} {_cell(best['objective'])}, "
                f"test error {_cell(best.get('test_error')) or 'n/a'}; "
                f"model saved in {summary.run.best_model_file} ({summary.seconds}s)"
            )
        )
    if summary.message:
        lines.append(Text(f"error: {summary.message}"))
    lines.append(Text(f"run directory: {summary.run.path}"))
    return Group(*lines)
