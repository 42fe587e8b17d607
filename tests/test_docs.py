"""The generated references (CLI and config) match the code."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def test_generated_references_are_current():
    result = subprocess.run(
        [sys.executable, str(REPO / "docs" / "gen_reference.py"), "--check"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
