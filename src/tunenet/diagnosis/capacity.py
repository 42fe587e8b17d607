"""The capacity curve of a `search.strategy: capacity` run: the objective as the network grows,
the best step, and where growth stopped paying."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tunenet.config.objective import Objective
from tunenet.diagnosis.labels import DECIMALS
from tunenet.diagnosis.text import finite


@dataclass(frozen=True)
class CapacityStep:
    """One trial of a capacity search: the network's size and how it did.

    `layers` is the number of hidden layers (conv blocks for a CNN), `widths` the units (filters)
    of each; None when the run does not say. `objective` is None unless the trial completed."""

    trial_id: str
    status: str
    layers: int | None
    widths: tuple[int, ...] | None
    objective: float | None
    train_error: float | None
    val_error: float | None

    @property
    def size(self) -> int | None:
        """Total hidden units (filters): the sum of the widths; 0 without hidden layers."""
        if self.layers == 0:
            return 0
        return sum(self.widths) if self.widths else None

    @property
    def label(self) -> str:
        return size_label(self.layers, self.widths)


@dataclass(frozen=True)
class CapacityCurve:
    """The steps of a capacity search in trial order, the best step and the step after which
    growth stopped paying (`stopped_after`: no later step beat its objective by more than
    `min_delta`). Both are trial ids, None without a completed step. `objective` decides
    which value is better."""

    steps: tuple[CapacityStep, ...]
    objective: Objective
    min_delta: float
    best: str | None
    stopped_after: str | None

    def step(self, trial_id: str | None) -> CapacityStep | None:
        return next((s for s in self.steps if s.trial_id == trial_id), None)


def size_label(layers: int | None, widths: Sequence[int] | None) -> str:
    """`2×16` (2 layers of 16), `32-16` when the widths differ, `0 layers`, `?` when unknown."""
    if layers == 0:
        return "0 layers"
    if not widths:
        return f"{layers}×?" if layers is not None else "?"
    if len(set(widths)) == 1:
        return f"{len(widths)}×{widths[0]}"
    return "-".join(str(w) for w in widths)


def capacity_curve(
    steps: Sequence[CapacityStep], objective: Objective, min_delta: float
) -> CapacityCurve:
    """Find the best step and where growth stopped paying, in the order of `steps` (trial order).

    Growth stopped paying after the first completed step that no later completed step beats by
    more than `min_delta` (by `objective`'s direction; differences rounded to `DECIMALS`, as
    for the thresholds). When that is the last completed step, growth was still paying at the end
    of the search. The best step is the first one with the best objective."""
    done = [s for s in steps if finite(s.objective)]
    best = None
    for s in done:
        if best is None or rounded_gain(objective, s.objective, best.objective) > 0:
            best = s
    stopped = None
    for i, s in enumerate(done):
        later = [rounded_gain(objective, t.objective, s.objective) for t in done[i + 1 :]]
        if all(gain <= min_delta for gain in later):
            stopped = s
            break
    return CapacityCurve(
        steps=tuple(steps),
        objective=objective,
        min_delta=float(min_delta),
        best=best.trial_id if best else None,
        stopped_after=stopped.trial_id if stopped else None,
    )


def rounded_gain(objective: Objective, score: float | None, reference: float | None) -> float:
    """How much better `score` is than `reference` (negative: worse), rounded to `DECIMALS`."""
    return round(objective.gain(score, reference), DECIMALS)  # type: ignore[arg-type]
