"""A finished run and its best model, opened for the follow-up commands (evaluate, activations,
learning-curve): checked, with its config, and the model loaded in Keras' safe mode.

Everything but `load_best_model` runs without TensorFlow, so that a wrong path or a damaged
file is said before TensorFlow loads (seconds).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from tunenet.errors import RunDirError
from tunenet.runs.paths import RunDir

if TYPE_CHECKING:
    from tunenet.config.sections import Config

MODEL_EXPECTED = (
    "expected a Keras model: a .keras zip archive holding config.json and model.weights.h5, as "
    "tunenet search writes it. Restore the file, or run the search again."
)
GIVE = "Give a directory made by tunenet search, e.g. runs/<name>."


def open_run(path: Path, manifest: bool = True) -> RunDir:
    """The run at `path`, or a RunDirError that says what is there and what is expected.

    Args:
        manifest: whether the run must have manifest.json (resolved.yaml it always needs).
    """
    problem = run_dir_problem(Path(path), manifest)
    if problem:
        raise RunDirError(problem)
    return RunDir(Path(path))


def open_finished_run(path: Path, manifest: bool = True) -> RunDir:
    """`open_run`, and its best model checked to be a Keras file (without loading it)."""
    run = open_run(path, manifest)
    if not run.best_model_file.exists():
        raise RunDirError(
            f"{run.best_model_file}: does not exist: no trial of this run completed. "
            "Finish the search (tunenet search CONFIG --resume) first."
        )
    problem = model_file_problem(run.best_model_file)
    if problem:
        raise RunDirError(f"{run.best_model_file}: {problem}, {MODEL_EXPECTED}")
    return run


def run_dir_problem(path: Path, manifest: bool = True) -> Optional[str]:
    """What is wrong with `path` as a run directory, or None when it looks like one."""
    if not path.exists():
        return f"{path}: no such run directory. {GIVE}"
    if not path.is_dir():
        hint = ""
        if RunDir(path.parent.parent).best_model_file == path:
            hint = f" This is a run's best model: try tunenet evaluate {path.parent.parent}."
        return f"{path}: is a file, expected a run directory. {GIVE}{hint}"
    run = RunDir(path)
    needed = (run.manifest_file, run.resolved_file) if manifest else (run.resolved_file,)
    missing = [file.name for file in needed if not file.exists()]
    if not missing:
        return None
    runs = sorted(str(child) for child in path.iterdir() if RunDir(child).manifest_file.is_file())
    if runs and not run.manifest_file.exists():
        shown = ", ".join(runs[:5]) + (f" (and {len(runs) - 5} more)" if len(runs) > 5 else "")
        return f"{path}: is a directory of runs, expected one run. Give one of them: {shown}."
    return f"{path}: is not a tunenet run directory (no {' and no '.join(missing)}). {GIVE}"


def model_file_problem(path: Path) -> Optional[str]:
    """What `path` is when it cannot be a Keras model file (read without TensorFlow), or None."""
    if path.is_dir():
        return "is a directory"
    size = path.stat().st_size
    if size == 0:
        return "is an empty file"
    if not zipfile.is_zipfile(path):
        return f"is {_kind_of_file(path, size)}, not a zip archive"
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as error:
        return f"is a damaged zip archive ({error})"
    if "config.json" not in names:
        held = ", ".join(names[:5]) or "nothing"
        return f"is a zip archive without config.json (it holds {held})"
    return None


def _kind_of_file(path: Path, size: int) -> str:
    with path.open("rb") as file:
        head = file.read(64)
    if head.startswith(b"\x89HDF"):
        return f"an HDF5 file ({size} bytes: a legacy .h5 model or weights file?)"
    if b"\0" in head:
        return f"a binary file of {size} bytes"
    text = head.decode("utf-8", errors="replace").strip()
    first = text.splitlines()[0][:40] if text else ""
    return f"a text file of {size} bytes (starts {first!r})"


def run_manifest(run: RunDir) -> dict:
    """manifest.json, or {} when the run has none."""
    return run.read_manifest() if run.manifest_file.exists() else {}


def run_config(run: RunDir) -> "Config":
    """The run's resolved config, with the data files where the search found them.

    Raises:
        RunDirError: resolved.yaml is unreadable or not a tunenet config.
        ConfigError: it no longer validates.
    """
    from tunenet.config import load as loader

    raw = run.read_resolved()
    if not isinstance(raw, dict) or "data" not in raw:
        raise RunDirError(f"{run.resolved_file}: is not a tunenet resolved config.")
    files = (run_manifest(run).get("data") or {}).get("files") or {}
    for key, absolute in files.items():
        if raw["data"].get(key) and Path(absolute).exists():
            raw["data"][key] = absolute  # relative paths were relative to the search's directory
    return loader.validate_dict(raw, source=str(run.resolved_file))


def load_best_model(run: RunDir, compile: bool = True) -> Any:
    """The run's best model, loaded in Keras' safe mode (no code from the file runs); imports
    TensorFlow. `compile=False` skips the loss and optimizer (enough to predict).

    Raises:
        RunDirError: the file cannot be loaded as a Keras model.
    """
    from tunenet.models.saved import load_best_model as load  # TensorFlow from here

    try:
        return load(run.best_model_file, compile=compile)
    except Exception as error:  # Keras raises many types for a damaged or foreign file
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise RunDirError(
            f"{run.best_model_file}: cannot be loaded as a Keras model ({first}); {MODEL_EXPECTED}"
        ) from None
