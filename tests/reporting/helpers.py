"""Helpers of the report tests: the hand-made runs of tests/fixtures/runs, copied, reported."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from rich.console import Console

from conftest import REPO
from tunenet import reporting
from tunenet.reporting.model import RunReport, TrialReport, build_report, resolve_settings
from tunenet.runs import load_run

FIXTURES = REPO / "tests" / "fixtures" / "runs"


def copy_run(name: str, tmp_path: Path, as_name: str | None = None) -> Path:
    """A fixture run copied under tmp_path, because the report writes into <run>/report/."""
    target = tmp_path / (as_name or name)
    shutil.copytree(FIXTURES / name, target)
    return target


def build(path: Path, **options) -> RunReport:
    run = load_run(path)
    return build_report(run, resolve_settings(run, **options))


def by_id(run_report: RunReport) -> dict[str, TrialReport]:
    return {t.trial_id: t for t in run_report.trials}


def consoles() -> tuple[Console, Console, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return (
        Console(file=out, width=200, markup=False, highlight=False),
        Console(file=err, width=200, markup=False, highlight=False),
        out,
        err,
    )


def run_report(path: Path, fmt: str, **options) -> tuple[str, str]:
    console, log, out, err = consoles()
    settings = {
        "out_path": None,
        "plots": False,
        "target_error": None,
        "bias_threshold": None,
        "variance_threshold": None,
        "top": None,
    }
    settings.update(options)
    reporting.run(path, fmt=fmt, console=console, log=log, **settings)
    return out.getvalue(), err.getvalue()
