"""A CSV cell as a number: what the readers of trials.csv, epochs.csv and learning_curve.csv
count as a value."""

from __future__ import annotations

import numpy as np
import pytest

from tunenet.runs.cells import integer, is_number, number


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("0.25", 0.25),
        (" 3 ", 3.0),
        ("1e-3", 0.001),
        (7, 7.0),
        (np.float32(0.5), 0.5),
        (np.int64(4), 4.0),
        ("", None),
        (None, None),
        ("nan", None),
        ("inf", None),
        ("-inf", None),
        (float("nan"), None),
        ("adam", None),
        (True, None),  # stopped_early is a flag, never a number
        ([1], None),
    ],
)
def test_number(cell: object, expected: float | None) -> None:
    assert number(cell) == expected
    assert is_number(cell) is (expected is not None)


@pytest.mark.parametrize("cell, expected", [("12", 12), ("12.0", 12), (3.9, 3), ("", None)])
def test_integer(cell: object, expected: int | None) -> None:
    found = integer(cell)
    assert found == expected and (found is None or type(found) is int)
