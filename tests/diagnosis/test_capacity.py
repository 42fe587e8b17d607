"""The capacity curve: the best step and where growth stopped paying."""

from __future__ import annotations

import pytest

from tunenet.config.objective import Objective
from tunenet.diagnosis.capacity import CapacityStep, capacity_curve

from .samples import capacity_steps


@pytest.mark.parametrize(
    ("scores", "direction", "best", "stopped"),
    [
        ([0.80, 0.90, 0.903, 0.901], "max", "02", "01"),  # 02 gains 0.003 <= 0.005
        ([0.80, 0.90, 0.96, 0.95], "max", "02", "02"),
        ([0.80, None, 0.90, 0.95], "max", "03", "03"),  # paying to the last step
        ([1.0, 0.5, 0.497, 0.6], "min", "02", "01"),  # a loss: lower is better
        ([0.90, 0.905], "max", "01", "00"),  # exactly min_delta is not more than it
        ([None, None], "max", None, None),
    ],
)
def test_capacity_curve_best_and_where_growth_stopped_paying(
    scores: list[float | None], direction: str, best: str | None, stopped: str | None
) -> None:
    curve = capacity_curve(capacity_steps(scores), Objective("objective", direction), 0.005)
    assert (curve.best, curve.stopped_after) == (best, stopped)


@pytest.mark.parametrize(
    ("layers", "widths", "label", "size"),
    [(2, (16, 16), "2×16", 32), (3, (32, 16, 8), "32-16-8", 56), (0, (), "0 layers", 0),
     (2, None, "2×?", None), (None, None, "?", None)],
)  # fmt: skip
def test_capacity_size_labels(layers, widths, label: str, size: int | None) -> None:
    step = CapacityStep("0", "completed", layers, widths, 0.5, None, None)
    assert (step.label, step.size) == (label, size)
