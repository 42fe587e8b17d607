"""What imports what: TensorFlow only where models train, no import cycles, no huge modules, and
the layers of pyproject.toml's import-linter contracts (ARCHITECTURE.md): no import runs upward."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

from conftest import REPO

SOURCE = REPO / "src"
PACKAGE = SOURCE / "tunenet"
FIXTURE_RUN = REPO / "tests" / "fixtures" / "runs" / "minimal"
HEAVY = ("tensorflow", "keras", "keras_tuner")
MAX_LINES = 800

# Runs the CLI in-process, then says on stderr which heavy modules the command loaded.
CLI_SCRIPT = """
import sys
from tunenet.cli import app
code = 0
try:
    app(sys.argv[1:], prog_name="tunenet")
except SystemExit as stop:
    code = stop.code or 0
loaded = [name for name in {heavy!r} if name in sys.modules]
print("heavy modules loaded:", ",".join(loaded) or "none", file=sys.stderr)
sys.exit(code)
"""


def loaded_after(code: str, *args: object, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *(str(arg) for arg in args)],
        capture_output=True, text=True, cwd=cwd, timeout=120,
    )  # fmt: skip


def test_import_tunenet_loads_neither_tensorflow_nor_pandas():
    code = (
        "import sys, tunenet\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'keras_tuner', 'pandas') "
        "if m in sys.modules))\n"
        "tunenet.search, tunenet.report, tunenet.validate, tunenet.ConfigError\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'keras_tuner') if m in sys.modules))\n"
    )
    result = loaded_after(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "[]"]


@pytest.mark.parametrize(
    "args, shown, heavy",
    [
        (["--help"], "validate", (*HEAVY, "pandas")),
        (["validate", "configs/quickstart.yaml"], "grid size", (*HEAVY, "pandas")),
        # a custom builder and a python loader: read and parsed, never imported
        (
            ["validate", "tests/fixtures/custom/config.yaml"],
            "runs build() from",
            (*HEAVY, "pandas"),
        ),
        (["report", "{run}"], "minimal", HEAVY),
        (["report", "{run}", "--format", "json", "--no-plots"], '"format_version"', HEAVY),
    ],
    ids=["help", "validate", "validate-custom", "report", "report-json"],
)
def test_light_commands_never_import_tensorflow(args, shown, heavy, tmp_path):
    """docs/cli.md: they answer in well under a second, so TensorFlow is not even tried (nor pandas
    where no table is read)."""
    run = tmp_path / "minimal"
    shutil.copytree(FIXTURE_RUN, run)  # report writes <run>/report/
    args = [arg.format(run=run) for arg in args]
    result = loaded_after(CLI_SCRIPT.format(heavy=heavy), *args)
    assert result.returncode == 0, result.stderr
    assert shown in result.stdout
    assert "heavy modules loaded: none" in result.stderr


# ---------------------------------------------------------------- the import graph


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_nodes(node: ast.AST):
    """Every import statement, in functions too, except under `if TYPE_CHECKING:`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        elif isinstance(child, ast.If) and is_type_checking(child.test):
            for branch in child.orelse:
                yield from import_nodes(ast.Module(body=[branch], type_ignores=[]))
        else:
            yield from import_nodes(child)


def imported(name: str, text: str, known: set[str], is_package: bool = False) -> set[str]:
    """The tunenet modules that module `name` (source `text`) imports; a package counts as its
    __init__, a name inside a module as that module."""

    def resolve(dotted: str) -> str | None:
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in import_nodes(ast.parse(text)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:  # relative: `from . import x` in tunenet.pkg.c is tunenet.pkg.x
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *([base] if base else [])])
            targets = [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            module = resolve(target) if target.split(".")[0] == "tunenet" else None
            if module and module != name:
                found.add(module)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {
        name: imported(name, path.read_text(encoding="utf-8"), set(known), path.stem == "__init__")
        for name, path in known.items()
    }


def test_import_graph_counts_what_a_cycle_would_use():
    known = {"tunenet", "tunenet.a", "tunenet.pkg", "tunenet.pkg.b", "tunenet.hint"}
    text = (
        "from typing import TYPE_CHECKING\n"
        "from . import b\n"
        "from .. import a\n"
        "from tunenet.pkg import Thing\n"
        "if TYPE_CHECKING:\n"
        "    from tunenet import hint\n"
        "def later():\n"
        "    import tunenet.pkg.b\n"
    )
    found = imported("tunenet.pkg.c", text, known)
    assert found == {"tunenet.a", "tunenet.pkg", "tunenet.pkg.b"}


def test_no_import_cycles():
    try:
        tuple(TopologicalSorter(graph()).static_order())
    except CycleError as error:
        cycle = error.args[1]
        pytest.fail("import cycle: " + " -> ".join(reversed(cycle)))


def test_no_module_over_800_lines():
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()
    }
    too_long = {name: lines for name, lines in sizes.items() if lines > MAX_LINES}
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"


# ---------------------------------------------------------------- the layers (import-linter)

LINT = (
    "import sys; from importlinter.cli import lint_imports; "
    "sys.exit(lint_imports(no_cache=True, no_logo=True))"
)
# package inits outside any layer (a layer cannot contain another): what they may import
PACKAGE_INITS = {"tunenet": {"tunenet.errors"}}


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """`lint-imports` with root/pyproject.toml's contracts, on the tunenet package of root/src."""
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [sys.executable, "-c", LINT], cwd=root, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def test_no_import_runs_up_the_layers():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_an_upward_import_breaks_the_contracts(tmp_path: Path):
    """The contracts do refuse: the search drawing again, diagnosis opening the run's writers."""
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    shutil.copytree(PACKAGE, tmp_path / "src" / "tunenet", ignore=shutil.ignore_patterns("*.pyc"))
    upward = {
        "tuning/trial.py": "from tunenet.reporting.progress import SearchProgress",
        "diagnosis/text.py": "from tunenet.runs.files import write_atomic",
    }
    for name, line in upward.items():
        path = tmp_path / "src" / "tunenet" / name
        path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    report = result.stdout
    assert "tunenet.tuning is not allowed to import tunenet.reporting" in report
    assert "tunenet.tuning.trial -> tunenet.reporting.progress" in report
    assert "tunenet.diagnosis.text -> tunenet.runs.files" in report
    assert "Contracts: 0 kept, 2 broken." in report


def layer_modules() -> list[str]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(contract["layers"] for contract in contracts if contract["type"] == "layers")
    return [name.strip() for layer in layers for name in re.split(r"[|:]", layer)]


def test_every_module_sits_in_a_layer():
    """A new module is checked too: it belongs to a layer, or is a package init that imports
    only what it re-exports."""
    layers = layer_modules()
    found = graph()
    loose = [
        name
        for name in found
        if not any(name == layer or name.startswith(layer + ".") for layer in layers)
    ]
    assert sorted(loose) == sorted(PACKAGE_INITS), "add these to a layer in pyproject.toml"
    for name, allowed in PACKAGE_INITS.items():
        assert found[name] <= allowed, f"{name} imports {sorted(found[name] - allowed)}"


def test_diagnosis_loads_no_writer_yaml_or_plot():
    """Importing diagnosis runs tunenet/runs/__init__.py (for runs.status): it loads nothing."""
    code = (
        "import sys, tunenet.diagnosis\n"
        "print(sorted(m for m in sys.modules if m.startswith('tunenet.runs')))\n"
        "print(sorted(m for m in ('yaml', 'matplotlib', 'rich', 'tensorflow') if m in sys.modules))\n"
    )
    result = loaded_after(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "['tunenet.runs', 'tunenet.runs.cells', 'tunenet.runs.intervals', 'tunenet.runs.status']",
        "[]",
    ]
