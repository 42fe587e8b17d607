"""Reading a run (finished or running) for `report`, `refine` and the Python API; never writing.

`load_run` gives trials.csv and epochs.csv as cleaned pandas tables (trial ids as strings) and
manifest.json and resolved.yaml as mappings; refine reads the rows and the config text as they are.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from tunenet.errors import RunDirError, printable
from tunenet.runs.baselines import BASELINE_COLUMNS, read_baseline_rows
from tunenet.runs.files import read_json, read_yaml
from tunenet.runs.insight import read_confusion, read_layers, read_learning_curve
from tunenet.runs.paths import FORMAT_VERSION, RunDir

TRIALS_REQUIRED = ("trial_id", "status", "train_error", "val_error")
EPOCHS_REQUIRED = ("trial_id", "epoch", "loss", "val_loss")
# trials.csv's columns that stay text (the others are numbers, and hp.* as written)
TEXT_COLUMNS = ("trial_id", "status", "message", "started_at", "finished_at", "worker")


@dataclass
class Run:
    """One run directory as read from disk. `warnings` collects problems that do not stop the
    report (an unreadable manifest, say); the caller logs them."""

    path: Path
    name: str
    trials: pd.DataFrame
    epochs: pd.DataFrame
    manifest: dict | None
    resolved: dict | None
    warnings: list[str] = field(default_factory=list)
    baselines: pd.DataFrame | None = None  # baselines.csv, when the search wrote one
    layers: pd.DataFrame | None = None  # layers.csv (training dynamics, docs/dynamics.md)
    learning_curve: pd.DataFrame | None = None  # learning_curve.csv (docs/guide.md)
    confusion: dict | None = None  # best/confusion.json (classification)


def is_run_dir(path: Path) -> bool:
    """A run directory holds trials.csv or epochs.csv."""
    files = RunDir(path)
    return files.trials_file.is_file() or files.epochs_file.is_file()


def find_runs(path: Path) -> list[Path]:
    """`[path]` when it is a run directory, else its sub-directories that are runs (sorted).

    Raises:
        RunDirError: the path does not exist, or holds no run.
    """
    if not path.exists():
        raise RunDirError(f"{path}: no such file or directory. Pass a run directory (runs/<name>).")
    if path.is_dir() and is_run_dir(path):
        return [path]
    runs = (
        sorted(p for p in path.iterdir() if p.is_dir() and is_run_dir(p)) if path.is_dir() else []
    )
    if not runs:
        raise RunDirError(
            f"{path} is not a run directory: neither it nor its sub-directories hold "
            "trials.csv or epochs.csv. Pass a directory written by `tunenet search` "
            "(runs/<name>) or a directory of them (runs/)."
        )
    return runs


def load_run(path: Path) -> Run:
    """Read one run directory. Only trials.csv and epochs.csv are required.

    Raises:
        RunDirError: a required file or column is missing, or a CSV is unreadable.
    """
    files = RunDir(path)
    warnings: list[str] = []
    trials = _read_csv(files.trials_file, TRIALS_REQUIRED)
    epochs = _read_csv(files.epochs_file, EPOCHS_REQUIRED)
    manifest = _read_manifest(files.manifest_file, warnings)
    resolved = _read_resolved(files.resolved_file, warnings)
    name = manifest.get("name") if manifest and manifest.get("name") else path.name
    return Run(
        path,
        printable(str(name)),  # a label in every report format: it cannot drive a terminal
        _clean_trials(trials),
        _clean_epochs(epochs),
        manifest,
        resolved,
        warnings,
        _read_baselines(files, warnings),
        read_layers(files, warnings),
        read_learning_curve(files, warnings),
        read_confusion(files, warnings),
    )


def read_trials_frame(run: RunDir) -> pd.DataFrame:
    """trials.csv as written, trial ids as strings (the Python API's `result.trials`)."""
    return pd.read_csv(run.trials_file, dtype={"trial_id": str})


def read_epochs_frame(run: RunDir) -> pd.DataFrame:
    """epochs.csv as written, trial ids as strings (the Python API's `result.epochs`)."""
    return pd.read_csv(run.epochs_file, dtype={"trial_id": str})


def _read_csv(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise RunDirError(
            f"{path}: missing. `tunenet report` needs trials.csv and epochs.csv in a run "
            "directory; if the search is still in its first trial, wait for it to finish."
        )
    try:
        table = pd.read_csv(path, dtype={"trial_id": str}, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise RunDirError(
            f"{path}: the file is empty; it needs a header row with {', '.join(required)}."
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        problem = str(error).strip().splitlines()[0]
        raise RunDirError(
            f"{path}: not a readable CSV file ({problem}). Re-run `tunenet search --resume` or "
            "restore the file."
        ) from None
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise RunDirError(
            f"{path}: missing column {', '.join(repr(c) for c in missing)} "
            f"(found: {', '.join(map(str, table.columns))}). `tunenet report` needs at least "
            f"{', '.join(required)}; add the column or re-run the search with this tunenet."
        )
    for column in required:
        if column not in ("trial_id", "status"):
            _require_numbers(table, column, path)
    return table


def _require_numbers(table: pd.DataFrame, column: str, path: Path) -> None:
    numbers = pd.to_numeric(table[column], errors="coerce")
    bad = numbers.isna() & table[column].notna() & (table[column].astype(str).str.strip() != "")
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise RunDirError(
            f"{path}: column {column!r} must hold numbers; row {row + 2} has "
            f"{table[column].iloc[row]!r}. Fix or remove that row."
        )
    table[column] = numbers


def _clean_trials(trials: pd.DataFrame) -> pd.DataFrame:
    trials = trials.copy()
    trials["trial_id"] = trials["trial_id"].astype(str).str.strip()
    trials["status"] = trials["status"].astype(str).str.strip().str.lower()
    for column in trials.columns:
        if column.startswith("hp.") or column in TEXT_COLUMNS:
            continue
        if column == "stopped_early":
            trials[column] = trials[column].map(_parse_bool)
        else:
            trials[column] = pd.to_numeric(trials[column], errors="coerce")
    return trials


def _clean_epochs(epochs: pd.DataFrame) -> pd.DataFrame:
    """Keep the last execution of each trial (the one trials.csv's best_epoch, epochs_trained and
    stopped_early describe) and the last row of any (trial, epoch) written twice."""
    epochs = epochs.copy()
    epochs["trial_id"] = epochs["trial_id"].astype(str).str.strip()
    for column in epochs.columns:
        if column != "trial_id":
            epochs[column] = pd.to_numeric(epochs[column], errors="coerce")
    if "execution" in epochs.columns:
        last = epochs.groupby("trial_id")["execution"].transform("max")
        epochs = epochs[epochs["execution"] == last]
    epochs = epochs.dropna(subset=["epoch"]).astype({"epoch": int})
    return epochs.drop_duplicates(["trial_id", "epoch"], keep="last").sort_values(
        ["trial_id", "epoch"]
    )


def _parse_bool(value: object) -> bool | None:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    return None


def _read_baselines(files: RunDir, warnings: list[str]) -> pd.DataFrame | None:
    """baselines.csv as a table (errors as numbers), or None when the run has none or it cannot
    be read (then with a warning: the report goes on without it)."""
    if not files.baselines_file.is_file():
        return None
    rows = read_baseline_rows(files)
    if rows is None:
        warnings.append(
            f"{files.baselines_file}: unreadable or incomplete (columns "
            f"{', '.join(BASELINE_COLUMNS)}); reporting without the baselines."
        )
        return None
    table = pd.DataFrame(rows, columns=list(BASELINE_COLUMNS))
    return table.astype({column: float for column in BASELINE_COLUMNS[1:]})  # None -> NaN


def _read_manifest(path: Path, warnings: list[str]) -> dict | None:
    if not path.is_file():
        return None
    try:
        manifest = read_json(path)
    except (OSError, ValueError) as error:
        warnings.append(f"{path}: unreadable ({error}); reporting without it.")
        return None
    if not isinstance(manifest, dict):
        warnings.append(f"{path}: expected a JSON object; reporting without it.")
        return None
    version = manifest.get("format_version")
    if isinstance(version, int) and version > FORMAT_VERSION:
        warnings.append(
            f"{path}: format_version {version} is newer than this tunenet reads "
            f"({FORMAT_VERSION}); upgrade tunenet if the report looks wrong."
        )
    return manifest


def _read_resolved(path: Path, warnings: list[str]) -> dict | None:
    if not path.is_file():
        return None
    try:
        resolved = read_yaml(path)
    except (OSError, ValueError, yaml.YAMLError) as error:
        warnings.append(f"{path}: unreadable ({error}); using the default thresholds.")
        return None
    return resolved if isinstance(resolved, dict) else None


def config_value(config: dict | None, key: str) -> tuple[bool, Any]:
    """(found, value) of a dotted key in a loaded YAML mapping."""
    node: Any = config
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def read_resolved_text(run: RunDir) -> str:
    """resolved.yaml's text, for `refine`, which parses it as a config (YAML 1.2).

    Raises:
        RunDirError: the run directory or its resolved.yaml is missing or unreadable.
    """
    if not run.path.is_dir():
        raise RunDirError(f"{run.path}: no such run directory.")
    if not run.resolved_file.exists():
        raise RunDirError(
            f"{run.path}: no resolved.yaml; refine needs a run directory written by "
            "`tunenet search`."
        )
    try:
        return run.resolved_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RunDirError(f"{run.resolved_file}: cannot be read ({error}).") from None


def read_trials_text(run: RunDir) -> list[dict]:
    """trials.csv's rows as dicts of strings (trial_id included), header names as keys.

    Raises:
        RunDirError: trials.csv is missing or unreadable.
    """
    if not run.trials_file.exists():
        raise RunDirError(f"{run.path}: no trials.csv; has the search run any trial?")
    try:
        with open(run.trials_file, encoding="utf-8", newline="") as file:
            return list(csv.DictReader(file))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise RunDirError(f"{run.trials_file}: cannot be read ({error}).") from None
