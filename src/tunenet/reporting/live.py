"""The diagnosis label of a trial as it finishes, for the search's one line per trial.

The same rules and settings as `tunenet report` (docs/report.md: the run's thresholds, the auto
target error from baselines.csv with its interval, each error's interval from its example
counts), read once from the run directory when the search starts, then applied to each new
trials.csv row. No TensorFlow; a few milliseconds per trial. `LiveLabels` listens to the search
(`tuning.events`) for its run directory and labels the progress display's lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from tunenet.runs.cells import number
from tunenet.tuning.events import SearchListener, SearchStart

if TYPE_CHECKING:
    import pandas as pd

    from tunenet.runs import Run

Labeler = Callable[[dict], Optional[str]]


class LiveLabels(SearchListener):
    """The label of a finished trial's row (a `Labeler` for `SearchProgress`), once the search
    has begun in its run directory; None before."""

    def __init__(self) -> None:
        self._label: Optional[Labeler] = None

    def on_search_begin(self, start: SearchStart) -> None:
        self._label = live_labeler(start.run_dir)

    def __call__(self, row: dict) -> Optional[str]:
        return None if self._label is None else self._label(row)


def live_labeler(run_dir: Path) -> Labeler:
    """A function from a trials.csv row (a dict) to its label ("good fit", "high bias", ...),
    or None when it cannot tell (then the line carries the status only). The run's settings
    are read at the first call, once trials.csv exists. The diagnosis (pandas, scipy) loads
    here, not with this module: `tunenet search` shows its first status before."""
    import pandas as pd

    from tunenet import diagnosis as dx
    from tunenet.reporting.model import resolve_settings
    from tunenet.reporting.noise import chance, log_loss, trial_intervals
    from tunenet.runs import load_run

    found: list[tuple[Run, dx.Thresholds, dx.Chance | None]] = []

    def label(row: dict) -> Optional[str]:
        status = str(row.get("status"))
        train, val = number(row.get("train_error")), number(row.get("val_error"))
        if train is None or val is None:
            return dx.trial_label(status, None)
        if not found:
            run = load_run(run_dir)
            found.append((run, resolve_settings(run).thresholds(), chance(run)))
        run, thresholds, at_chance = found[0]
        series = pd.Series(row)
        noise = trial_intervals(series, _with_row(run, series)).noise
        fit = dx.fit_diagnosis(train, val, thresholds, noise, at_chance, log_loss(series))
        return dx.trial_label(status, fit)

    return label


def _with_row(run: Run, row: pd.Series) -> Run:
    """The run as `trial_intervals` reads it (sizes from the row, else the manifest)."""
    from tunenet.runs import Run

    return Run(run.path, run.name, row.to_frame().T, run.epochs, run.manifest, run.resolved)
