"""Rich renderables for the search: its space (`tunenet validate`) and its end (`tunenet search`).

Needs neither pandas nor the report model: `validate` stays light.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text

from tunenet.config.sections import Config
from tunenet.config.space import HyperParameter
from tunenet.reporting.rich_table import FittedTable, short_names


def space_table(config: Config, hps: list[HyperParameter]) -> Any:
    """The search space of `tunenet validate`: name, kind, values or range, condition; as wide
    as the console (`FittedTable`: values wrap, never cut)."""
    if not hps:
        return Text("no tuned hyperparameters: every key is fixed (one trial).")
    rows = [
        [
            hp.name,
            hp.kind,
            hp.describe(),
            f"{hp.parent} in {list(hp.parent_values)}" if hp.parent else "",
        ]
        for hp in hps
    ]
    header = ["hyperparameter", "kind", "values", "active when"]
    return FittedTable(f"search space of {config.name or 'config'}", header, rows)


def _cell(value: Any) -> str:
    if value is None or value == "":
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return str(value) if isinstance(value, (bool, int)) else f"{number:.4g}"


NUMBERS = ("objective", "train_error", "val_error")


def search_summary(summary: Any) -> Any:
    """The trials of a finished search, best first (at most 20), and where the files are; as
    wide as the console: long hyperparameter names shortened with a legend, then the table
    split, the trial id repeated."""
    objective = summary.objective
    rows = [row for row in summary.rows if row.get("objective") not in (None, "")]
    rows.sort(key=lambda row: objective.sort_key(row["objective"]))  # best first
    rows += [row for row in summary.rows if row.get("objective") in (None, "")]
    hp_columns = sorted({key for row in summary.rows for key in row if key.startswith("hp.")})
    names = [column.removeprefix("hp.") for column in hp_columns]
    header = ["trial", "status", objective.name, "train_error", "val_error", *names]
    cells = [
        [row["trial_id"], row["status"], *(_cell(row.get(c)) for c in [*NUMBERS, *hp_columns])]
        for row in rows[:20]
    ]
    table = FittedTable(
        f"run {summary.run.name}: {len(summary.rows)} trial(s)",
        header,
        cells,
        set(header[2:5]),
        short=short_names(names),  # long names give way to short ones before the table splits
    )
    lines = [table]
    if summary.best is not None:
        best = summary.best
        kept = getattr(summary, "kept", None) or best  # the trial best/ holds (search.keep)
        held = "" if kept is best else f"; kept trial {kept['trial_id']}, the simplest tied"
        lines.append(
            Text(
                f"best trial {best['trial_id']}: {objective.name} {_cell(best['objective'])}"
                f"{held}, test error {_cell(kept.get('test_error')) or 'n/a'}; "
                f"model saved in {summary.run.best_model_file} ({summary.seconds}s)"
            )
        )
    if getattr(summary, "stopped", ""):  # a stop rule ended it (docs/guide.md)
        lines.append(Text(f"stopped: {summary.stopped}"))
    if summary.message:
        lines.append(Text(f"error: {summary.message}"))
    lines.append(Text(f"run directory: {summary.run.path}"))
    return Group(*lines)
