"""The CNN shape check: pure arithmetic that validate runs without TensorFlow, and search runs
on the loaded data's shape before any trial."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tunenet.config.sections import Config
from tunenet.errors import ConfigError
from tunenet.models import shapes


def unchecked(raw: dict) -> Config:
    """A config without the cross-field checks (sources another piece of work enables)."""
    return Config.model_validate(raw)


def test_output_size():
    assert shapes.output_size(8, 3, 3, 1, "same", "max") == [4, 2, 1]
    assert shapes.output_size(8, 4, 3, 1, "same", "max") == [4, 2, 1, 0]
    assert shapes.output_size(8, 2, 3, 1, "valid", "max") == [3, 0]
    assert shapes.output_size(8, 2, 3, 2, "same", "none") == [4, 2]
    assert shapes.output_size(64, 4, 5, 1, "valid", "avg") == [30, 13, 4, 0]


def test_too_small_image_is_a_validate_error_naming_the_keys(cli, write_config):
    path = write_config(
        """
        data: {source: digits}
        model: {kind: cnn, layers: [1, 2, 3], padding: [same, valid], pooling: max}
        """
    )
    result = cli("validate", path)
    assert result.exit_code == 2
    message = result.stderr
    assert "Traceback" not in message
    for text in ("model.layers", "model.layers=3", "model.padding=valid", "model.pooling=max",
                 "8x8", "below 1x1", "model.padding: same"):  # fmt: skip
        assert text in message, text


def test_image_size_from_the_config_is_checked():
    config = unchecked(
        {
            "data": {"source": "images", "path": "x", "image_size": [16, 4]},
            "model": {"kind": "cnn", "layers": 3, "pooling": "max"},
        }
    )
    assert shapes.known_input_shape(config) == (16, 4, 3)
    problems = shapes.fit_problems(config, shapes.known_input_shape(config))
    assert problems and problems[0][0] == "model.layers"
    assert "16x4" in problems[0][1] and "data.image_size" in problems[0][1]


def test_check_at_search_time_for_shapes_only_the_data_knows():
    config = unchecked({"data": {"source": "npz", "path": "x.npz"},
                        "model": {"kind": "cnn", "layers": 4}})  # fmt: skip
    assert shapes.known_input_shape(config) is None  # so validate cannot know
    shapes.check_fits(config, (32, 32, 3))
    with pytest.raises(ConfigError, match=r"model\.layers.*4x4 input below 1x1"):
        shapes.check_fits(config, (4, 4, 3))
    with pytest.raises(ConfigError, match="model.kind"):
        shapes.check_fits(config, (16,))


def test_augmentation_needs_images(write_config, cli):
    path = write_config("data: {source: digits, augmentation: {flip: horizontal}}\n")
    result = cli("validate", path)
    assert result.exit_code == 2
    assert "data.augmentation" in result.stderr and "model.kind: cnn" in result.stderr


def test_cnn_validate_never_imports_tensorflow(no_tensorflow_env, write_config):
    path = write_config(
        """
        data: {source: digits, augmentation: {rotation: [0.0, 0.1]}}
        model: {kind: cnn, layers: [2, 3], filters: [8, 16], padding: [same, valid]}
        """
    )
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from tunenet.cli import app\n"
        f"result = CliRunner().invoke(app, ['validate', {str(path)!r}])\n"
        "print(result.exit_code)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'keras', 'keras_tuner')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=no_tensorflow_env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "[]"]  # valid-padded, pooled 3 blocks do not fit 8x8


def test_search_checks_a_shape_only_the_data_knows(cli, write_config, tmp_path):
    """npz: the shape is known once the file is read; checked before the run directory exists."""
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "tiny.npz", x=rng.uniform(size=(40, 4, 4, 1)), y=np.arange(40) % 2)
    path = write_config(
        f"""
        data: {{source: npz, path: {tmp_path / "tiny.npz"}}}
        model: {{kind: cnn, layers: 3}}
        """
    )
    assert cli("validate", path).exit_code == 0  # the shape is in the file, not the config
    result = cli("search", path, "--runs-dir", tmp_path / "runs")
    assert result.exit_code == 2
    assert "model.layers" in result.stderr and "4x4 input below 1x1" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


def test_shapes_import_and_check_without_tensorflow(no_tensorflow_env):
    """The module validate uses loads neither TensorFlow nor Keras, nor the model builders."""
    script = (
        "import sys\n"
        "from tunenet.config.sections import Config\n"
        "from tunenet.models import shapes\n"
        "config = Config.model_validate({'data': {'source': 'digits'},\n"
        "    'model': {'kind': 'cnn', 'layers': 4, 'padding': 'valid'}})\n"
        "problems = shapes.fit_problems(config, shapes.known_input_shape(config))\n"
        "print([key for key, _ in problems])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'keras', 'keras_tuner') or m.startswith('tunenet.models.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=no_tensorflow_env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["['model.layers']", "['tunenet.models.shapes']"]
