"""The run directory (docs/run-format.md): the only code that knows its file names and formats.

`paths` says where each file lives; `status` holds the trial and run statuses; `files` writes
files safely (`write_atomic`, `replace_atomic`); `cells` reads a CSV cell as a number; `tables`
owns trials.csv and epochs.csv as the search writes them; `baselines` owns baselines.csv;
`resolved` the recorded config; `start` and `resume` decide whether a directory may be used;
`lock` lets one search at a time write a run; `read` reads a run for report, refine and the
Python API; `best` opens a finished run and its best model; `objective` says which objective a
run used; `version` is tunenet's installed version. Format reference: docs/run-format.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tunenet.runs.baselines import BASELINE_COLUMNS, read_baseline_rows, write_baselines
from tunenet.runs.files import csv_line, now, write_atomic, write_json
from tunenet.runs.lock import release as release_lock
from tunenet.runs.paths import FORMAT_VERSION, RunDir, RunLock
from tunenet.runs.resolved import config_differences, fingerprint, resolved_dict
from tunenet.runs.resume import discard_tuner_state, tuner_state_problem
from tunenet.runs.start import RunOptions, join, locate, prepare, run_name, versions
from tunenet.runs.status import FINAL_STATUSES, RunStatus, TrialStatus
from tunenet.runs.tables import EpochLog, TrialTable, read_trial_rows, trial_order

if TYPE_CHECKING:
    from tunenet.runs.read import (  # noqa: F401  (exported lazily: __getattr__)
        Run,
        config_value,
        find_runs,
        is_run_dir,
        load_run,
        read_epochs_frame,
        read_resolved_text,
        read_trials_frame,
        read_trials_text,
    )

# Loaded on first use (PEP 562): reading a run needs pandas, starting a search or validate does not.
_READ = (
    "Run",
    "config_value",
    "find_runs",
    "is_run_dir",
    "load_run",
    "read_epochs_frame",
    "read_resolved_text",
    "read_trials_frame",
    "read_trials_text",
)

__all__ = [
    *_READ,
    "BASELINE_COLUMNS",
    "FINAL_STATUSES",
    "FORMAT_VERSION",
    "EpochLog",
    "RunDir",
    "RunLock",
    "RunOptions",
    "RunStatus",
    "TrialStatus",
    "TrialTable",
    "config_differences",
    "csv_line",
    "discard_tuner_state",
    "fingerprint",
    "join",
    "locate",
    "now",
    "prepare",
    "read_baseline_rows",
    "read_trial_rows",
    "release_lock",
    "resolved_dict",
    "run_name",
    "trial_order",
    "tuner_state_problem",
    "versions",
    "write_atomic",
    "write_baselines",
    "write_json",
]


def __getattr__(name: str) -> Any:
    if name in _READ:
        value = getattr(importlib.import_module("tunenet.runs.read"), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
