"""The run's files about what happened inside training (docs/run-format.md, docs/dynamics.md).

- `layers.csv`: per-layer dynamics of every trial, one row per trial × execution × epoch × layer,
  appended like epochs.csv (columns: LAYER_COLUMNS).
- `learning_curve.csv`: written at once by `tunenet learning-curve` (columns:
  LEARNING_CURVE_COLUMNS; `*_low`/`*_high` bound a 95% interval of each error).
- `best/confusion.json`: the best model's confusion matrix per split, written with
  best/model.keras so that `report` draws it without TensorFlow:
  `{"format_version": 1, "trial_id": "0003", "labels": ["0", "1"],
    "splits": {"val": [[50, 2], [3, 45]], "test": [[...]]}}`; rows are the true class, columns
  the predicted one, in the order of `labels`.

Readers return None when a file is absent, and add a warning (the report goes on without it)
when it is damaged.
"""

from __future__ import annotations

from typing import Any, Optional

import pandas as pd

from tunenet.runs.files import csv_line, read_json, write_atomic, write_json
from tunenet.runs.paths import FORMAT_VERSION, RunDir

LAYER_COLUMNS = (
    "trial_id",
    "execution",
    "epoch",
    "layer",
    "kind",
    "units",
    "grad_norm",
    "weight_norm",
    "update_ratio",
    "dead_fraction",
    "saturated_fraction",
)
LEARNING_CURVE_COLUMNS = (
    "fraction",
    "examples",
    "train_error",
    "train_error_low",
    "train_error_high",
    "val_error",
    "val_error_low",
    "val_error_high",
    "seconds",
)
LAYER_TEXT = ("trial_id", "layer", "kind")


def read_layers(run: RunDir, warnings: list[str]) -> Optional[pd.DataFrame]:
    """layers.csv as a table (trial ids and layer names as text, the rest numbers; the last
    execution of each trial and the last row of a (trial, epoch, layer) written twice), or None."""
    table = _read_table(run.layers_file, LAYER_COLUMNS, LAYER_TEXT, warnings)
    if table is None or table.empty:
        return table
    last = table.groupby("trial_id")["execution"].transform("max")
    table = table[table["execution"] == last].dropna(subset=["epoch"])
    table = table.astype({"epoch": int})
    return table.drop_duplicates(["trial_id", "epoch", "layer"], keep="last")


def write_learning_curve(run: RunDir, rows: list[dict[str, Any]]) -> None:
    """Write learning_curve.csv at once (keys: LEARNING_CURVE_COLUMNS; a missing one is empty)."""
    lines = [csv_line(LEARNING_CURVE_COLUMNS)]
    lines += [csv_line(row.get(column) for column in LEARNING_CURVE_COLUMNS) for row in rows]
    write_atomic(run.learning_curve_file, "".join(lines))


def read_learning_curve(run: RunDir, warnings: list[str]) -> Optional[pd.DataFrame]:
    """learning_curve.csv as a table of numbers sorted by fraction, or None."""
    table = _read_table(run.learning_curve_file, LEARNING_CURVE_COLUMNS, (), warnings)
    return None if table is None else table.sort_values("fraction").reset_index(drop=True)


def write_confusion(
    run: RunDir, trial_id: str, labels: list[str], splits: dict[str, list[list[int]]]
) -> None:
    """Write best/confusion.json atomically (see the module's docstring for the shape)."""
    payload = {
        "format_version": FORMAT_VERSION,
        "trial_id": trial_id,
        "labels": [str(label) for label in labels],
        "splits": {name: [[int(c) for c in row] for row in m] for name, m in splits.items()},
    }
    run.confusion_file.parent.mkdir(parents=True, exist_ok=True)
    write_json(run.confusion_file, payload)


def read_confusion(run: RunDir, warnings: list[str]) -> Optional[dict[str, Any]]:
    """best/confusion.json when it is present and well formed, or None."""
    path = run.confusion_file
    if not path.is_file():
        return None
    try:
        data = read_json(path)
        labels, splits = data["labels"], data["splits"]
        size = len(labels)
        for matrix in splits.values():
            if len(matrix) != size or any(len(row) != size for row in matrix):
                raise ValueError(f"a matrix is not {size} × {size}")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        warnings.append(f"{path}: unreadable ({error}); reporting without the confusion matrix.")
        return None
    return data


def _read_table(
    path: Any, columns: tuple[str, ...], text: tuple[str, ...], warnings: list[str]
) -> Optional[pd.DataFrame]:
    if not path.is_file():
        return None
    try:
        table = pd.read_csv(path, dtype={column: str for column in text})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as error:
        warnings.append(f"{path}: unreadable ({error}); reporting without it.")
        return None
    missing = [column for column in columns if column not in table.columns]
    if missing:
        warnings.append(f"{path}: missing column {', '.join(missing)}; reporting without it.")
        return None
    for column in columns:
        if column not in text:
            table[column] = pd.to_numeric(table[column], errors="coerce")
    return table
