"""Writing a run's files safely: atomic rewrites, whole-line appends, CSV lines.

A crash or a full disk never leaves a half-written file or a half line behind.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Optional

# The message for damage a crash cannot cause, which tunenet refuses to repair.
REFUSED = "Restore the file from a copy, or start the run again with --overwrite."

_UMASK = os.umask(0)
os.umask(_UMASK)


def now(timespec: str = "seconds") -> str:
    """The time in ISO 8601, UTC; trials use "milliseconds" (throughput is counted from them)."""
    return datetime.now(timezone.utc).isoformat(timespec=timespec)


def write_atomic(path: Path, text: str) -> None:
    """Write a file by temp file + rename, so a crash never leaves it half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(temp, 0o666 & ~_UMASK)
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException as error:
        Path(temp).unlink(missing_ok=True)
        if isinstance(error, OSError) and error.filename is None:
            error.filename = str(path)  # a full disk names no file otherwise
        raise


def append_line(path: Path, line: str) -> None:
    """Append one whole line; when the write fails (a full disk), cut the file back to where it
    was, so that no half line stays behind."""
    data = line.encode("utf-8")
    handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        size = os.fstat(handle).st_size
        try:
            _write_all(handle, data)
        except OSError as error:
            os.ftruncate(handle, size)
            error.filename = error.filename or str(path)
            raise
    finally:
        os.close(handle)


def _write_all(handle: int, data: bytes) -> None:
    while data:
        data = data[os.write(handle, data) :]


def write_json(path: Path, data: dict) -> None:
    write_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def format_csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return format(value, ".8g")  # Keras logs are float32: 8 digits keep all of them
    return str(value)


def csv_line(values: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([format_csv_value(v) for v in values])
    return buffer.getvalue()


def text_or_none(path: Path) -> Optional[str]:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None


def short(text: str, limit: int = 60) -> str:
    """`text` quoted, cut to `limit` characters for a message."""
    return repr(text) if len(text) <= limit else repr(text[: limit - 3]) + "..."
