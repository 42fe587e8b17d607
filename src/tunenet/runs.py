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
from tunenet.config import RUN_NAME_RULE, Config, run_name_problem
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
    except BaseException as error:
        Path(temp).unlink(missing_ok=True)
        if isinstance(error, OSError) and error.filename is None:
            error.filename = str(path)  # a full disk names no file otherwise
        raise


def append_line(path: Path, line: str) -> None:
    """Append one whole line; when the write fails (a full disk), cut the file back to where it
    was, so that no half line stays behind."""
    data = line.encode("utf-8")
    handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        size = os.fstat(handle).st_size
        try:
            _write_all(handle, data)
        except OSError as error:
            os.ftruncate(handle, size)
            error.filename = error.filename or str(path)
            raise
    finally:
        os.close(handle)


def _write_all(handle: int, data: bytes) -> None:
    while data:
        data = data[os.write(handle, data) :]


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
            resolved = yaml.safe_load(self.resolved_file.read_text(encoding="utf-8")) or {}
        except (OSError, ValueError, yaml.YAMLError) as error:
            raise RunDirError(f"{self.resolved_file}: cannot be read ({error}).") from None
        if not isinstance(resolved, dict):
            raise RunDirError(f"{self.resolved_file}: cannot be read (not a YAML mapping).")
        return resolved

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


def run_name(config: Config, options: RunOptions) -> str:
    """The run's name: --name, else the config's `name`, else the config file's stem.

    Each must be one plain directory name (SPEC §7), so that the run stays inside --runs-dir.
    """
    if options.name is not None:
        problem = run_name_problem(options.name)
        if problem:
            raise RunDirError(
                f"--name: got {_short(options.name)}, which {problem}; {RUN_NAME_RULE}. "
                "Give a plain name, e.g. --name my-run."
            )
        return options.name
    if config.name is not None:
        return config.name  # the schema checked it
    stem = options.config_path.stem
    problem = run_name_problem(stem)
    if problem:
        raise RunDirError(
            f"{options.config_path}: the run name defaults to the file's name, {_short(stem)}, "
            f"which {problem}; {RUN_NAME_RULE}. Give one with --name NAME (or `name:` in the "
            "config)."
        )
    return stem


def _short(text: str, limit: int = 60) -> str:
    return repr(text) if len(text) <= limit else repr(text[: limit - 3]) + "..."


def locate(config: Config, options: RunOptions) -> RunDir:
    """The run directory the options name, checked before anything is created or deleted.

    Raises RunDirError when it would lie outside --runs-dir, exists without --resume or
    --overwrite, is not a tunenet run that --overwrite may replace, or has nothing to resume.
    """
    run = RunDir(options.runs_dir / run_name(config, options))
    _check_inside(run.path, options.runs_dir)
    if run.path.exists() and not run.path.is_dir():
        raise RunDirError(
            f"{run.path}: is a file, not a run directory. Move it away or choose another --name."
        )
    occupied = _occupied(run.path)
    if occupied and not (options.resume or options.overwrite):
        raise RunDirError(
            f"{run.path} already exists. Use --resume to continue that run, "
            "or --overwrite to replace it (or --name to start another)."
        )
    if options.overwrite and occupied:
        _check_replaceable(run)
    if options.resume and not run.manifest_file.exists():
        raise RunDirError(
            f"{run.path}: nothing to resume (no manifest.json). Run without --resume."
        )
    return run


def _check_inside(path: Path, runs_dir: Path) -> None:
    """Symbolic links followed, the run must lie inside the runs directory."""
    root, target = runs_dir.resolve(), path.resolve()
    if target == root or not target.is_relative_to(root):
        raise RunDirError(
            f"{path}: leads to {target}, outside the runs directory {root} (a symbolic "
            "link?). tunenet writes only inside --runs-dir: remove the link or choose another "
            "--name."
        )


def _occupied(path: Path) -> bool:
    try:
        return path.is_dir() and any(path.iterdir())
    except OSError as error:
        raise RunDirError(f"{path}: cannot be read ({error.strerror}).") from None


def _check_replaceable(run: RunDir) -> None:
    """--overwrite deletes a tunenet run and nothing else: no link, no folder without manifest."""
    if run.path.is_symlink():
        raise RunDirError(
            f"{run.path}: is a symbolic link; --overwrite replaces only a run directory itself. "
            "Remove the link or choose another --name."
        )
    if not run.manifest_file.is_file():
        raise RunDirError(
            f"{run.path}: is not a tunenet run (no manifest.json), so --overwrite does not "
            "delete it. Move it away or choose another --name."
        )


def prepare(config: Config, options: RunOptions) -> RunDir:
    """Create, replace or reopen the run directory; refuse to reuse one silently."""
    run = locate(config, options)
    if options.resume:
        return _reopen(run, config)
    _check_writable(options.runs_dir)
    try:
        if _occupied(run.path):
            shutil.rmtree(run.path)  # `locate` checked that it is a tunenet run inside runs_dir
        run.path.mkdir(parents=True, exist_ok=True)
        # the manifest first: from now on the directory is recognisably a tunenet run
        write_json(run.manifest_file, _manifest_stub(run))
        write_atomic(run.config_file, options.config_path.read_text(encoding="utf-8"))
        write_atomic(run.resolved_file, yaml.safe_dump(resolved_dict(config), sort_keys=False))
    except OSError as error:
        raise RunDirError(f"{error.filename or run.path}: cannot be written ({error}).") from None
    return run


def _manifest_stub(run: RunDir) -> dict:
    return {"format_version": FORMAT_VERSION, "name": run.name, "status": "running"}


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
    run = RunDir(options.runs_dir / run_name(config, options))
    _check_inside(run.path, options.runs_dir)
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


# ---------------------------------------------------------------- resume: check, then repair


def _reopen(run: RunDir, config: Config) -> RunDir:
    """Check a run for --resume before changing anything, then rebuild what can be rebuilt.

    trials.csv and epochs.csv are the source of truth: damage there that a crash cannot cause
    (a garbage header, a broken inner line) is refused; a damaged manifest is rebuilt.
    """
    manifest, damage = _manifest_or_damage(run)
    run.notes = _check_same_config(run, config, manifest)
    read_trial_rows(run.trials_file)  # raises on a damaged header or inner line
    _check_header(run.epochs_file, ("trial_id", "execution", "epoch"))
    resolved = yaml.safe_dump(resolved_dict(config), sort_keys=False)
    try:
        if damage:
            write_json(run.manifest_file, _manifest_stub(run))  # the search fills in the rest
            run.notes.append(f"{run.manifest_file}: {damage}; rebuilt from resolved.yaml.")
        if _text_or_none(run.resolved_file) != resolved:
            write_atomic(run.resolved_file, resolved)
    except OSError as error:
        raise RunDirError(f"{error.filename or run.path}: cannot be written ({error}).") from None
    return run


def _manifest_or_damage(run: RunDir) -> tuple[Optional[dict], str]:
    """The manifest, or None and what is wrong with it."""
    try:
        manifest = json.loads(run.manifest_file.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return None, "was not UTF-8 text"
    except ValueError as error:
        return None, f"was not JSON ({error})"
    except OSError as error:
        raise RunDirError(f"{run.manifest_file}: cannot be read ({error.strerror}).") from None
    if not isinstance(manifest, dict):
        return None, "was not a JSON object"
    return manifest, ""


def _text_or_none(path: Path) -> Optional[str]:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None


def _check_same_config(run: RunDir, config: Config, manifest: Optional[dict]) -> list[str]:
    """`--resume` with a changed config stops and shows the difference.

    Returns notes on the changes a resume allows (more trials or epochs).
    """
    same = manifest is not None and manifest.get("config_fingerprint") == fingerprint(config)
    try:
        recorded = run.read_resolved()
    except RunDirError as error:
        if same:
            return []  # the manifest vouches for the config; resolved.yaml is rewritten
        raise RunDirError(
            f"{error} Without it (and a readable manifest.json) tunenet cannot tell whether "
            "the config changed. Restore the file, or start again with --overwrite."
        ) from None
    changes = config_differences(recorded, resolved_dict(config))
    allowed = [
        f"{key}: {old!r} -> {new!r} (allowed on --resume)"
        for key, old, new in changes
        if key in EXTENDABLE
    ]
    if same:
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


def _check_header(path: Path, first: tuple[str, ...]) -> None:
    """A CSV's first line, when whole, must start with tunenet's columns `first`."""
    text = _text_or_none(path) if path.exists() else ""
    if text is None:
        raise RunDirError(f"{path}: cannot be read as UTF-8 text. {_REFUSED}")
    if "\n" not in text:
        return  # empty, or a header cut by a crash: nothing follows it, it is written again
    header = next(csv.reader([text.split("\n", 1)[0]]), [])
    if tuple(header[: len(first)]) != first:
        raise RunDirError(
            f"{path}: line 1 is not tunenet's header: got {_short(','.join(header))}, expected "
            f"it to start with {','.join(first)}. {_REFUSED}"
        )


_REFUSED = "Restore the file from a copy, or start the run again with --overwrite."


def read_trial_rows(path: Path) -> tuple[list[dict], str]:
    """The rows of trials.csv, and its last line when a crash cut it (dropped: that trial
    runs again). Raises RunDirError, naming the file and line, for damage a crash cannot
    cause: a header that is not tunenet's, an inner line with the wrong number of fields."""
    if not path.exists():
        return [], ""
    text = _text_or_none(path)
    if text is None:
        raise RunDirError(f"{path}: cannot be read as UTF-8 text. {_REFUSED}")
    whole, newline, cut = text.rpartition("\n")
    reader = csv.reader(io.StringIO(whole + newline))
    header = next(reader, None)
    if header is None:
        return [], cut
    if header[:2] != ["trial_id", "status"]:
        raise RunDirError(
            f"{path}: line 1 is not tunenet's header: got {_short(','.join(header))}, expected "
            f"it to start with trial_id,status. {_REFUSED}"
        )
    rows = []
    for record in reader:
        if len(record) != len(header):
            raise RunDirError(
                f"{path}: line {reader.line_num} has {len(record)} fields, the header "
                f"{len(header)}. Remove that line (its trial runs again on --resume), or start "
                "the run again with --overwrite."
            )
        rows.append(dict(zip(header, record, strict=True)))
    return rows, cut


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
            text = _text_or_none(path) if path.exists() else ""
            if text is None:
                raise RunDirError(f"{path}: cannot be read as UTF-8 text. {_REFUSED}")
            if "\n" not in text:  # new, or a header cut before any row
                write_atomic(path, csv_line(columns))
            elif text.split("\n", 1)[0] + "\n" != csv_line(columns):
                raise RunDirError(
                    f"{path}: its columns are not the ones this run writes (expected "
                    f"{','.join(columns)}). {_REFUSED}"
                )

    def append(self, row: dict) -> None:
        with self.lock:
            append_line(self.path, csv_line(row.get(column) for column in self.columns))

    def drop_trials(self, keep: Optional[set[str]] = None, drop: Optional[set[str]] = None) -> int:
        """Remove the rows of trials not in `keep`, or of those in `drop`, and a cut last line.

        Used before a trial runs again (after a kill), so that no row is duplicated. Returns
        the number of cut lines dropped.
        """
        with self.lock:
            lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
            cut = sum(not line.endswith("\n") for line in lines[1:])
            kept = [lines[0]] + [
                line for line in lines[1:]
                if line.endswith("\n") and _kept(line.split(",", 1)[0], keep, drop)
            ]  # fmt: skip
            if len(kept) != len(lines):
                write_atomic(self.path, "".join(kept))
            return cut


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
        self.cut = ""  # a last line a crash cut, dropped (its trial runs again)
        self.reload()

    def reload(self) -> None:
        if self.path.exists():
            rows, self.cut = read_trial_rows(self.path)
            self.rows = {row["trial_id"]: row for row in rows}

    def find(self, trial_id: str) -> Optional[dict]:
        """The row of a trial, whatever the zero-padding of its id."""
        if trial_id in self.rows:
            return self.rows[trial_id]
        same = [row for key, row in self.rows.items() if _number(key) == _number(trial_id)]
        return same[0] if same and _number(trial_id) is not None else None

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


def _number(trial_id: str) -> Optional[int]:
    """A trial id as a number: "03" and "3" are the same trial (padding follows max_trials)."""
    return int(trial_id) if trial_id.isdigit() else None


# ---------------------------------------------------------------- keras-tuner's own state

# keras-tuner trial statuses after which it never runs the trial again.
TUNER_FINISHED = ("COMPLETED", "FAILED", "INVALID")


def tuner_state_problem(run: RunDir, recorded: set[str]) -> str:
    """What keeps keras-tuner's saved state (tuner/*.json, trial_*/trial.json) from being
    reloaded as it is, or "" when nothing does.

    keras-tuner writes these files in place, so a crash or a full disk can leave them empty.
    `recorded` are the trials trials.csv holds as finished: a trial keras-tuner counts as
    finished without a row there (its row was lost) would never run again.
    """
    states: dict[Path, dict] = {}
    for path in sorted(run.tuner_dir.glob("*.json")) + sorted(run.tuner_dir.glob("trial_*/*.json")):
        try:
            states[path] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            return f"{path} is damaged ({type(error).__name__}: {error})"
        if not isinstance(states[path], dict):
            return f"{path} is damaged (not a JSON object)"
    known = {_number(key) for key in recorded} - {None}
    trials = {str(state.get("trial_id")): state for state in states.values() if "status" in state}
    for trial_id, state in trials.items():
        if state["status"] in TUNER_FINISHED and _number(trial_id) not in known:
            return f"trial {trial_id} is finished in {run.tuner_dir} but has no row in trials.csv"
    oracle = states.get(run.tuner_dir / "oracle.json")
    started = {str(trial_id) for trial_id in (oracle or {}).get("start_order", [])}
    if oracle is not None and started != set(trials):  # a crash between the two writes
        odd = sorted(started ^ set(trials))[0]
        return f"{run.tuner_dir}: oracle.json and the trial.json files disagree on trial {odd}"
    return ""


def discard_tuner_state(run: RunDir) -> None:
    """Delete keras-tuner's state files (not the warm-start weights or worker heartbeats)."""
    for path in run.tuner_dir.glob("*.json"):
        path.unlink()
    for folder in run.tuner_dir.glob("trial_*"):
        shutil.rmtree(folder)
