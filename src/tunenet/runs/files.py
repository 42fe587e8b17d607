"""Writing a run's files safely: atomic rewrites, whole-line appends, CSV lines.

A crash or a full disk never leaves a half-written file or a half line behind.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

# The message for damage a crash cannot cause, which tunenet refuses to repair.
REFUSED = "Restore the file from a copy, or start the run again with --overwrite."

_BRACKETS = re.compile(r"[\[\]{}]")
_UMASK = os.umask(0)
os.umask(_UMASK)


def now(timespec: str = "seconds") -> str:
    """The time in ISO 8601, UTC; trials use "milliseconds" (throughput is counted from them)."""
    return datetime.now(timezone.utc).isoformat(timespec=timespec)


def write_atomic(path: Path, text: str) -> None:
    """Write a text file by temp file + rename, so a crash never leaves it half-written."""
    replace_atomic(path, lambda temp: _write_text(temp, text))


def replace_atomic(path: Path, write: Callable[[Path], Any], suffix: str = ".tmp") -> None:
    """Create `path` through `write(temp)` on a temp file beside it, then rename it over `path`:
    readers see the old file or the whole new one, never a part. `suffix` ends the temp file's
    name (Keras and Matplotlib choose the format by it: ".keras", ".png")."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(handle)
    try:
        os.chmod(temp, 0o666 & ~_UMASK)
        write(Path(temp))
        os.replace(temp, path)
    except BaseException as error:
        Path(temp).unlink(missing_ok=True)
        if isinstance(error, OSError) and error.filename is None:
            error.filename = str(path)  # a full disk names no file otherwise
        raise


def _write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())


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


# A run's JSON and YAML files are small; a bigger or more deeply nested one is damaged (or
# hostile): refused as unreadable instead of eating memory or the interpreter's stack.
MAX_STRUCTURED_BYTES = 64 * 2**20
MAX_NESTING = 100


def read_json(path: Path) -> Any:
    """A run's JSON file, parsed. Raises ValueError (unreadable) when it is not JSON, larger
    than MAX_STRUCTURED_BYTES or nested deeper than MAX_NESTING; OSError when it cannot be read."""
    return _parsed(path, json.loads)


def read_yaml(path: Path) -> Any:
    """A run's YAML file (resolved.yaml), parsed safely, with the bounds of `read_json`.
    Raises ValueError or yaml.YAMLError (unreadable), OSError."""
    import yaml

    return _parsed(path, yaml.safe_load)


def _parsed(path: Path, parse: Any) -> Any:
    if path.stat().st_size > MAX_STRUCTURED_BYTES:
        raise ValueError(f"larger than {MAX_STRUCTURED_BYTES // 2**20} MiB")
    text = path.read_text(encoding="utf-8")
    if _nesting(text) > MAX_NESTING:
        raise ValueError(f"nested deeper than {MAX_NESTING} levels")
    try:
        return parse(text)
    except RecursionError:  # nesting the bracket count cannot see (YAML indentation)
        raise ValueError(f"nested deeper than {MAX_NESTING} levels") from None


def _nesting(text: str) -> int:
    """An upper bound of the bracket depth (brackets inside strings count too: it may only
    overestimate, which a run's own files never come near)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(text):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def text_or_none(path: Path) -> Optional[str]:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None


def short(text: str, limit: int = 60) -> str:
    """`text` quoted, cut to `limit` characters for a message."""
    return repr(text) if len(text) <= limit else repr(text[: limit - 3]) + "..."
