"""One error hierarchy. User mistakes exit 2, runs that ran but failed exit 1.

Library code raises these; only the CLI turns them into exit codes (`TunenetError.exit_code`)
and prints them through `printable`. `shell_command` writes the commands that messages suggest.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, Optional, Union


class TunenetError(Exception):
    """Base of every error tunenet reports to the user without a traceback."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One mistake in a config.

    Attributes:
        key: the dotted config key, e.g. `model.units`; None when the mistake is not in one key
            (unreadable file, YAML syntax).
        message: what is wrong, with the value received and what is expected.
        line: the 1-based line in the YAML file, when known.
    """

    key: Optional[str]
    message: str
    line: Optional[int] = None

    def __str__(self) -> str:
        where = f"line {self.line}, " if self.line else ""
        return f"{where}{self.key}: {self.message}" if self.key else f"{where}{self.message}"


class ConfigError(TunenetError):
    """The config is unreadable or invalid.

    Args:
        message: the whole message, every problem included.
        errors: the individual problems (default: one `Problem` holding the message).

    Attributes:
        errors: list of `Problem`s (`.key`, `.message`, `.line`), one per mistake.
    """

    def __init__(self, message: str, errors: Optional[list[Problem]] = None) -> None:
        super().__init__(message)
        self.errors = list(errors) if errors else [Problem(None, message)]


class OptionError(TunenetError, ValueError):
    """An option of a command, or an argument of a Python API function, is invalid (also a
    ValueError, as Python code expects of a bad argument)."""


class DataError(TunenetError):
    """The data could not be loaded or split."""


class RunDirError(TunenetError):
    """The run directory is missing, malformed, or would be overwritten."""


class SearchError(TunenetError):
    """The search ran but failed (no trial completed, too many failures).

    Args:
        message: why it failed.
        summary: the search's summary, when the search ran to its end (the CLI prints it).
        run_dir: the run directory, kept for inspection.
    """

    exit_code = 1

    def __init__(
        self, message: str, *, summary: Any = None, run_dir: Optional[Path] = None
    ) -> None:
        super().__init__(message)
        self.summary = summary
        self.run_dir = run_dir


class Interrupted(TunenetError):
    """The user stopped the search (Ctrl-C)."""

    exit_code = 130


# Terminal escape sequences (CSI, OSC, and two-character ones), then every other control
# character but newline and tab: C0, DEL, C1, and the bidirectional overrides that reorder text.
_ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` without terminal escape sequences or control characters (newlines and tabs
    kept): a file name or value quoted in a message cannot drive the user's terminal."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def shell_command(*words: Union[str, PathLike]) -> str:
    """A command line to suggest in a message, each word quoted for a POSIX shell, so that a
    path with spaces or `$(...)` is pasted as it is, never run."""
    return shlex.join(str(word) for word in words)
