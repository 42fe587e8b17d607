"""`tunenet export RUN --to mlflow`: one parent MLflow run per search, one nested run per trial
(docs/export.md).

Every MLflow run carries the tag `tunenet.run_id`, and a trial's run `tunenet.trial_id`: an
export looks them up and updates them, so exporting again never duplicates a run. A trial's
per-epoch metrics are sent once: the tag `tunenet.exported` records, per file and execution, the
last epoch already logged, written in the same `log_batch` call as the metrics, and only later
epochs are logged. MLflow is imported inside the functions (an optional extra).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Optional

from tunenet.errors import TunenetError
from tunenet.reporting.output import RENDERERS
from tunenet.runs import RunDir, RunStatus, TrialStatus
from tunenet.studies.export_source import (
    RunSnapshot,
    TrialSnapshot,
    check_run,
    follow,
    read_snapshot,
)

INSTALL = 'pip install "tunenet[mlflow]"'
DEFAULT_URI = "sqlite:///mlflow.db"
PROGRESS_TAG = "tunenet.exported"
MODEL_TAG = "tunenet.best_model_sha256"
MAX_METRICS, MAX_TAGS, MAX_PARAMS = 1000, 100, 100  # MLflow's log_batch limits
MAX_TAG_TEXT = 5000  # below MLflow's tag value limit
# trials.csv / manifest.json status -> MLflow's run status
TRIAL_STATES = {
    TrialStatus.COMPLETED: "FINISHED",
    TrialStatus.PRUNED: "FINISHED",
    "infeasible": "FINISHED",
    TrialStatus.FAILED: "FAILED",
    TrialStatus.DIVERGED: "FAILED",
    TrialStatus.INTERRUPTED: "KILLED",
}
RUN_STATES = {
    RunStatus.COMPLETED: "FINISHED",
    RunStatus.FAILED: "FAILED",
    RunStatus.INTERRUPTED: "KILLED",
}
LOAD_NOTE = """# The best model of tunenet run {name}

`model.keras` is the run's best/model.keras (trial {trial}), preprocessing included.

```python
import keras, mlflow
path = mlflow.artifacts.download_artifacts(run_id="{run}", artifact_path="best_model/model.keras")
model = keras.models.load_model(path)
```
"""


class MissingExtra(TunenetError):
    """An optional dependency is not installed (exit 2, with the install line)."""


class TrackerError(TunenetError):
    """The tracking server or store refused the export (exit 2: the URI is the user's)."""


@dataclass
class ExportResult:
    """What an export did: the tracking URI, the experiment and parent run ids, and per trial id
    its MLflow run id."""

    tracking_uri: str
    experiment: str
    experiment_id: str
    parent_run_id: str = ""
    trial_runs: dict[str, str] = field(default_factory=dict)
    points: int = 0  # metric points logged by this call (0 when nothing was new)

    def lines(self) -> list[str]:
        return [
            f"exported {len(self.trial_runs)} trials to MLflow experiment {self.experiment!r} "
            f"({self.tracking_uri}), parent run {self.parent_run_id}",
        ]


def tracking_uri(given: Optional[str]) -> str:
    """--tracking-uri, else MLFLOW_TRACKING_URI, else sqlite:///mlflow.db in the current
    directory."""
    return given or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI


def client_for(uri: str) -> Callable[[], Any]:
    """A maker of an MlflowClient on `uri` (MLflow checks the URI when it is called).

    Raises:
        MissingExtra: mlflow is not installed.
    """
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise MissingExtra(
            f"exporting to MLflow needs the mlflow package, which is not installed:\n{INSTALL}"
        ) from None
    return lambda: MlflowClient(tracking_uri=uri)


def export_mlflow(
    path: Path,
    *,
    uri: Optional[str] = None,
    experiment: Optional[str] = None,
    follow_run: bool = False,
    poll_seconds: float = 2.0,
    log: Optional[Callable[[str], None]] = None,
) -> ExportResult:
    """Export a run to MLflow (docs/export.md); with `follow_run`, until the search ends.

    Raises:
        RunDirError: not a run. MissingExtra: mlflow is not installed.
    """
    check_run(path)  # before MLflow creates a store
    uri = tracking_uri(uri)
    client = client_for(uri)  # raises MissingExtra first
    from mlflow.exceptions import MlflowException

    try:
        exporter = _Exporter(client(), uri, experiment, log or (lambda _: None))
        if follow_run:
            follow(path, exporter.export, poll_seconds=poll_seconds)
        else:
            exporter.export(read_snapshot(path))
    except MlflowException as error:  # a wrong URI, a server that refuses, ...
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
        raise TrackerError(
            f"MLflow at {uri} refused the export: {first} Check --tracking-uri or "
            "MLFLOW_TRACKING_URI."
        ) from None
    assert exporter.result is not None
    return exporter.result


class _Exporter:
    """One export target; `export` may be called again with a newer snapshot (--follow)."""

    def __init__(self, client: Any, uri: str, experiment: Optional[str], log: Callable):
        self.client, self.uri, self.experiment, self.log = client, uri, experiment, log
        self.result: Optional[ExportResult] = None
        self.uploaded: dict[str, Any] = {}  # what this process already sent, by artifact

    def export(self, snapshot: RunSnapshot) -> None:
        name = self.experiment or snapshot.name
        result = ExportResult(self.uri, name, self._experiment_id(name))
        runs = self._existing(result.experiment_id, snapshot.run_id)
        parent = runs.get(None) or self._create_parent(result.experiment_id, snapshot)
        result.parent_run_id = parent.info.run_id
        self._update_parent(parent, snapshot)
        for trial in snapshot.trials:
            run = runs.get(trial.trial_id) or self._create_trial(parent, snapshot, trial)
            result.trial_runs[trial.trial_id] = run.info.run_id
            result.points += self._update_trial(run, snapshot, trial)
        self._set_state(parent, RUN_STATES.get(snapshot.status or "", "RUNNING"), snapshot)
        self.result = result
        self.log(f"exported {len(snapshot.trials)} trials, {result.points} new metric points")

    # ------------------------------------------------------------ finding and creating runs

    def _experiment_id(self, name: str) -> str:
        found = self.client.get_experiment_by_name(name)
        if found is not None:
            if found.lifecycle_stage == "deleted":
                self.client.restore_experiment(found.experiment_id)
            return found.experiment_id
        return self.client.create_experiment(name)

    def _existing(self, experiment_id: str, run_id: str) -> dict[Optional[str], Any]:
        """This run's MLflow runs: the parent under None, each trial's under its id."""
        runs: dict[Optional[str], Any] = {}
        token = None
        while True:
            page = self.client.search_runs(
                [experiment_id],
                filter_string=f"tags.`tunenet.run_id` = '{_quoted(run_id)}'",
                max_results=1000,
                page_token=token,
            )
            for run in page:
                runs.setdefault(run.data.tags.get("tunenet.trial_id"), run)
            token = page.token
            if not token:
                return runs

    def _create_parent(self, experiment_id: str, snapshot: RunSnapshot) -> Any:
        tags = {"tunenet.run_id": snapshot.run_id}
        started = _millis(snapshot.manifest.get("started_at"))
        return self.client.create_run(
            experiment_id, start_time=started, tags=tags, run_name=snapshot.name
        )

    def _create_trial(self, parent: Any, snapshot: RunSnapshot, trial: TrialSnapshot) -> Any:
        tags = {
            "tunenet.run_id": snapshot.run_id,
            "tunenet.trial_id": trial.trial_id,
            "mlflow.parentRunId": parent.info.run_id,
        }
        return self.client.create_run(
            parent.info.experiment_id,
            start_time=_millis(trial.started_at),
            tags=tags,
            run_name=f"trial {trial.trial_id}",
        )

    # ------------------------------------------------------------ the parent run

    def _update_parent(self, parent: Any, snapshot: RunSnapshot) -> None:
        report = snapshot.report
        tags = {
            "tunenet.status": snapshot.status or "",
            "tunenet.version": snapshot.version,
            "tunenet.run_dir": str(snapshot.path.resolve()),
        }
        if report is not None:
            objective = report.objective
            tags.update({
                "tunenet.verdict": report.verdict,
                "tunenet.headline": report.headline,
                "tunenet.objective": f"{objective.name} ({objective.direction})",
                "tunenet.best_trial": report.best.trial_id if report.best else "",
                "mlflow.note.content": f"{report.headline}\n\n{report.verdict}",
            })  # fmt: skip
        best = snapshot.best
        metrics = _changed(parent, best.final if best else {})
        self._log(parent.info.run_id, metrics=[(k, 0, v) for k, v in metrics.items()],
                  tags=_changed_tags(parent, tags))  # fmt: skip
        self._artifacts(parent, snapshot)

    def _artifacts(self, parent: Any, snapshot: RunSnapshot) -> None:
        """config.yaml, resolved.yaml, report/ (html, json and the plots drawn) and the best
        model; each only when it changed since this process last sent it."""
        run_id, files = parent.info.run_id, RunDir(snapshot.path)
        for source in (files.config_file, files.resolved_file):
            if source.is_file() and self._new(run_id, source.name, _stamp(source)):
                self.client.log_artifact(run_id, str(source))
        report = snapshot.report
        if report is not None and self._new(run_id, "report", _report_stamp(snapshot)):
            with tempfile.TemporaryDirectory() as folder:
                for name, fmt in (("report.html", "html"), ("report.json", "json")):
                    text = RENDERERS[fmt]([report], None, report.report_dir)
                    (Path(folder) / name).write_text(text, encoding="utf-8")
                self.client.log_artifacts(run_id, folder, artifact_path="report")
            plots = report.report_dir / "plots"
            if plots.is_dir() and not plots.is_symlink():
                for plot in sorted(plots.glob("*.png")):
                    self.client.log_artifact(run_id, str(plot), artifact_path="report/plots")
        self._best_model(parent, snapshot)

    def _best_model(self, parent: Any, snapshot: RunSnapshot) -> None:
        """best/model.keras with a note on how to load it, when its content changed."""
        model = RunDir(snapshot.path).best_model_file
        if not model.is_file():
            return
        digest = hashlib.sha256(model.read_bytes()).hexdigest()
        if parent.data.tags.get(MODEL_TAG) == digest or self.uploaded.get("model") == digest:
            return
        run_id = parent.info.run_id
        trial = snapshot.manifest.get("best_trial") or (
            snapshot.report.best.trial_id if snapshot.report and snapshot.report.best else "?"
        )
        with tempfile.TemporaryDirectory() as folder:
            note = LOAD_NOTE.format(name=snapshot.name, trial=trial, run=run_id)
            (Path(folder) / "README.md").write_text(note, encoding="utf-8")
            self.client.log_artifact(run_id, str(Path(folder) / "README.md"), "best_model")
        self.client.log_artifact(run_id, str(model), artifact_path="best_model")
        self.client.set_tag(run_id, MODEL_TAG, digest)
        self.uploaded["model"] = digest

    def _new(self, run_id: str, name: str, stamp: Any) -> bool:
        key = f"{run_id}/{name}"
        if self.uploaded.get(key) == stamp:
            return False
        self.uploaded[key] = stamp
        return True

    # ------------------------------------------------------------ a trial's run

    def _update_trial(self, run: Any, snapshot: RunSnapshot, trial: TrialSnapshot) -> int:
        """Params, tags and the metrics not yet logged. Returns the metric points logged."""
        run_id = run.info.run_id
        params = {k: v for k, v in trial.params.items() if k not in run.data.params}
        tags = {
            "tunenet.status": trial.status,
            "tunenet.version": snapshot.version,
            "tunenet.run_dir": str(snapshot.path.resolve()),
        }
        if trial.ended:
            tags["tunenet.label"] = trial.label or ""
            tags["tunenet.findings"] = ", ".join(trial.findings)
            if trial.notes:
                tags["mlflow.note.content"] = "\n".join(trial.notes)
        done = _progress(run)
        fresh = [p for p in trial.points if p.step > done.get(p.part, {}).get(p.execution, 0)]
        finals = _changed(run, trial.final) if trial.ended else {}
        points = [(p.key, p.step, p.value) for p in fresh] + [(k, 0, v) for k, v in finals.items()]
        for point in fresh:
            part = done.setdefault(point.part, {})
            part[point.execution] = max(part.get(point.execution, 0), point.step)
        if fresh:
            tags[PROGRESS_TAG] = json.dumps(done, sort_keys=True)
        self._log(run_id, metrics=points, params=params, tags=_changed_tags(run, tags))
        state = TRIAL_STATES.get(trial.status, "FINISHED") if trial.ended else "RUNNING"
        self._set_state(run, state, None, trial.finished_at)
        return len(points)

    # ------------------------------------------------------------ writing

    def _log(
        self,
        run_id: str,
        *,
        metrics: Optional[list[tuple[str, int, float]]] = None,
        params: Optional[dict[str, str]] = None,
        tags: Optional[dict[str, str]] = None,
    ) -> None:
        """Metrics, then params, then tags, in log_batch calls within MLflow's limits: the
        progress tag is written once its metrics are."""
        from mlflow.entities import Metric, Param, RunTag

        now = int(time.time() * 1000)
        items = [Metric(k, v, now, s) for k, s, v in metrics or []]
        for start in range(0, len(items), MAX_METRICS):
            self.client.log_batch(run_id, metrics=items[start : start + MAX_METRICS])
        items = [Param(k, v) for k, v in (params or {}).items()]
        for start in range(0, len(items), MAX_PARAMS):
            self.client.log_batch(run_id, params=items[start : start + MAX_PARAMS])
        items = [RunTag(k, _text(v)) for k, v in (tags or {}).items()]
        for start in range(0, len(items), MAX_TAGS):
            self.client.log_batch(run_id, tags=items[start : start + MAX_TAGS])

    def _set_state(
        self, run: Any, state: str, snapshot: Optional[RunSnapshot], ended: Optional[str] = None
    ) -> None:
        run_id = run.info.run_id
        if run.info.status == state:
            return
        if state == "RUNNING":
            self.client.update_run(run_id, status="RUNNING")
            return
        finished = ended or (snapshot.manifest.get("finished_at") if snapshot else None)
        self.client.set_terminated(run_id, status=state, end_time=_millis(finished))


def _progress(run: Any) -> dict[str, dict[int, int]]:
    """The last epoch logged per file and execution, from the run's `tunenet.exported` tag."""
    try:
        found = json.loads(run.data.tags.get(PROGRESS_TAG) or "{}")
        return {part: {int(k): int(v) for k, v in ends.items()} for part, ends in found.items()}
    except (ValueError, TypeError, AttributeError):
        return {}


def _changed(run: Any, metrics: dict[str, float]) -> dict[str, float]:
    """The metrics whose latest logged value differs (or that were never logged)."""
    logged = run.data.metrics
    return {k: v for k, v in metrics.items() if k not in logged or logged[k] != v}


def _changed_tags(run: Any, tags: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in tags.items() if run.data.tags.get(k) != _text(v)}


def _text(value: str) -> str:
    text = str(value)
    return text if len(text) <= MAX_TAG_TEXT else text[: MAX_TAG_TEXT - 1] + "…"


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def _millis(stamp: Optional[str]) -> Optional[int]:
    """An ISO 8601 time as milliseconds since the epoch, None when absent or unreadable."""
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        return int(datetime.fromisoformat(stamp).timestamp() * 1000)
    except ValueError:
        return None


def _stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_mtime_ns, info.st_size


def _report_stamp(snapshot: RunSnapshot) -> tuple:
    files = RunDir(snapshot.path)
    sources = [files.manifest_file, files.trials_file, files.epochs_file, files.layers_file]
    plots = files.report_dir / "plots"
    sources += sorted(plots.glob("*.png")) if plots.is_dir() else []
    return tuple(_stamp(f) if f.is_file() else None for f in sources)
