"""`data.source: python` (docs/data.md): the user's loader, called at search time only.

The loaders are in tests/fixtures/custom/loaders/: `good.py` returns what tunenet accepts,
`bad.py` what it refuses. Every test but the one marked e2e builds a Dataset or runs a
refused command; none trains.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, tunenet_command
from tunenet.config.load import validate_dict
from tunenet.data import dataset as data_module
from tunenet.errors import ConfigError, DataError

LOADERS = REPO / "tests" / "fixtures" / "custom" / "loaders"


def fixture_module(name: str):
    """The fixture file imported here, to compare with what tunenet made of its arrays."""
    spec = importlib.util.spec_from_file_location(f"loaders_{name}", LOADERS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def config(loader, **data):
    return validate_dict({"seed": 3, "data": {"source": "python", "loader": loader, **data}})


def load(function: str, file: str = "good", **data) -> data_module.Dataset:
    return data_module.load_dataset(config(f"{LOADERS / file}.py:{function}", **data))


def refused(function: str, **data) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load(function, "bad", **data)
    return caught.value


# ---------------------------------------------------------------- (x, y): split like any source


def test_a_pair_is_split_with_the_configured_fractions_and_stratified():
    dataset = load("pair")
    assert dataset.source == "python" and dataset.task == "binary"
    assert dataset.classes == ["a", "b"]
    assert dataset.summary()["sizes"] == {"train": 60, "validation": 20, "test": 20}
    # 80 'a' and 20 'b': every split keeps the 4:1 ratio
    assert np.bincount(dataset.y_train).tolist() == [48, 12]
    assert np.bincount(dataset.y_val).tolist() == [16, 4]
    assert np.bincount(dataset.y_test).tolist() == [16, 4]


def test_a_pair_is_split_as_an_npz_file_of_the_same_arrays_is(tmp_path: Path):
    x, y = fixture_module("good").pair()
    np.savez(tmp_path / "same.npz", x=x, y=y)
    npz = data_module.load_dataset(
        validate_dict({"seed": 3, "data": {"source": "npz", "path": str(tmp_path / "same.npz")}})
    )
    python = load("pair")
    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(python.split(split)[0], npz.split(split)[0])
        np.testing.assert_array_equal(python.split(split)[1], npz.split(split)[1])


def test_limit_and_other_fractions_apply_to_a_pair():
    dataset = load("pair", limit=50, split={"validation": 0.2, "test": 0.0})
    assert dataset.summary()["sizes"] == {"train": 40, "validation": 10, "test": 0}


def test_the_task_is_inferred_from_y_or_taken_from_data_task():
    assert load("sequences").task == "multiclass"
    assert load("sequences").classes == ["0", "1", "2"]
    assert load("splits", task="multiclass").task == "multiclass"
    with pytest.raises(DataError, match="the y that data.loader returned"):
        load("pair", task="regression")  # text labels


def test_a_regression_target_is_inferred():
    def loader():
        rng = np.random.default_rng(0)
        x = rng.normal(size=(40, 2))
        return x, x @ np.array([1.5, -2.0])

    dataset = data_module.load_dataset(config(loader))
    assert dataset.task == "regression" and dataset.classes == []


def test_a_dataframe_and_a_series_of_text_labels_are_read_with_their_names():
    import pandas as pd

    def loader():
        rng = np.random.default_rng(0)
        table = pd.DataFrame({"age": rng.normal(40, 10, 50), "income": rng.normal(5e4, 1e4, 50)})
        return table, pd.Series(["yes", "no"] * 25)

    dataset = data_module.load_dataset(config(loader))
    assert dataset.task == "binary" and dataset.classes == ["no", "yes"]
    scales = dataset.summary()["feature_scales"]
    assert (scales["largest"], scales["smallest"]) == ("income", "age")


def test_a_module_loader_is_named_with_its_file(tmp_path: Path, monkeypatch):
    package = tmp_path / "mydata"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "source.py").write_text(
        "def load():\n    return [1.0, 2.0, 3.0]\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError) as caught:
        data_module.load_dataset(config("mydata.source:load"))
    assert str(caught.value).startswith(
        f"data.loader: mydata.source:load (file {package / 'source.py'}): the loader returned a "
        "list of length 3, not an (x, y) pair"
    )


# ---------------------------------------------------------------- a dict: kept as given


def test_a_dict_of_splits_is_kept_as_given():
    given = fixture_module("good").splits()
    dataset = load("splits")
    assert dataset.summary()["sizes"] == {"train": 30, "validation": 12, "test": 9}
    for name, split in (("train", "train"), ("validation", "val"), ("test", "test")):
        x, y = dataset.split(split)
        np.testing.assert_allclose(x, given[name][0].astype("float32"))
        np.testing.assert_array_equal(y, given[name][1])


def test_a_dict_without_test_has_no_test_split_and_lists_are_arrays():
    dataset = load("splits_without_test")
    assert dataset.summary()["sizes"] == {"train": 4, "validation": 2, "test": 0}
    np.testing.assert_array_equal(dataset.x_val, [[4.0], [5.0]])
    mean, variance = dataset.normalization("standard")  # the training split's: 0..3
    assert mean.tolist() == [1.5] and variance.tolist() == [1.25]


def test_limit_down_samples_only_the_training_pair_of_a_dict():
    dataset = load("splits", limit=10)
    assert dataset.summary()["sizes"] == {"train": 10, "validation": 12, "test": 9}
    assert np.bincount(dataset.y_train).tolist() == [5, 5]  # stratified


def test_one_value_per_example_is_one_feature():
    def loader():
        return np.arange(40.0), np.arange(40) % 2

    dataset = data_module.load_dataset(config(loader))
    assert dataset.input_shape == (1,) and dataset.x_train.shape == (24, 1)


def test_a_validation_label_the_training_split_lacks_is_refused():
    with pytest.raises(DataError, match="validation examples have labels the training"):
        load("unseen_label", "bad")


# ---------------------------------------------------------------- rank 3, tokens


def test_sequences_are_normalized_per_step_feature_on_the_training_split():
    dataset = load("sequences")
    assert dataset.input_shape == (8, 8) and dataset.summary()["input_shape"] == [8, 8]
    mean, variance = dataset.normalization("standard")
    rows = dataset.x_train.astype("float64").reshape(-1, 8)  # n × 8 steps, 8 features
    np.testing.assert_allclose(mean, rows.mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(variance, np.where(rows.var(axis=0) > 0, rows.var(axis=0), 1.0),
                               rtol=1e-5)  # fmt: skip


def test_integer_token_ids_are_kept_as_integers_with_normalize_none():
    x, y = fixture_module("good").tokens()
    dataset = load("tokens", normalize="none", split={"validation": 0.5, "test": 0.0})
    assert dataset.x_train.dtype == np.int32 and dataset.input_dtype == "int32"
    assert dataset.normalization("none") is None
    assert dataset.summary()["feature_scales"] is None  # ids have no scale to compare
    seen = np.concatenate([dataset.x_train, dataset.x_val])
    assert sorted(map(tuple, seen.tolist())) == sorted(map(tuple, x.tolist()))


def test_integer_token_ids_with_normalize_standard_are_refused():
    with pytest.raises(ConfigError) as caught:
        load("tokens")  # normalize: standard, the default
    message = str(caught.value)
    assert message.startswith("data.normalize: 'standard': data.loader ")
    assert "good.py:tokens" in message and "int64" in message and "token ids" in message
    assert "data.normalize: none" in message
    assert [problem.key for problem in caught.value.errors] == ["data.normalize"]


def test_floats_are_float32_inputs():
    assert load("pair").input_dtype == "float32" and load("pair").x_train.dtype == np.float32


# ---------------------------------------------------------------- refusals

# loader in bad.py -> what the message must say besides `data.loader: <file>:<function>: `
REFUSALS = {
    "nothing": ["returned None, not an (x, y) pair", "must return (x, y), or a dict"],
    "triple": ["returned a tuple of length 3, not an (x, y) pair"],
    "wrong_keys": ["keys ['train', 'valid']", "lacks 'validation'", "unknown key(s) 'valid'"],
    "mismatch": ["x has 10 examples but y has 8"],
    "empty": ["x is empty (shape (0, 3))"],
    "numbers": ["x is one value (1.0), not an array of examples"],
    "text_x": ["x has dtype <U1; expected numbers"],
    "nan_x": ["x has 1 NaN or infinite value(s)"],
    "one_hot_y": ["y has shape (10, 2); expected one label or value per example, shape (10,)",
                  "not one-hot rows"],
    "raises": ["the loader raised FileNotFoundError: no such file: /data/missing.npy "
               "(bad.py, line 46)"],
    "raises_inside_numpy": ["the loader raised FileNotFoundError: [Errno 2] No such file or "
                            "directory: '/nonexistent/tunenet-test/arrays.npy' (bad.py, line 50)"],
    "ragged": ["x cannot be read as an array"],
    "shapes_differ": ["validation x has examples of shape (5,), train x (3,)"],
}  # fmt: skip


@pytest.mark.parametrize("function", REFUSALS, ids=list(REFUSALS))
def test_what_a_loader_returns_is_checked(function: str):
    error = refused(function)
    message = str(error)
    assert message.startswith(f"data.loader: {LOADERS / 'bad.py'}:{function}: "), message
    for part in REFUSALS[function]:
        assert part in message, message
    assert [problem.key for problem in error.errors] == ["data.loader"]


@pytest.mark.parametrize("function", REFUSALS, ids=list(REFUSALS))
def test_search_refuses_a_bad_loader_with_exit_2_and_creates_nothing(
    cli, write_config, tmp_path, untouched, function
):
    path = write_config(
        f"name: mine\ndata: {{source: python, loader: '{LOADERS / 'bad.py'}:{function}'}}\n"
        "search: {max_trials: 1}\ntraining: {epochs: 1}\n"
    )
    with untouched():
        result = cli("search", path, "--runs-dir", tmp_path / "runs")
    assert result.exit_code == 2, result.stderr
    error = result.stderr[result.stderr.index("error: ") :]  # after the search's status lines
    assert error.startswith(f"error: data.loader: {LOADERS / 'bad.py'}:{function}: ")
    assert REFUSALS[function][0] in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


def test_search_refuses_token_ids_with_normalize_standard(cli, write_config, tmp_path, untouched):
    path = write_config(
        f"name: ids\ndata: {{source: python, loader: '{LOADERS / 'good.py'}:tokens'}}\n"
    )
    with untouched():
        result = cli("search", path, "--runs-dir", tmp_path / "runs")
    assert result.exit_code == 2, result.stderr
    error = result.stderr[result.stderr.index("error: ") :]  # after the search's status lines
    assert error.startswith("error: data.normalize: 'standard': data.loader ")
    assert "Set data.normalize: none" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


def test_the_python_api_refuses_a_bad_loader(tmp_path: Path):
    import tunenet

    loader = f"{LOADERS / 'bad.py'}:wrong_keys"
    with pytest.raises(ConfigError) as caught:
        tunenet.search({"name": "mine", "data": {"source": "python", "loader": loader}},
                       runs_dir=tmp_path / "runs")  # fmt: skip
    assert str(caught.value).startswith(f"data.loader: {loader}: the loader returned a dict")
    assert not (tmp_path / "runs").exists()


def test_a_loader_given_as_a_function_is_named_by_its_module_and_name():
    def load_broken():
        return {"train": (np.zeros((4, 2)), np.arange(4) % 2)}

    with pytest.raises(ConfigError) as caught:
        data_module.load_dataset(config(load_broken))
    message = str(caught.value)
    assert message.startswith("data.loader: <callable ") and ".load_broken>: " in message
    assert "lacks 'validation'" in message


def test_a_loader_that_prints_leaves_stdout_alone(capsys):
    load("noisy")
    captured = capsys.readouterr()
    assert captured.out == "" and "loading noisy data" in captured.err


def test_validate_never_calls_the_loader(tmp_path: Path, no_tensorflow_env: dict):
    marker = tmp_path / "called"
    (tmp_path / "load.py").write_text(
        "import pathlib\n\n\ndef load():\n"
        f"    pathlib.Path({str(marker)!r}).write_text('called')\n"
        "    raise SystemExit('the loader ran')\n",
        encoding="utf-8",
    )
    (tmp_path / "mine.yaml").write_text(
        "data: {source: python, loader: load.py:load}\ntraining: {class_weight: {'1': 2.0}}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        tunenet_command("validate", "mine.yaml"), cwd=tmp_path, env=no_tensorflow_env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    search = subprocess.run(
        tunenet_command("search", "mine.yaml", "--runs-dir", tmp_path / "runs"), cwd=tmp_path,
        env=no_tensorflow_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert search.returncode == 2 and marker.exists()  # the search called it, before TensorFlow
    assert "the loader raised SystemExit: the loader ran" in search.stderr
    assert "Traceback" not in search.stderr and not (tmp_path / "runs").exists()


# ---------------------------------------------------------------- a real search


@pytest.mark.e2e
@pytest.mark.slow
def test_search_on_sequences_from_a_loader(cli, write_config, tmp_path: Path):
    path = write_config(
        f"""
        name: rows
        seed: 3
        data: {{source: python, loader: '{LOADERS / "good.py"}:sequences'}}
        model: {{layers: 1, units: 8}}
        training: {{epochs: 2, batch_size: 16}}
        search: {{max_trials: 1}}
        """
    )
    result = cli("search", path, "--runs-dir", tmp_path / "runs", "--quiet")
    assert result.exit_code == 0, result.stderr
    run = tmp_path / "runs" / "rows"
    data = json.loads((run / "manifest.json").read_text())["data"]
    assert data["source"] == "python" and data["task"] == "multiclass"
    assert data["classes"] == ["0", "1", "2"] and data["input_shape"] == [8, 8]
    assert data["sizes"] == {"train": 72, "validation": 24, "test": 24}
    with open(run / "trials.csv", newline="") as file:
        (row,) = list(csv.DictReader(file))
    assert row["status"] == "completed" and row["train_n"] == "72" and row["val_n"] == "24"
    with open(run / "baselines.csv", newline="") as file:
        assert {line["model"] for line in csv.DictReader(file)} >= {"majority", "logistic"}


@pytest.mark.e2e
@pytest.mark.slow
def test_search_on_token_ids_with_an_embedding_builder(cli, write_config, tmp_path: Path):
    (tmp_path / "embed.py").write_text(
        "import keras\n\n\n"
        "def build(params, data):\n"
        "    assert data.input_shape == (5,), data.input_shape\n"
        "    inputs = keras.Input(shape=data.input_shape, dtype='int32')\n"
        "    x = keras.layers.Embedding(50, 4, name='embed')(inputs)\n"
        "    x = keras.layers.GRU(params['units'], name='recurrent')(x)\n"
        "    outputs = keras.layers.Dense(data.output_units,\n"
        "                                 activation=data.output_activation)(x)\n"
        "    return keras.Model(inputs, outputs)\n",
        encoding="utf-8",
    )
    path = write_config(
        f"""
        name: ids
        seed: 3
        data: {{source: python, loader: '{LOADERS / "good.py"}:tokens', normalize: none}}
        model: {{kind: custom, build: embed.py:build, params: {{units: 4}}}}
        training: {{epochs: 2, batch_size: 16}}
        search: {{max_trials: 1}}
        """
    )
    result = cli("search", path, "--runs-dir", tmp_path / "runs", "--quiet")
    assert result.exit_code == 0, result.stderr
    with open(tmp_path / "runs" / "ids" / "trials.csv", newline="") as file:
        (row,) = list(csv.DictReader(file))
    assert row["status"] == "completed", row["message"]
    data = json.loads((tmp_path / "runs" / "ids" / "manifest.json").read_text())["data"]
    assert data["input_shape"] == [5] and data["feature_scales"] is None
