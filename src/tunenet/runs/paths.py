"""Where each file of a run directory lives (docs/run-format.md), and the whole-file operations on
them.

Format reference: docs/run-format.md.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Any, Optional

import yaml

from tunenet.errors import RunDirError
from tunenet.runs.files import read_json, read_yaml, replace_atomic, write_json
from tunenet.runs.status import RunStatus

FORMAT_VERSION = 1


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
    layers_file = property(lambda self: self.path / "layers.csv")
    baselines_file = property(lambda self: self.path / "baselines.csv")
    lock_file = property(lambda self: self.path / ".lock")
    best_model_file = property(lambda self: self.path / "best" / "model.keras")
    learning_curve_file = property(lambda self: self.path / "learning_curve.csv")
    confusion_file = property(lambda self: self.path / "best" / "confusion.json")
    report_dir = property(lambda self: self.path / "report")
    tuner_dir = property(lambda self: self.path / "tuner")
    workers_dir = property(lambda self: self.path / "tuner" / "workers")
    warm_start_dir = property(lambda self: self.path / "tuner" / "warm_start")
    tensorboard_dir = property(lambda self: self.path / "tensorboard")

    @property
    def name(self) -> str:
        return self.path.name

    def heartbeat_file(self, tuner_id: str) -> Path:
        """Touched by a worker at every epoch; the chief reclaims the trial of a silent one."""
        return self.workers_dir / f"{tuner_id}.heartbeat"

    def worker_log(self, index: int) -> Path:
        return self.workers_dir / f"tuner{index}.log"

    def worker_pid_file(self, index: int) -> Path:
        return self.workers_dir / f"tuner{index}.pid"

    def warm_start_file(self, trial_id: str) -> Path:
        return self.warm_start_dir / f"trial_{trial_id}.weights.h5"

    def trial_model_file(self, trial_id: str) -> Path:
        """A completed trial's model, saved under `search.keep: simplest_tied` (tuning.keep)."""
        return self.tuner_dir / "models" / f"trial_{trial_id}.keras"

    def tensorboard_trial_dir(self, trial_id: str, execution: int) -> Path:
        return self.tensorboard_dir / f"trial_{trial_id}" / f"execution_{execution}"

    def read_manifest(self) -> dict:
        try:
            return read_json(self.manifest_file)
        except (OSError, ValueError) as error:
            raise RunDirError(f"{self.manifest_file}: cannot be read ({error}).") from None

    def update_manifest(self, **changes: Any) -> dict:
        manifest = self.read_manifest() if self.manifest_file.exists() else {}
        manifest.update(changes)
        write_json(self.manifest_file, manifest)
        return manifest

    def read_resolved(self) -> dict:
        try:
            resolved = read_yaml(self.resolved_file) or {}
        except (OSError, ValueError, yaml.YAMLError) as error:
            raise RunDirError(f"{self.resolved_file}: cannot be read ({error}).") from None
        if not isinstance(resolved, dict):
            raise RunDirError(f"{self.resolved_file}: cannot be read (not a YAML mapping).")
        return resolved

    def save_best_model(self, model: Any) -> None:
        """Save the best model atomically (Keras needs the .keras suffix on the temp file)."""
        replace_atomic(self.best_model_file, model.save, suffix=".keras")


def new_manifest(run: RunDir) -> dict:
    """The manifest a run starts with; the search fills in the rest."""
    return {"format_version": FORMAT_VERSION, "name": run.name, "status": RunStatus.RUNNING}


class RunLock:
    """An exclusive lock on the run directory, for the processes that write into it together."""

    def __init__(self, run_path: Path):
        self.path = RunDir(run_path).lock_file
        self.handle: Optional[Any] = None

    def __enter__(self) -> "RunLock":
        self.handle = open(self.path, "a")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self.handle is not None
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()
