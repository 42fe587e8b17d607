"""tunenet's benchmark (benchmarks/README.md): ratios measured side by side in one run.

    .venv/bin/python benchmarks/run.py [--quick] [--pairs N] [--out benchmarks/RESULTS.md]

Every timed measure runs whole processes (subprocess, wall time), A then B, repeated `--pairs`
times; a row's ratio is the median of the per-pair ratios. The table, the machine (CPU model,
cores, Python / TensorFlow / Keras / keras-tuner versions, load average) and the date go to
stdout and to `--out`.

Rows:
  1. overhead vs keras-tuner: `tunenet search` on a fixed grid (wine, tiny dense models, fixed
     epochs, EarlyStopping) against `benchmarks/kt_script.py`, the hand-written keras-tuner
     script running the same trials (target <= 0.9);
  2. overhead vs plain Keras: the same against `benchmarks/keras_loop.py` (target <= 1.15);
  3. start-up: `tunenet --help` and `tunenet validate configs/quickstart.yaml` against
     `python -c "import tensorflow"` (target <= 0.15);
  4. memory: a default `tunenet search` of 500 small trials: the largest VmRSS of its process
     tree after trial 20, minus its size at trial 20, read from /proc while it runs (target
     < 50 MB); the wall-time cost of bounded memory (default) against the old, unbounded
     behaviour on a shorter search (target <= 1.05); a recycled worker's growth;
  5. search efficiency: epochs (and wall time, with the spread over seeds) until val_accuracy
     first reaches a hard target on digits (0.98 in a wide space with poor regions), for
     random, bayesian, hyperband and random with median pruning, mean over seeds (read from epochs.csv in order; the search
     is stopped with SIGTERM once the target is reached or the epoch budget is spent);
     and the epochs `search.stop_after_no_gain: 10` saves on that search against the same
     budget of 40 trials without it, whether the best val_accuracy was kept (`--only nogain`);
  6. parallel throughput: trials per minute with `--workers 2` against the default search,
     counted from the trials' own times (trials.csv: completed trials / (last finished_at -
     first started_at)), for small MLPs (target >= 1.8) and small CNNs (target >= 1.5), the
     whole command's wall time (target < 1), and against `--workers 1` (information).

  7. training dynamics: a small search with `training.monitor_layers` on against off, wall
     time (target <= 1.05).
  8. custom model: the same network built by a `model.build` function (dense_builder.py)
     against `model.kind: dense`, seconds per trial from trials.csv (target <= 1.05).
The pruning rows (epochs and best objective with and without `search.pruning`) come from
`benchmarks/pruning.py`, which appends its own section to the same file.

`--quick` runs every row once with minimal sizes (a CI check that the benchmark runs, not a
measurement). Timings taken while other work runs on the machine are noise: run the full
benchmark on a quiet machine.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable, Optional

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PYTHON = sys.executable
_ENTRY = Path(sys.executable).parent / "tunenet"
TUNENET = [str(_ENTRY)] if _ENTRY.exists() else [PYTHON, "-m", "tunenet.cli"]
# Same environment for every process: TensorFlow's C++ info lines off, nothing else changed.
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}

OVERHEAD_KT = "overhead vs keras-tuner script"
OVERHEAD_KERAS = "overhead vs plain Keras loop"
STARTUP_HELP = "start-up: tunenet --help"
STARTUP_VALIDATE = "start-up: tunenet validate"
MEMORY = "memory: RSS of a default search after trial 20"
MEMORY_COST = "memory: wall time, bounded (default) vs unbounded"
MEMORY_HANDOVER = "memory: one hand-over to a fresh process (safety net)"
MEMORY_RECYCLED = "memory: RSS growth, --workers 1 --max-trials-per-worker"
EFFICIENCY_RANDOM = "search efficiency: random (reference)"
EFFICIENCY_BAYESIAN = "search efficiency: bayesian vs random"
EFFICIENCY_HYPERBAND = "search efficiency: hyperband vs random"
EFFICIENCY_PRUNED = "search efficiency: random + median pruning vs random"
NO_GAIN = "search efficiency: stop_after_no_gain 10 vs the same trial budget, epochs"
MONITORING = "training dynamics: layer monitoring on vs off, wall time"
CUSTOM = "custom model: model.build vs the same dense network, seconds per trial"
WORKERS_MLP = "parallel throughput: --workers 2 vs default search, small MLPs"
WORKERS_CNN = "parallel throughput: --workers 2 vs default search, small CNNs"
WORKERS_WALL = "whole command: --workers 2 vs default search, wall time"
WORKERS = "parallel throughput: --workers 2 vs --workers 1"
ROWS = (
    OVERHEAD_KT,
    OVERHEAD_KERAS,
    STARTUP_HELP,
    STARTUP_VALIDATE,
    MEMORY,
    MEMORY_COST,
    MEMORY_HANDOVER,
    MEMORY_RECYCLED,
    EFFICIENCY_RANDOM,
    EFFICIENCY_BAYESIAN,
    EFFICIENCY_HYPERBAND,
    EFFICIENCY_PRUNED,
    NO_GAIN,
    WORKERS_MLP,
    WORKERS_CNN,
    WORKERS_WALL,
    WORKERS,
    MONITORING,
    CUSTOM,
)
SECTIONS = (
    "overhead", "startup", "memory", "memorycost", "efficiency", "nogain", "workers",
    "monitoring", "custom",
)  # fmt: skip
COMMAND = "benchmarks/run.py"
MEMORY_ENV = "TUNENET_MEMORY"  # "unbounded": the old behaviour (tuning/handover.py), to compare
HANDOVER_ENV = "TUNENET_HANDOVER_TRIALS"  # hand over every N trials (tuning/handover.py)
HANDOVERS = 3  # hand-overs forced in the cost section's third search


# ---------------------------------------------------------------- sizes


@dataclass(frozen=True)
class Sizes:
    """How big each measure is: the full benchmark, or `--quick` (a check that it runs)."""

    grid_units: tuple[int, ...]
    grid_learning_rates: tuple[float, ...]
    grid_epochs: int
    memory_trials: int
    memory_base: int  # memory growth is counted from this trial (docs/workers.md: 20)
    memory_epochs: int
    memory_recycled_trials: int
    memory_recycle: int  # trials per worker process in the recycled memory row
    cost_trials: int  # the bounded-vs-unbounded wall-time row
    efficiency_seeds: tuple[int, ...]
    efficiency_target: float
    efficiency_budget: int  # epochs per search before it counts as "not reached"
    efficiency_epochs: int
    workers_trials: int
    workers_epochs: int
    cnn_trials: int
    cnn_epochs: int
    monitor_trials: int
    monitor_epochs: int


FULL = Sizes(
    grid_units=(8, 16, 32, 64),
    grid_learning_rates=(0.001, 0.01),
    grid_epochs=30,
    memory_trials=500,
    memory_base=20,
    memory_epochs=2,
    memory_recycled_trials=100,
    memory_recycle=20,
    cost_trials=60,
    efficiency_seeds=(1, 2, 3),
    efficiency_target=0.98,
    efficiency_budget=900,
    efficiency_epochs=27,
    workers_trials=40,
    workers_epochs=10,
    cnn_trials=24,
    cnn_epochs=5,
    monitor_trials=4,
    monitor_epochs=15,
)
QUICK = Sizes(
    grid_units=(16,),
    grid_learning_rates=(0.001, 0.01),
    grid_epochs=3,
    memory_trials=6,
    memory_base=3,
    memory_epochs=1,
    memory_recycled_trials=6,
    memory_recycle=3,
    cost_trials=2,
    efficiency_seeds=(1,),
    efficiency_target=0.9,
    efficiency_budget=6,
    efficiency_epochs=3,
    workers_trials=2,
    workers_epochs=1,
    cnn_trials=2,
    cnn_epochs=1,
    monitor_trials=2,
    monitor_epochs=1,
)


# ---------------------------------------------------------------- processes


@dataclass
class Measured:
    """One whole process: wall and CPU seconds, peak RSS, exit code and output."""

    command: list[str]
    wall: float
    cpu: float
    max_rss_mb: float
    code: int
    stdout: str
    stderr: str

    def check(self) -> "Measured":
        if self.code != 0:
            tail = "\n".join(self.stderr.strip().splitlines()[-15:])
            raise BenchmarkError(f"{' '.join(self.command)} exited {self.code}:\n{tail}")
        return self

    def json_line(self) -> dict:
        """The last stdout line that is a JSON object (what the benchmark scripts print)."""
        for line in reversed(self.stdout.strip().splitlines()):
            if line.startswith("{"):
                return json.loads(line)
        raise BenchmarkError(f"{' '.join(self.command)} printed no JSON result.")


class BenchmarkError(RuntimeError):
    pass


KILL_AFTER = 30.0  # seconds a process may take to stop after SIGTERM before it is killed


def spawn(
    command: list[str],
    cwd: Path = REPO,
    watch: Optional[Callable[[int], bool]] = None,
    env: Optional[dict[str, str]] = None,
) -> Measured:
    """Run a process to its end and measure it; `watch(pid)` is polled every 50 ms and may
    return True to stop the process with SIGTERM (it then counts as a success). `env` is
    added to the benchmark's environment."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env={**ENV, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        stopped: Optional[float] = None  # when SIGTERM was sent
        while watch is not None:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if stopped is None and watch(process.pid):
                process.send_signal(signal.SIGTERM)
                stopped = time.perf_counter()
            elif stopped is not None and time.perf_counter() - stopped > KILL_AFTER:
                process.kill()  # a search that did not stop on SIGTERM must not run on
            time.sleep(0.05)
        else:
            pid, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        return Measured(
            command=command,
            wall=wall,
            cpu=usage.ru_utime + usage.ru_stime,
            max_rss_mb=usage.ru_maxrss / 1024,
            code=0 if stopped else code,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


def rss_mb(pid: int) -> Optional[float]:
    """VmRSS of a live process in MB, from /proc (None once it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def tree_rss_mb(pid: int) -> Optional[float]:
    """VmRSS of a process and all its descendants (worker processes), in MB."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        value = rss_mb(current)
        if value is None and current == pid:
            return None
        total += value or 0.0
        todo += children.get(current, [])
    return total


def csv_rows(path: Path) -> list[dict]:
    """Rows of a CSV file that may be being appended to (a partial last line is dropped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines = lines[:-1]
    return list(csv.DictReader(lines))


# ---------------------------------------------------------------- configs


def write_yaml(path: Path, data: dict) -> Path:
    """Configs are written as JSON, which is YAML (no PyYAML needed here)."""
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def grid_spec(sizes: Sizes) -> dict:
    """The overhead grid, shared by tunenet's config, kt_script.py and keras_loop.py."""
    return {
        "dataset": "wine",
        "seed": 7,
        "validation": 0.2,
        "test": 0.2,
        "units": list(sizes.grid_units),
        "learning_rate": list(sizes.grid_learning_rates),
        "batch_size": 32,
        "epochs": sizes.grid_epochs,
        "monitor": "val_loss",
        "patience": 5,
    }


def grid_config(spec: dict) -> dict:
    return {
        "name": "bench-overhead",
        "seed": spec["seed"],
        "data": {
            "source": spec["dataset"],
            "split": {"validation": spec["validation"], "test": spec["test"], "stratify": True},
            "normalize": "standard",
        },
        "model": {"kind": "dense", "layers": 1, "units": spec["units"], "activation": "relu"},
        "regularization": {"l1": 0.0, "l2": 0.0, "dropout": 0.0},
        "optimizer": {"name": "adam", "learning_rate": spec["learning_rate"]},
        "training": {
            "epochs": spec["epochs"],
            "batch_size": spec["batch_size"],
            "early_stopping": {
                "monitor": spec["monitor"],
                "patience": spec["patience"],
                "restore_best_weights": True,
            },
        },
        "search": {
            "strategy": "grid",
            "objective": "val_accuracy",
            "max_trials": len(spec["units"]) * len(spec["learning_rate"]),
        },
    }


def memory_config(sizes: Sizes, trials: Optional[int] = None) -> dict:
    return {
        "name": "bench-memory",
        "seed": 11,
        "data": {"source": "iris"},
        "model": {"layers": [1, 2], "units": [8, 16, 32]},
        "regularization": {"dropout": [0.0, 0.2]},
        "optimizer": {
            "name": "adam",
            "learning_rate": {"min": 1.0e-3, "max": 1.0e-1, "sampling": "log"},
        },
        "training": {"epochs": sizes.memory_epochs, "batch_size": [16, 32]},
        "search": {"strategy": "random", "max_trials": trials or sizes.memory_trials},
    }


PRUNED_RANDOM = "random-median"  # random search with search.pruning: median (defaults)


def efficiency_config(sizes: Sizes, strategy: str, seed: int) -> dict:
    chosen = "random" if strategy == PRUNED_RANDOM else strategy
    search: dict = {"strategy": chosen, "objective": "val_accuracy", "max_trials": 1000}
    if strategy == "hyperband":
        search.update(max_epochs=sizes.efficiency_epochs, factor=3)
    if strategy == PRUNED_RANDOM:
        search.update(pruning="median")
    return {
        "name": f"bench-efficiency-{strategy}-{seed}",
        "seed": seed,
        "data": {"source": "digits", "normalize": "standard"},
        # A wide space with poor regions, as a first search is: a strategy has to find the
        # good one (a narrow space reaches the target in the first trial whatever the strategy).
        "model": {
            "layers": {"min": 1, "max": 3},
            "units": [8, 16, 32, 64, 128],
            "activation": ["relu", "tanh", "sigmoid"],
        },
        "regularization": {
            "l2": {"min": 1.0e-6, "max": 1.0e-1, "sampling": "log"},
            "dropout": [0.0, 0.2, 0.5],
        },
        "optimizer": {
            "name": ["sgd", "rmsprop", "adam"],
            "learning_rate": {"min": 1.0e-5, "max": 1.0, "sampling": "log"},
        },
        "training": {
            "epochs": sizes.efficiency_epochs,
            "batch_size": 32,
            "early_stopping": {"monitor": "val_loss", "patience": 5},
            "monitor_layers": False,  # the strategies are compared, not the monitor's cost
        },
        "search": search,
    }


def workers_config(sizes: Sizes) -> dict:
    return {
        "name": "bench-workers",
        "seed": 5,
        "data": {"source": "digits", "normalize": "standard"},
        "model": {"layers": [1, 2], "units": [32, 64]},
        "optimizer": {
            "name": "adam",
            "learning_rate": {"min": 1.0e-3, "max": 1.0e-2, "sampling": "log"},
        },
        "training": {"epochs": sizes.workers_epochs, "batch_size": 32, "early_stopping": False},
        "search": {"strategy": "random", "max_trials": sizes.workers_trials},
    }


def cnn_workers_config(sizes: Sizes) -> dict:
    """Small CNNs on digits (8x8 images), as a first CNN search would try."""
    return {
        "name": "bench-workers-cnn",
        "seed": 5,
        "data": {"source": "digits", "normalize": "standard"},
        "model": {
            "kind": "cnn",
            "layers": [1, 2],
            "filters": [8, 16],
            "kernel_size": 3,
            "dense_units": 32,
        },
        "optimizer": {
            "name": "adam",
            "learning_rate": {"min": 1.0e-3, "max": 1.0e-2, "sampling": "log"},
        },
        "training": {"epochs": sizes.cnn_epochs, "batch_size": 32, "early_stopping": False},
        "search": {"strategy": "random", "max_trials": sizes.cnn_trials},
    }


# ---------------------------------------------------------------- results


@dataclass
class Row:
    """One line of the table. `ratio` is A/B (median of per-pair ratios for timings)."""

    name: str
    a: str = "—"
    b: str = "—"
    ratio: Optional[float] = None
    value: str = ""  # shown instead of the ratio when set (e.g. "23.1 MB")
    target: str = "—"
    passed: Optional[bool] = None  # None: informational, no target
    note: str = ""

    def verdict(self) -> str:
        if self.value.startswith("skipped"):
            return "skipped"
        if self.note.startswith("error"):
            return "error"
        if self.passed is None:
            return "info"
        return "pass" if self.passed else "FAIL"

    def cells(self) -> list[str]:
        shown = self.value or (f"{self.ratio:.3f}" if self.ratio is not None else "n/a")
        return [self.name, self.a, self.b, shown, self.target, self.verdict()]


@dataclass
class Results:
    quick: bool
    pairs: int
    rows: dict[str, Row] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows[row.name] = row

    def fail(self, names: tuple[str, ...], error: BaseException) -> None:
        message = str(error).strip()
        for name in names:
            self.add(Row(name, note=f"error: {message.splitlines()[0][:200]}"))
        self.details.append(f"### error in {', '.join(names)}\n\n```\n{message}\n```\n")


def median_ratio(a: list[float], b: list[float]) -> float:
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


def seconds(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s"


# ---------------------------------------------------------------- 1, 2: overhead


def tunenet_best(run: Path) -> dict:
    """Best objective and test error of a finished tunenet run, from trials.csv."""
    rows = [row for row in csv_rows(run / "trials.csv") if row.get("status") == "completed"]
    chosen = [row for row in rows if row.get("test_error")]  # tunenet's pick among ties
    best = chosen[0] if chosen else max(rows, key=lambda row: float(row["objective"]))
    test_error = best.get("test_error") or ""
    return {
        "trials": len(rows),
        "best_val_accuracy": float(best["objective"]),
        "test_accuracy": 1 - float(test_error) if test_error else None,
    }


def search_seconds(stdout: str) -> Optional[float]:
    """The search's own seconds from `tunenet search`'s summary line, when it prints them."""
    found = re.search(r"\((\d+(?:\.\d+)?)s\)", stdout)
    return float(found.group(1)) if found else None


def bench_overhead(results: Results, sizes: Sizes, work: Path) -> None:
    spec = grid_spec(sizes)
    spec_file = work / "grid-spec.json"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    config = write_yaml(work / "bench-overhead.yaml", grid_config(spec))
    trials = len(spec["units"]) * len(spec["learning_rate"])
    walls: dict[str, list[float]] = {"tunenet": [], "kt": [], "keras": []}
    cpus: dict[str, list[float]] = {"tunenet": [], "kt": [], "keras": []}
    inner: dict[str, list[Optional[float]]] = {"tunenet": [], "kt": [], "keras": []}
    quality: dict[str, list[dict]] = {"tunenet": [], "kt": [], "keras": []}
    for index in range(results.pairs):
        runs_dir = work / "overhead-runs"
        name = f"overhead-{index}"
        commands = {
            "tunenet": TUNENET
            + ["search", str(config), "--runs-dir", str(runs_dir), "--name", name],
            "kt": [PYTHON, str(BENCH / "kt_script.py"), str(spec_file), str(work / f"kt-{index}")],
            "keras": [
                PYTHON, str(BENCH / "keras_loop.py"), str(spec_file), str(work / f"kl-{index}")
            ],
        }  # fmt: skip
        for key, command in commands.items():
            measured = spawn(command).check()
            walls[key].append(measured.wall)
            cpus[key].append(measured.cpu)
            if key == "tunenet":
                quality[key].append(tunenet_best(runs_dir / name))
                inner[key].append(search_seconds(measured.stdout))
            else:
                result = measured.json_line()
                quality[key].append(result)
                inner[key].append(result.get("search_seconds"))
            log(f"  pair {index + 1}: {key} {measured.wall:.2f} s wall, {measured.cpu:.2f} s CPU")
    for key, label, target in (("kt", OVERHEAD_KT, 0.9), ("keras", OVERHEAD_KERAS, 1.15)):
        ratio = median_ratio(walls["tunenet"], walls[key])
        results.add(
            Row(
                label,
                a=f"tunenet {seconds(walls['tunenet'])}",
                b=f"{'kt script' if key == 'kt' else 'Keras loop'} {seconds(walls[key])}",
                ratio=ratio,
                target=f"≤ {target}",
                passed=ratio <= target,
            )
        )
    lines = [
        f"### overhead: {trials} grid trials on wine, {spec['epochs']} epochs, "
        f"EarlyStopping(val_loss, patience {spec['patience']})\n",
        "| process | pair | wall s | CPU s | search-loop s | trials | best val_accuracy "
        "| test accuracy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key in ("tunenet", "kt", "keras"):
        for index in range(results.pairs):
            q = quality[key][index]
            test = q.get("test_accuracy")
            lines.append(
                f"| {key} | {index + 1} | {walls[key][index]:.2f} | {cpus[key][index]:.2f} | "
                f"{_fmt(inner[key][index])} | {q.get('trials')} | "
                f"{q['best_val_accuracy']:.4f} | {_fmt(test, '.4f')} |"
            )
    lines.append(
        "\nCPU seconds (less sensitive to other load than wall time): tunenet / kt script "
        f"{median_ratio(cpus['tunenet'], cpus['kt']):.3f}, tunenet / Keras loop "
        f"{median_ratio(cpus['tunenet'], cpus['keras']):.3f}."
    )
    loops = {key: [v for v in values if v is not None] for key, values in inner.items()}
    if all(len(loops[key]) == results.pairs for key in loops):
        lines.append(
            "\nSearch loop only (wall; imports, data loading and process exit excluded): "
            f"tunenet / kt script {median_ratio(loops['tunenet'], loops['kt']):.3f}, "
            f"tunenet / Keras loop {median_ratio(loops['tunenet'], loops['keras']):.3f}."
        )
    results.details.append("\n".join(lines) + "\n")


def _fmt(value: Optional[float], spec: str = ".2f") -> str:
    return "—" if value is None else format(value, spec)


# ---------------------------------------------------------------- 3: start-up


def bench_startup(results: Results, sizes: Sizes, work: Path) -> None:
    quickstart = REPO / "configs" / "quickstart.yaml"
    commands = {
        "help": TUNENET + ["--help"],
        "validate": TUNENET + ["validate", str(quickstart)],
        "import tensorflow": [PYTHON, "-c", "import tensorflow"],
    }
    walls: dict[str, list[float]] = {key: [] for key in commands}
    for index in range(results.pairs):
        for key, command in commands.items():
            measured = spawn(command).check()
            walls[key].append(measured.wall)
        log(
            f"  pair {index + 1}: "
            + ", ".join(f"{key} {values[-1]:.2f} s" for key, values in walls.items())
        )
    base = walls["import tensorflow"]
    for key, label in (("help", STARTUP_HELP), ("validate", STARTUP_VALIDATE)):
        ratio = median_ratio(walls[key], base)
        results.add(
            Row(
                label,
                a=f"{key} {seconds(walls[key])}",
                b=f"import tensorflow {seconds(base)}",
                ratio=ratio,
                target="≤ 0.15",
                passed=ratio <= 0.15,
            )
        )
    results.details.append(
        "### start-up (wall seconds per pair)\n\n"
        + "\n".join(
            f"- {key}: " + ", ".join(f"{v:.3f}" for v in values) for key, values in walls.items()
        )
        + "\n"
    )


# ---------------------------------------------------------------- 4: memory

PEAK_EVERY = 1.0  # seconds between the process-tree samples that find the largest size


def count_rows(path: Path) -> int:
    """Data rows of a CSV file being written (0 while it does not exist)."""
    try:
        with open(path, "rb") as file:
            return max(0, file.read().count(b"\n") - 1)
    except OSError:
        return 0


def memory_growth(
    work: Path,
    sizes: Sizes,
    name: str,
    extra: list[str],
    first: int,
    trials: int,
    against_peak: bool = False,
) -> dict:
    """One `tunenet search` over `trials` small trials; VmRSS of its process tree (the search
    and any worker processes) and of the search process alone, read when each trial's row
    first appears in trials.csv, and of the tree every `PEAK_EVERY` seconds. Growth is the
    largest size after trial `first` minus the size at trial `first` — or, `against_peak`
    (recycled workers, whose tree shrinks while one is replaced), minus the largest size
    until trial `first`."""
    data = memory_config(sizes, trials)
    data["name"] = name
    config = write_yaml(work / f"{name}.yaml", data)
    run = work / "memory-runs" / name
    command = TUNENET + ["search", str(config), "--runs-dir", str(run.parent), "--quiet", *extra]
    tree: dict[int, float] = {}  # trials done -> MB, first seen
    main: dict[int, float] = {}
    state = {"count": -1, "sampled": 0.0, "peak": 0.0, "peak_at": 0, "before": 0.0}

    def watch(pid: int) -> bool:
        count = count_rows(run / "trials.csv")
        new_trial = count != state["count"] and count > 0
        if not new_trial and time.monotonic() - state["sampled"] < PEAK_EVERY:
            return False
        state["sampled"] = time.monotonic()
        total, alone = tree_rss_mb(pid), rss_mb(pid)
        if total is None or alone is None:
            return False
        if new_trial:
            state["count"] = count
            tree.setdefault(count, total)
            main.setdefault(count, alone)
        if count >= first and total > state["peak"]:
            state["peak"], state["peak_at"] = total, count
        if count <= first:
            state["before"] = max(state["before"], total)
        return False

    measured = spawn(command, watch=watch).check()
    if first not in tree or trials not in tree:
        raise BenchmarkError(f"trials seen with an RSS sample: {sorted(tree)}")
    base = state["before"] if against_peak else tree[first]
    growth = max(state["peak"], *(mb for done, mb in tree.items() if done >= first)) - base
    return {
        "samples": tree,
        "main": main,
        "first": first,
        "base": base,
        "last": trials,
        "growth": growth,
        "end_growth": tree[trials] - tree[first],
        "peak_at": state["peak_at"],
        "main_growth": main[trials] - main[first],
        "per_trial": (tree[trials] - tree[first]) / (trials - first),
        "wall": measured.wall,
        "peak": measured.max_rss_mb,
        "command": " ".join(["tunenet", *command[len(TUNENET) :]]),
    }


def memory_row(label: str, outcome: dict) -> Row:
    first, last, base = outcome["first"], outcome["last"], outcome["base"]
    return Row(
        label,
        a=f"at trial {first}: {base:.0f} MB",
        b=f"largest after it: {base + outcome['growth']:.0f} MB",
        value=f"{outcome['growth']:+.1f} MB",
        target="< 50 MB",
        passed=outcome["growth"] < 50,
        note=f"{outcome['per_trial']:.3f} MB per trial from trial {first} to {last}",
    )


def curve(samples: dict[int, float], every: int) -> str:
    """The process-tree size at trial 1, the base trial and every `every` trials."""
    marks = sorted({1, *range(every, max(samples) + 1, every), max(samples)})
    return ", ".join(f"{trial}: {samples[trial]:.0f}" for trial in marks if trial in samples)


def memory_details(title: str, outcome: dict) -> str:
    def points(samples: dict[int, float]) -> str:
        return ", ".join(f"{trial}: {mb:.0f}" for trial, mb in sorted(samples.items()))

    text = (
        f"### {title}\n\n`{outcome['command']}`\n\nVmRSS (MB) of the process and its children "
        f"(worker processes, if any) after each trial: {points(outcome['samples'])}.\n\n"
        f"Largest size after trial {outcome['first']} (sampled at each trial and every "
        f"{PEAK_EVERY:.0f} s): {outcome['growth']:+.1f} MB against {outcome['base']:.0f} MB "
        f"(reached at trial {outcome['peak_at']}); from trial {outcome['first']} to "
        f"{outcome['last']}: {outcome['end_growth']:+.1f} MB ({outcome['per_trial']:.3f} MB "
        f"per trial); peak RSS of the largest single process {outcome['peak']:.0f} MB; "
        f"{outcome['wall']:.1f} s wall.\n"
    )
    if outcome["main"] != outcome["samples"]:
        text += (
            f"\nThe `tunenet search` process alone (the chief): {points(outcome['main'])}; "
            f"growth {outcome['main_growth']:+.1f} MB.\n"
        )
    return text


def bench_memory(results: Results, sizes: Sizes, work: Path) -> None:
    trials, base = sizes.memory_trials, sizes.memory_base
    what = f"random search on iris, {trials} trials × {sizes.memory_epochs} epoch(s)"
    outcome = memory_growth(work, sizes, "bench-memory", [], base, trials)
    row = memory_row(MEMORY, outcome)
    row.note += f"; curve {curve(outcome['samples'], max(1, trials // 5))} MB"
    results.add(row)
    results.details.append(memory_details(f"memory: {what}, default search", outcome))
    # Workers are replaced every `every` trials: the tree's size is a saw-tooth (a replaced
    # worker is gone before its successor loads), so its peaks are compared: the first
    # worker's against the largest after it.
    every, trials = sizes.memory_recycle, sizes.memory_recycled_trials
    extra = ["--workers", "1", "--max-trials-per-worker", str(every)]
    outcome = memory_growth(
        work, sizes, "bench-memory-recycled", extra, every, trials, against_peak=True
    )
    row = memory_row(MEMORY_RECYCLED, outcome)
    row.note += (
        f"; a fresh worker every {every} trials; chief alone {outcome['main_growth']:+.1f} MB; "
        f"process tree between {min(outcome['samples'].values()):.0f} and "
        f"{max(outcome['samples'].values()):.0f} MB"
    )
    results.add(row)
    what = f"random search on iris, {trials} trials × {sizes.memory_epochs} epoch(s)"
    results.details.append(
        memory_details(f"memory: {what}, one worker replaced every {every} trials", outcome)
    )


def bench_memory_cost(results: Results, sizes: Sizes, work: Path) -> None:
    """Wall time of the default search (trial graphs released, hand-over armed) against the
    old behaviour (TUNENET_MEMORY=unbounded), same trials, alternating in pairs."""
    data = memory_config(sizes, sizes.cost_trials)
    data["name"] = "bench-memory-cost"
    config = write_yaml(work / "bench-memory-cost.yaml", data)
    every = max(1, sizes.cost_trials // (HANDOVERS + 1))
    envs = {
        "bounded": {},
        "unbounded": {MEMORY_ENV: "unbounded"},
        "hand-over": {HANDOVER_ENV: str(every)},
    }
    walls: dict[str, list[float]] = {mode: [] for mode in envs}
    cpus: dict[str, list[float]] = {mode: [] for mode in envs}
    peaks: dict[str, list[float]] = {mode: [] for mode in envs}
    for index in range(results.pairs):
        for mode, env in envs.items():
            command = TUNENET + [
                "search", str(config), "--runs-dir", str(work / "cost-runs"),
                "--name", f"{mode}-{index}", "--quiet",
            ]  # fmt: skip
            measured = spawn(command, env=env).check()
            walls[mode].append(measured.wall)
            cpus[mode].append(measured.cpu)
            peaks[mode].append(measured.max_rss_mb)
            log(f"  pair {index + 1}: {mode} {measured.wall:.1f} s wall, {measured.cpu:.1f} s CPU")
    ratio = median_ratio(walls["bounded"], walls["unbounded"])
    results.add(
        Row(
            MEMORY_COST,
            a=f"bounded {seconds(walls['bounded'])}",
            b=f"unbounded {seconds(walls['unbounded'])}",
            ratio=ratio,
            target="≤ 1.05",
            passed=ratio <= 1.05,
            note=f"CPU time ratio {median_ratio(cpus['bounded'], cpus['unbounded']):.3f}; peak "
            f"RSS {statistics.median(peaks['bounded']):.0f} vs "
            f"{statistics.median(peaks['unbounded']):.0f} MB",
        )
    )
    handovers = (sizes.cost_trials - 1) // every
    pairs = zip(walls["hand-over"], walls["bounded"], strict=True)
    extra = [(handed - bounded) / max(handovers, 1) for handed, bounded in pairs]
    results.add(
        Row(
            MEMORY_HANDOVER,
            a=f"hand-over every {every} trials {seconds(walls['hand-over'])}",
            b=f"bounded {seconds(walls['bounded'])}",
            value=f"{statistics.median(extra):.1f} s",
            note=f"wall seconds per hand-over ({handovers} in {sizes.cost_trials} trials); "
            "it happens only past the memory budget",
        )
    )
    results.details.append(
        f"### memory cost: random search on iris, {sizes.cost_trials} trials × "
        f"{sizes.memory_epochs} epoch(s)\n\n"
        + "\n".join(
            f"- {mode}: wall "
            + ", ".join(f"{w:.1f}" for w in walls[mode])
            + " s; CPU "
            + ", ".join(f"{c:.1f}" for c in cpus[mode])
            + " s; peak RSS "
            + ", ".join(f"{m:.0f}" for m in peaks[mode])
            + " MB"
            for mode in walls
        )
        + "\n"
    )


# ---------------------------------------------------------------- 5: search efficiency


@dataclass
class Efficiency:
    epochs: int  # epochs trained until the target was reached (or the budget, when not)
    reached: bool
    trials: int
    wall: float


def epochs_to_target(rows: list[dict], target: float) -> tuple[int, bool, int]:
    """Cumulative epoch rows (in file order) until a row's val_accuracy reaches the target."""
    trials: set[str] = set()
    for count, row in enumerate(rows, start=1):
        trials.add(row["trial_id"])
        value = row.get("val_accuracy") or "nan"
        if float(value) >= target:
            return count, True, len(trials)
    return len(rows), False, len(trials)


def bench_efficiency(results: Results, sizes: Sizes, work: Path) -> None:
    strategies = ("random", "bayesian", "hyperband", PRUNED_RANDOM)
    outcomes: dict[str, list[Efficiency]] = {name: [] for name in strategies}
    for seed in sizes.efficiency_seeds:
        for strategy in strategies:
            config = write_yaml(
                work / f"bench-efficiency-{strategy}-{seed}.yaml",
                efficiency_config(sizes, strategy, seed),
            )
            runs_dir = work / "efficiency-runs"
            epochs_file = runs_dir / f"bench-efficiency-{strategy}-{seed}" / "epochs.csv"

            def watch(pid: int, epochs_file: Path = epochs_file) -> bool:
                rows = csv_rows(epochs_file)
                done, reached, _ = epochs_to_target(rows, sizes.efficiency_target)
                return reached or done >= sizes.efficiency_budget

            command = TUNENET + ["search", str(config), "--runs-dir", str(runs_dir), "--quiet"]
            measured = spawn(command, watch=watch)
            if measured.code not in (0, 1):  # 1: the search ended without a completed trial
                measured.check()
            rows = csv_rows(epochs_file)
            epochs, reached, trials = epochs_to_target(rows, sizes.efficiency_target)
            outcome = Efficiency(
                # a search that ends (or is stopped) without reaching the target counts the
                # whole budget, as the details say
                min(epochs, sizes.efficiency_budget) if reached else sizes.efficiency_budget,
                reached,
                trials,
                measured.wall,
            )
            outcomes[strategy].append(outcome)
            log(
                f"  seed {seed} {strategy}: {outcome.epochs} epochs, {trials} trials, "
                f"{'reached' if reached else 'not reached'}, {measured.wall:.1f} s"
            )
    means = {name: statistics.mean(o.epochs for o in outcomes[name]) for name in strategies}
    target = sizes.efficiency_target

    def shown(name: str) -> str:
        found = outcomes[name]
        missed = sum(not o.reached for o in found)
        suffix = f", {missed} not reached" if missed else ""
        epochs = [o.epochs for o in found]
        walls = [o.wall for o in found]
        trials = statistics.mean(o.trials for o in found)
        return (
            f"{name} {means[name]:.0f} epochs (range {min(epochs)}–{max(epochs)}; "
            f"{trials:.1f} trials; wall {statistics.median(walls):.0f} s, "
            f"range {min(walls):.0f}–{max(walls):.0f}{suffix})"
        )

    results.add(
        Row(
            EFFICIENCY_RANDOM,
            a=shown("random"),
            value=f"{means['random']:.0f} epochs",
            note=f"val_accuracy ≥ {target}",
        )
    )
    for name, label in (
        ("bayesian", EFFICIENCY_BAYESIAN),
        ("hyperband", EFFICIENCY_HYPERBAND),
        (PRUNED_RANDOM, EFFICIENCY_PRUNED),
    ):
        results.add(
            Row(
                label,
                a=shown(name),
                b=shown("random"),
                ratio=means[name] / means["random"],
                target="— (lower is better)",
            )
        )
    lines = [
        f"### search efficiency: digits, epochs until val_accuracy ≥ {target} "
        f"(budget {sizes.efficiency_budget} epochs per search; a search that misses counts the "
        "budget)\n",
        "Wall seconds are the whole process until the epoch that reached the target was read "
        "(start-up included). keras-tuner's Bayesian oracle draws its first "
        "`max(3 × hyperparameters, 3)` trials at random, from the same seeded generator as "
        "random search: until then both strategies run the same trials.\n",
        "| strategy | seed | epochs | trials started | reached | wall s |",
        "|---|---|---|---|---|---|",
    ]
    for name in strategies:
        for seed, o in zip(sizes.efficiency_seeds, outcomes[name], strict=True):
            lines.append(
                f"| {name} | {seed} | {o.epochs} | {o.trials} | {'yes' if o.reached else 'no'} | "
                f"{o.wall:.1f} |"
            )
    results.details.append("\n".join(lines) + "\n")


# ---------------------------------------------------------------- 5b: stop_after_no_gain


NO_GAIN_PATIENCE = 10  # the row's N: search.stop_after_no_gain


def no_gain_budget(sizes: Sizes) -> tuple[int, int]:
    """(max_trials both searches share, the rule's N): 40 and 10; --quick 4 and 1."""
    return (4, 1) if sizes == QUICK else (40, NO_GAIN_PATIENCE)


def no_gain_config(sizes: Sizes, seed: int, patience: Optional[int]) -> dict:
    """The efficiency search (random, digits, a wide space) with a fixed trial budget, with or
    without search.stop_after_no_gain."""
    trials, _ = no_gain_budget(sizes)
    config = efficiency_config(sizes, "random", seed)
    config["name"] = f"bench-nogain-{'on' if patience else 'off'}-{seed}"
    config["search"] = {**config["search"], "max_trials": trials, "stop_after_no_gain": patience}
    return config


@dataclass
class NoGain:
    epochs: int  # rows of epochs.csv: every epoch the search trained
    trials: int  # completed trials
    best: float  # best val_accuracy
    stopped_by: Optional[str]
    wall: float


def no_gain_search(sizes: Sizes, work: Path, seed: int, patience: Optional[int]) -> NoGain:
    config = no_gain_config(sizes, seed, patience)
    path = write_yaml(work / f"{config['name']}.yaml", config)
    runs_dir = work / "nogain-runs"
    measured = spawn(TUNENET + ["search", str(path), "--runs-dir", str(runs_dir), "--quiet"])
    measured.check()
    run = runs_dir / config["name"]
    best = tunenet_best(run)
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    return NoGain(
        count_rows(run / "epochs.csv"),
        best["trials"],
        best["best_val_accuracy"],
        manifest.get("stopped_by"),
        measured.wall,
    )


def bench_no_gain(results: Results, sizes: Sizes, work: Path) -> None:
    """Epochs saved by search.stop_after_no_gain on the efficiency search against the same
    trial budget without it, and whether the best objective was kept, over the seeds."""
    trials, patience = no_gain_budget(sizes)
    pairs: list[tuple[int, NoGain, NoGain]] = []
    for seed in sizes.efficiency_seeds:
        off = no_gain_search(sizes, work, seed, None)
        on = no_gain_search(sizes, work, seed, patience)
        pairs.append((seed, on, off))
        log(
            f"  seed {seed}: {on.epochs} epochs ({on.trials} trials, best {on.best:.4f}, "
            f"stopped_by {on.stopped_by}) against {off.epochs} ({off.trials}, {off.best:.4f})"
        )
    kept = sum(on.best >= off.best for _, on, off in pairs)
    mean_on = statistics.mean(on.epochs for _, on, _ in pairs)
    mean_off = statistics.mean(off.epochs for _, _, off in pairs)
    results.add(
        Row(
            NO_GAIN,
            a=f"with: {mean_on:.0f} epochs, "
            f"{statistics.mean(on.trials for _, on, _ in pairs):.1f} trials",
            b=f"without: {mean_off:.0f} epochs, {trials} trials",
            ratio=mean_on / mean_off,
            target="— (lower is better, best kept)",
            note=f"best val_accuracy kept in {kept} of {len(pairs)} seeds; "
            f"{1 - mean_on / mean_off:.0%} of the epochs saved",
        )
    )
    lines = [
        f"### stop_after_no_gain: {patience} on the efficiency search (random, digits; at most "
        f"{trials} trials)\n",
        "The same search with and without the rule: the same seed proposes the same trials, so "
        "the run with the rule is the first trials of the run without it.\n",
        "| seed | epochs with | epochs without | trials with | stopped_by | best with | "
        "best without | wall s with | wall s without |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for seed, on, off in pairs:
        lines.append(
            f"| {seed} | {on.epochs} | {off.epochs} | {on.trials} | {on.stopped_by or '—'} | "
            f"{on.best:.4f} | {off.best:.4f} | {on.wall:.1f} | {off.wall:.1f} |"
        )
    results.details.append("\n".join(lines) + "\n")


# ---------------------------------------------------------------- 6: workers


@functools.cache
def has_workers() -> bool:
    help_text = spawn(TUNENET + ["search", "--help"]).check().stdout
    return "--workers" in help_text


def parse_time(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def trials_per_minute(run: Path) -> tuple[int, float, float]:
    """Completed trials, trials per minute from the trials' own times in trials.csv
    (completed trials / (last finished_at - first started_at)), and a trial's mean seconds."""
    rows = [row for row in csv_rows(run / "trials.csv") if row.get("status") == "completed"]
    if not rows:
        raise BenchmarkError(f"{run}: no completed trial")
    first = min(parse_time(row["started_at"]) for row in rows)
    last = max(parse_time(row["finished_at"]) for row in rows)
    mean = statistics.mean(float(row["seconds"]) for row in rows)
    return len(rows), len(rows) / max(last - first, 1e-9) * 60, mean


@dataclass
class Throughput:
    rate: list[float] = field(default_factory=list)  # trials per minute (trials' own times)
    wall: list[float] = field(default_factory=list)  # the whole command
    trial: list[float] = field(default_factory=list)  # a trial's mean seconds (its own clock)


WORKER_MODES = {"default": [], "workers 2": ["--workers", "2"], "workers 1": ["--workers", "1"]}


def bench_workers(results: Results, sizes: Sizes, work: Path) -> None:
    if not has_workers():
        for name in (WORKERS_MLP, WORKERS_CNN, WORKERS_WALL, WORKERS):
            results.add(Row(name, value="n/a (no --workers yet)", target="—"))
        return
    kinds = {
        "mlp": (workers_config(sizes), ("default", "workers 2", "workers 1")),
        "cnn": (cnn_workers_config(sizes), ("default", "workers 2")),
    }
    measured: dict[str, dict[str, Throughput]] = {
        kind: {mode: Throughput() for mode in modes} for kind, (_, modes) in kinds.items()
    }
    for index in range(results.pairs):
        for kind, (data, modes) in kinds.items():
            config = write_yaml(work / f"bench-workers-{kind}.yaml", data)
            for mode in modes:
                name = f"{kind}-{mode.replace(' ', '')}-{index}"
                command = TUNENET + [
                    "search", str(config), "--runs-dir", str(work / "workers-runs"),
                    "--name", name, "--quiet", *WORKER_MODES[mode],
                ]  # fmt: skip
                done = spawn(command).check()
                count, rate, trial = trials_per_minute(work / "workers-runs" / name)
                measured[kind][mode].rate.append(rate)
                measured[kind][mode].wall.append(done.wall)
                measured[kind][mode].trial.append(trial)
                log(
                    f"  pair {index + 1}: {kind} {mode}: {count} trials, {rate:.1f} trials/min, "
                    f"{done.wall:.1f} s wall"
                )
    add_throughput_rows(results, measured)
    results.details.append(workers_details(sizes, measured))


def add_throughput_rows(results: Results, measured: dict[str, dict[str, Throughput]]) -> None:
    def rates(kind: str, mode: str) -> str:
        return f"{mode} {statistics.median(measured[kind][mode].rate):.1f} trials/min"

    for kind, label, target in (("mlp", WORKERS_MLP, 1.8), ("cnn", WORKERS_CNN, 1.5)):
        two, one = measured[kind]["workers 2"], measured[kind]["default"]
        ratio = median_ratio(two.rate, one.rate)
        results.add(
            Row(
                label,
                a=rates(kind, "workers 2"),
                b=rates(kind, "default"),
                ratio=ratio,
                target=f"≥ {target}",
                passed=ratio >= target,
                note="trials per minute from trials.csv started_at / finished_at",
            )
        )
    walls = {
        kind: median_ratio(measured[kind]["workers 2"].wall, measured[kind]["default"].wall)
        for kind in measured
    }
    mlp = measured["mlp"]
    results.add(
        Row(
            WORKERS_WALL,
            a=f"--workers 2 {seconds(mlp['workers 2'].wall)}",
            b=f"default {seconds(mlp['default'].wall)}",
            ratio=walls["mlp"],
            target="< 1",
            passed=all(ratio < 1 for ratio in walls.values()),
            note=f"small MLPs; small CNNs {walls['cnn']:.3f}",
        )
    )
    results.add(
        Row(
            WORKERS,
            a=rates("mlp", "workers 2"),
            b=rates("mlp", "workers 1"),
            ratio=median_ratio(mlp["workers 2"].rate, mlp["workers 1"].rate),
            target="— (higher is better)",
        )
    )


def workers_details(sizes: Sizes, measured: dict[str, dict[str, Throughput]]) -> str:
    lines = [
        f"### parallel throughput: random search on digits, no early stopping; small MLPs "
        f"{sizes.workers_trials} trials × {sizes.workers_epochs} epochs, small CNNs "
        f"{sizes.cnn_trials} trials × {sizes.cnn_epochs} epochs\n",
        "Trials per minute = completed trials / (last finished_at − first started_at) of "
        "trials.csv; wall = the whole command (start-up, baselines, the best model's test "
        "error and the process's exit included).\n",
        "A trial's seconds are its own (trials.csv `seconds`): a worker has one thread, the "
        "default search all cores, so two workers reach at most 2 × (default trial seconds / "
        "worker trial seconds) of the default's trials per minute.\n",
        "| trials | mode | trials/min per pair | mean trial s per pair | wall s per pair |",
        "|---|---|---|---|---|",
    ]
    for kind, modes in measured.items():
        for mode, values in modes.items():
            lines.append(
                f"| {kind} | {mode} | {', '.join(f'{r:.1f}' for r in values.rate)} | "
                f"{', '.join(f'{t:.2f}' for t in values.trial)} | "
                f"{', '.join(f'{w:.1f}' for w in values.wall)} |"
            )
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- machine and output


# ---------------------------------------------------------------- 7: layer monitoring


def monitoring_config(sizes: Sizes, monitor: bool) -> dict:
    """Small digits trials, the layer monitor on or off (docs/dynamics.md: cost ≤ 5%)."""
    return {
        "name": f"bench-monitor-{'on' if monitor else 'off'}",
        "seed": 5,
        "data": {"source": "digits"},
        "model": {"layers": [1, 2], "units": [32, 64]},
        "optimizer": {"name": "adam", "learning_rate": [0.001, 0.01]},
        "training": {
            "epochs": sizes.monitor_epochs,
            "batch_size": 32,
            "monitor_layers": monitor,
        },
        "search": {"strategy": "grid", "max_trials": sizes.monitor_trials},
    }


def bench_monitoring(results: Results, sizes: Sizes, work: Path) -> None:
    walls: dict[bool, list[float]] = {True: [], False: []}
    for index in range(results.pairs):
        for monitor in (True, False):
            config = write_yaml(
                work / f"bench-monitor-{monitor}.yaml", monitoring_config(sizes, monitor)
            )
            command = TUNENET + ["search", str(config), "--runs-dir", str(work / "monitor-runs")]
            measured = spawn(command + ["--overwrite", "--quiet"]).check()
            walls[monitor].append(measured.wall)
        log(f"  pair {index + 1}: on {walls[True][-1]:.2f} s, off {walls[False][-1]:.2f} s")
    ratio = median_ratio(walls[True], walls[False])
    results.add(
        Row(
            MONITORING,
            a=f"on {seconds(walls[True])}",
            b=f"off {seconds(walls[False])}",
            ratio=ratio,
            target="≤ 1.05",
            passed=ratio <= 1.05,
        )
    )
    results.details.append(
        f"### layer monitoring: digits grid of {sizes.monitor_trials} trials, "
        f"{sizes.monitor_epochs} epochs, training.monitor_layers true vs false\n\n"
        + "\n".join(
            f"- {'on' if key else 'off'}: " + ", ".join(f"{v:.2f}" for v in values)
            for key, values in walls.items()
        )
        + "\n"
    )


# ---------------------------------------------------------------- 8: a custom model's overhead


def custom_config(sizes: Sizes, custom: bool) -> dict:
    """The monitoring section's digits grid (one hidden layer), built by tunenet's dense family
    or by benchmarks/dense_builder.py, which returns the same layers."""
    model = (
        {"kind": "custom", "build": f"{BENCH / 'dense_builder.py'}:build",
         "params": {"units": [32, 64]}}
        if custom
        else {"kind": "dense", "layers": 1, "units": [32, 64], "activation": "relu",
              "batch_norm": False}
    )  # fmt: skip
    return {
        "name": f"bench-{'custom' if custom else 'dense'}",
        "seed": 5,
        "data": {"source": "digits"},
        "model": model,
        "regularization": {"l1": 0.0, "l2": 0.0, "dropout": 0.0},
        "optimizer": {"name": "adam", "learning_rate": [0.001, 0.01]},
        "training": {"epochs": sizes.monitor_epochs, "batch_size": 32, "early_stopping": False},
        "search": {"strategy": "grid", "max_trials": sizes.monitor_trials},
    }


def per_trial_seconds(run: Path) -> float:
    """Mean `seconds` of the run's completed trials (build, compile, fit, evaluate, files)."""
    rows = [row for row in csv_rows(run / "trials.csv") if row["status"] == "completed"]
    if not rows:
        raise BenchmarkError(f"{run}: no completed trial")
    return sum(float(row["seconds"]) for row in rows) / len(rows)


def bench_custom(results: Results, sizes: Sizes, work: Path) -> None:
    trial: dict[bool, list[float]] = {True: [], False: []}
    walls: dict[bool, list[float]] = {True: [], False: []}
    runs = work / "custom-runs"
    for index in range(results.pairs):
        for custom in (True, False):
            config = write_yaml(work / f"bench-custom-{custom}.yaml", custom_config(sizes, custom))
            command = TUNENET + ["search", str(config), "--runs-dir", str(runs)]
            measured = spawn(command + ["--overwrite", "--quiet"]).check()
            walls[custom].append(measured.wall)
            name = f"bench-{'custom' if custom else 'dense'}"
            trial[custom].append(per_trial_seconds(runs / name))
        log(f"  pair {index + 1}: per trial custom {trial[True][-1]:.3f} s, "
            f"dense {trial[False][-1]:.3f} s")  # fmt: skip
    ratio = median_ratio(trial[True], trial[False])
    results.add(
        Row(
            CUSTOM,
            a=f"model.build {seconds(trial[True])}",
            b=f"dense {seconds(trial[False])}",
            ratio=ratio,
            target="≤ 1.05",
            passed=ratio <= 1.05,
        )
    )
    results.details.append(
        f"### custom model: digits grid of {sizes.monitor_trials} trials, "
        f"{sizes.monitor_epochs} epochs, benchmarks/dense_builder.py vs model.kind dense\n\n"
        + "\n".join(
            f"- {'model.build' if key else 'dense'}: per trial "
            + ", ".join(f"{v:.3f}" for v in trial[key])
            + " s; whole command "
            + ", ".join(f"{v:.2f}" for v in walls[key])
            + " s"
            for key in (True, False)
        )
        + "\n"
    )


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    found = {"cpu": cpu, "cores": str(os.cpu_count()), "python": platform.python_version()}
    for package in ("tensorflow", "tensorflow-cpu", "keras", "keras-tuner", "tunenet"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    found["os"] = platform.platform()
    return found


def load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def render(results: Results, info: dict[str, str], started: str, loads: tuple[str, str]) -> str:
    header = ["measure", "A", "B", "A/B (median)", "target", "verdict"]
    lines = [
        "# tunenet benchmark results",
        "",
        f"Measured {started} with `{COMMAND}`"
        + (
            " (--quick: a check that the benchmark runs, not a measurement)"
            if results.quick
            else ""
        )
        + f"; {results.pairs} pair(s) per timed row (A then B in each pair), whole processes, "
        "wall time.",
        "",
        "| machine | |",
        "|---|---|",
        *[f"| {key} | {value} |" for key, value in info.items()],
        f"| load average (1, 5, 15 min) at start | {loads[0]} |",
        f"| load average (1, 5, 15 min) at end | {loads[1]} |",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for name in ROWS:
        row = results.rows.get(name, Row(name, note="error: not measured"))
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row.cells()) + " |")
    notes = [f"- {row.name}: {row.note}" for row in results.rows.values() if row.note]
    if notes:
        lines += ["", *notes]
    lines += ["", "## Details", "", *results.details]
    return "\n".join(lines).rstrip() + "\n"


# Each section (`--only`): the function that measures it and the rows it adds to the table.
BENCHES: dict[str, tuple[Callable[[Results, Sizes, Path], None], tuple[str, ...]]] = {
    "overhead": (bench_overhead, (OVERHEAD_KT, OVERHEAD_KERAS)),
    "startup": (bench_startup, (STARTUP_HELP, STARTUP_VALIDATE)),
    "memory": (bench_memory, (MEMORY, MEMORY_RECYCLED)),
    "memorycost": (bench_memory_cost, (MEMORY_COST, MEMORY_HANDOVER)),
    "efficiency": (
        bench_efficiency,
        (EFFICIENCY_RANDOM, EFFICIENCY_BAYESIAN, EFFICIENCY_HYPERBAND, EFFICIENCY_PRUNED),
    ),
    "nogain": (bench_no_gain, (NO_GAIN,)),
    "workers": (bench_workers, (WORKERS_MLP, WORKERS_CNN, WORKERS_WALL, WORKERS)),
    "monitoring": (bench_monitoring, (MONITORING,)),
    "custom": (bench_custom, (CUSTOM,)),
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 pair, minimal sizes (CI).")
    parser.add_argument("--pairs", type=int, default=None, help="Pairs per timed row (≥ 3).")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"Comma-separated subset of {SECTIONS}."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the work directory.")
    args = parser.parse_args(argv)
    pairs = args.pairs if args.pairs is not None else (1 if args.quick else 3)
    if pairs < 1:
        parser.error("--pairs must be at least 1")
    if not args.quick and pairs < 3:
        log("warning: fewer than 3 pairs; the medians are not meaningful.")
    sections = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"--only: unknown {unknown}; choose from {SECTIONS}")
    global COMMAND
    COMMAND = " ".join(["benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])])

    sizes = QUICK if args.quick else FULL
    results = Results(quick=args.quick, pairs=pairs)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    load_start = load_average()
    work = Path(tempfile.mkdtemp(prefix="tunenet-bench-"))
    log(f"work directory: {work}")
    try:
        for name in SECTIONS:
            bench, rows = BENCHES[name]
            if name not in sections:
                for row in rows:
                    results.add(Row(row, value="skipped (--only)"))
                continue
            log(f"{name} ...")
            clock = time.perf_counter()
            try:
                bench(results, sizes, work)
            except (BenchmarkError, OSError, ValueError, KeyError) as error:
                results.fail(rows, error)
                log(f"  error: {error}")
            log(f"{name}: {time.perf_counter() - clock:.1f} s")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    text = render(results, machine(), started, (load_start, load_average()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    log(f"wrote {args.out}")
    errors = [row for row in results.rows.values() if row.verdict() == "error"]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
