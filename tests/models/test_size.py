"""The largest model of a search space, estimated without TensorFlow, and the
`search.max_model_params` limit that validate and search apply to it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from tunenet.config.load import validate_dict
from tunenet.models import size

LIMIT_MESSAGE = "above search.max_model_params = 50,000,000"


def estimate(raw: dict) -> size.Estimate:
    cfg = validate_dict({**raw, "search": {"max_model_params": 10**11, **raw.get("search", {})}})
    shape, outputs, _ = size.data_shape(cfg)
    return size.largest_model(cfg, shape, outputs)


def test_dense_count_is_keras_count_params():
    # digits: 64 inputs, 10 classes; 64*32+32 + 32*32+32 + 32*10+10 (Keras: 3466)
    assert estimate({"data": {"source": "digits"}, "model": {"layers": 2, "units": 32}}).params == (
        3466
    )


def test_batch_norm_adds_four_weights_per_unit_and_drops_the_bias():
    plain = estimate({"data": {"source": "iris"}, "model": {"layers": 1, "units": 16}})
    normed = estimate(
        {
            "data": {"source": "iris"},
            "model": {"layers": 1, "units": 16, "batch_norm": [False, True]},
        }
    )
    assert normed.params - plain.params == 3 * 16
    assert normed.settings["model.batch_norm"] is True


def test_the_worst_case_takes_the_most_layers_and_the_widest_units():
    found = estimate(
        {"data": {"source": "digits"}, "model": {"layers": {"min": 1, "max": 4}, "units": [8, 256]}}
    )
    assert found.settings == {"model.layers": 4, "model.units": 256}
    assert found.params == 64 * 256 + 256 + 3 * (256 * 256 + 256) + 256 * 10 + 10


def test_no_hidden_layer_can_be_the_largest_model():
    # one unit per layer squeezes the model: the 0-layer logistic regression is larger
    found = estimate({"data": {"source": "digits"}, "model": {"layers": [0, 1], "units": 1}})
    assert found.settings["model.layers"] == 0 and found.params == 64 * 10 + 10


def test_cnn_takes_the_blocks_that_leave_the_largest_head():
    raw = {
        "data": {"source": "keras:cifar10"},
        "model": {"kind": "cnn", "layers": [1, 3], "filters": [8, 16], "kernel_size": 3,
                  "pooling": "max", "dense_units": 128},
    }  # fmt: skip
    found = estimate(raw)
    # one block: 32x32x3 -> 16x16x16, flatten 4096 -> 128 -> 10 beats three blocks (4x4x16)
    one = 3 * 3 * 3 * 16 + 16 + 16 * 16 * 16 * 128 + 128 + 128 * 10 + 10
    assert found.settings["model.layers"] == 1 and found.params == one


def test_images_use_the_image_size_and_the_class_folders(tmp_path: Path):
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    raw = {
        "data": {"source": "images", "path": str(tmp_path), "image_size": [100, 50]},
        "model": {"layers": 1, "units": 10},
    }
    found = estimate(raw)
    assert found.input_shape == (100, 50, 3)
    assert found.params == 100 * 50 * 3 * 10 + 10 + 10 * 3 + 3


def test_npz_shape_comes_from_the_header(tmp_path: Path):
    path = tmp_path / "d.npz"
    np.savez(path, x=np.zeros((5, 7, 3)), y=np.zeros(5))
    found = estimate({"data": {"source": "npz", "path": str(path)}, "model": {"layers": 0}})
    assert found.input_shape == (7, 3) and found.params == 21 + 1


def test_csv_counts_the_header_columns_as_a_lower_bound(tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,c,y\n1,2,x,0\n")
    cfg = validate_dict({"data": {"source": "csv", "path": str(path), "target": "y"}})
    shape, outputs, lower_bound = size.data_shape(cfg)
    assert shape == (3,) and outputs == 1 and lower_bound


# ---------------------------------------------------------------- the limit


def test_validate_refuses_a_space_above_the_limit(cli, write_config, untouched):
    config = write_config("data: {source: digits}\nmodel: {layers: [1, 4], units: [64, 8192]}\n")
    with untouched():
        result = cli("validate", config)
    assert result.exit_code == 2
    message = result.stderr
    assert "model: the largest model in this space (model.layers=4, model.units=8192" in message
    assert "has 201,965,578 parameters (808 MB as float32)" in message
    assert LIMIT_MESSAGE in message
    assert "lower model.units or model.layers, or raise search.max_model_params" in message


def test_the_message_gives_the_count_and_bytes():
    cfg = validate_dict(
        {"data": {"source": "digits"}, "model": {"layers": 10, "units": 65_536},
         "search": {"max_model_params": 10**11}}
    )  # fmt: skip
    cfg = cfg.model_copy(update={"search": cfg.search.model_copy(update={"max_model_params": 1})})
    (key, message), *_ = size.check_config(cfg)
    assert key == "model"  # 64*65536+65536 + 9*(65536**2+65536) + 65536*10+10 = 38,660,210,698
    assert "has 3.9e10 parameters (155 GB as float32)" in message


def test_raising_the_limit_accepts_the_space(cli, write_config):
    config = write_config(
        "data: {source: digits}\nmodel: {layers: 4, units: 8192}\n"
        "search: {max_model_params: 300000000}\n"
    )
    result = cli("validate", config)
    assert result.exit_code == 0, result.output
    assert "Largest model: 201,965,578 parameters (808 MB as float32)" in result.stdout


def test_cnn_names_its_own_keys(cli, write_config):
    config = write_config(
        "data: {source: images, path: absent, image_size: [1024, 1024]}\n"
        "model: {kind: cnn, layers: 1, filters: 256, pooling: none, dense_units: 1024}\n"
    )
    result = cli("validate", config)
    assert result.exit_code == 2
    assert "model.filters, model.dense_units, model.layers or data.image_size" in result.stderr
    assert "input 1024x1024x3" in result.stderr


def test_a_csv_estimate_says_at_least(cli, write_config, tmp_path: Path):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"f{i}" for i in range(2000)) + ",y\n" + "1," * 2000 + "0\n")
    config = write_config(
        f"data: {{source: csv, path: {path}, target: y}}\nmodel: {{layers: 1, units: 30000}}\n"
    )
    result = cli("validate", config)
    assert result.exit_code == 2
    assert "input 2000) has at least 60,060,001 parameters" in result.stderr


def test_search_refuses_the_same_before_anything_is_written(cli, write_config, untouched, tmp_path):
    config = write_config("data: {source: digits}\nmodel: {layers: 4, units: 8192}\n")
    with untouched(allowed=("config.yaml",)):
        result = cli("search", config, "--runs-dir", tmp_path / "runs")
    assert result.exit_code == 2
    assert LIMIT_MESSAGE in result.stderr
    assert not (tmp_path / "runs").exists()


# ---------------------------------------------------------------- against Keras


CASES = [
    {"data": {"source": "digits"}, "model": {"layers": 2, "units": 32}},
    {"data": {"source": "iris"}, "model": {"layers": 3, "units": 16, "batch_norm": True}},
    {"data": {"source": "digits"}, "model": {"layers": 0}},
    {"data": {"source": "diabetes"}, "model": {"layers": 1, "units": 8}},
    {"data": {"source": "digits"},
     "model": {"kind": "cnn", "layers": 2, "filters": 8, "kernel_size": 3, "dense_units": 16}},
    {"data": {"source": "digits"},
     "model": {"kind": "cnn", "layers": 1, "filters": 8, "kernel_size": 3, "padding": "valid",
               "pooling": "none", "dense_units": 0, "batch_norm": True}},
    {"data": {"source": "digits"},
     "model": {"kind": "cnn", "layers": 2, "filters": 4, "filters_growth": 2, "kernel_size": 2,
               "strides": 2, "pooling": "none", "global_pooling": True, "dense_units": 10}},
]  # fmt: skip


@pytest.mark.slow  # imports Keras
@pytest.mark.parametrize("raw", CASES, ids=[yaml.safe_dump(c["model"]).strip()[:40] for c in CASES])
def test_estimate_equals_keras_count_params(raw):
    pytest.importorskip("keras")
    from tunenet.data.dataset import load_dataset
    from tunenet.models.build import build_model

    cfg = validate_dict(raw)
    dataset = load_dataset(cfg)
    model = build_model(cfg, {}, dataset, 10, dataset.normalization(cfg.data.normalize))
    shape, outputs, _ = size.data_shape(cfg)
    assert size.largest_model(cfg, shape, outputs).params == model.count_params()


def test_the_limit_does_not_stop_a_resume():
    """A run started before search.max_model_params existed (or with another value) resumes."""
    from tunenet.runs import config_differences, fingerprint, resolved_dict

    cfg = validate_dict({"data": {"source": "digits"}})
    raised = validate_dict({"data": {"source": "digits"}, "search": {"max_model_params": 10**9}})
    assert fingerprint(cfg) == fingerprint(raised)
    older = resolved_dict(cfg)
    del older["search"]["max_model_params"]
    assert config_differences(older, resolved_dict(raised)) == []
