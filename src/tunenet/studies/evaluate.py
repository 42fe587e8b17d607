"""`tunenet evaluate`: the run's best model on one split, rebuilt from the run's config and seed.

The test split is the unbiased estimate of the chosen model's error: the search never looked
at it. Use it once, at the end; choosing anything by it (a trial, a config, a threshold) turns
it into a second validation split and its error into an optimistic one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from rich.console import Group
from rich.table import Table
from rich.text import Text

from tunenet.errors import DataError
from tunenet.runs import FORMAT_VERSION
from tunenet.runs.best import load_best_model, open_finished_run, run_config

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


def evaluate_run(path: Path, split: str = "test") -> Evaluation:
    """Evaluate a run's best model on one split of its data.

    Args:
        path: the run directory (`runs/<name>`).
        split: `test` (default: the unbiased estimate), `val` or `train`.
    """
    if split not in SPLITS:
        raise DataError(f"--split: got {split!r}, expected one of {', '.join(SPLITS)}.")
    run = open_finished_run(path)
    config = run_config(run)
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
    model = load_best_model(run)  # TensorFlow from here
    from tunenet.tuning.pipelines import Pipelines, error_of

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
