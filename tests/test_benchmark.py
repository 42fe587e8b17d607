"""The benchmark (benchmarks/run.py) runs and reports every row; it is not a timing test.

benchmarks/README.md: performance is measured by `benchmarks/`, never by timed tests. The suite
checks the table's plumbing (every row written, by one section) and measures two sections for real
with `--quick` sizes; the whole `--quick` run (every section against the current CLI, some forty
TensorFlow start-ups) is run by hand before a release.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks"


def _load(name: str):
    """A module of benchmarks/ (not a package), imported by path."""
    key = f"tunenet_benchmarks_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, BENCH / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module  # dataclasses look their module up while the class is made
        spec.loader.exec_module(module)
    return sys.modules[key]


def test_hand_written_scripts_use_tunenets_split(tmp_path: Path):
    """kt_script.py and keras_loop.py split with scikit-learn the way a user would; the
    split must be the very one tunenet makes, or the overhead rows compare different work."""
    from tunenet.config import load as loader
    from tunenet.data.dataset import load_dataset

    run = _load("run")
    spec = run.grid_spec(run.FULL)
    path = run.write_yaml(tmp_path / "grid.yaml", run.grid_config(spec))
    config = loader.load_config(path)
    dataset = load_dataset(config)
    for name in ("kt_script", "keras_loop"):
        (x, y), (xv, yv), (xt, yt) = _load(name).load_split(spec)
        np.testing.assert_array_equal(x, dataset.x_train)
        np.testing.assert_array_equal(y, dataset.y_train)
        np.testing.assert_array_equal(xv, dataset.x_val)
        np.testing.assert_array_equal(yv, dataset.y_val)
        np.testing.assert_array_equal(xt, dataset.x_test)
        np.testing.assert_array_equal(yt, dataset.y_test)


def test_epochs_to_target_counts_rows_in_file_order():
    run = _load("run")
    rows = [
        {"trial_id": "0", "val_accuracy": "0.5"},
        {"trial_id": "0", "val_accuracy": "nan"},
        {"trial_id": "1", "val_accuracy": "0.96"},
        {"trial_id": "1", "val_accuracy": "0.97"},
        {"trial_id": "2", "val_accuracy": "0.99"},
    ]
    assert run.epochs_to_target(rows, 0.97) == (4, True, 2)
    assert run.epochs_to_target(rows, 0.995) == (5, False, 3)
    assert run.epochs_to_target([], 0.9) == (0, False, 0)


def _table(text: str) -> dict[str, str]:
    """The rows of RESULTS.md's table, by measure name."""
    return {line.split(" | ")[0][2:]: line for line in text.splitlines() if line.startswith("| ")}


def _machine_and_date(text: str) -> None:
    for key in ("cpu", "cores", "python", "keras", "keras-tuner"):
        assert f"| {key} |" in text
    assert "tensorflow" in text
    assert "Measured 20" in text  # the date


def test_every_row_is_measured_by_exactly_one_section():
    run = _load("run")
    assert tuple(run.BENCHES) == run.SECTIONS
    measured = [row for _, rows in run.BENCHES.values() for row in rows]
    assert sorted(measured) == sorted(run.ROWS)
    assert len(set(measured)) == len(measured)


def test_quick_benchmark_writes_every_row_each_section_adds(tmp_path: Path, monkeypatch):
    """The table plumbing of `run.py --quick`, each section's measure replaced by one that adds
    its rows (the real measures run by hand: benchmarks/README.md); a section that fails marks
    its rows `error` and the run exits 1."""
    run = _load("run")
    seen = []

    def fake(rows):
        def bench(results, sizes, work):
            seen.append(sizes)
            for name in rows:
                results.add(run.Row(name, a="a 1.00 s", b="b 2.00 s", ratio=0.5, target="≤ 1",
                                    passed=True))  # fmt: skip

        return bench

    def broken(results, sizes, work):
        raise run.BenchmarkError("the kt script exited 1")

    for name, (_, rows) in run.BENCHES.items():
        monkeypatch.setitem(run.BENCHES, name, (fake(rows), rows))
    out = tmp_path / "RESULTS.md"
    assert run.main(["--quick", "--out", str(out)]) == 0
    assert seen == [run.QUICK] * len(run.SECTIONS)
    text = out.read_text(encoding="utf-8")
    table = _table(text)
    for name in run.ROWS:
        assert table[name].endswith("| 0.500 | ≤ 1 | pass |"), table.get(name, text)
    _machine_and_date(text)
    assert "(--quick: a check that the benchmark runs, not a measurement)" in text

    monkeypatch.setitem(run.BENCHES, "overhead", (broken, run.BENCHES["overhead"][1]))
    assert run.main(["--quick", "--out", str(out)]) == 1
    table = _table(out.read_text(encoding="utf-8"))
    for name in (run.OVERHEAD_KT, run.OVERHEAD_KERAS):
        assert table[name].endswith("| error |"), table[name]
    assert table[run.STARTUP_HELP].endswith("| pass |")


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.timeout(900)  # five TensorFlow processes, three of them searching: a busy machine
def test_quick_benchmark_measures_overhead_and_startup(tmp_path: Path):
    """Two sections measured for real against the current CLI: the overhead rows (tunenet,
    the keras-tuner script and the Keras loop on the same grid) and the start-up rows; the
    other sections' rows say they were skipped. The whole `--quick` run (some forty searches
    and TensorFlow start-ups) is run by hand: benchmarks/README.md."""
    run = _load("run")
    out = tmp_path / "RESULTS.md"
    assert run.main(["--quick", "--only", "overhead,startup", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    table = _table(text)
    measured = (run.OVERHEAD_KT, run.OVERHEAD_KERAS, run.STARTUP_HELP, run.STARTUP_VALIDATE)
    for name in run.ROWS:
        assert name in table, f"row {name!r} missing from RESULTS.md:\n{text}"
        if name in measured:
            assert table[name].endswith(("| pass |", "| FAIL |")), table[name]
        else:
            assert "| skipped (--only) |" in table[name], table[name]
    assert "### overhead: 2 grid trials on wine" in text
    _machine_and_date(text)
