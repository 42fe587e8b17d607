"""Trial and run statuses: the strings docs/run-format.md lists, written byte for byte."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tunenet.runs import RunDir
from tunenet.runs.paths import new_manifest
from tunenet.runs.status import FINAL_STATUSES, RunStatus, TrialStatus

RUN_FORMAT = Path(__file__).parents[2] / "docs" / "run-format.md"


def documented(field: str, section: str) -> str:
    """The row `| `field` | ... |` of the first table after the heading `section`."""
    text = RUN_FORMAT.read_text(encoding="utf-8")
    text = text[text.index(section) :]
    return next(line for line in text.splitlines() if line.startswith(f"| `{field}` |"))


def test_run_statuses_are_the_documented_ones() -> None:
    values = documented("status", "## `manifest.json`").split("|")[2]
    assert [status.value for status in RunStatus] == list(
        dict.fromkeys(re.findall(r"`(\w+)`", values))
    )


def test_trial_statuses_are_the_documented_ones() -> None:
    row = documented("status", "## `trials.csv`")
    assert all(f"`{status}`" in row for status in TrialStatus)
    assert TrialStatus.INTERRUPTED not in FINAL_STATUSES  # runs again on --resume


def test_statuses_compare_and_serialize_as_their_strings() -> None:
    assert RunStatus.INTERRUPTED == "interrupted" and TrialStatus.PRUNED == "pruned"
    assert json.dumps({"status": RunStatus.COMPLETED}) == '{"status": "completed"}'
    assert f"{TrialStatus.DIVERGED}" == "diverged"


def test_a_new_run_manifest_says_running(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "run")
    run.update_manifest(**new_manifest(run))
    assert '"status": "running"' in run.manifest_file.read_text(encoding="utf-8")
    assert run.read_manifest()["status"] == RunStatus.RUNNING
