"""The run directory (docs/run-format.md): the only code that knows its file names and formats.

`paths` says where each file lives; `status` holds the trial and run statuses; `files` writes
files safely (`write_atomic`, `replace_atomic`); `cells` reads a CSV cell as a number; `tables`
owns trials.csv and epochs.csv as the search writes them; `baselines` owns baselines.csv;
`resolved` the recorded config; `start` and `resume` decide whether a directory may be used;
`lock` lets one search at a time write a run; `read` reads a run for report, refine and the
Python API; `best` opens a finished run and its best model; `objective` says which objective a
run used; `simplest` which trial is the simplest tied with the best (and so which model
`search.keep` puts in best/); `intervals` the error intervals; `version` is tunenet's installed
version.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # exported lazily: __getattr__
    from tunenet.runs.baselines import (  # noqa: F401
        BASELINE_COLUMNS,
        read_baseline_rows,
        write_baselines,
    )
    from tunenet.runs.files import csv_line, now, write_atomic, write_json  # noqa: F401
    from tunenet.runs.lock import release as release_lock  # noqa: F401
    from tunenet.runs.paths import FORMAT_VERSION, RunDir, RunLock  # noqa: F401
    from tunenet.runs.read import (  # noqa: F401
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
    from tunenet.runs.resolved import (  # noqa: F401
        config_differences,
        fingerprint,
        resolved_dict,
    )
    from tunenet.runs.resume import discard_tuner_state, tuner_state_problem  # noqa: F401
    from tunenet.runs.start import (  # noqa: F401
        RunOptions,
        join,
        locate,
        prepare,
        run_name,
        versions,
    )
    from tunenet.runs.status import FINAL_STATUSES, RunStatus, TrialStatus  # noqa: F401
    from tunenet.runs.tables import (  # noqa: F401
        EpochLog,
        TrialTable,
        read_trial_rows,
        trial_order,
    )

# Each name and the module that holds it, loaded on first use (PEP 562): importing one module of
# the package (runs.status, for diagnosis) runs this file, which must not load the writers, yaml
# or pandas. A new export is one line here (and one under TYPE_CHECKING, for editors).
_EXPORTS = {
    "BASELINE_COLUMNS": "baselines",
    "read_baseline_rows": "baselines",
    "write_baselines": "baselines",
    "csv_line": "files",
    "now": "files",
    "write_atomic": "files",
    "write_json": "files",
    "release_lock": "lock.release",
    "FORMAT_VERSION": "paths",
    "RunDir": "paths",
    "RunLock": "paths",
    "Run": "read",
    "config_value": "read",
    "find_runs": "read",
    "is_run_dir": "read",
    "load_run": "read",
    "read_epochs_frame": "read",
    "read_resolved_text": "read",
    "read_trials_frame": "read",
    "read_trials_text": "read",
    "config_differences": "resolved",
    "fingerprint": "resolved",
    "resolved_dict": "resolved",
    "discard_tuner_state": "resume",
    "tuner_state_problem": "resume",
    "RunOptions": "start",
    "join": "start",
    "locate": "start",
    "prepare": "start",
    "run_name": "start",
    "versions": "start",
    "FINAL_STATUSES": "status",
    "RunStatus": "status",
    "TrialStatus": "status",
    "EpochLog": "tables",
    "TrialTable": "tables",
    "read_trial_rows": "tables",
    "trial_order": "tables",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, _, attribute = _EXPORTS[name].partition(".")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attribute or name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
