"""A hand-written run directory for the export tests: every value known by construction.

Trial 0 completed (3 epochs, layers.csv rows), trial 1 completed with 2 executions (3 epochs,
then 2), trial 2 failed before any epoch. best/model.keras is a small zip holding config.json
(the export sends the file; it never loads it).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

FINGERPRINT = "0123456789abcdef0000"
RUN_ID = "handmade:0123456789ab"
EPOCHS_HEADER = (
    "trial_id,execution,epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds\n"
)
# (trial, execution, epoch) -> loss; accuracy = 1 - loss / 2, val_loss = loss + 0.1
LOSSES = {
    ("0", 0, 1): 1.0,
    ("0", 0, 2): 0.8,
    ("0", 0, 3): 0.6,
    ("1", 0, 1): 1.2,
    ("1", 0, 2): 1.1,
    ("1", 0, 3): 1.0,
    ("1", 1, 1): 1.3,
    ("1", 1, 2): 1.05,
}
TRIALS_HEADER = (
    "trial_id,status,hp.model.units.0,hp.optimizer.learning_rate,epochs_trained,best_epoch,"
    "stopped_early,loss,val_loss,accuracy,val_accuracy,train_error,val_error,test_error,"
    "objective,seconds,seed,message,started_at,finished_at,train_n,val_n,test_n\n"
)
TRIAL_ROWS = {
    "0": "0,completed,64,0.001,3,3,False,0.6,0.7,0.7,0.65,0.30,0.35,0.36,0.65,3.0,1,,"
    "2025-01-01T10:00:00+00:00,2025-01-01T10:00:03+00:00,400,200,200\n",
    "1": "1,completed,32,0.01,2,2,False,1.05,1.15,0.475,0.425,0.525,0.575,,0.425,5.0,2,,"
    "2025-01-01T10:00:03+00:00,2025-01-01T10:00:08+00:00,400,200,200\n",
    "2": "2,failed,16,0.1,,,,,,,,,,,,0.5,3,Out of memory,"
    "2025-01-01T10:00:08+00:00,2025-01-01T10:00:09+00:00,400,200,200\n",
}
LAYERS_HEADER = (
    "trial_id,execution,epoch,layer,kind,units,grad_norm,weight_norm,update_ratio,"
    "dead_fraction,saturated_fraction\n"
)


def epoch_line(trial: str, execution: int, epoch: int) -> str:
    loss = LOSSES[(trial, execution, epoch)]
    return f"{trial},{execution},{epoch},{loss},{1 - loss / 2},{loss + 0.1},{1 - loss / 2 - 0.05},0.001,0.5\n"


def layer_lines(trial: str, epoch: int) -> str:
    return (
        f"{trial},0,{epoch},dense_0,dense,64,{epoch / 10},{1 + epoch},0.01,0.0,\n"
        f"{trial},0,{epoch},output,dense,10,{epoch / 20},{2 + epoch},0.02,,\n"
    )


def manifest(status: str) -> dict:
    return {
        "format_version": 1,
        "name": "handmade",
        "status": status,
        "config_fingerprint": FINGERPRINT,
        "objective": {"name": "val_accuracy", "direction": "max"},
        "data": {"source": "digits", "task": "multiclass", "classes": list(range(10)),
                 "sizes": {"train": 400, "validation": 200, "test": 200}},
        "best_trial": "0",
        "started_at": "2025-01-01T10:00:00+00:00",
        "finished_at": "2025-01-01T10:00:09+00:00" if status != "running" else None,
        "versions": {"tunenet": "0.1.0"},
    }  # fmt: skip


def set_status(run: Path, status: str) -> None:
    (run / "manifest.json").write_text(json.dumps(manifest(status)), encoding="utf-8")


def make_run(tmp_path: Path, status: str = "completed") -> Path:
    """The whole run (status `completed`), or only its start (`running`: manifest and config,
    epochs.csv's header) for the --follow tests, which append the rest with `grow_run`."""
    run = tmp_path / "handmade"
    run.mkdir()
    resolved = (REPO / "tests/fixtures/runs/insight/resolved.yaml").read_text(encoding="utf-8")
    (run / "resolved.yaml").write_text(resolved.replace("name: insight", "name: handmade"))
    (run / "config.yaml").write_text("name: handmade\ndata: {source: digits}\n")
    set_status(run, "running")
    (run / "epochs.csv").write_text(EPOCHS_HEADER)
    (run / "layers.csv").write_text(LAYERS_HEADER)
    if status != "running":
        grow_run(run)
        set_status(run, status)
    return run


def grow_run(run: Path, pause=lambda: None, workers: bool = False) -> None:
    """Write what the search writes, in its order: epochs (and layers) as they end, trials.csv
    after each trial, best/model.keras after the best; `pause()` between steps. `workers`:
    trials 0 and 1 train at once, as two `--workers` processes would, their rows interleaved
    in the same files."""
    order = sorted(LOSSES, key=lambda key: (key[1], key[2]) if workers else key)
    ends = {trial: max(k for k in order if k[0] == trial) for trial in ("0", "1")}
    rows: list[str] = []
    with (run / "epochs.csv").open("a") as epochs, (run / "layers.csv").open("a") as layers:
        for key in order:
            trial, execution, epoch = key
            epochs.write(epoch_line(trial, execution, epoch))
            epochs.flush()
            if trial == "0":
                layers.write(layer_lines(trial, epoch))
                layers.flush()
            pause()
            if key == ends[trial]:  # the trial ended: its row, and the best model after trial 0
                rows.append(TRIAL_ROWS[trial])
                (run / "trials.csv").write_text(TRIALS_HEADER + "".join(rows))
                if trial == "0":
                    write_model(run)
                pause()
    (run / "trials.csv").write_text(TRIALS_HEADER + "".join(TRIAL_ROWS.values()))


def write_model(run: Path) -> None:
    (run / "best").mkdir(exist_ok=True)
    with zipfile.ZipFile(run / "best" / "model.keras", "w") as archive:
        archive.writestr("config.json", json.dumps({"class_name": "Sequential"}))
        archive.writestr("metadata.json", "{}")


def copy_to(run: Path, target: Path) -> Path:
    shutil.copytree(run, target)
    return target
