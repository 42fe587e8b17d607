"""trials.csv and epochs.csv as the search writes them: one row per trial, one line per epoch.

Several processes share these files under the run lock. Trial ids are strings ("03"); their
zero-padding follows max_trials, so "3" and "03" are the same trial.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Optional

from tunenet.errors import RunDirError
from tunenet.runs.files import REFUSED, append_line, csv_line, short, text_or_none, write_atomic
from tunenet.runs.paths import RunLock


def read_trial_rows(path: Path) -> tuple[list[dict], str]:
    """The rows of trials.csv, and its last line when a crash cut it (dropped: that trial
    runs again). Raises RunDirError, naming the file and line, for damage a crash cannot
    cause: a header that is not tunenet's, an inner line with the wrong number of fields."""
    if not path.exists():
        return [], ""
    text = text_or_none(path)
    if text is None:
        raise RunDirError(f"{path}: cannot be read as UTF-8 text. {REFUSED}")
    whole, newline, cut = text.rpartition("\n")
    reader = csv.reader(io.StringIO(whole + newline))
    header = next(reader, None)
    if header is None:
        return [], cut
    if header[:2] != ["trial_id", "status"]:
        raise RunDirError(
            f"{path}: line 1 is not tunenet's header: got {short(','.join(header))}, expected "
            f"it to start with trial_id,status. {REFUSED}"
        )
    rows = []
    for record in reader:
        if len(record) != len(header):
            raise RunDirError(
                f"{path}: line {reader.line_num} has {len(record)} fields, the header "
                f"{len(header)}. Remove that line (its trial runs again on --resume), or start "
                "the run again with --overwrite."
            )
        rows.append(dict(zip(header, record, strict=True)))
    return rows, cut


class EpochLog:
    """epochs.csv, appended one whole line at a time under the run lock.

    The file is opened for each line: another process may have rewritten it (dropping the rows
    of a trial that runs again), and a file handle kept open would write into the old copy.
    """

    def __init__(self, path: Path, columns: list[str]):
        self.path, self.columns = path, columns
        self.lock = RunLock(path.parent)
        with self.lock:
            text = text_or_none(path) if path.exists() else ""
            if text is None:
                raise RunDirError(f"{path}: cannot be read as UTF-8 text. {REFUSED}")
            if "\n" not in text:  # new, or a header cut before any row
                write_atomic(path, csv_line(columns))
            elif text.split("\n", 1)[0] + "\n" != csv_line(columns):
                raise RunDirError(
                    f"{path}: its columns are not the ones this run writes (expected "
                    f"{','.join(columns)}). {REFUSED}"
                )

    def append(self, row: dict) -> None:
        with self.lock:
            append_line(self.path, csv_line(row.get(column) for column in self.columns))

    def drop_trials(self, keep: Optional[set[str]] = None, drop: Optional[set[str]] = None) -> int:
        """Remove the rows of trials not in `keep`, or of those in `drop`, and a cut last line.

        Used before a trial runs again (after a kill), so that no row is duplicated. Returns
        the number of cut lines dropped.
        """
        with self.lock:
            lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
            cut = sum(not line.endswith("\n") for line in lines[1:])
            kept = [lines[0]] + [
                line for line in lines[1:]
                if line.endswith("\n") and _kept(line.split(",", 1)[0], keep, drop)
            ]  # fmt: skip
            if len(kept) != len(lines):
                write_atomic(self.path, "".join(kept))
            return cut


def _kept(trial_id: str, keep: Optional[set[str]], drop: Optional[set[str]]) -> bool:
    if keep is not None and trial_id not in keep:
        return False
    return drop is None or trial_id not in drop


class TrialTable:
    """trials.csv: one row per trial, rewritten atomically after every trial.

    Several worker processes may share it: `put` re-reads the file first; the caller holds the
    run lock around it.
    """

    def __init__(self, path: Path, columns: list[str]):
        self.path, self.columns = path, columns
        self.rows: dict[str, dict] = {}
        self.cut = ""  # a last line a crash cut, dropped (its trial runs again)
        self.reload()

    def reload(self) -> None:
        if self.path.exists():
            rows, self.cut = read_trial_rows(self.path)
            self.rows = {row["trial_id"]: row for row in rows}

    def find(self, trial_id: str) -> Optional[dict]:
        """The row of a trial, whatever the zero-padding of its id."""
        if trial_id in self.rows:
            return self.rows[trial_id]
        number = trial_number(trial_id)
        same = [row for key, row in self.rows.items() if trial_number(key) == number]
        return same[0] if same and number is not None else None

    def put(self, row: dict) -> None:
        self.reload()
        self.rows[row["trial_id"]] = row
        self.save()

    def ordered(self) -> list[dict]:
        """Rows in trial order (ids are numbers; their zero-padding may change on resume)."""
        return [self.rows[key] for key in sorted(self.rows, key=trial_order)]

    def save(self) -> None:
        lines = [csv_line(self.columns)]
        lines += [csv_line(row.get(column) for column in self.columns) for row in self.ordered()]
        write_atomic(self.path, "".join(lines))


def trial_order(trial_id: str) -> tuple[int, str]:
    return (int(trial_id), trial_id) if trial_id.isdigit() else (10**9, trial_id)


def trial_number(trial_id: str) -> Optional[int]:
    """A trial id as a number: "03" and "3" are the same trial (padding follows max_trials)."""
    return int(trial_id) if trial_id.isdigit() else None
