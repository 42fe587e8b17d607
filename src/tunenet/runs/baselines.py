"""baselines.csv (docs/report.md): the reference models fitted at the start of a search.

Columns, in this order: `model, train_error, val_error, test_error` (empty without a test split),
`seconds`, then `train_error_se, val_error_se, test_error_se` (regression) and `train_log_loss,
val_log_loss, val_log_loss_se` (classification); docs/run-format.md. Files written before the
last six columns existed still read, those cells unknown (None). Written once, atomically; a
resumed search reuses a readable file instead of fitting again. How the models were fitted (a
subsample, a model left out) is in manifest.json's `baselines`.
"""

from __future__ import annotations

import csv
import math
from typing import Any, Optional

from tunenet.runs.files import csv_line, write_atomic
from tunenet.runs.paths import RunDir

FIRST_COLUMNS = ("model", "train_error", "val_error", "test_error", "seconds")
BASELINE_COLUMNS = (
    *FIRST_COLUMNS,
    "train_error_se", "val_error_se", "test_error_se",  # regression
    "train_log_loss", "val_log_loss", "val_log_loss_se",  # classification
)  # fmt: skip


def write_baselines(run: RunDir, rows: list[dict[str, Any]]) -> None:
    """Write baselines.csv: one row per model (keys: BASELINE_COLUMNS; a missing one is empty)."""
    lines = [csv_line(BASELINE_COLUMNS)]
    lines += [csv_line(row.get(column) for column in BASELINE_COLUMNS) for row in rows]
    write_atomic(run.baselines_file, "".join(lines))


def read_baseline_rows(run: RunDir) -> Optional[list[dict[str, Any]]]:
    """The rows of a complete baselines.csv (numbers as floats, empty cells as None), or None
    when the file is missing, unreadable, lacks a column or holds no model with a validation
    error: then the search fits the baselines again. A file with only the first five columns
    (written before the others existed) reads, with the others None."""
    try:
        with open(run.baselines_file, encoding="utf-8", newline="") as file:
            reader = csv.DictReader(file)
            header = tuple(reader.fieldnames or ())
            if header[: len(FIRST_COLUMNS)] != FIRST_COLUMNS:
                return None
            rows = [_parsed(row) for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error, ValueError):
        return None
    if not rows or any(not row["model"] or row["val_error"] is None for row in rows):
        return None
    return rows


def has_task_columns(rows: list[dict[str, Any]], regression: bool) -> bool:
    """Whether rows read back carry their task's newer cells (regression: `val_error_se`;
    classification: `val_log_loss`) in at least one row: a file written before them lacks them."""
    column = "val_error_se" if regression else "val_log_loss"
    return any(row.get(column) is not None for row in rows)


def _parsed(row: dict[str, Any]) -> dict[str, Any]:
    """A row read back: the model name, the other cells as floats (empty, nan or a column the
    file lacks: None)."""
    parsed: dict[str, Any] = {"model": (row.get("model") or "").strip()}
    for column in BASELINE_COLUMNS[1:]:
        text = (row.get(column) or "").strip()
        number = float(text) if text else math.nan  # ValueError: not a complete file
        parsed[column] = number if math.isfinite(number) else None
    return parsed
