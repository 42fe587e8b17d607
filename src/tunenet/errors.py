"""One error hierarchy. User mistakes exit 2, runs that ran but failed exit 1.

Library code raises these; only the CLI turns them into exit codes (`TunenetError.exit_code`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional


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
