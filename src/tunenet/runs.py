"""The run directory: the only module that knows file names. Atomic writes, line-by-line appends.

Format reference: docs/run-format.md.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import json
import math
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Optional

import yaml

from tunenet import __version__
from tunenet.config import Config
from tunenet.errors import RunDirError

FORMAT_VERSION = 1
TRIAL_STATUSES = ("completed", "failed", "diverged", "interrupted")
# Keys a resumed run may change: more trials or epochs extend the search without mixing configs.
EXTENDABLE = ("search.max_trials", "training.epochs")


@dataclass(frozen=True)
class RunOptions:
    """Where the run goes and what to do when it exists."""

    config_path: Path
    runs_dir: Path = Path("runs")
    name: Optional[str] = None
    resume: bool = False
    overwrite: bool = False
    tensorboard: bool = False
    overrides: tuple[str, ...] = ()  # command-line overrides, repeated in the resume hint


_UMASK = os.umask(0)
os.umask(_UMASK)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_atomic(path: Path, text: str) -> None:
    """Write a file by temp file + rename, so a crash never leaves it half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temp, 0o666 & ~_UMASK)
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: dict) -> None:
    write_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def resolved_dict(config: Config) -> dict:
    """The config with every default filled in, in the user's syntax."""
    return config.model_dump(mode="json")


def fingerprint(config: Config) -> str:
    """A hash of the resolved config, without the keys a resume may extend."""
    data = resolved_dict(config)
    data.pop("name", None)
    for dotted in EXTENDABLE:
        section, key = dotted.split(".")
        data[section].pop(key, None)
    text = json.dumps(data, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        flat: dict[str, Any] = {}
        for key, value in data.items():
            flat.update(_flatten(value, f"{prefix}{key}."))
        return flat
    return {prefix[:-1]: data}


def config_differences(old: dict, new: dict) -> list[tuple[str, Any, Any]]:
    """Keys whose value differs between two resolved configs: (key, old, new)."""
    before, after = _flatten(old), _flatten(new)
    keys = [key for key in after if key in before] + [key for key in before if key not in after]
    keys += [key for key in after if key not in before]
    return [
        (key, before.get(key), after.get(key)) for key in dict.fromkeys(keys)
        if before.get(key) != after.get(key)
    ]  # fmt: skip


def format_csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return format(value, ".8g")  # Keras logs are float32: 8 digits keep all of them
    return str(value)


def csv_line(values: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([format_csv_value(v) for v in values])
    return buffer.getvalue()


class RunDir:
    """Paths of one run and the operations on its files."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.notes: list[str] = []  # for the user, e.g. what a resume changed

    config_file = property(lambda self: self.path / "config.yaml")
    resolved_file = property(lambda self: self.path / "resolved.yaml")
    manifest_file = property(lambda self: self.path / "manifest.json")
    trials_file = property(lambda self: self.path / "trials.csv")
    epochs_file = property(lambda self: self.path / "epochs.csv")
    best_model_file = property(lambda self: self.path / "best" / "model.keras")
    report_dir = property(lambda self: self.path / "report")
    tuner_dir = property(lambda self: self.path / "tuner")
    workers_dir = property(lambda self: self.path / "tuner" / "workers")
    warm_start_dir = property(lambda self: self.path / "tuner" / "warm_start")
    tensorboard_dir = property(lambda self: self.path / "tensorboard")

    @property
    def name(self) -> str:
        return self.path.name

    def read_manifest(self) -> dict:
        try:
            return json.loads(self.manifest_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise RunDirError(f"{self.manifest_file}: cannot be read ({error}).") from None

    def update_manifest(self, **changes: Any) -> dict:
        manifest = self.read_manifest() if self.manifest_file.exists() else {}
        manifest.update(changes)
        write_json(self.manifest_file, manifest)
        return manifest

    def read_resolved(self) -> dict:
        try:
            return yaml.safe_load(self.resolved_file.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise RunDirError(f"{self.resolved_file}: cannot be read ({error}).") from None

    def save_best_model(self, model: Any) -> None:
        """Save the best model atomically (Keras needs the .keras suffix on the temp file)."""
        target = self.best_model_file
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(".model.tmp.keras")
        model.save(temp)
        os.replace(temp, target)


def versions() -> dict[str, str]:
    """Versions of the stack, for the manifest (only call where TensorFlow is loaded)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"tunenet": __version__, "python": platform.python_version()}
    for package in ("tensorflow", "tensorflow-cpu", "keras", "keras-tuner"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    if "tensorflow-cpu" in found:
        found.setdefault("tensorflow", found.pop("tensorflow-cpu"))
    return found


def prepare(config: Config, options: RunOptions) -> RunDir:
    """Create, replace or reopen the run directory; refuse to reuse one silently."""
    name = options.name or config.name or options.config_path.stem
    run = RunDir(options.runs_dir / name)
    exists = run.path.exists() and any(run.path.iterdir())
    if exists and not (options.resume or options.overwrite):
        raise RunDirError(
            f"{run.path} already exists. Use --resume to continue that run, "
            "or --overwrite to replace it (or --name to start another)."
        )
    if options.resume and not run.manifest_file.exists():
        raise RunDirError(
            f"{run.path}: nothing to resume (no manifest.json). Run without --resume."
        )
    if options.resume:
        run.notes = _check_same_config(run, config)
        write_atomic(run.resolved_file, yaml.safe_dump(resolved_dict(config), sort_keys=False))
        return run
    _check_writable(options.runs_dir)
    if exists:
        shutil.rmtree(run.path)
    run.path.mkdir(parents=True, exist_ok=True)
    write_atomic(run.config_file, options.config_path.read_text(encoding="utf-8"))
    write_atomic(run.resolved_file, yaml.safe_dump(resolved_dict(config), sort_keys=False))
    return run


def _check_writable(runs_dir: Path) -> None:
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=runs_dir, prefix=".probe.", delete=True)
        probe.close()
    except OSError as error:
        raise RunDirError(
            f"{runs_dir}: cannot write run directories there ({error.strerror}). "
            "Choose another place with --runs-dir."
        ) from None


def join(config: Config, options: RunOptions) -> RunDir:
    """A worker's view of a run its chief created: the config must be the very same."""
    name = options.name or config.name or options.config_path.stem
    run = RunDir(options.runs_dir / name)
    if not run.manifest_file.exists():
        raise RunDirError(
            f"{run.path}: no run to join (no manifest.json). Start the chief first "
            "(tunenet search CONFIG --serve HOST:PORT) with the same --runs-dir and --name."
        )
    differences = [
        (key, old, new)
        for key, old, new in config_differences(run.read_resolved(), resolved_dict(config))
        if key != "name"
    ]
    if differences:
        lines = [f"{run.path}: this worker's config differs from the run's:"]
        lines += [f"  {key}: {old!r} -> {new!r}" for key, old, new in differences]
        lines.append("Give the worker the chief's config file and the same --max-trials/--epochs.")
        raise RunDirError("\n".join(lines))
    return run


def _check_same_config(run: RunDir, config: Config) -> list[str]:
    """`--resume` with a changed config stops and shows the difference.

    Returns notes on the changes a resume allows (more trials or epochs).
    """
    changes = config_differences(run.read_resolved(), resolved_dict(config))
    allowed = [
        f"{key}: {old!r} -> {new!r} (allowed on --resume)"
        for key, old, new in changes
        if key in EXTENDABLE
    ]
    if run.read_manifest().get("config_fingerprint") == fingerprint(config):
        return allowed
    differences = [item for item in changes if item[0] not in EXTENDABLE and item[0] != "name"]
    if not differences:
        return allowed
    lines = [f"{run.path}: the config changed since this run started; --resume would mix them:"]
    lines += [f"  {key}: {old!r} -> {new!r}" for key, old, new in differences]
    lines.append(
        "Only search.max_trials and training.epochs may change on --resume. "
        "Start a new run (--name) or replace this one (--overwrite)."
    )
    raise RunDirError("\n".join(lines))


class RunLock:
    """An exclusive lock on the run directory, for the processes that write into it together."""

    def __init__(self, run_path: Path):
        self.path = run_path / ".lock"
        self.handle: Optional[Any] = None

    def __enter__(self) -> "RunLock":
        self.handle = open(self.path, "a")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self.handle is not None
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


class EpochLog:
    """epochs.csv, appended one whole line at a time under the run lock.

    The file is opened for each line: another process may have rewritten it (dropping the rows
    of a trial that runs again), and a file handle kept open would write into the old copy.
    """

    def __init__(self, path: Path, columns: list[str]):
        self.path, self.columns = path, columns
        self.lock = RunLock(path.parent)
        with self.lock:
            if not path.exists() or path.stat().st_size == 0:
                write_atomic(path, csv_line(columns))

    def append(self, row: dict) -> None:
        line = csv_line(row.get(column) for column in self.columns)
        with self.lock, open(self.path, "a", encoding="utf-8", newline="") as file:
            file.write(line)

    def drop_trials(self, keep: Optional[set[str]] = None, drop: Optional[set[str]] = None) -> None:
        """Remove the rows of trials not in `keep`, or of those in `drop`, and any partial line.

        Used before a trial runs again (after a kill), so that no row is duplicated.
        """
        with self.lock:
            lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
            kept = [lines[0]] + [
                line for line in lines[1:]
                if line.endswith("\n") and _kept(line.split(",", 1)[0], keep, drop)
            ]  # fmt: skip
            if len(kept) != len(lines):
                write_atomic(self.path, "".join(kept))


def _kept(trial_id: str, keep: Optional[set[str]], drop: Optional[set[str]]) -> bool:
    if keep is not None and trial_id not in keep:
        return False
    return drop is None or trial_id not in drop


class TrialTable:
    """trials.csv: one row per trial, rewritten atomically after every trial.

    Several worker processes may share it: `put` re-reads the file first; the caller holds the
    run lock around it.
    """

    def __init__(self, path: Path, columns: list[str]):
        self.path, self.columns = path, columns
        self.rows: dict[str, dict] = {}
        self.reload()

    def reload(self) -> None:
        if self.path.exists():
            self.rows = {row["trial_id"]: row for row in _read_rows(self.path)}

    def put(self, row: dict) -> None:
        self.reload()
        self.rows[row["trial_id"]] = row
        self.save()

    def ordered(self) -> list[dict]:
        """Rows in trial order (ids are numbers; their zero-padding may change on resume)."""
        return [self.rows[key] for key in sorted(self.rows, key=trial_order)]

    def save(self) -> None:
        lines = [csv_line(self.columns)]
        lines += [csv_line(row.get(column) for column in self.columns) for row in self.ordered()]
        write_atomic(self.path, "".join(lines))


def trial_order(trial_id: str) -> tuple[int, str]:
    return (int(trial_id), trial_id) if trial_id.isdigit() else (10**9, trial_id)


def _read_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))
