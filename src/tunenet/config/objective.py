"""The search objective: its name, its direction, and the one place that decides which is better.

Nobody else compares `direction == "max"`: the search, the report, refine, capacity and the
workers ask an `Objective`.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Hashable, Iterable, Literal, Mapping, Optional

from tunenet.config.sections import objective_direction
from tunenet.errors import ConfigError, Problem

if TYPE_CHECKING:
    import pandas as pd

    from tunenet.config.sections import Config

Direction = Literal["min", "max"]

# The metrics a trial's model is compiled with, per task (`models.build.task_spec`): Keras logs
# each for training and, with a `val_` prefix, for validation, besides loss and val_loss.
TASK_METRICS = {"binary": ("accuracy",), "multiclass": ("accuracy",), "regression": ("mae", "mse")}
# Metrics compiled only when the objective or early stopping watches them (each costs work at
# every batch): ROC AUC and precision-recall AUC, for classification (multiclass: one-vs-rest,
# micro-averaged). docs/config-reference.md, `search.objective`.
OPTIONAL_METRICS = {"binary": ("auc", "pr_auc"), "multiclass": ("auc", "pr_auc")}


def compiled_metrics(config: Config, task: Optional[str]) -> tuple[str, ...]:
    """The optional metrics of `task` that the config's objective or early stopping's monitor
    names (`val_auc` -> auc), in OPTIONAL_METRICS order; a trial's model is compiled with them."""
    watched = set()
    if config.search.objective:
        watched.add(config.search.objective.name)
    if config.training.early_stopping:
        watched.add(config.training.early_stopping.monitor)
    return tuple(
        metric
        for metric in OPTIONAL_METRICS.get(task or "", ())
        if metric in watched or f"val_{metric}" in watched
    )


def logged_metrics(task: Optional[str] = None) -> list[str]:
    """The Keras log keys a trial's epochs can have for a task (the optional metrics included:
    compiled when watched); for an unknown task (None or "auto"), those of every task. Early
    stopping and the objective can only watch these."""
    every = {key: TASK_METRICS[key] + OPTIONAL_METRICS.get(key, ()) for key in TASK_METRICS}
    metrics = every.get(task or "") or tuple(
        dict.fromkeys(name for names in every.values() for name in names)
    )
    keys = ["loss", "val_loss"]
    for metric in metrics:
        keys += [metric, f"val_{metric}"]
    return keys


def monitor_problem(monitor: str, task: Optional[str] = None) -> Optional[str]:
    """Why early stopping cannot watch `monitor` in a model of `task` (None or "auto": any
    task), or None when Keras logs it. The search, knowing the data's task, asks again."""
    known = logged_metrics(task)
    if monitor in known:
        return None
    hint = difflib.get_close_matches(monitor, known, n=1, cutoff=0.6)
    shown = repr(monitor) if len(monitor) <= 60 else repr(monitor[:57]) + "..."
    which = f"a {task} model logs" if task and task != "auto" else "a model logs"
    return (
        f"got {shown}: not a metric {which}, so early stopping would never stop a trial; "
        f"choose one of {', '.join(known)}" + (f"; did you mean {hint[0]!r}?" if hint else "")
    )


def task_problems(config: Config, task: Optional[str]) -> list[tuple[str, str]]:
    """The objective and early stopping's monitor against the Keras log keys of `task` (None:
    any task). Asked at load time, then again once the data has told the task."""
    problems = []
    objective = config.search.objective
    known = [key for key in logged_metrics(task) if key.startswith("val_")]
    if objective and objective.name.startswith("val_") and objective.name not in known:
        model = f"a {task} model" if task else "a model"
        shown = repr(objective.name)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        problems.append(
            (
                "search.objective",
                f"got {shown}, which {model} does not log; choose one of {', '.join(known)}",
            )
        )
    settings = config.training.early_stopping
    problem = settings and monitor_problem(settings.monitor, task)
    if problem:
        problems.append(("training.early_stopping.monitor", problem))
    return problems


def check_task(config: Config, task: str) -> None:
    """Raise the `task_problems` of `task` (the data's task, now known) as a ConfigError."""
    problems = task_problems(config, task)
    if problems:
        errors = [Problem(key, message) for key, message in problems]
        raise ConfigError("\n".join(f"{key}: {message}" for key, message in problems), errors)


@dataclass(frozen=True)
class Objective:
    """A metric and whether the search maximizes or minimizes it.

    Args:
        name: a Keras log key (`val_accuracy`) or a trials.csv column.
        direction: "max" or "min".
    """

    name: str
    direction: Direction

    @classmethod
    def named(cls, name: str, direction: Optional[str] = None) -> "Objective":
        """The objective `name`, with its direction guessed from the name when not given."""
        chosen = direction if direction in ("min", "max") else objective_direction(name)
        return cls(name, chosen)  # type: ignore[arg-type]

    @property
    def maximized(self) -> bool:
        return self.direction == "max"

    @property
    def goal(self) -> str:
        """The word for sentences: maximized or minimized."""
        return "maximized" if self.maximized else "minimized"

    def better(self, candidate: Optional[float], best: Optional[float]) -> bool:
        """Whether `candidate` beats `best` (anything finite beats None or NaN)."""
        if not _finite(candidate):
            return False
        if not _finite(best):
            return True
        return candidate > best if self.maximized else candidate < best  # type: ignore[operator]

    def gain(self, score: float, reference: float) -> float:
        """How much better `score` is than `reference` (negative when worse)."""
        return score - reference if self.maximized else reference - score

    def sort_key(self, value: Any) -> float:
        """Ascending order of this key is best first; missing or NaN values sort last."""
        if not _finite(value):
            return math.inf
        return -float(value) if self.maximized else float(value)

    def ordered(self, rows: Iterable[Mapping], column: str = "objective") -> list[Mapping]:
        """Rows with a finite value in `column`, best first (stable for ties)."""
        scored = [row for row in rows if _finite(_number(row.get(column)))]
        return sorted(scored, key=lambda row: self.sort_key(_number(row.get(column))))

    def best(self, rows: Iterable[Mapping], column: str = "objective") -> Optional[Mapping]:
        """The row with the best finite value in `column`, or None."""
        ordered = self.ordered(rows, column)
        return ordered[0] if ordered else None

    def rank(self, values: "pd.Series") -> "pd.Series":
        """Rank of each value, 1 = best; ties share the better rank; NaN stays NaN."""
        return values.rank(ascending=not self.maximized, method="min")

    def best_index(self, values: "pd.Series") -> Hashable:
        """The index label of the best value (the first of ties; NaN ignored)."""
        return values.idxmax() if self.maximized else values.idxmin()

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "direction": self.direction}


def _number(value: Any) -> Optional[float]:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _finite(value: Any) -> bool:
    number = _number(value) if not isinstance(value, float) else value
    return number is not None and math.isfinite(number)
