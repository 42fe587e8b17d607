"""The benchmark (benchmarks/run.py) runs and reports every row; it is not a timing test.

benchmarks/README.md: performance is measured by `benchmarks/`, never by timed tests. CI runs only the
`--quick` variant, which checks that each measure still runs against the current CLI.
"""

from __future__ import annotations

import importlib.util
import subprocess
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


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.timeout(900)  # some forty searches and TensorFlow start-ups
def test_quick_benchmark_reports_every_row(tmp_path: Path):
    out = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--quick", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    text = out.read_text(encoding="utf-8")
    run = _load("run")
    table = [line for line in text.splitlines() if line.startswith("| ")]
    for name in run.ROWS:
        matching = [line for line in table if line.startswith(f"| {name} |")]
        assert matching, f"row {name!r} missing from RESULTS.md:\n{text}"
        assert "| error |" not in matching[0], matching[0]
    for key in ("cpu", "cores", "python", "keras", "keras-tuner"):
        assert f"| {key} |" in text
    assert "tensorflow" in text
    assert "Measured 20" in text  # the date
