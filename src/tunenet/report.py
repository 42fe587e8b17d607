"""`tunenet report`: read run directories, diagnose them and render the result.

The flow: `find_runs` → `load_run` (trials.csv, epochs.csv, manifest.json, resolved.yaml) →
`resolve_settings` (thresholds, with their source) → `build_report` (calls `diagnosis`) →
`write_report_files` (report.md/.html/.json/.csv and plots under `<run>/report/`) → one format on
stdout or `--out`. Never imports TensorFlow or Keras; matplotlib only when plots are drawn.
`docs/report.md` documents the rules and the JSON structure; `docs/run-format.md` the input files.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import yaml
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from tunenet import diagnosis as dx
from tunenet.config import DiagnosisConfig, objective_direction
from tunenet.errors import RunDirError, TunenetError
from tunenet.runs import FORMAT_VERSION as RUN_FORMAT_VERSION
from tunenet.runs import RunDir, write_atomic

REPORT_FORMAT_VERSION = 1  # of report.json; the run directory's own is runs.FORMAT_VERSION
TRIALS_REQUIRED = ("trial_id", "status", "train_error", "val_error")
EPOCHS_REQUIRED = ("trial_id", "epoch", "loss", "val_loss")
STATUSES = ("completed", "diverged", "failed", "interrupted")
# Learning-curve small multiples stay readable (and take a few seconds) up to this many trials.
MAX_CURVE_PANELS = 40
# Columns of epochs.csv that are not Keras metrics.
NOT_METRICS = {"trial_id", "execution", "epoch", "learning_rate", "lr", "seconds"}
THRESHOLD_OPTIONS = {
    "target_error": "--target-error",
    "bias_threshold": "--bias-threshold",
    "variance_threshold": "--variance-threshold",
}
# search.min_delta when resolved.yaml does not say (the schema's default).
DEFAULT_MIN_DELTA = 0.001
SHORT_FINDINGS = {
    "diverged": "diverged at epoch {epoch}",
    "still_improving": "still improving at epoch {epoch}",
    "overfitting": "overfitting from epoch {epoch}",
    "stopped_early": "stopped early at epoch {epoch}",
}


# ---------------------------------------------------------------- loading


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
        path, str(name), _clean_trials(trials), _clean_epochs(epochs), manifest, resolved, warnings
    )


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
        if column.startswith("hp.") or column in ("trial_id", "status", "message"):
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


def _read_manifest(path: Path, warnings: list[str]) -> dict | None:
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        warnings.append(f"{path}: unreadable ({error}); reporting without it.")
        return None
    if not isinstance(manifest, dict):
        warnings.append(f"{path}: expected a JSON object; reporting without it.")
        return None
    version = manifest.get("format_version")
    if isinstance(version, int) and version > RUN_FORMAT_VERSION:
        warnings.append(
            f"{path}: format_version {version} is newer than this tunenet reads "
            f"({RUN_FORMAT_VERSION}); upgrade tunenet if the report looks wrong."
        )
    return manifest


def _read_resolved(path: Path, warnings: list[str]) -> dict | None:
    if not path.is_file():
        return None
    try:
        resolved = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        warnings.append(f"{path}: unreadable ({error}); using the default thresholds.")
        return None
    return resolved if isinstance(resolved, dict) else None


def _config_value(config: dict | None, key: str) -> tuple[bool, Any]:
    """(found, value) of a dotted key in a loaded YAML mapping."""
    node: Any = config
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class Setting:
    """A value used by the diagnosis and where it came from (an option, a file, the default)."""

    value: Any
    source: str


@dataclass(frozen=True)
class Settings:
    target_error: Setting
    bias_threshold: Setting
    variance_threshold: Setting
    epoch_limit: Setting

    def thresholds(self) -> dx.Thresholds:
        return dx.Thresholds(
            self.target_error.value, self.bias_threshold.value, self.variance_threshold.value
        )


def resolve_settings(
    run: Run,
    *,
    target_error: float | None = None,
    bias_threshold: float | None = None,
    variance_threshold: float | None = None,
) -> Settings:
    """Thresholds from the options, else the run's resolved.yaml (`diagnosis.*`), else the
    schema's defaults; the epoch limit from resolved.yaml's `training.epochs` when present.

    Raises:
        TunenetError: an option is outside [0, 1].
    """
    options = {
        "target_error": target_error,
        "bias_threshold": bias_threshold,
        "variance_threshold": variance_threshold,
    }
    for name, value in options.items():
        if value is not None and not 0 <= value <= 1:
            raise TunenetError(
                f"{THRESHOLD_OPTIONS[name]} {value}: expected a fraction between 0 and 1 "
                "(0.13 means 13 %)."
            )
    from_file, config = _file_thresholds(run)
    chosen = {}
    for name, value in options.items():
        if value is not None:
            chosen[name] = Setting(float(value), THRESHOLD_OPTIONS[name])
        else:
            source = "resolved.yaml" if name in from_file else "default"
            chosen[name] = Setting(float(getattr(config, name)), source)
    return Settings(**chosen, epoch_limit=_epoch_limit(run))


def _file_thresholds(run: Run) -> tuple[set[str], DiagnosisConfig]:
    found, section = _config_value(run.resolved, "diagnosis")
    if not found or not isinstance(section, dict):
        return set(), DiagnosisConfig()
    try:
        return set(section), DiagnosisConfig.model_validate(section)
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        run.warnings.append(
            f"{RunDir(run.path).resolved_file}: invalid diagnosis section ({error}); "
            "using the default thresholds."
        )
        return set(), DiagnosisConfig()


def _epoch_limit(run: Run) -> Setting:
    found, epochs = _config_value(run.resolved, "training.epochs")
    if found and isinstance(epochs, int) and not isinstance(epochs, bool):
        return Setting(epochs, "resolved.yaml training.epochs")
    return Setting(None, "not recorded: a trial not stopped early counts as having reached it")


# ---------------------------------------------------------------- building the report


@dataclass(frozen=True)
class Objective:
    """The objective's name, direction, the trials.csv column holding it, and the source."""

    name: str
    direction: str
    column: str
    source: str


@dataclass
class TrialReport:
    """Everything the report says about one trial."""

    trial_id: str
    rank: int | None
    status: str
    hyperparameters: dict[str, Any]
    epochs_trained: int | None
    best_epoch: int | None
    stopped_early: bool | None
    objective: float | None
    train_error: float | None
    val_error: float | None
    test_error: float | None
    fit: dx.FitDiagnosis | None
    findings: list[dx.Finding]
    recommendations: list[dx.Recommendation]
    message: str | None

    @property
    def label(self) -> str | None:
        return self.fit.label if self.fit else None


@dataclass
class RunReport:
    """One run's report. `trials` are ordered by rank (unranked trials last, by id) and cut to
    `--top`; `counts`, `effects` and the verdict cover every trial."""

    run: Run
    objective: Objective
    settings: Settings
    trials: list[TrialReport]
    total_trials: int
    counts: dict[str, int]
    best: TrialReport | None
    effects: list[dx.HpEffect]
    verdict: str
    headline: str
    metric: str | None
    capacity: dx.CapacityCurve | None = None
    plots: list[Path] = field(default_factory=list)

    @property
    def report_dir(self) -> Path:
        return RunDir(self.run.path).report_dir


def resolve_objective(run: Run) -> Objective:
    """Name and direction from manifest.json, else resolved.yaml's `search.objective`; the values
    from trials.csv's `objective` column, else the column named like the objective, else
    `val_error` (minimized)."""
    name, direction, source = _declared_objective(run)
    columns = run.trials.columns
    if "objective" in columns and run.trials["objective"].notna().any():
        name = name or _matching_metric(run.trials) or "objective"
        return Objective(name, direction or objective_direction(name), "objective", source)
    if name and name in columns:
        return Objective(name, direction or objective_direction(name), name, source)
    return Objective("val_error", "min", "val_error", "trials.csv has no objective column")


def _declared_objective(run: Run) -> tuple[str | None, str | None, str]:
    for raw, source in (
        ((run.manifest or {}).get("objective"), "manifest.json"),
        (_config_value(run.resolved, "search.objective")[1], "resolved.yaml"),
    ):
        if isinstance(raw, str) and raw:
            return raw, None, source
        if isinstance(raw, dict) and raw.get("name"):
            direction = raw.get("direction") if raw.get("direction") in ("min", "max") else None
            return str(raw["name"]), direction, source
    return None, None, "trials.csv"


def _matching_metric(trials: pd.DataFrame) -> str | None:
    """The metric column whose values equal the objective column (no manifest to say which)."""
    objective = trials["objective"].to_numpy(dtype=float)
    for column in trials.columns:
        if column.startswith("val_") and pd.api.types.is_numeric_dtype(trials[column]):
            values = trials[column].to_numpy(dtype=float)
            if np.allclose(objective, values, equal_nan=True):
                return column
    return None


def build_report(run: Run, settings: Settings, top: int | None = None) -> RunReport:
    """Diagnose every trial of a run and summarize the search."""
    objective = resolve_objective(run)
    trials = run.trials
    ranks = dx.rank(trials, objective.column, objective.direction)
    evidence = dx.search_evidence(
        trials, objective.column, objective.direction, name=objective.name
    )
    curves = {tid: curve for tid, curve in run.epochs.groupby("trial_id")}
    integral = _integral_hp_columns(trials)
    reports = [
        _trial_report(row, ranks[index], run, settings, objective, curves, evidence, integral)
        for index, row in trials.iterrows()
    ]
    reports.sort(key=lambda t: (t.rank is None, t.rank or 0, t.trial_id))
    best = reports[0] if reports and reports[0].rank == 1 else None
    statuses = trials["status"].value_counts()
    order = [s for s in STATUSES if s in statuses] + sorted(set(statuses.index) - set(STATUSES))
    counts = {"trials": len(reports), **{s: int(statuses[s]) for s in order}}
    effects = dx.hp_effects(trials, objective.column, objective.direction)
    capacity = capacity_curve(run, objective) if is_capacity_run(run) else None
    return RunReport(
        run=run,
        objective=objective,
        settings=settings,
        trials=reports[:top] if top else reports,
        total_trials=len(reports),
        counts=counts,
        best=best,
        effects=effects,
        verdict=_verdict(reports, best, counts, effects, objective, capacity),
        headline=_headline(best, counts),
        metric=_main_metric(run.epochs),
        capacity=capacity,
    )


def _trial_report(
    row: pd.Series,
    rank: float,
    run: Run,
    settings: Settings,
    objective: Objective,
    curves: dict[str, pd.DataFrame],
    evidence: dict[str, dx.Evidence],
    integral: set[str],
) -> TrialReport:
    curve = curves.get(row["trial_id"], run.epochs.iloc[0:0])
    stopped_early = row.get("stopped_early") if "stopped_early" in row.index else None
    fit = dx.fit_diagnosis(row["train_error"], row["val_error"], settings.thresholds())
    findings = dx.curve_findings(
        curve,
        status=row["status"],
        best_epoch=_int(row.get("best_epoch")),
        epochs_trained=_int(row.get("epochs_trained")),
        stopped_early=stopped_early,
        epoch_limit=settings.epoch_limit.value,
    )
    hyperparameters = {
        column[len("hp.") :]: _plain(row[column], column in integral)
        for column in row.index
        if column.startswith("hp.") and _present(row[column])
    }
    recommendations = dx.recommend(fit, findings, _context(row, run), evidence)
    return TrialReport(
        trial_id=row["trial_id"],
        rank=None if pd.isna(rank) else int(rank),
        status=row["status"],
        hyperparameters=hyperparameters,
        epochs_trained=_int(row.get("epochs_trained"))
        or (int(curve["epoch"].max()) if len(curve) else None),
        best_epoch=_int(row.get("best_epoch")),
        stopped_early=stopped_early,
        objective=_float(row.get(objective.column)),
        train_error=_float(row["train_error"]),
        val_error=_float(row["val_error"]),
        test_error=_float(row.get("test_error")),
        fit=fit,
        findings=findings,
        recommendations=recommendations,
        message=str(row["message"]) if _present(row.get("message")) else None,
    )


def _context(row: pd.Series, run: Run) -> dx.TrialContext:
    """The trial's own values (hp. columns) over the run's fixed config values."""
    values: dict[str, object] = {}
    for key in dx.NUMERIC_KEYS + dx.CATEGORICAL_KEYS:
        found, value = _config_value(run.resolved, key)
        if found and not isinstance(value, (list, dict)):
            values[key] = value
        columns = dx.key_columns(list(row.index), key)
        tried = [row[c] for c in columns if _present(row[c])]
        if tried:
            values[key] = tried[0] if columns == [f"hp.{key}"] else tried
    return dx.TrialContext(values, _image_data(run))


def _image_data(run: Run) -> bool | None:
    found, source = _config_value(run.resolved, "data.source")
    if not found:
        found, source = _config_value(run.manifest, "data.source")
    if not found or not isinstance(source, str):
        return None
    return source == "images" or source.startswith("keras:")


def _integral_hp_columns(trials: pd.DataFrame) -> set[str]:
    """hp. columns holding whole numbers only (read as floats when some trials leave them empty)."""
    integral = set()
    for column in trials.columns:
        if column.startswith("hp.") and pd.api.types.is_float_dtype(trials[column]):
            values = trials[column].dropna()
            if len(values) and (values == values.round()).all():
                integral.add(column)
    return integral


def _main_metric(epochs: pd.DataFrame) -> str | None:
    """accuracy, else mae, else the first metric logged for both training and validation."""
    metrics = [
        c
        for c in epochs.columns
        if c not in NOT_METRICS and c != "loss" and not c.startswith("val_")
    ]
    paired = [m for m in metrics if f"val_{m}" in epochs.columns]
    for preferred in ("accuracy", "mae"):
        if preferred in paired:
            return preferred
    return paired[0] if paired else None


def _verdict(
    reports: list[TrialReport],
    best: TrialReport | None,
    counts: dict[str, int],
    effects: list[dx.HpEffect],
    objective: Objective,
    capacity: dx.CapacityCurve | None = None,
) -> str:
    labels = [t.label for t in reports if t.status == "completed" and t.label]
    return dx.verdict(
        counts=counts,
        objective=objective.name,
        best_id=best.trial_id if best else None,
        best_objective=best.objective if best else None,
        best_fit=best.fit if best else None,
        best_findings=best.findings if best else [],
        best_test_error=best.test_error if best else None,
        labels=labels,
        effects=effects,
        top_recommendation=best.recommendations[0] if best and best.recommendations else None,
        capacity=capacity,
    )


# ---------------------------------------------------------------- the capacity curve


def is_capacity_run(run: Run) -> bool:
    """manifest.json's `strategy`, else resolved.yaml's `search.strategy`, is `capacity`."""
    strategy = (run.manifest or {}).get("strategy")
    if not strategy:
        strategy = _config_value(run.resolved, "search.strategy")[1]
    return strategy == "capacity"


def capacity_curve(run: Run, objective: Objective) -> dx.CapacityCurve:
    """Every trial of the run (not cut to `--top`) in trial order, with its model size, and
    where growth stopped paying by resolved.yaml's `search.min_delta` (default 0.001)."""
    found, min_delta = _config_value(run.resolved, "search.min_delta")
    if not found or _float(min_delta) is None or isinstance(min_delta, bool):
        min_delta = DEFAULT_MIN_DELTA
    rows = sorted(
        (row for _, row in run.trials.iterrows()), key=lambda row: _trial_order(row["trial_id"])
    )
    steps = [
        dx.CapacityStep(
            trial_id=row["trial_id"],
            status=row["status"],
            **_model_size(row, run),
            objective=_float(row.get(objective.column)) if row["status"] == "completed" else None,
            train_error=_float(row["train_error"]),
            val_error=_float(row["val_error"]),
        )
        for row in rows
    ]
    return dx.capacity_curve(steps, objective.direction, float(min_delta))


def _trial_order(trial_id: str) -> tuple[int, float, str]:
    """Numeric ids ("00", "7", "12") by number, others after them by text."""
    try:
        return 0, float(trial_id), trial_id
    except ValueError:
        return 1, 0.0, trial_id


def _model_size(row: pd.Series, run: Run) -> dict[str, Any]:
    """`layers` and per-layer `widths` of one trial: `hp.model.layers` and `hp.model.units.<i>`
    (`hp.model.filters.<i>` for a CNN), else the fixed values of resolved.yaml (`model.layers`,
    `model.units`, `model.filters`; `model.filters_growth` for blocks after the first)."""

    def tried(key: str) -> Any:
        column = f"hp.{key}"
        return row[column] if column in row.index and _present(row[column]) else None

    def fixed(key: str) -> Any:
        found, value = _config_value(run.resolved, key)
        return value if found else None

    kind = tried("model.kind") or fixed("model.kind")
    if not isinstance(kind, str):
        columns = [str(c) for c in row.index]
        cnn = any(c.startswith("hp.model.filters.") for c in columns) and not any(
            c.startswith("hp.model.units.") for c in columns
        )
        kind = "cnn" if cnn else "dense"
    width_key = "model.filters" if kind == "cnn" else "model.units"
    layers = _int(tried("model.layers"))
    if layers is None and _whole(fixed("model.layers")):
        layers = int(fixed("model.layers"))
    growth = _float(fixed("model.filters_growth")) if kind == "cnn" else None
    base = fixed(width_key)

    def width(index: int) -> int | None:
        value = _int(tried(f"{width_key}.{index}"))
        if value is not None:
            return value
        first = _int(tried(f"{width_key}.0"))
        if growth and first is not None:  # as cnn.filters_of
            return max(1, int(round(first * growth**index)))
        if _whole(base):
            return int(base) if not growth else max(1, int(round(int(base) * growth**index)))
        return None

    if layers is None:  # no layer count known: the per-layer columns the trial has
        layers_seen = 0
        while _int(tried(f"{width_key}.{layers_seen}")) is not None:
            layers_seen += 1
        layers = layers_seen or None
    if layers == 0:
        return {"layers": 0, "widths": ()}
    widths = [width(i) for i in range(layers or 0)]
    known = tuple(w for w in widths if w is not None) if widths else None
    return {"layers": layers, "widths": known if known and len(known) == len(widths) else None}


def _whole(value: object) -> bool:
    """A whole number (not a bool): a fixed `model.layers` or width in resolved.yaml."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return False
    return math.isfinite(value) and float(value).is_integer()


def _headline(best: TrialReport | None, counts: dict[str, int]) -> str:
    if not counts.get("trials"):
        return "no trials yet"
    if best is None:
        return "no completed trial"
    text = f"best {best.trial_id}: {best.label or 'errors not recorded'}"
    kinds = [f.kind for f in best.findings if f.kind in ("still_improving", "overfitting")]
    if kinds:
        text += f", {kinds[0].replace('_', ' ')}"
    if best.recommendations:
        rec = best.recommendations[0]
        text += f"; next: {rec.action} {rec.key}"
    return text


# ---------------------------------------------------------------- small value helpers


def _present(value: object) -> bool:
    if value is None:
        return False
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):
        return True


def _int(value: object) -> int | None:
    number = _float(value)
    return int(number) if number is not None else None


def _float(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _plain(value: object, integral: bool = False) -> Any:
    """A JSON-friendly Python value: numpy scalars unwrapped, NaN/inf → None."""
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        if not math.isfinite(value):
            return None
        return int(value) if integral else float(value)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value


def _short_findings(trial: TrialReport) -> str:
    """The findings in a few words; a failed trial's message when it has no finding."""
    if not trial.findings and trial.message:
        return trial.message if len(trial.message) <= 80 else trial.message[:77] + "..."
    return "; ".join(SHORT_FINDINGS[f.kind].format(epoch=f.epoch) for f in trial.findings)


def _next_step(trial: TrialReport) -> str:
    if not trial.recommendations:
        return ""
    rec = trial.recommendations[0]
    return f"{rec.action} {rec.key}" + (
        f" to {dx.format_value(rec.value)}" if rec.value is not None else ""
    )


def _hp_names(report: RunReport) -> list[str]:
    return [c[len("hp.") :] for c in report.run.trials.columns if c.startswith("hp.")]


def _setting_lines(report: RunReport) -> list[str]:
    s = report.settings
    limit = s.epoch_limit.value if s.epoch_limit.value is not None else "unknown"
    return [
        f"target error {s.target_error.value:g} ({s.target_error.source}), "
        f"bias threshold {s.bias_threshold.value:g} ({s.bias_threshold.source}), "
        f"variance threshold {s.variance_threshold.value:g} ({s.variance_threshold.source})",
        f"epoch limit {limit} ({s.epoch_limit.source})",
    ]


def _about_lines(report: RunReport) -> list[str]:
    manifest = report.run.manifest or {}
    lines = [f"status {manifest.get('status', 'unknown (no manifest.json)')}"]
    data = manifest.get("data")
    if isinstance(data, dict) and data.get("source"):
        sizes = data.get("sizes") if isinstance(data.get("sizes"), dict) else {}
        split = "".join(f"; {k} {v}" for k, v in sizes.items())
        lines.append(f"data {data['source']} ({data.get('task', 'task unknown')}{split})")
    o = report.objective
    goal = {"max": "maximized", "min": "minimized"}[o.direction]
    lines.append(f"objective {o.name}, {goal} (source: {o.source})")
    return lines


# ---------------------------------------------------------------- JSON and CSV


def report_dict(report: RunReport) -> dict[str, Any]:
    """The JSON structure of one run's report (documented in docs/report.md)."""
    manifest = report.run.manifest or {}
    s = report.settings
    return {
        "format_version": REPORT_FORMAT_VERSION,
        "run": {
            "name": report.run.name,
            "path": str(report.run.path),
            "status": manifest.get("status"),
            "data": manifest.get("data"),
            "started_at": manifest.get("started_at"),
            "finished_at": manifest.get("finished_at"),
        },
        "objective": {
            "name": report.objective.name,
            "direction": report.objective.direction,
            "column": report.objective.column,
            "source": report.objective.source,
        },
        "settings": {
            name: {"value": setting.value, "source": setting.source}
            for name, setting in (
                ("target_error", s.target_error),
                ("bias_threshold", s.bias_threshold),
                ("variance_threshold", s.variance_threshold),
                ("epoch_limit", s.epoch_limit),
            )
        },
        "counts": report.counts,
        "best_trial": report.best.trial_id if report.best else None,
        "verdict": report.verdict,
        "headline": report.headline,
        "trials": [_trial_dict(t) for t in report.trials],
        "effects": [_effect_dict(e) for e in report.effects],
        "capacity": _capacity_dict(report.capacity) if report.capacity else None,
        "plots": [p.relative_to(report.report_dir).as_posix() for p in report.plots],
        "warnings": list(report.run.warnings),
    }


def _trial_dict(t: TrialReport) -> dict[str, Any]:
    fit = t.fit
    return {
        "trial_id": t.trial_id,
        "rank": t.rank,
        "status": t.status,
        "hyperparameters": t.hyperparameters,
        "epochs_trained": t.epochs_trained,
        "best_epoch": t.best_epoch,
        "stopped_early": t.stopped_early,
        "objective": t.objective,
        "train_error": t.train_error,
        "val_error": t.val_error,
        "test_error": t.test_error,
        "avoidable_bias": fit.avoidable_bias if fit else None,
        "variance": fit.variance if fit else None,
        "high_bias": fit.high_bias if fit else None,
        "high_variance": fit.high_variance if fit else None,
        "label": t.label,
        "findings": [{"kind": f.kind, "epoch": f.epoch, "text": f.text} for f in t.findings],
        "recommendations": [
            {
                "key": r.key,
                "action": r.action,
                "value": _plain(r.value),
                "text": r.text,
                "evidence": r.evidence,
                "agrees": r.agrees,
            }
            for r in t.recommendations
        ],
        "message": t.message,
    }


def _capacity_dict(curve: dx.CapacityCurve) -> dict[str, Any]:
    return {
        "steps": [
            {
                "trial_id": step.trial_id,
                "status": step.status,
                "layers": step.layers,
                "widths": list(step.widths) if step.widths is not None else None,
                "size": step.size,
                "label": step.label,
                "objective": step.objective,
                "train_error": step.train_error,
                "val_error": step.val_error,
            }
            for step in curve.steps
        ],
        "best_trial": curve.best,
        "stopped_after": curve.stopped_after,
        "min_delta": curve.min_delta,
    }


def _effect_dict(effect: dx.HpEffect) -> dict[str, Any]:
    return {
        "hyperparameter": effect.hyperparameter,
        "kind": effect.kind,
        "binned": effect.binned,
        "best_value": effect.best_value,
        "spread": effect.spread,
        "rows": [
            {"value": r.value, "trials": r.trials, "mean_objective": r.mean_objective}
            for r in effect.rows
        ],
    }


def render_json(reports: list[RunReport], failures: list[tuple[Path, str]] | None = None) -> str:
    """One run: its report object. A directory of runs: {format_version, runs, reports}."""
    if len(reports) == 1 and not failures:
        document: dict[str, Any] = report_dict(reports[0])
    else:
        document = {
            "format_version": REPORT_FORMAT_VERSION,
            "runs": [_summary_dict(r) for r in reports]
            + [_failure_dict(p, m) for p, m in failures or []],
            "reports": [report_dict(r) for r in reports],
        }
    return json.dumps(_json_safe(document), indent=2, allow_nan=False) + "\n"


def _json_safe(value: Any) -> Any:
    """Recursively unwrap numpy scalars and turn NaN/inf into null (strict JSON)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return _plain(value)


def _summary_dict(report: RunReport) -> dict[str, Any]:
    best = report.best
    return {
        "name": report.run.name,
        "path": str(report.run.path),
        "status": (report.run.manifest or {}).get("status"),
        "trials": report.total_trials,
        "completed": report.counts.get("completed", 0),
        "best_trial": best.trial_id if best else None,
        "objective": report.objective.name,
        "best_objective": best.objective if best else None,
        "verdict": report.headline,
        "error": None,
    }


def _failure_dict(path: Path, message: str) -> dict[str, Any]:
    keys = ("trials", "completed", "best_trial", "objective", "best_objective", "verdict")
    return {
        "name": path.name,
        "path": str(path),
        "status": "unreadable",
        **dict.fromkeys(keys),
        "error": message,
    }


CSV_TAIL = (
    "epochs_trained",
    "best_epoch",
    "stopped_early",
    "objective",
    "train_error",
    "val_error",
    "test_error",
    "avoidable_bias",
    "variance",
    "label",
    "findings",
    "recommendations",
    "message",
)


def render_csv(reports: list[RunReport]) -> str:
    """One row per trial; several runs get a leading `run` column. Lists are joined with "; "."""
    many = len(reports) > 1
    hp_columns = list(dict.fromkeys(f"hp.{n}" for r in reports for n in _hp_names(r)))
    header = (["run"] if many else []) + ["rank", "trial_id", "status", *hp_columns, *CSV_TAIL]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for report in reports:
        for trial in report.trials:
            row = {k: v for k, v in _trial_dict(trial).items() if k in header}
            row.update({f"hp.{k}": v for k, v in trial.hyperparameters.items()})
            row["findings"] = "; ".join(f.text for f in trial.findings)
            row["recommendations"] = "; ".join(r.text for r in trial.recommendations)
            if many:
                row["run"] = report.run.name
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()


# ---------------------------------------------------------------- markdown


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return lines


Cell = tuple[str, Any]  # (text shown, value to sort by)


def _trial_columns(report: RunReport) -> list[tuple[str, str, Callable[[TrialReport], Cell]]]:
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
        ("findings", "text", lambda t: text(_short_findings(t))),
        ("next", "text", lambda t: text(_next_step(t))),
    ]
    for name in _hp_names(report):
        kind = "num" if _numeric_hp(report, name) else "text"
        columns.append((name, kind, hp_cell(name)))
    return columns


def _numeric_hp(report: RunReport, name: str) -> bool:
    column = report.run.trials[f"hp.{name}"]
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _best_lines(report: RunReport, hyperparameters: bool = True) -> list[str]:
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


def _recommendation_lines(trial: TrialReport) -> list[str]:
    lines = []
    for rec in trial.recommendations:
        line = rec.text
        if rec.evidence:
            verb = {True: "agrees", False: "disagrees", None: "says"}[rec.agrees]
            line += f" The search {verb}: {rec.evidence}."
        lines.append(line)
    return lines


CAPACITY_PLOT = "capacity.png"


def _capacity_plot(report: RunReport) -> Path | None:
    return next((p for p in report.plots if p.name == CAPACITY_PLOT), None)


def _other_plots(report: RunReport) -> list[Path]:
    """The plots of the Plots section: all but the capacity curve, shown in its own section."""
    return [p for p in report.plots if p.name != CAPACITY_PLOT]


def _capacity_about(curve: dx.CapacityCurve) -> str:
    return (
        "The capacity search grows the network one step per trial, units (filters) per layer "
        "first, then layers. Size: layers × units per layer (widths joined with - when they "
        f"differ); hidden units: their sum. min_delta {curve.min_delta:g} (search.min_delta)."
    )


def _capacity_line(report: RunReport) -> str:
    assert report.capacity is not None
    return dx.capacity_sentence(report.capacity, report.objective.name)


def _capacity_table(report: RunReport) -> tuple[list[str], list[list[Cell]]]:
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
        if step.status != "completed":
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


def _texts(rows: list[list[Cell]]) -> list[list[str]]:
    return [[text for text, _ in row] for row in rows]


def render_markdown(
    reports: list[RunReport],
    failures: list[tuple[Path, str]] | None = None,
    image_base: Path | None = None,
) -> str:
    """Markdown of one run, or a summary table then each run. Image links are relative to
    `image_base` (the directory the markdown file is written to)."""
    lines: list[str] = []
    if len(reports) > 1 or failures:
        lines += [
            "# tunenet report",
            "",
            *_md_table(SUMMARY_HEADER, _summary_rows(reports, failures)),
            "",
        ]
    for report in reports:
        lines += _run_markdown(report, image_base, level=2 if len(reports) > 1 or failures else 1)
    return "\n".join(lines).rstrip() + "\n"


def _run_markdown(report: RunReport, image_base: Path | None, level: int) -> list[str]:
    h = "#" * level
    lines = [f"{h} tunenet report: {report.run.name}", ""]
    lines += [f"- {line}" for line in _about_lines(report)]
    lines += [f"- diagnosis settings: {line}" for line in _setting_lines(report)]
    lines += ["", f"{h}# Verdict", "", report.verdict, "", f"{h}# Best trial", ""]
    lines += [f"- {line}" for line in _best_lines(report)]
    if report.best and report.best.recommendations:
        lines += ["", "Recommendations:", ""]
        lines += [f"{i}. {line}" for i, line in enumerate(_recommendation_lines(report.best), 1)]
    if report.capacity:
        header, cells = _capacity_table(report)
        lines += ["", f"{h}# Capacity curve", "", _capacity_about(report.capacity), ""]
        lines += [_capacity_line(report), "", *_md_table(header, _texts(cells))]
        plot = _capacity_plot(report)
        if plot:
            lines += ["", f"![capacity curve]({_relative(plot, image_base)})"]
    shown = (
        f" (best {len(report.trials)} of {report.total_trials})"
        if len(report.trials) < report.total_trials
        else ""
    )
    columns = _trial_columns(report)
    header = [name for name, _, _ in columns]
    rows = [[cell(t)[0] for _, _, cell in columns] for t in report.trials]
    lines += ["", f"{h}# Trials{shown}", "", *_md_table(header, rows)]
    if report.effects:
        lines += ["", f"{h}# Hyperparameter effects", ""]
        lines.append(f"Mean {report.objective.name} of the completed trials per value (or range).")
        for effect in report.effects:
            rows = [[r.value, str(r.trials), f"{r.mean_objective:.4g}"] for r in effect.rows]
            lines += ["", f"**{effect.hyperparameter}** (best: {effect.best_value})", ""]
            lines += _md_table(["value", "trials", f"mean {report.objective.name}"], rows)
    if _other_plots(report):
        lines += ["", f"{h}# Plots", ""]
        for plot in _other_plots(report):
            target = _relative(plot, image_base)
            lines += [f"![{plot.stem.replace('_', ' ')}]({target})", ""]
    return lines + [""]


def _relative(path: Path, base: Path | None) -> str:
    if base is None:
        return path.as_posix()
    try:
        return Path(path).resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


SUMMARY_HEADER = ["run", "status", "trials", "best trial", "best objective", "verdict"]


def _summary_rows(
    reports: list[RunReport], failures: list[tuple[Path, str]] | None
) -> list[list[str]]:
    rows = []
    for r in reports:
        best = r.best
        objective = f"{r.objective.name} {dx.format_value(best.objective)}" if best else ""
        trials = f"{r.counts.get('completed', 0)}/{r.total_trials} completed"
        status = (r.run.manifest or {}).get("status", "unknown")
        rows.append(
            [r.run.name, str(status), trials, best.trial_id if best else "", objective, r.headline]
        )
    rows += [[p.name, "unreadable", "", "", "", m] for p, m in failures or []]
    return rows


# ---------------------------------------------------------------- HTML

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


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def render_html(reports: list[RunReport], failures: list[tuple[Path, str]] | None = None) -> str:
    """One self-contained HTML file: inline style and script, plots as data: URIs."""
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
                SUMMARY_HEADER, [[(c, c) for c in row] for row in _summary_rows(reports, failures)]
            )
        )
    for report in reports:
        parts += _run_html(report)
    parts.append(f"<script>{HTML_SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"


def _run_html(report: RunReport) -> list[str]:
    parts = [f"<h1>{_e(report.run.name)}</h1>"]
    parts += [f'<p class="meta">{_e(line)}</p>' for line in _about_lines(report)]
    parts += [f'<p class="meta">diagnosis: {_e(line)}</p>' for line in _setting_lines(report)]
    parts += [
        "<h2>Verdict</h2>",
        f'<p class="verdict">{_e(report.verdict)}</p>',
        "<h2>Best trial</h2>",
    ]
    parts.append("<ul>" + "".join(f"<li>{_e(line)}</li>" for line in _best_lines(report)) + "</ul>")
    if report.best and report.best.recommendations:
        items = "".join(f"<li>{_e(line)}</li>" for line in _recommendation_lines(report.best))
        parts.append(f"<p>Recommendations:</p><ol>{items}</ol>")
    if report.capacity:
        header, cells = _capacity_table(report)
        parts += [
            "<h2>Capacity curve</h2>",
            f'<p class="meta">{_e(_capacity_about(report.capacity))}</p>',
            f'<p class="verdict">{_e(_capacity_line(report))}</p>',
            _html_table(header, cells, kinds=["text", "text", "num", "num", "num", "num", "text"]),
        ]
        plot = _capacity_plot(report)
        if plot:
            parts.append(_html_image(plot))
    shown = (
        f" (best {len(report.trials)} of {report.total_trials})"
        if len(report.trials) < report.total_trials
        else ""
    )
    parts.append(f'<h2>Trials{shown}</h2><p class="meta">Click a column header to sort.</p>')
    columns = _trial_columns(report)
    rows = [[cell(t) for _, _, cell in columns] for t in report.trials]
    header = [name for name, _, _ in columns]
    kinds = [kind for _, kind, _ in columns]
    parts.append(_html_table(header, rows, kinds=kinds, sortable=True))
    if report.effects:
        about = f"Mean {report.objective.name} of the completed trials per value (or range)."
        parts.append(f'<h2>Hyperparameter effects</h2><p class="meta">{_e(about)}</p>')
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
                f"(best: {_e(effect.best_value)})</caption>"
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
    if _other_plots(report):
        parts.append("<h2>Plots</h2>")
        parts += [_html_image(plot) for plot in _other_plots(report)]
    return parts


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
    if text in ("diverged", "failed", "interrupted"):
        return f"status-{text}"
    return "long" if len(text) > 24 else ""  # findings, next steps: wrap less


def _label_html(text: str) -> str:
    if text in dx.LABELS:
        return f'<span class="lbl {text.replace(" ", "-")}">{_e(text)}</span>'
    return _e(text)


# ---------------------------------------------------------------- Rich tables


def render_rich(
    reports: list[RunReport], failures: list[tuple[Path, str]] | None = None
) -> list[RenderableType]:
    """Renderables for the terminal: a summary of several runs, then each run."""
    items: list[RenderableType] = []
    if len(reports) > 1 or failures:
        table = Table(title=Text("Runs"), title_justify="left")
        for name in SUMMARY_HEADER:
            table.add_column(Text(name))
        for row in _summary_rows(reports, failures):
            table.add_row(*[Text(c) for c in row])
        items += [table, Text("")]
    for report in reports:
        items += _run_rich(report)
    return items


def _run_rich(report: RunReport) -> list[RenderableType]:
    items: list[RenderableType] = [Text(f"Run {report.run.name}", style="bold")]
    items += [Text(line, style="dim") for line in _about_lines(report)]
    items += [Text(f"diagnosis: {line}", style="dim") for line in _setting_lines(report)]
    shown = (
        f" (best {len(report.trials)} of {report.total_trials})"
        if len(report.trials) < report.total_trials
        else ""
    )
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
                    _short_findings(t),
                )
            ]
        )
    items += [Text(""), table, Text("")]
    items += [Text(line) for line in _best_lines(report)]
    if report.best and report.best.recommendations:
        items.append(Text("Recommendations:"))
        items += [
            Text(f"  {i}. {line}") for i, line in enumerate(_recommendation_lines(report.best), 1)
        ]
    if report.capacity:
        items += [
            Text(""),
            Text("Capacity curve: ", style="bold")
            + Text(_capacity_line(report)[0].lower() + _capacity_line(report)[1:]),
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
    reports: list[RunReport], failures: list[tuple[Path, str]] | None = None, width: int = 120
) -> str:
    """The terminal tables as plain text (for `--format table --out FILE`)."""
    console = Console(
        file=io.StringIO(), width=width, color_system=None, markup=False, highlight=False
    )
    console.print(Group(*render_rich(reports, failures)))
    return console.file.getvalue()  # type: ignore[attr-defined]


# ---------------------------------------------------------------- files and the command


def write_report_files(report: RunReport, *, plots: bool) -> list[Path]:
    """Write report.md, report.html, report.json and report.csv (and plots/*.png when `plots`)
    under `<run>/report/`. Returns the files written.

    Raises:
        OSError: the report directory is not writable.
    """
    directory = report.report_dir
    directory.mkdir(parents=True, exist_ok=True)
    if plots:
        report.plots = draw_plots(report, directory / "plots")
    files = {
        "report.md": render_markdown([report], image_base=directory),
        "report.html": render_html([report]),
        "report.json": render_json([report]),
        "report.csv": render_csv([report]),
    }
    for name, text in files.items():
        write_atomic(directory / name, text)
    return [directory / name for name in files] + report.plots


def draw_plots(report: RunReport, directory: Path) -> list[Path]:
    """Learning curves (loss and the main metric), the error scatter, objective against each
    hyperparameter and, for a capacity search, the capacity curve, as PNG files in `directory`."""
    from tunenet import plots  # matplotlib costs ~0.5 s: only when plots are drawn

    directory.mkdir(parents=True, exist_ok=True)
    trials = report.trials[:MAX_CURVE_PANELS]
    curves = {tid: c for tid, c in report.run.epochs.groupby("trial_id")}
    shown = {t.trial_id: curves[t.trial_id] for t in trials if t.trial_id in curves}
    titles = {t.trial_id: f"{t.trial_id} · {_panel_label(t)}" for t in trials}
    best_epochs = {t.trial_id: t.best_epoch for t in trials}
    notes = {t.trial_id: f.text for t in trials for f in t.findings if f.kind == "diverged"}
    figures = {}
    cut = len(trials) < report.total_trials
    subtitle = f"best {len(trials)} of {report.total_trials} trials" if cut else ""
    for quantity in ("loss", report.metric):
        if quantity:
            figures[f"learning_curves_{quantity}"] = plots.learning_curves(
                shown, quantity, titles, best_epochs, notes, subtitle
            )
    points = pd.DataFrame(
        [(t.trial_id, t.train_error, t.val_error, t.label) for t in report.trials if t.fit],
        columns=["trial_id", "train_error", "val_error", "label"],
    )
    figures["train_vs_validation_error"] = plots.error_scatter(points, report.settings.thresholds())
    done = dx.completed(report.run.trials, report.objective.column)
    table = done.set_index("trial_id")[[c for c in done.columns if c.startswith("hp.")]].copy()
    table["objective"] = done.set_index("trial_id")[report.objective.column].astype(float)
    best_id = report.best.trial_id if report.best else None
    figures["objective_vs_hyperparameters"] = plots.objective_vs_hyperparameters(
        table, report.objective.name, best_id
    )
    if report.capacity:
        figures["capacity"] = plots.capacity_curve(
            report.capacity, report.objective.name, report.settings.target_error.value
        )
    return [
        plots.save(figure, directory / f"{name}.png")
        for name, figure in figures.items()
        if figure is not None
    ]


def _panel_label(trial: TrialReport) -> str:
    if any(f.kind == "diverged" for f in trial.findings):
        return "diverged"
    return trial.label or trial.status


def load_reports(
    path: Path,
    *,
    target_error: float | None = None,
    bias_threshold: float | None = None,
    variance_threshold: float | None = None,
    top: int | None = None,
) -> tuple[list[RunReport], list[tuple[Path, str]]]:
    """Reports of every run under `path`, and (path, message) of the runs that could not be read.

    Raises:
        RunDirError: `path` is one run and cannot be read, or no run under it can.
    """
    run_dirs = find_runs(path)
    reports, failures = [], []
    for run_dir in run_dirs:
        try:
            run = load_run(run_dir)
        except RunDirError as error:
            if len(run_dirs) == 1:
                raise
            failures.append((run_dir, str(error)))
            continue
        settings = resolve_settings(
            run,
            target_error=target_error,
            bias_threshold=bias_threshold,
            variance_threshold=variance_threshold,
        )
        reports.append(build_report(run, settings, top))
    if not reports:
        raise RunDirError(f"{path}: no run could be read:\n" + "\n".join(m for _, m in failures))
    return reports, failures


def run(
    path: Path,
    *,
    fmt: str,
    out_path: Path | None,
    plots: bool,
    target_error: float | None,
    bias_threshold: float | None,
    variance_threshold: float | None,
    top: int | None,
    console: Console,
    log: Console,
) -> None:
    """`tunenet report`: diagnose one run or a directory of runs.

    Every run's report files always go to `<run>/report/` (a warning when that directory is not
    writable); the chosen format goes to stdout, or to `out_path` when given.
    """
    reports, failures = load_reports(
        path,
        target_error=target_error,
        bias_threshold=bias_threshold,
        variance_threshold=variance_threshold,
        top=top,
    )
    for _, message in failures:
        log.print(Text(f"warning: skipped a run: {message}"))
    for report in reports:
        for warning in report.run.warnings:
            log.print(Text(f"warning: {warning}"))
        try:
            write_report_files(report, plots=plots)
            log.print(Text(f"report files: {report.report_dir}"))
        except OSError as error:
            log.print(
                Text(f"warning: could not write {report.report_dir} ({error}); printing only.")
            )
    if fmt == "table" and out_path is None:
        for item in render_rich(reports, failures):
            console.print(item)
        return
    text = render(fmt, reports, failures, out_path)
    if out_path is None:
        console.out(text, end="", highlight=False)
        return
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(out_path, text)
    except OSError as error:
        raise RunDirError(
            f"--out {out_path}: cannot write ({error}). Choose a writable path."
        ) from None
    log.print(Text(f"wrote {out_path}"))


def render(
    fmt: str,
    reports: list[RunReport],
    failures: list[tuple[Path, str]],
    out_path: Path | None = None,
) -> str:
    """The chosen format as text."""
    if fmt == "markdown":
        return render_markdown(
            reports, failures, image_base=out_path.parent if out_path else Path.cwd()
        )
    if fmt == "csv":
        return render_csv(reports)
    if fmt == "json":
        return render_json(reports, failures)
    if fmt == "html":
        return render_html(reports, failures)
    return render_text(reports, failures)


def best_trial_text(run_dir: Path) -> str:
    """A few plain lines about a run's best trial: its diagnosis and the top recommendation.
    `tunenet search` prints them at the end.

    Raises:
        RunDirError: the run directory cannot be read.
    """
    run = load_run(run_dir)
    report = build_report(run, resolve_settings(run))
    lines = _best_lines(report, hyperparameters=False)
    if report.best and report.best.recommendations:
        lines.append("Next: " + _recommendation_lines(report.best)[0])
    lines.append(f"Full report: tunenet report {run_dir}")
    return "\n".join(lines)
