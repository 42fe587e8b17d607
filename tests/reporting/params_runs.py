"""Hand-written run directories whose trials.csv has `params` (the cost of each trial), for the
simplest-tied tests: the networks' sizes and errors are chosen so the answers are known."""

from __future__ import annotations

import json
from pathlib import Path

# trial id, params, validation error (on 1000 examples), status. Trial 3 is best (3.8%);
# trial 7 (12,416 parameters, 4.1%) and trial 5 (4.5%) are tied with it (Newcombe's interval of
# the difference holds 0); trial 2 (12.0%) is far worse; trial 4 failed before its model.
TRIALS = [
    ("2", 1_500, 0.120, "completed"),
    ("3", 114_227, 0.038, "completed"),
    ("4", None, None, "failed"),
    ("5", 48_000, 0.045, "completed"),
    ("7", 12_416, 0.041, "completed"),
]
HEADER = (
    "trial_id,status,hp.model.units.0,epochs_trained,best_epoch,stopped_early,loss,val_loss,"
    "accuracy,val_accuracy,train_error,val_error,test_error,objective,seconds,seed,message,"
    "train_n,val_n,test_n,params,model_bytes"
)


def write_params_run(
    path: Path, kept: dict | None = None, with_params: bool = True, trials: list | None = None
) -> Path:
    """A finished classification run at `path`; `kept`: manifest.json's `kept`;
    `with_params=False`: trials.csv as written before the `params` column."""
    path.mkdir(parents=True)
    lines = [HEADER]
    epochs = ["trial_id,execution,epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds"]
    for trial_id, params, val_error, status in trials or TRIALS:
        units = (params or 0) // 100
        if status != "completed":
            lines.append(f"{trial_id},{status},{units},,,,,,,,,,,,1.0,1,boom,4000,1000,,,")
            continue
        train = max(0.0, val_error - 0.01)
        lines.append(
            f"{trial_id},completed,{units},2,2,False,0.2,0.25,{1 - train:.4f},{1 - val_error:.4f},"
            f"{train:.4f},{val_error:.4f},,{1 - val_error:.4f},1.0,1,,4000,1000,,"
            f"{params},{4 * params}"
        )
        for epoch in (1, 2):
            epochs.append(f"{trial_id},0,{epoch},0.3,0.9,0.3,0.9,0.001,0.1")
    if not with_params:
        lines = [",".join(line.split(",")[:-2]) for line in lines]
    (path / "trials.csv").write_text("\n".join(lines) + "\n")
    (path / "epochs.csv").write_text("\n".join(epochs) + "\n")
    manifest = {
        "format_version": 1,
        "name": path.name,
        "status": "completed",
        "objective": {"name": "val_accuracy", "direction": "max"},
        "data": {"task": "multiclass", "classes": ["a", "b", "c"]},
        "best_trial": "3",
        **({"kept": kept} if kept is not None else {}),
    }
    (path / "manifest.json").write_text(json.dumps(manifest))
    (path / "resolved.yaml").write_text(
        "name: tradeoff\nmodel: {kind: dense, layers: 1}\ntraining: {epochs: 2}\n"
        "search: {objective: {name: val_accuracy, direction: max}}\n"
    )
    return path
