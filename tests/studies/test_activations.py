"""`tunenet activations`: the picture, its panels, the preprocessing and the errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from tunenet.config.sections import Config
from tunenet.data.dataset import load_dataset
from tunenet.models.build import build_model
from tunenet.runs import RunDir, resolved_dict
from tunenet.studies.activations import draw_activations, read_input

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def make_run(root: Path, raw: dict, dataset=None) -> Path:
    """A run directory with resolved.yaml and an (untrained) best model, without a search."""
    config = Config.model_validate(raw)
    dataset = dataset or load_dataset(config)
    model = build_model(config, {}, dataset, 4, dataset.normalization(config.data.normalize))
    run = RunDir(root / (config.name or "run"))
    run.best_model_file.parent.mkdir(parents=True)
    run.resolved_file.write_text(yaml.safe_dump(resolved_dict(config)), encoding="utf-8")
    model.save(run.best_model_file)
    return run.path


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory) -> Path:
    raw = {
        "name": "digits-cnn",
        "data": {"source": "digits", "limit": 120, "augmentation": {"rotation": 0.1}},
        "model": {"kind": "cnn", "layers": 2, "filters": 4, "filters_growth": 2,
                  "dense_units": 8},
    }  # fmt: skip
    return make_run(tmp_path_factory.mktemp("runs"), raw)


@pytest.fixture(scope="module")
def digit_png(tmp_path_factory) -> Path:
    from sklearn.datasets import load_digits

    path = tmp_path_factory.mktemp("inputs") / "zero.png"
    pixels = np.round(load_digits().images[0] / 16 * 255).astype("uint8")
    Image.fromarray(pixels).save(path)
    return path


def test_cli_writes_a_png_with_one_panel_per_conv_and_pooling_layer(cli, digits_run, digit_png):
    result = cli("activations", digits_run, "--input", digit_png)
    assert result.exit_code == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path == digits_run / "report" / "activations.png"
    assert path.read_bytes()[:8] == PNG_MAGIC
    drawn = draw_activations(digits_run, digit_png, out=path.with_name("again.png"))
    names = [title.split(" ")[0] for title in drawn.panels]
    assert names == ["input", "conv_0", "pool_0", "conv_1", "pool_1"]
    assert "after relu" in drawn.panels[1] and "4 maps 8x8" in drawn.panels[1]
    assert "8 maps 4x4" in drawn.panels[3]


def test_filters_and_chosen_layers(cli, digits_run, digit_png, tmp_path):
    out = tmp_path / "pick.png"
    result = cli("activations", digits_run, "--input", digit_png, "--layers", "pool_1,conv_0",
                 "--filters", "--out", out)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes()[:8] == PNG_MAGIC
    drawn = draw_activations(digits_run, digit_png, layers=["pool_1", "conv_0"], filters=True,
                             out=tmp_path / "pick2.png")  # fmt: skip
    assert len(drawn.panels) == 4
    assert drawn.panels[1].startswith("pool_1") and drawn.panels[3].startswith("conv_0 kernels")


def test_png_is_preprocessed_like_the_digits_source(digits_run, digit_png):
    from sklearn.datasets import load_digits

    config = Config.model_validate(yaml.safe_load((digits_run / "resolved.yaml").read_text()))
    array = read_input(digit_png, config, (8, 8, 1))
    expected = load_digits().images[0].reshape(1, 8, 8, 1)
    np.testing.assert_allclose(array, expected, atol=16 / 255)


def test_rgb_image_is_converted_and_resized(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(12, 12, 12, 3)).astype("float32")
    y = np.arange(12) % 2
    from tunenet.data.dataset import Dataset

    dataset = Dataset(
        source="images", task="binary", classes=["a", "b"], feature_names=[],
        x_train=x, y_train=y, x_val=x, y_val=y, x_test=x[:0], y_test=y[:0],
    )  # fmt: skip
    raw = {"name": "rgb", "data": {"source": "images", "path": "x", "image_size": [12, 12]},
           "model": {"kind": "cnn", "layers": 1, "filters": 3, "pooling": "avg"}}  # fmt: skip
    run = make_run(tmp_path, raw, dataset)
    photo = tmp_path / "photo.jpg"
    Image.fromarray(rng.integers(0, 255, size=(30, 40), dtype="uint8")).save(photo)  # grey, big
    drawn = draw_activations(run, photo, filters=True)
    names = [title.split(" ")[0] for title in drawn.panels]
    assert names == ["input", "conv_0", "pool_0", "conv_0"]
    assert "RGB" in drawn.panels[-1]
    config = Config.model_validate(raw)
    array = read_input(photo, config, (12, 12, 3))
    assert array.shape == (1, 12, 12, 3) and 0 <= array.min() and array.max() <= 1


def test_bad_inputs_exit_2_without_traceback(cli, digits_run, digit_png, tmp_path):
    (tmp_path / "notes.png").write_text("not an image")
    np.save(tmp_path / "wrong.npy", np.zeros((3, 3)))
    cases = [
        ((tmp_path / "missing", "--input", digit_png), "no such run directory"),
        ((digits_run, "--input", tmp_path / "none.png"), "no such input file"),
        ((digits_run, "--input", tmp_path / "notes.png"), "not an image"),
        ((digits_run, "--input", tmp_path / "wrong.npy"), "8x8x1"),
        ((digits_run, "--input", digit_png, "--layers", "conv_7"), "conv_7"),
        ((digits_run, "--input", digit_png, "--layers", "flatten"), "flatten"),
    ]
    for args, message in cases:
        result = cli("activations", *args)
        assert result.exit_code == 2, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr


def test_a_dense_run_is_refused(cli, tmp_path, digit_png):
    raw = {"name": "dense", "data": {"source": "digits", "limit": 60}, "model": {"layers": 1}}
    run = make_run(tmp_path, raw)
    result = cli("activations", run, "--input", digit_png)
    assert result.exit_code == 2
    assert "no conv or pooling layers" in result.stderr
