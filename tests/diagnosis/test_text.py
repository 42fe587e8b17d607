"""Values as the report's words."""

from __future__ import annotations

import numpy as np
import pytest

from tunenet.diagnosis.text import format_value


@pytest.mark.parametrize(
    ("value", "text"),
    [(64.0, "64"), (0.001, "0.001"), (True, "true"), ("adam", "adam"), (None, ""), (np.nan, "")],
)
def test_format_value(value: object, text: str) -> None:
    assert format_value(value) == text
