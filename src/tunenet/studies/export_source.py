"""What `tunenet export` sends to a tracker, read from a run's files (docs/export.md).

`read_snapshot` reads the run once, through `tunenet.runs` (every execution of epochs.csv, the
last of layers.csv) and the report model (labels, findings, intervals, the verdict), and gives
one `TrialSnapshot` per trial: hyperparameters, per-epoch points (`step` = epoch) and final
metrics. It works on a running search too: a trial that has epochs but no trials.csv row yet
is `running`. `follow` repeats an export until the manifest says the run ended.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import pandas as pd

from tunenet.errors import RunDirError
from tunenet.reporting.model import RunReport, TrialReport, load_reports
from tunenet.runs import RunDir, RunStatus, find_runs, read_epochs_frame, trial_order
from tunenet.runs.cells import number
from tunenet.runs.insight import read_layers
from tunenet.runs.version import tunenet_version

RUNNING = "running"  # a trial with epochs and no trials.csv row yet
# epochs.csv columns that say where a row is, not what was measured
POSITION = ("trial_id", "execution", "epoch")
LAYER_MEASURES = ("grad_norm", "weight_norm", "update_ratio", "dead_fraction", "saturated_fraction")
ERRORS = ("train_error", "val_error", "test_error")
POLL_SECONDS = 2.0


@dataclass(frozen=True)
class Point:
    """One metric value: `key` as the tracker names it, `step` the 1-based epoch; `part` and
    `execution` say which file and execution it came from (for incremental export)."""

    key: str
    step: int
    value: float
    part: str  # "epochs" or "layers"
    execution: int


@dataclass
class TrialSnapshot:
    trial_id: str
    status: str
    params: dict[str, str] = field(default_factory=dict)  # as MLflow keeps them: text
    hyperparameters: dict[str, Any] = field(default_factory=dict)  # numbers as numbers
    points: list[Point] = field(default_factory=list)
    final: dict[str, float] = field(default_factory=dict)
    label: Optional[str] = None
    findings: list[str] = field(default_factory=list)  # finding kinds
    notes: list[str] = field(default_factory=list)  # finding texts
    started_at: Optional[str] = None
    finished_at: Optional[str] = None

    @property
    def ended(self) -> bool:
        return self.status != RUNNING


@dataclass
class RunSnapshot:
    path: Path
    name: str
    run_id: str  # <run name>:<12 hex digits of the config fingerprint>
    status: Optional[str]  # manifest.json's, None without a manifest
    manifest: dict
    trials: list[TrialSnapshot]
    report: Optional[RunReport]
    version: str = field(default_factory=tunenet_version)

    @property
    def running(self) -> bool:
        return self.status == RunStatus.RUNNING

    @property
    def best(self) -> Optional[TrialSnapshot]:
        best = self.report.best if self.report else None
        return next((t for t in self.trials if best and t.trial_id == best.trial_id), None)


def check_run(path: Path) -> RunDir:
    """The run at `path`: a directory with manifest.json, trials.csv or epochs.csv.

    Raises:
        RunDirError: saying what is at `path` and what is expected.
    """
    path = Path(path)
    run = RunDir(path)
    if path.is_dir() and any(
        f.is_file() for f in (run.manifest_file, run.trials_file, run.epochs_file)
    ):
        return run
    runs = find_runs(path)  # raises: no such directory, or not a run
    shown = ", ".join(str(p) for p in runs[:5])
    raise RunDirError(f"{path}: is a directory of runs; export one run at a time: {shown}.")


def read_snapshot(path: Path, partial: bool = False) -> RunSnapshot:
    """The run's trials as a tracker gets them.

    Args:
        partial: a running search may not have written trials.csv (or epochs.csv) yet: export
            what there is instead of refusing.

    Raises:
        RunDirError: the run cannot be read (and `partial` is False, or it has no manifest).
    """
    run = check_run(path)
    manifest = run.read_manifest() if run.manifest_file.is_file() else {}
    report = None
    try:
        report = load_reports(run.path)[0][0]
    except RunDirError:
        if not partial:
            raise
    name = str((report.run.name if report else None) or manifest.get("name") or run.name)
    epochs = _epochs(run)
    reports = {t.trial_id: t for t in report.trials} if report else {}
    layers = read_layers(run, []) if run.layers_file.is_file() else None
    ids = sorted(set(reports) | set(epochs["trial_id"]), key=trial_order)
    trials = [
        _trial(tid, reports.get(tid), report, epochs[epochs["trial_id"] == tid], layers)
        for tid in ids
    ]
    return RunSnapshot(run.path, name, run_id(run, name, manifest), manifest.get("status"),
                       manifest, trials, report)  # fmt: skip


def run_id(run: RunDir, name: str, manifest: dict) -> str:
    """`<run name>:<first 12 hex digits of the config fingerprint>`; a run without one (made by
    hand) uses a hash of its resolved.yaml, else of its path."""
    fingerprint = str(manifest.get("config_fingerprint") or "")
    if not fingerprint:
        source = run.resolved_file if run.resolved_file.is_file() else None
        data = source.read_bytes() if source else str(run.path.resolve()).encode()
        fingerprint = hashlib.sha256(data).hexdigest()
    return f"{name}:{fingerprint[:12]}"


def metric_key(column: str, execution: int) -> str:
    """The tracker's name of an epochs.csv column: executions after the first (0) are suffixed
    `_exec<k>` with k the execution value."""
    return column if execution == 0 else f"{column}_exec{execution}"


def layer_key(layer: str, measure: str, execution: int) -> str:
    return metric_key(f"layers/{layer}/{measure}", execution)


def _epochs(run: RunDir) -> pd.DataFrame:
    """Every row of epochs.csv (every execution), numbers as numbers; empty when absent."""
    if not run.epochs_file.is_file():
        return pd.DataFrame(columns=list(POSITION))
    try:
        table = read_epochs_frame(run)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, ValueError):
        return pd.DataFrame(columns=list(POSITION))
    table["trial_id"] = table["trial_id"].astype(str).str.strip()
    if "execution" not in table.columns:
        table["execution"] = 0
    for column in table.columns:
        if column != "trial_id":
            table[column] = pd.to_numeric(table[column], errors="coerce")
    table = table.dropna(subset=["epoch", "execution"]).astype({"epoch": int, "execution": int})
    table = table.drop_duplicates(["trial_id", "execution", "epoch"], keep="last")
    return table.sort_values(["trial_id", "execution", "epoch"])


def _trial(
    trial_id: str,
    trial: Optional[TrialReport],
    report: Optional[RunReport],
    epochs: pd.DataFrame,
    layers: Optional[pd.DataFrame],
) -> TrialSnapshot:
    snapshot = TrialSnapshot(trial_id, trial.status if trial else RUNNING)
    snapshot.points = _epoch_points(epochs) + _layer_points(layers, trial_id)
    if trial is None:
        return snapshot
    snapshot.hyperparameters = dict(trial.hyperparameters)
    snapshot.params = {key: str(value) for key, value in trial.hyperparameters.items()}
    snapshot.final = final_metrics(trial)
    snapshot.label = trial.label
    snapshot.findings = [finding.kind for finding in trial.findings]
    snapshot.notes = [finding.text for finding in trial.findings]
    row = _row(report, trial_id)
    snapshot.started_at, snapshot.finished_at = row.get("started_at"), row.get("finished_at")
    return snapshot


def _row(report: Optional[RunReport], trial_id: str) -> dict[str, Any]:
    if report is None:
        return {}
    trials = report.run.trials
    rows = trials[trials["trial_id"] == trial_id].to_dict("records")
    return {k: v for k, v in rows[0].items() if isinstance(v, str)} if rows else {}


def final_metrics(trial: TrialReport) -> dict[str, float]:
    """`final_<split>_error`, its `_low`/`_high` interval ends, and `objective` (finite only)."""
    found: dict[str, Any] = {"objective": trial.objective}
    for name in ERRORS:
        found[f"final_{name}"] = getattr(trial, name)
        interval = getattr(trial, f"{name}_ci")
        if interval is not None:
            found[f"final_{name}_low"], found[f"final_{name}_high"] = interval
    return {key: float(value) for key, value in found.items() if number(value) is not None}


def _epoch_points(epochs: pd.DataFrame) -> list[Point]:
    """Every measured cell (an empty cell and a written `nan` read the same: neither is sent;
    `inf` is)."""
    columns = [c for c in epochs.columns if c not in POSITION]
    points = []
    for row in epochs.to_dict("records"):
        execution, epoch = int(row["execution"]), int(row["epoch"])
        for column in columns:
            value = row[column]
            if isinstance(value, (int, float)) and not math.isnan(value):
                key = metric_key(str(column), execution)
                points.append(Point(key, epoch, float(value), "epochs", execution))
    return points


def _layer_points(layers: Optional[pd.DataFrame], trial_id: str) -> list[Point]:
    if layers is None or layers.empty:
        return []
    rows = layers[layers["trial_id"] == trial_id].sort_values(["execution", "epoch"])
    points = []
    for row in rows.to_dict("records"):
        execution, epoch = int(row["execution"]), int(row["epoch"])
        for measure in LAYER_MEASURES:
            value = number(row.get(measure))
            if value is not None:
                key = layer_key(str(row["layer"]), measure, execution)
                points.append(Point(key, epoch, value, "layers", execution))
    return points


def follow(
    path: Path,
    export: Callable[[RunSnapshot], None],
    *,
    poll_seconds: float = POLL_SECONDS,
    on_wait: Optional[Callable[[str], None]] = None,
) -> RunSnapshot:
    """Export the run, then again whenever its files change, until its manifest says it is no
    longer running; the last export reads the files once more after that. Returns it.

    Raises:
        RunDirError: the run has no manifest.json (nothing would say when it ends).
    """
    run = check_run(path)
    if not run.manifest_file.is_file():
        raise RunDirError(
            f"{run.manifest_file}: missing; --follow stops when the manifest says the search "
            "ended. Export without --follow."
        )
    seen: Optional[tuple] = None
    while True:
        ended = run.read_manifest().get("status") != RunStatus.RUNNING  # read before the files
        signature = _signature(run)
        if signature != seen or ended:
            snapshot = read_snapshot(run.path, partial=True)
            export(snapshot)
            seen = signature
            if ended:
                return snapshot
        elif on_wait:
            on_wait("waiting for new epochs")
        time.sleep(poll_seconds)


def _signature(run: RunDir) -> tuple:
    """Sizes and modification times of the files an export reads."""
    files = (run.manifest_file, run.trials_file, run.epochs_file, run.layers_file,
             run.best_model_file)  # fmt: skip
    return tuple((f.stat().st_mtime_ns, f.stat().st_size) if f.exists() else None for f in files)
