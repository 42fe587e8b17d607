"""Shared fixtures: config files, the CLI runner, an environment without TensorFlow, the
Hypothesis profiles and the memory limit of the fuzz tests."""

from __future__ import annotations

import contextlib
import csv
import os
import resource
import signal
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from typer.testing import CliRunner

from tunenet.cli import app

REPO = Path(__file__).resolve().parents[1]

# Hypothesis: "ci" (the default, and what .ci/run selects) draws the same examples on every run,
# so a run passes or fails for the code, not for the draw, and writes no example database; "dev"
# explores new random inputs each run and keeps the failures it finds in .hypothesis/ to try
# first next time: HYPOTHESIS_PROFILE=dev pytest -m fuzz.
_FUZZ = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.register_profile(
    "ci", derandomize=True, database=None, max_examples=150, print_blob=True, **_FUZZ
)
settings.register_profile("dev", max_examples=1000, **_FUZZ)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# What a fuzzed command may allocate beyond what the test process already holds: `validate`
# answers any config within 1 GB, so a config that makes it build something huge fails its test
# with a MemoryError instead of taking the machine down.
FUZZ_MEMORY = 1 << 30


TERMINAL_VARIABLES = ("COLUMNS", "LINES")


def pytest_configure(config: pytest.Config) -> None:
    """Searches started by the tests get Ctrl-C as a terminal would send it: a shell's
    background job (`make test &`) ignores SIGINT, and the processes it starts inherit that.
    A pytest-xdist worker sees the terminal variables of the command that started the run
    (workers start with COLUMNS=80 and LINES=24 set; the output-width tests read COLUMNS)."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    started_by = getattr(config, "workerinput", {}).get("terminal")
    if started_by is not None:
        for name in TERMINAL_VARIABLES:
            os.environ.pop(name, None)
        os.environ.update(started_by)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """pytest-xdist, on the controller: hand each worker this process's terminal variables."""
    node.workerinput["terminal"] = {
        name: os.environ[name] for name in TERMINAL_VARIABLES if name in os.environ
    }


def _address_space() -> int | None:
    """This process's virtual memory size in bytes (Linux), None where /proc does not say."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * resource.getpagesize()


@contextlib.contextmanager
def memory_limit(extra: int = FUZZ_MEMORY):
    """Let this process grow by at most `extra` bytes of address space, then restore the limit.

    RLIMIT_AS counts address space, and TensorFlow, once an earlier test loaded it, reserves
    gigabytes it never touches: an absolute limit would break it or be meaningless, so the limit
    is what the process holds now plus `extra`."""
    size = _address_space()
    if size is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = size + extra
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.fixture(autouse=True)
def _fuzz_memory_limit(request: pytest.FixtureRequest):
    """Tests marked `fuzz` run under memory_limit()."""
    if request.node.get_closest_marker("fuzz") is None:
        yield
        return
    with memory_limit():
        yield


@pytest.fixture(autouse=True)
def _no_stop_left_over():
    """Each test starts without a stop requested: an in-process worker whose chief is gone (or
    a test of the signal handlers) sets the search's stop flag, and its process, unlike a real
    worker's, goes on to the next test."""
    trial = sys.modules.get("tunenet.tuning.trial")  # never imported here: TensorFlow
    if trial is not None:
        trial.stop_requested = False
    yield


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a YAML config (dedented) into tmp_path and return its path."""

    def write(text: str, name: str = "config.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def cli():
    """Run the tunenet CLI in-process; returns the click Result (exit_code, stdout, stderr)."""
    runner = CliRunner()

    def invoke(*args: object):
        return runner.invoke(app, [str(arg) for arg in args], catch_exceptions=False)

    return invoke


@pytest.fixture(scope="session")
def no_tensorflow_env(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Environment in which `import tensorflow` / `import keras` fail, for subprocesses."""
    blocked = tmp_path_factory.mktemp("blocked")
    for package in ("tensorflow", "keras", "keras_tuner"):
        (blocked / package).mkdir()
        (blocked / package / "__init__.py").write_text(
            f"raise ImportError('{package} is blocked in this test')\n"
        )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(blocked), str(REPO / "src")])
    return env


def tunenet_command(*args: object) -> list[str]:
    """A subprocess command line running the CLI with this interpreter."""
    return [sys.executable, "-m", "tunenet.cli", *(str(arg) for arg in args)]


def tree_state(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder below root with its size and modification time, to compare later."""
    state = {}
    for path in sorted(Path(root).rglob("*")):
        stat = path.lstat()
        state[str(path.relative_to(root))] = (
            stat.st_size if path.is_file() else -1,
            stat.st_mtime_ns,
        )
    return state


@pytest.fixture
def untouched(tmp_path: Path):
    """Assert that a command changed nothing under tmp_path except the paths allowed.

    Usage: `with untouched(allowed=["runs/myrun"]): ...`. The default allows nothing.
    """

    @contextlib.contextmanager
    def check(root: Path = tmp_path, allowed: tuple[str, ...] = ()):
        before = tree_state(root)
        yield
        after = tree_state(root)

        def outside(key: str) -> bool:
            return not any(key == a or key.startswith(a.rstrip("/") + "/") for a in allowed)

        changed = {
            k for k in before.keys() | after.keys() if before.get(k) != after.get(k) and outside(k)
        }
        assert not changed, f"changed outside {list(allowed)}: {sorted(changed)}"

    return check


def write_csv(path: Path, rows: list[dict]) -> Path:
    """Write rows (dicts with the same keys) as a CSV file with a header."""
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def table_rows(n: int = 90, seed: int = 0) -> list[dict]:
    """size (numeric), color (text), weight (numeric) -> label yes/no (text)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    for index in range(n):
        color = ("red", "green", "blue")[index % 3]
        size = float(rng.normal())
        rows.append(
            {
                "size": round(size, 4),
                "color": color,
                "weight": round(float(rng.normal(50, 10)), 3),
                "label": "yes" if color == "red" or size > 0.9 else "no",
            }
        )
    return rows
