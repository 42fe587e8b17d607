"""Messages of `tunenet evaluate` and of loading a saved model.

A path that is not a run, or a best model that is not a Keras file, says what was found and what
is expected (exit 2, naming the path). A saved model loads without warnings, whatever optimizer
trained it. One tiny regression search per optimizer (module fixture) serves every test here.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import textwrap
import warnings
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import tree_state, tunenet_command
from tunenet.cli import app

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")


def invoke(*args: object):
    return CliRunner().invoke(app, [str(arg) for arg in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs directory with one finished regression search per optimizer (runs/<optimizer>)."""
    root = tmp_path_factory.mktemp("messages")
    for name in OPTIMIZERS:
        config = root / f"{name}.yaml"
        config.write_text(
            textwrap.dedent(
                f"""
                name: {name}
                seed: 3
                data: {{source: diabetes, limit: 120}}
                model: {{layers: 1, units: 4}}
                optimizer: {{name: {name}, learning_rate: 0.01}}
                training: {{epochs: 2, batch_size: 32}}
                search: {{max_trials: 1}}
                """
            )
        )
        result = invoke("search", config, "--runs-dir", root / "runs", "--quiet")
        assert result.exit_code == 0, result.stderr
    return root / "runs"


@pytest.fixture
def damaged(runs: Path, tmp_path: Path):
    """A copy of a finished run whose best/model.keras the test replaces."""
    copy = tmp_path / "copy"
    shutil.copytree(runs / "adam", copy)
    (copy / "best" / "model.keras").unlink()
    return copy


class Records(logging.Handler):
    """Every log record of WARNING and above (Keras, absl, TensorFlow)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def warnings_of(action) -> list[str]:
    """Run `action`; return the Python warnings and WARNING log records it emitted."""
    handler = Records()
    loggers = [logging.getLogger(), logging.getLogger("absl"), logging.getLogger("tensorflow")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            action()
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    return [str(item.message) for item in caught] + [r.getMessage() for r in handler.records]


def check_refused(result, path: Path, *expected: str) -> str:
    """Exit 2, no traceback, the message names the path and says what was found and expected."""
    assert result.exit_code == 2, result.stdout + result.stderr
    message = result.stderr
    assert "Traceback" not in message and "internal error" not in message
    assert "File not found" not in message
    assert str(path) in message
    for part in expected:
        assert part in message, message
    return message


# ---------------------------------------------------------------- a saved model loads quietly


@pytest.mark.e2e  # the module fixture trains a model per optimizer
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_saved_model_loads_without_warnings(runs: Path, optimizer: str):
    import keras

    path = runs / optimizer / "best" / "model.keras"
    loaded = []
    found = warnings_of(lambda: loaded.append(keras.models.load_model(path)))
    assert found == []
    assert loaded[0].optimizer is not None  # still compiled: it can train on


@pytest.mark.e2e  # the module fixture trains a model per optimizer
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_evaluate_prints_no_warning(runs: Path, optimizer: str):
    results = []
    found = warnings_of(lambda: results.append(invoke("evaluate", runs / optimizer)))
    assert results[0].exit_code == 0, results[0].stderr
    assert found == []
    assert "warning" not in results[0].stderr.lower()


@pytest.mark.e2e
def test_evaluate_of_an_rmsprop_run_has_a_quiet_stderr(runs: Path):
    result = subprocess.run(tunenet_command("evaluate", runs / "rmsprop"), capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "rm_sprop" not in result.stderr and "warning" not in result.stderr.lower()
    assert "test split" in result.stdout


# ---------------------------------------------------------------- not a model, not a run


@pytest.mark.e2e  # the module fixture trains a model per optimizer
def test_a_text_file_as_model_is_named(damaged: Path):
    model = damaged / "best" / "model.keras"
    model.write_text("hello\n")
    message = check_refused(invoke("evaluate", damaged), model, "text file", ".keras")
    assert "expected a Keras model" in message


@pytest.mark.e2e  # the module fixture trains a model per optimizer
def test_an_empty_model_file_is_named(damaged: Path):
    model = damaged / "best" / "model.keras"
    model.write_bytes(b"")
    check_refused(invoke("evaluate", damaged), model, "empty file", "expected a Keras model")


@pytest.mark.e2e  # the module fixture trains a model per optimizer
def test_a_zip_without_config_is_named(damaged: Path):
    model = damaged / "best" / "model.keras"
    with zipfile.ZipFile(model, "w") as archive:
        archive.writestr("metadata.json", "{}")
    check_refused(invoke("evaluate", damaged), model, "zip archive", "config.json")


@pytest.mark.e2e  # the module fixture trains a model per optimizer
def test_a_zip_with_a_broken_config_is_named(damaged: Path):
    model = damaged / "best" / "model.keras"
    with zipfile.ZipFile(model, "w") as archive:
        archive.writestr("config.json", "{not json")
        archive.writestr("metadata.json", "{}")
        archive.writestr("model.weights.h5", b"")
    check_refused(invoke("evaluate", damaged), model, "cannot be loaded as a Keras model")


@pytest.mark.e2e  # the module fixture trains a model per optimizer
def test_a_directory_as_model_is_named(damaged: Path):
    model = damaged / "best" / "model.keras"
    model.mkdir()
    check_refused(invoke("evaluate", damaged), model, "a directory", "expected a Keras model")


@pytest.mark.e2e  # the module fixture trains a model per optimizer
def test_a_run_without_best_model(damaged: Path):
    shutil.rmtree(damaged / "best")
    model = damaged / "best" / "model.keras"
    check_refused(invoke("evaluate", damaged), model, "does not exist", "--resume")


@pytest.mark.e2e  # the module fixture trains a model per optimizer
def test_a_model_file_instead_of_its_run_points_to_the_run(runs: Path):
    model = runs / "adam" / "best" / "model.keras"
    message = check_refused(invoke("evaluate", model), model, "is a file", "run directory")
    assert f"tunenet evaluate {runs / 'adam'}" in message


@pytest.mark.e2e  # the module fixture trains a model per optimizer
def test_a_config_file_instead_of_a_run(runs: Path):
    config = runs.parent / "adam.yaml"
    check_refused(invoke("evaluate", config), config, "is a file", "run directory")


@pytest.mark.e2e  # the module fixture trains a model per optimizer
def test_a_directory_of_runs_lists_them(runs: Path):
    message = check_refused(invoke("evaluate", runs), runs, "directory of runs")
    assert str(runs / "adam") in message


def test_a_folder_that_is_not_a_run(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("hello")
    message = check_refused(invoke("evaluate", tmp_path), tmp_path, "manifest.json")
    assert "runs/<name>" in message


def test_a_missing_path(tmp_path: Path):
    check_refused(invoke("evaluate", tmp_path / "nope"), tmp_path / "nope", "no such")


@pytest.mark.e2e  # the module fixture trains a model per optimizer
def test_refused_evaluations_change_nothing(damaged: Path):
    (damaged / "best" / "model.keras").write_text("hello\n")
    before = tree_state(damaged)
    assert invoke("evaluate", damaged).exit_code == 2
    assert tree_state(damaged) == before


@pytest.mark.e2e  # the module fixture trains a model per optimizer
def test_an_hdf5_file_as_model_is_named(damaged: Path):
    model = damaged / "best" / "model.keras"
    model.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(200))
    check_refused(invoke("evaluate", damaged), model, "HDF5 file", "expected a Keras model")
