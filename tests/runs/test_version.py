"""tunenet's version: written once, in pyproject.toml, and read from the package metadata."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import tunenet
from tunenet.runs.start import versions
from tunenet.runs.version import tunenet_version

REPO = Path(__file__).parents[2]


def test_the_version_is_pyprojects() -> None:
    written = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    expected = written["project"]["version"]
    assert tunenet.__version__ == tunenet_version() == expected
    assert versions()["tunenet"] == expected  # as the manifest records it


def test_runs_never_import_the_package_root() -> None:
    """`from tunenet import ...` in runs/ would run the package's __init__ from inside it."""
    for path in (REPO / "src" / "tunenet" / "runs").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        roots = [
            n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "tunenet"
        ]
        assert not roots, path.name
