"""The checks of `data.path` and `data.test_path`: errors name the key, the path and the fix.

Relative paths are relative to the working directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from tunenet.errors import DataError


def existing_file(path: Optional[str], key: str) -> Path:
    """An existing, non-empty, readable file; errors name the key, the path and the fix."""
    if not path:
        raise DataError(f"{key}: is required for this source: give the file.")
    found = Path(path).expanduser()
    if not found.exists():
        raise DataError(
            f"{key}: {path}: no such file (relative paths are relative to the working "
            f"directory, {Path.cwd()}). Check the path."
        )
    if found.is_dir():
        raise DataError(f"{key}: {path}: is a directory, expected a file: give the file in it.")
    if not found.is_file():  # a FIFO or a device would block or never end
        raise DataError(f"{key}: {path}: is not a regular file. Give a file.")
    if found.stat().st_size == 0:
        raise DataError(f"{key}: {path}: is empty. Give a file with examples.")
    try:
        with open(found, "rb"):
            pass
    except OSError as error:
        raise DataError(
            f"{key}: {path}: cannot be read ({error.strerror}). Check the file's permissions."
        ) from None
    return found.resolve()


def existing_folder(path: Optional[str], key: str) -> Path:
    """An existing folder (of class sub-folders, for source `images`)."""
    if not path:
        raise DataError(f"{key}: is required for source 'images': give the folder.")
    found = Path(path).expanduser()
    if not found.exists():
        raise DataError(
            f"{key}: {path}: no such folder (relative paths are relative to the working "
            f"directory, {Path.cwd()}). Check the path."
        )
    if not found.is_dir():
        raise DataError(
            f"{key}: {path}: is a file; source 'images' needs a folder with one sub-folder "
            f"per class (e.g. {path}/cat/001.png, {path}/dog/001.png)."
        )
    return found.resolve()
