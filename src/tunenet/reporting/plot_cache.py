"""Draw a report's plots only when what they show changed (docs/report.md, "Plots").

`report/plots/.inputs` holds a hash of everything the plots read: the run files (`INPUT_FILES`,
by content), the tunenet version and its code, and the report options (thresholds,
`--top`). When it matches and every plot it lists exists, nothing is drawn and matplotlib is
not even imported: a second `tunenet report` of an unchanged run takes as long as `--no-plots`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from tunenet import __version__
from tunenet.reporting.model import RunReport
from tunenet.runs import write_atomic

# The run files the plots read (docs/run-format.md); best/ holds the model too, never hashed.
INPUT_FILES = (
    "trials.csv",
    "epochs.csv",
    "layers.csv",
    "baselines.csv",
    "learning_curve.csv",
    "manifest.json",
    "resolved.yaml",
    "best/confusion.json",
)
CACHE_FILE = ".inputs"
# What a plot leaves in report/plots/: the image and its hover areas (docs/report.md).
PLOT_SUFFIXES = (".png", ".areas.json")
# The code that reads and draws (all of tunenet, ~10 ms to hash): a change to it, in a newer
# tunenet or an edited checkout, redraws.
PACKAGE = Path(__file__).parent.parent

Progress = Callable[[str], None]


def inputs_key(report: RunReport) -> str:
    """The hash of what the report's plots show (see the module's docstring)."""
    digest = hashlib.sha256()
    for name in INPUT_FILES:
        digest.update(f"\0{name}\0".encode())
        digest.update(_content(report.run.path / name))
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(_content(path))
    options = [__version__, repr(report.settings), [t.trial_id for t in report.trials]]
    digest.update(repr(options).encode())
    return digest.hexdigest()


def _content(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b"\0absent"


def cached_plots(directory: Path, key: str) -> list[Path] | None:
    """The plots listed in `directory/.inputs` when it was written for `key` and each still
    exists; else None (they must be drawn)."""
    try:
        saved = json.loads((directory / CACHE_FILE).read_text(encoding="utf-8"))
        names, files = (saved["plots"], saved["files"]) if saved.get("key") == key else (None, None)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    if not all(_names(listed) for listed in (names, files)):
        return None
    whole = all((directory / name).is_file() for name in files)  # hover areas too
    return [directory / name for name in names] if whole else None


def _names(listed: object) -> bool:
    """A list of plain file names (nothing outside the plots directory)."""
    return isinstance(listed, list) and all(isinstance(n, str) and "/" not in n for n in listed)


def existing_plots(directory: Path) -> list[Path]:
    """The PNG plots already in `directory` (for `--no-plots`, which keeps them), in the order
    `.inputs` lists them, else by name."""
    listed = []
    try:
        names = json.loads((directory / CACHE_FILE).read_text(encoding="utf-8"))["plots"]
        listed = [directory / n for n in names if isinstance(n, str) and "/" not in n]
    except (OSError, ValueError, TypeError, KeyError):
        pass
    found = sorted(directory.glob("*.png")) if directory.is_dir() else []
    return [p for p in listed if p in found] + [p for p in found if p not in listed]


def current_plots(
    report: RunReport, directory: Path, progress: Progress | None = None
) -> list[Path]:
    """The report's plots in `directory`: the ones there when their inputs are unchanged, else
    drawn afresh (removing the files of plots that no longer apply), saying on `progress`
    which plot is being drawn."""
    key = inputs_key(report)
    cached = cached_plots(directory, key)
    if cached is not None:
        return cached
    from tunenet.reporting.plots import draw_plots  # matplotlib: only when plots are drawn

    drawn = draw_plots(report, directory, progress)
    _remove_stale(directory, {p.name for p in drawn})
    files = sorted(p.name for p in directory.iterdir() if p.name.endswith(PLOT_SUFFIXES))
    record = {"key": key, "plots": [p.name for p in drawn], "files": files}
    write_atomic(directory / CACHE_FILE, json.dumps(record, indent=1) + "\n")
    return drawn


def _remove_stale(directory: Path, kept: set[str]) -> None:
    """Remove the plot files of an earlier report whose plot this report no longer has."""
    for path in directory.iterdir():
        stem = next((path.name[: -len(s)] for s in PLOT_SUFFIXES if path.name.endswith(s)), None)
        if stem is not None and f"{stem}.png" not in kept and path.is_file():
            path.unlink(missing_ok=True)
