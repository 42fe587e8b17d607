"""tunenet's version as installed (pyproject.toml is the one place it is written)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

UNKNOWN = "0+unknown"  # a source tree used without installing it


def tunenet_version() -> str:
    """The installed package's version, from its metadata."""
    try:
        return version("tunenet")
    except PackageNotFoundError:
        return UNKNOWN
