"""`tunenet evaluate`: the run's best model on one split, rebuilt from the run's config and seed.

The test split is the unbiased estimate of the chosen model's error: the search never looked
at it. Use it once, at the end; choosing anything by it (a trial, a config, a threshold) turns
it into a second validation split and its error into an optimistic one.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tunenet.errors import DataError, RunDirError
from tunenet.runs import FORMAT_VERSION, RunDir

SPLITS = ("test", "val", "train")


@dataclass
class Evaluation:
    """Loss, metrics and error of the best model on one split of a run."""

    run: str
    split: str
    examples: int
    task: str
    metrics: dict[str, float]
    error: float
    best_trial: Optional[str] = None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "run": self.run,
            "split": self.split,
            "examples": self.examples,
            "task": self.task,
            "best_trial": self.best_trial,
            "metrics": dict(self.metrics),
            "error": self.error,
        }


def _run_config(run: RunDir) -> Any:
    """The run's resolved config, with the data files where the search found them."""
    from tunenet.config import load as loader

    raw = run.read_resolved()
    if not isinstance(raw, dict) or "data" not in raw:
        raise RunDirError(f"{run.resolved_file}: is not a tunenet resolved config.")
    files = (run.read_manifest().get("data") or {}).get("files") or {}
    for key, absolute in files.items():
        if raw["data"].get(key) and Path(absolute).exists():
            raw["data"][key] = absolute  # relative paths were relative to the search's directory
    return loader.validate_dict(raw, source=str(run.resolved_file))


MODEL_EXPECTED = (
    "expected a Keras model: a .keras zip archive holding config.json and model.weights.h5, as "
    "tunenet search writes it. Restore the file, or run the search again."
)


def _check_run(path: Path) -> RunDir:
    """The run at `path`, or a RunDirError that says what is there and what is expected."""
    problem = run_dir_problem(path)
    if problem:
        raise RunDirError(problem)
    run = RunDir(path)
    if not run.best_model_file.exists():
        raise RunDirError(
            f"{run.best_model_file}: does not exist: no trial of this run completed. "
            "Finish the search (tunenet search CONFIG --resume) first."
        )
    problem = model_file_problem(run.best_model_file)
    if problem:
        raise RunDirError(f"{run.best_model_file}: {problem}, {MODEL_EXPECTED}")
    return run


def run_dir_problem(path: Path) -> Optional[str]:
    """What is wrong with `path` as a run directory, or None when it looks like one."""
    give = "Give a directory made by tunenet search, e.g. runs/<name>."
    if not path.exists():
        return f"{path}: no such run directory. {give}"
    if not path.is_dir():
        hint = ""
        if RunDir(path.parent.parent).best_model_file == path:
            hint = f" This is a run's best model: try tunenet evaluate {path.parent.parent}."
        return f"{path}: is a file, expected a run directory. {give}{hint}"
    run = RunDir(path)
    missing = [f.name for f in (run.manifest_file, run.resolved_file) if not f.exists()]
    if not missing:
        return None
    runs = sorted(str(child) for child in path.iterdir() if RunDir(child).manifest_file.is_file())
    if runs and run.manifest_file.name in missing:
        shown = ", ".join(runs[:5]) + (f" (and {len(runs) - 5} more)" if len(runs) > 5 else "")
        return f"{path}: is a directory of runs, expected one run. Give one of them: {shown}."
    return f"{path}: is not a tunenet run directory (no {' and no '.join(missing)}). {give}"


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


def evaluate_run(path: Path, split: str = "test") -> Evaluation:
    """Evaluate a run's best model on one split of its data.

    Args:
        path: the run directory (`runs/<name>`).
        split: `test` (default: the unbiased estimate), `val` or `train`.
    """
    if split not in SPLITS:
        raise DataError(f"--split: got {split!r}, expected one of {', '.join(SPLITS)}.")
    run = _check_run(path)
    config = _run_config(run)
    manifest = run.read_manifest()

    from tunenet.data.dataset import load_dataset

    dataset = load_dataset(config)  # a data problem: said before TensorFlow loads
    x, y = dataset.split(split)
    if len(y) == 0:
        raise DataError(
            f"{path}: this run has no {split} split (data.split.test is 0 and the source has "
            "no test examples of its own). Use --split val."
        )
    warnings = []
    recorded = ((manifest.get("data") or {}).get("sizes") or {}).get(
        "validation" if split == "val" else split
    )
    if recorded is not None and int(recorded) != len(y):
        warnings.append(
            f"the {split} split has {len(y)} examples now but had {recorded} during the search: "
            "the data changed since, so these figures are not the search's."
        )
    from tunenet.models.saved import load_best_model  # TensorFlow from here
    from tunenet.tuning.pipelines import Pipelines, error_of

    try:
        model = load_best_model(run.best_model_file)  # Keras' safe mode
    except Exception as error:  # a damaged or foreign file: not the user's data
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise RunDirError(
            f"{run.best_model_file}: cannot be loaded as a Keras model ({first}); {MODEL_EXPECTED}"
        ) from None
    try:
        data = Pipelines(dataset).evaluation(split, raw=True)  # the saved model's own units
        metrics = model.evaluate(data, verbose=0, return_dict=True)
    except (ValueError, TypeError) as error:
        first = str(error).strip().splitlines()[0]
        raise DataError(
            f"{run.best_model_file}: does not take the run's data any more ({first}). "
            "The data files changed since the search."
        ) from None
    metrics = {name: float(value) for name, value in metrics.items()}
    return Evaluation(
        run=str(run.path),
        split=split,
        examples=len(y),
        task=dataset.task,
        metrics=metrics,
        error=error_of(dataset.task, metrics, dataset.target_variance),
        best_trial=manifest.get("best_trial"),
        warnings=warnings,
    )


def as_table(result: Evaluation) -> Group:
    """The evaluation as a two-column Rich table, then the model it used."""
    table = Table(title=f"{result.split} split: {result.examples} examples", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    names = sorted(result.metrics, key=lambda name: name != "loss")  # loss first
    for name in names:
        table.add_row(Text(name), f"{result.metrics[name]:.4g}")
    label = "error (1 - accuracy)" if result.task != "regression" else "error (MSE / variance)"
    table.add_row(Text(label), f"{result.error:.4g}")
    trial = f" (trial {result.best_trial})" if result.best_trial is not None else ""
    return Group(table, Text(f"best model of {result.run}{trial}"))


def as_json(result: Evaluation) -> str:
    return json.dumps(result.as_dict(), indent=2)
