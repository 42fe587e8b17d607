"""`tunenet export RUN --to tensorboard`: TensorBoard event files written from the run's files
(docs/export.md), so that a `--workers` run gets them too.

One folder per trial, `<logdir>/trial_<id>/`, holding its hyperparameters for the HParams
dashboard (the session's start) and its per-epoch scalars (`step` = epoch, the names of
`tunenet export --to mlflow`), then its final metrics; `<logdir>` itself holds the HParams
experiment (every hyperparameter, the final metrics as columns). The files end in
`.tunenet-export`: an export replaces its own files of a trial (so exporting again never
doubles a curve) and never touches the in-process `--tensorboard` logs beside them. Written
with TensorBoard's own writer and protocol buffers: TensorFlow is not imported.
"""

from __future__ import annotations

import itertools
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from tunenet.errors import RunDirError
from tunenet.runs import RunDir
from tunenet.studies.export_source import (
    ERRORS,
    RunSnapshot,
    TrialSnapshot,
    follow,
    read_snapshot,
)

SUFFIX = ".tunenet-export"
_COUNT = itertools.count()
FINAL_METRICS = ("objective", *(f"final_{name}" for name in ERRORS))


@dataclass
class TensorBoardResult:
    logdir: Path
    trials: list[str] = field(default_factory=list)  # the trials written by the last call

    def lines(self) -> list[str]:
        return [
            f"exported {len(self.trials)} trials to {self.logdir}; view them with: "
            f"tensorboard --logdir {self.logdir}"
        ]


def default_logdir(path: Path) -> Path:
    """`<run>/tensorboard`, where `tunenet search --tensorboard` writes too."""
    return RunDir(Path(path)).tensorboard_dir


def export_tensorboard(
    path: Path,
    *,
    logdir: Optional[Path] = None,
    follow_run: bool = False,
    poll_seconds: float = 2.0,
    log: Optional[Callable[[str], None]] = None,
) -> TensorBoardResult:
    """Write every trial's event files (docs/export.md); with `follow_run`, each trial once it
    has ended, until the search ends.

    Raises:
        RunDirError: not a run, or `logdir` cannot be written.
    """
    logdir = Path(logdir) if logdir is not None else default_logdir(path)
    result = TensorBoardResult(logdir)
    written: set[str] = set()

    def export(snapshot: RunSnapshot) -> None:
        chosen = [
            t for t in snapshot.trials if not follow_run or (t.ended and t.trial_id not in written)
        ]
        _write(snapshot, logdir, chosen)
        written.update(t.trial_id for t in chosen)
        result.trials = sorted(written)
        if log:
            log(f"wrote {len(chosen)} trials to {logdir}")

    if follow_run:
        follow(path, export, poll_seconds=poll_seconds)
    else:
        export(read_snapshot(path))
    return result


def _write(snapshot: RunSnapshot, logdir: Path, trials: list[TrialSnapshot]) -> None:
    try:
        logdir.mkdir(parents=True, exist_ok=True)
        if trials:
            _write_experiment(snapshot, logdir)
        for trial in trials:
            _write_trial(trial, logdir / f"trial_{trial.trial_id}")
    except OSError as error:
        raise RunDirError(f"{logdir}: cannot write TensorBoard files ({error}).") from None


def _write_experiment(snapshot: RunSnapshot, logdir: Path) -> None:
    """The HParams experiment: every hyperparameter and the final metrics as its columns."""
    from tensorboard.plugins.hparams import summary_v2

    names = sorted({key for trial in snapshot.trials for key in trial.params})
    hparams = [summary_v2.HParam(name) for name in names]
    metrics = [summary_v2.Metric(name) for name in FINAL_METRICS]
    started = _seconds(snapshot)
    summary = summary_v2.hparams_config_pb(hparams, metrics, time_created_secs=started)
    _replace(logdir, [(0, summary)])


def _write_trial(trial: TrialSnapshot, folder: Path) -> None:
    from tensorboard.plugins.hparams import summary_v2

    events = []
    if trial.hyperparameters:
        values = trial.hyperparameters
        session = summary_v2.hparams_pb(values, trial_id=f"trial_{trial.trial_id}")
        events.append((0, session))
    events += [(point.step, _scalar(point.key, point.value)) for point in trial.points]
    events += [(0, _scalar(key, value)) for key, value in trial.final.items()]
    _replace(folder, events)


def _scalar(tag: str, value: float):  # -> summary_pb2.Summary
    from tensorboard.compat.proto import summary_pb2

    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])


def _replace(folder: Path, events: list) -> None:
    """Write `events` ((step, Summary) pairs) as one new event file of `folder`, then remove
    this exporter's earlier files there (TensorBoard reads every file of a folder).

    TensorBoard's record writer on a plain file: its EventFileWriter would load TensorFlow
    (for tf.io.gfile) only to create the folder."""
    from tensorboard.compat.proto import event_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    folder.mkdir(parents=True, exist_ok=True)
    old = [f for f in folder.iterdir() if f.is_file() and f.name.endswith(SUFFIX)]
    now = time.time()
    name = f"events.out.tfevents.{int(now)}.{socket.gethostname()}.{os.getpid()}.{next(_COUNT)}"
    path = folder / f"{name}{SUFFIX}"
    with open(path, "wb") as file:
        writer = RecordWriter(file)
        writer.write(
            event_pb2.Event(wall_time=now, file_version="brain.Event:2").SerializeToString()
        )
        for step, summary in events:
            event = event_pb2.Event(wall_time=now, step=int(step), summary=summary)
            writer.write(event.SerializeToString())
    for file in old:  # the new file's name differs (time, process and a counter in it)
        if file != path:
            file.unlink(missing_ok=True)


def _seconds(snapshot: RunSnapshot) -> Optional[float]:
    from datetime import datetime

    stamp = snapshot.manifest.get("started_at")
    try:
        return datetime.fromisoformat(stamp).timestamp() if isinstance(stamp, str) else None
    except ValueError:
        return None
