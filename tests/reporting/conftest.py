"""The fixture runs reported once with plots (matplotlib is the slow part), for every module."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import copy_run, run_report


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The worked example reported once with plots (matplotlib is the slow part)."""
    run = copy_run("worked-example", tmp_path_factory.mktemp("runs"))
    run_report(run, "table", plots=True)
    return run


@pytest.fixture(scope="session")
def capacity_rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The capacity fixture reported once with plots; the run and the Rich table output."""
    run = copy_run("capacity", tmp_path_factory.mktemp("runs"))
    out, _ = run_report(run, "table", plots=True)
    return run, out
