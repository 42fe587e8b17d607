"""Starting a run: its name, where it goes, and whether an existing directory may be reused.

`locate` checks before anything is created or deleted; `prepare` takes the run's search lock
(`lock`), then creates, replaces or reopens the run; `join` is a worker's view of a run its chief
created (the workers are part of the chief's search: they never take the lock).
"""

from __future__ import annotations

import platform
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import yaml

from tunenet.config.sections import RUN_NAME_RULE, Config, run_name_problem
from tunenet.errors import RunDirError
from tunenet.runs import lock
from tunenet.runs.files import short, write_atomic, write_json
from tunenet.runs.paths import RunDir, new_manifest
from tunenet.runs.resolved import config_differences, resolved_dict
from tunenet.runs.resume import reopen
from tunenet.runs.version import tunenet_version


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
    retry_failed: bool = False  # --retry-failed (with resume): failed trials run again
    # config.yaml's text when the config is not a file (a dict given to the Python API)
    config_text: Optional[str] = None


def versions() -> dict[str, str]:
    """Versions of the stack, for the manifest (only call where TensorFlow is loaded)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"tunenet": tunenet_version(), "python": platform.python_version()}
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

    Each must be one plain directory name (docs/reproducibility.md), so that the run stays inside
    --runs-dir.
    """
    if options.name is not None:
        problem = run_name_problem(options.name)
        if problem:
            raise RunDirError(
                f"--name: got {short(options.name)}, which {problem}; {RUN_NAME_RULE}. "
                "Give a plain name, e.g. --name my-run."
            )
        return options.name
    if config.name is not None:
        return config.name  # the schema checked it
    stem = options.config_path.stem
    problem = run_name_problem(stem)
    if problem:
        raise RunDirError(
            f"{options.config_path}: the run name defaults to the file's name, {short(stem)}, "
            f"which {problem}; {RUN_NAME_RULE}. Give one with --name NAME (or `name:` in the "
            "config)."
        )
    return stem


def locate(config: Config, options: RunOptions) -> RunDir:
    """The run directory the options name, checked before anything is created or deleted.

    Raises RunDirError when it would lie outside --runs-dir, another search is running on it,
    it exists without --resume or --overwrite, is not a tunenet run that --overwrite may
    replace, or has nothing to resume.
    """
    run = RunDir(options.runs_dir / run_name(config, options))
    _check_inside(run.path, options.runs_dir)
    if run.path.exists() and not run.path.is_dir():
        raise RunDirError(
            f"{run.path}: is a file, not a run directory. Move it away or choose another --name."
        )
    if run.path.is_dir():
        lock.check_free(run.path)  # a running search: said first, whatever the flags
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
    """Whether the directory holds anything but a search lock (left by a search that ended)."""
    try:
        return path.is_dir() and any(item.name != lock.LOCK_NAME for item in path.iterdir())
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
    """Take the run's search lock, then create, replace or reopen the run directory; refuse to
    reuse one silently. The lock is held until `lock.release(run.path)` or the process ends.

    Raises:
        RunDirError: as `locate`; also when another search took the lock in the meantime.
    """
    run = locate(config, options)
    if not options.resume:
        _check_writable(options.runs_dir)
    try:
        text = options.config_text
        if text is None and not options.resume:  # read before any deletion: the file may lie
            text = options.config_path.read_text(encoding="utf-8")  # in the run replaced
        run.path.mkdir(parents=True, exist_ok=True)
        held = lock.acquire(run.path)
    except OSError as error:
        raise RunDirError(f"{error.filename or run.path}: cannot be written ({error}).") from None
    try:
        locate(config, options)  # again under the lock: another search may have changed the run
        run = reopen(run, config) if options.resume else _create(run, config, text or "")
        held.record()
    except BaseException:
        lock.release(run.path)
        raise
    return run


def _create(run: RunDir, config: Config, text: str) -> RunDir:
    """A new run in `run.path` (emptied: `locate` checked that --overwrite may replace it)."""
    try:
        _empty(run.path)
        # the manifest first: from now on the directory is recognisably a tunenet run
        write_json(run.manifest_file, new_manifest(run))
        write_atomic(run.config_file, text)
        write_atomic(run.resolved_file, yaml.safe_dump(resolved_dict(config), sort_keys=False))
    except OSError as error:
        raise RunDirError(f"{error.filename or run.path}: cannot be written ({error}).") from None
    return run


def _empty(path: Path) -> None:
    """Delete what the run directory holds, except the search lock this process holds."""
    for item in path.iterdir():
        if item.name == lock.LOCK_NAME:
            continue
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item)
        else:
            item.unlink()


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
