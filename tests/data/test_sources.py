"""Data sources -> Dataset: csv, npz, image folders, keras datasets; splits and normalization.

Every file is generated in tmp_path. The unit tests never train; the few end-to-end searches
are marked e2e and train one tiny trial each.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import table_rows, write_csv
from tunenet.config.load import validate_dict
from tunenet.data import dataset as data_module
from tunenet.data.examples import infer_task
from tunenet.errors import ConfigError, DataError

COLORS = ("red", "green", "blue")


def make_config(model: str = "dense", seed: int = 7, **data):
    return validate_dict({"seed": seed, "data": data, "model": {"kind": model}})


def load(**data) -> data_module.Dataset:
    return data_module.load_dataset(make_config(**data))


def data_error(**data) -> str:
    with pytest.raises(DataError) as caught:
        load(**data)
    return str(caught.value)


@pytest.fixture
def table(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "table.csv", table_rows())


def digits_folder(root: Path, per_class: int = 6, classes: int = 3, size: int = 8) -> Path:
    """PNGs drawn from scikit-learn's digits: one sub-folder per digit."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    for digit in range(classes):
        folder = root / f"digit_{digit}"
        folder.mkdir(parents=True)
        images = digits.images[digits.target == digit][:per_class]
        for index, image in enumerate(images):
            pixels = (image * 255 / 16).astype("uint8")
            Image.fromarray(pixels, mode="L").resize((size, size)).save(folder / f"{index}.png")
    return root


# ---------------------------------------------------------------- csv


def test_csv_text_target_and_text_column(table: Path):
    dataset = load(source="csv", path=str(table), target="label")
    assert dataset.task == "binary" and dataset.classes == ["no", "yes"]
    assert dataset.columns and dataset.feature_names == ["size", "color", "weight"]
    assert dataset.x_train["color"].dtype == object
    assert set(dataset.x_train["color"]) <= set(COLORS)
    assert dataset.x_train["size"].dtype == np.float32
    assert dataset.vocabularies == {"color": sorted(COLORS)}
    assert dataset.y_train.dtype == np.int32 and set(dataset.y_train) <= {0, 1}
    summary = dataset.summary()
    assert summary["classes"] == ["no", "yes"] and summary["categories"] == {"color": 3}
    assert summary["sizes"] == {"train": 54, "validation": 18, "test": 18}
    assert summary["feature_names"] == ["size", "color", "weight"]
    assert summary["files"] == {"path": str(table.resolve())}


def test_csv_numeric_only_is_an_array_and_features_choose_columns(table: Path):
    dataset = load(source="csv", path=str(table), target="label", features=["weight", "size"])
    assert not dataset.columns and dataset.x_train.shape == (54, 2)
    assert dataset.feature_names == ["weight", "size"]


def test_csv_semicolons_and_numeric_multiclass_target(tmp_path: Path):
    lines = ["a;b;grade"] + [f"{i};{i % 7};{1 + i % 3}" for i in range(60)]
    (tmp_path / "semi.csv").write_text("\n".join(lines) + "\n")
    dataset = load(source="csv", path=str(tmp_path / "semi.csv"), target="grade")
    assert dataset.task == "multiclass" and dataset.classes == ["1", "2", "3"]
    regression = load(source="csv", path=str(tmp_path / "semi.csv"), target="grade",
                      task="regression")  # fmt: skip
    assert regression.task == "regression" and regression.classes == []
    assert set(np.unique(regression.y_train)) == {1.0, 2.0, 3.0}  # the values, not codes


def test_csv_missing_target_column_names_it_and_lists_the_columns(table: Path):
    message = data_error(source="csv", path=str(table), target="lable")
    assert "data.target" in message and "'lable'" in message
    assert "size, color, weight, label" in message and "Did you mean 'label'" in message


def test_csv_unknown_feature_column(table: Path):
    message = data_error(source="csv", path=str(table), target="label", features=["size", "hue"])
    assert "data.features" in message and "'hue'" in message


def test_csv_missing_values_error_names_columns_and_counts(tmp_path: Path):
    rows = table_rows()
    for index in (1, 4, 7):
        rows[index]["size"] = ""
    rows[10]["color"] = ""
    path = write_csv(tmp_path / "holes.csv", rows)
    message = data_error(source="csv", path=str(path), target="label")
    assert str(path) in message and "'size' (3)" in message and "'color' (1)" in message
    assert "missing: drop" in message and "mean" in message
    dropped = load(source="csv", path=str(path), target="label", missing="drop")
    assert sum(dropped.summary()["sizes"].values()) == 86


def test_csv_missing_mean_fills_with_training_statistics(tmp_path: Path):
    rows = table_rows(n=60)
    for index, row in enumerate(rows):
        row["size"] = "" if index % 10 == 0 else index  # whole numbers; fills are not
    rows[3]["color"] = ""
    path = write_csv(tmp_path / "holes.csv", rows)
    dataset = load(source="csv", path=str(path), target="label", missing="mean")
    train = dataset.x_train["size"]
    whole = train[np.mod(train, 1) == 0]
    filled = np.concatenate([x["size"] for x in (dataset.x_train, dataset.x_val, dataset.x_test)])
    filled = filled[np.mod(filled, 1) != 0]
    assert len(filled) == 6 and np.allclose(filled, whole.mean())  # the training mean only
    colors = np.concatenate([x["color"] for x in (dataset.x_train, dataset.x_val, dataset.x_test)])
    assert None not in colors.tolist()


def test_csv_missing_mean_fills_a_gap_that_only_validation_or_test_has(tmp_path: Path):
    rows = table_rows(n=60)
    for index, row in enumerate(rows):
        row["size"] = index + 100  # finds the row; from 0 it would number the rows (an index)
    splits = load(source="csv", path=str(write_csv(tmp_path / "full.csv", rows)), target="label")
    held_out = np.concatenate([splits.x_val["size"], splits.x_test["size"]])
    rows[int(held_out[0]) - 100]["size"] = ""  # the one gap lands outside the training split
    path = write_csv(tmp_path / "gap.csv", rows)
    dataset = load(source="csv", path=str(path), target="label", missing="mean")
    for x in (dataset.x_train, dataset.x_val, dataset.x_test):
        assert not np.isnan(x["size"].astype(float)).any()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary file"),
        (b"size,label\n", "no rows"),
    ],
)
def test_csv_empty_binary_and_header_only_files(tmp_path: Path, content: bytes, expected: str):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    message = data_error(source="csv", path=str(path), target="label")
    assert str(path) in message and expected in message


def test_missing_file_names_key_and_path(tmp_path: Path):
    message = data_error(source="csv", path=str(tmp_path / "nope.csv"), target="label")
    assert "data.path" in message and "nope.csv" in message and "no such file" in message


def test_regression_on_a_text_target_is_a_clear_error(table: Path):
    message = data_error(source="csv", path=str(table), target="label", task="regression")
    assert "data.task" in message and "'regression'" in message


def test_text_columns_cannot_feed_a_cnn(table: Path):
    with pytest.raises(DataError, match="model.kind"):
        data_module.load_dataset(
            make_config(model="cnn", source="csv", path=str(table), target="label")
        )


def test_csv_test_path_is_the_test_split(tmp_path: Path):
    train = write_csv(tmp_path / "train.csv", table_rows(60, seed=1))
    test = write_csv(tmp_path / "test.csv", table_rows(15, seed=2))
    dataset = load(source="csv", path=str(train), target="label", test_path=str(test))
    assert dataset.summary()["sizes"] == {"train": 48, "validation": 12, "test": 15}


# ---------------------------------------------------------------- config checks


def test_file_keys_with_a_builtin_source_are_config_errors():
    with pytest.raises(ConfigError) as caught:
        make_config(source="digits", target="label", path="x.csv")
    message = str(caught.value)
    assert "data.target" in message and "'label'" in message and "data.path" in message


def test_csv_sources_are_supported_now():
    config = make_config(source="csv", path="x.csv", target="y")
    assert config.data.source == "csv"


# ---------------------------------------------------------------- npz


def test_npz_x_y(tmp_path: Path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.normal(size=(50, 4)), y=rng.integers(0, 2, 50))
    dataset = load(source="npz", path=str(tmp_path / "d.npz"))
    assert dataset.task == "binary" and dataset.input_shape == (4,)
    assert dataset.summary()["sizes"] == {"train": 30, "validation": 10, "test": 10}


def test_npz_own_test_split_is_used_as_given(tmp_path: Path):
    rng = np.random.default_rng(0)
    x_test = rng.normal(size=(12, 3)).astype("float32")
    y_test = np.array(["b", "a", "c"] * 4)
    np.savez(
        tmp_path / "d.npz",
        x_train=rng.normal(size=(60, 3)),
        y_train=np.array(["a", "b", "c"] * 20),
        x_test=x_test,
        y_test=y_test,
    )
    dataset = load(source="npz", path=str(tmp_path / "d.npz"))
    assert dataset.classes == ["a", "b", "c"] and dataset.task == "multiclass"
    np.testing.assert_array_equal(dataset.x_test, x_test)
    np.testing.assert_array_equal(dataset.y_test, [1, 0, 2] * 4)
    assert dataset.summary()["sizes"] == {"train": 48, "validation": 12, "test": 12}


def test_npz_with_wrong_arrays_lists_what_it_holds(tmp_path: Path):
    np.savez(tmp_path / "d.npz", features=np.zeros((5, 2)), labels=np.zeros(5))
    message = data_error(source="npz", path=str(tmp_path / "d.npz"))
    assert "features, labels" in message and "x and y" in message


def test_npz_not_an_archive(tmp_path: Path):
    (tmp_path / "d.npz").write_text("hello")
    assert "cannot be read as a NumPy .npz" in data_error(
        source="npz", path=str(tmp_path / "d.npz")
    )


# ---------------------------------------------------------------- images


def test_image_folder(tmp_path: Path):
    folder = digits_folder(tmp_path / "digits", per_class=10)
    dataset = load(source="images", path=str(folder), image_size=[8, 8], color_mode="grayscale")
    assert dataset.classes == ["digit_0", "digit_1", "digit_2"]
    assert dataset.input_shape == (8, 8, 1) and dataset.x_train.dtype == np.float32
    assert 0.0 <= dataset.x_train.min() and dataset.x_train.max() <= 1.0
    rgb = load(source="images", path=str(folder), image_size=[6, 5])
    assert rgb.input_shape == (6, 5, 3)  # image_size is [height, width], as in Keras


def test_image_folder_test_path_and_limit(tmp_path: Path):
    folder = digits_folder(tmp_path / "train", per_class=10)
    test = digits_folder(tmp_path / "test", per_class=2, classes=2)
    dataset = load(source="images", path=str(folder), test_path=str(test), limit=15)
    assert dataset.summary()["sizes"]["test"] == 4
    assert len(dataset.y_train) + len(dataset.y_val) == 15
    assert sorted(np.bincount(np.concatenate([dataset.y_train, dataset.y_val]))) == [5, 5, 5]


def test_class_folder_without_images(tmp_path: Path):
    folder = digits_folder(tmp_path / "digits")
    (folder / "empty_class").mkdir()
    (folder / "empty_class" / "notes.txt").write_text("not an image")
    message = data_error(source="images", path=str(folder))
    assert "empty_class" in message and "no images" in message


def test_unreadable_image_names_the_file(tmp_path: Path):
    folder = digits_folder(tmp_path / "digits")
    (folder / "digit_1" / "broken.png").write_bytes(b"not a png at all")
    message = data_error(source="images", path=str(folder))
    assert "broken.png" in message and "cannot be read as an image" in message


def test_images_path_must_be_a_folder_of_class_folders(tmp_path: Path):
    (tmp_path / "flat").mkdir()
    assert "no class sub-folders" in data_error(source="images", path=str(tmp_path / "flat"))
    assert "no such folder" in data_error(source="images", path=str(tmp_path / "none"))


def test_too_few_examples_for_the_split(tmp_path: Path):
    folder = digits_folder(tmp_path / "digits", per_class=2)
    message = data_error(source="images", path=str(folder))
    assert "data.split" in message and "6 examples" in message


# ---------------------------------------------------------------- limit, task, split


def test_limit_is_stratified():
    full = load(source="digits")
    limited = load(source="digits", limit=500)
    assert sum(limited.summary()["sizes"].values()) == 500
    counts = np.bincount(np.concatenate([limited.y_train, limited.y_val, limited.y_test]))
    assert counts.min() >= 48 and counts.max() <= 52  # 10 classes, ~50 each
    assert full.classes == limited.classes


def test_task_inference_and_override():
    assert infer_task(np.array([0, 1, 1, 0])) == "binary"
    assert infer_task(np.array(["a", "b", "c"], dtype=object)) == "multiclass"
    assert infer_task(np.linspace(0, 1, 50)) == "regression"
    assert load(source="breast_cancer", task="multiclass").task == "multiclass"
    assert "exactly 2 classes" in data_error(source="iris", task="binary")


def test_split_is_the_same_as_splitting_the_arrays():
    """Index-based splitting keeps the splits of runs made before it."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x, y = digits.data.astype("float32"), digits.target
    x, x_test, y, _ = train_test_split(x, y, test_size=0.2, stratify=y, random_state=7)
    x_train, _, _, _ = train_test_split(x, y, test_size=0.25, stratify=y, random_state=8)
    dataset = load(source="digits")
    np.testing.assert_array_equal(dataset.x_train, x_train)
    np.testing.assert_array_equal(dataset.x_test, x_test)


# ---------------------------------------------------------------- normalization


def test_normalization_comes_from_the_training_split_alone():
    dataset = load(source="wine")
    mean, variance = dataset.normalization("standard")
    np.testing.assert_allclose(mean, dataset.x_train.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(variance, dataset.x_train.var(axis=0), rtol=1e-4)
    everything = np.concatenate([dataset.x_train, dataset.x_val, dataset.x_test])
    assert not np.allclose(mean, everything.mean(axis=0), rtol=1e-3)
    low, span = dataset.normalization("minmax")
    np.testing.assert_allclose(low, dataset.x_train.min(axis=0))
    np.testing.assert_allclose(np.sqrt(span), np.ptp(dataset.x_train, axis=0), rtol=1e-5)
    assert dataset.normalization("none") is None


def test_normalization_of_images_is_per_channel_and_of_csv_numeric_columns(tmp_path, table):
    folder = digits_folder(tmp_path / "digits", per_class=10)
    images = load(source="images", path=str(folder), image_size=[8, 8])
    mean, _ = images.normalization("standard")
    assert mean.shape == (3,)
    np.testing.assert_allclose(mean, images.x_train.mean(axis=(0, 1, 2)), rtol=1e-5)
    columns = load(source="csv", path=str(table), target="label")
    mean, _ = columns.normalization("standard")
    expected = [columns.x_train["size"].mean(), columns.x_train["weight"].mean()]
    np.testing.assert_allclose(mean, expected, rtol=1e-5)


# ---------------------------------------------------------------- through the CLI


def test_cli_missing_target_column_exits_2_and_creates_nothing(cli, write_config, table, tmp_path):
    path = write_config(f"data: {{source: csv, path: {table}, target: price}}\n")
    result = cli("search", path, "--runs-dir", tmp_path / "runs", "--quiet")
    assert result.exit_code == 2
    assert "'price'" in result.stderr and "data.target" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


def test_cli_keras_mnist_offline_exits_2(cli, write_config, tmp_path, monkeypatch):
    import functools
    import urllib.error

    from keras.src.datasets import mnist
    from keras.src.utils import file_utils

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(file_utils, "urlretrieve", offline)
    cache = str(tmp_path / "keras-cache")  # a cached mnist.npz must not hide the download
    monkeypatch.setattr(mnist, "get_file", functools.partial(file_utils.get_file, cache_dir=cache))
    path = write_config("data: {source: 'keras:mnist'}\n")
    result = cli("search", path, "--runs-dir", tmp_path / "runs", "--quiet")
    assert result.exit_code == 2
    assert "offline" in result.stderr and "keras:mnist" in result.stderr
    assert "mnist.npz" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


# ---------------------------------------------------------------- end to end


def _search(cli, write_config, tmp_path: Path, name: str, data: str) -> dict:
    path = write_config(
        f"""
        name: {name}
        seed: 3
        data: {data}
        model: {{layers: 1, units: 8}}
        training: {{epochs: 2, batch_size: 16}}
        search: {{max_trials: 1}}
        """,
        name=f"{name}.yaml",
    )
    result = cli("search", path, "--runs-dir", tmp_path / "runs", "--quiet")
    assert result.exit_code == 0, result.stderr
    with open(tmp_path / "runs" / name / "trials.csv", newline="") as file:
        (row,) = list(csv.DictReader(file))
    assert row["status"] == "completed" and row["test_error"] != ""
    assert 0.0 <= float(row["test_error"]) <= 1.0
    return json.loads((tmp_path / "runs" / name / "manifest.json").read_text())


@pytest.mark.e2e
def test_image_folder_search(cli, write_config, tmp_path: Path):
    folder = digits_folder(tmp_path / "digits", per_class=10)
    manifest = _search(
        cli, write_config, tmp_path, "folder",
        f"{{source: images, path: {folder}, image_size: [8, 8], color_mode: grayscale}}",
    )  # fmt: skip
    assert manifest["data"]["classes"] == ["digit_0", "digit_1", "digit_2"]
    assert manifest["data"]["input_shape"] == [8, 8, 1]


@pytest.mark.e2e
def test_npz_search(cli, write_config, tmp_path: Path):
    from sklearn.datasets import load_digits

    digits = load_digits()
    keep = digits.target < 4
    x, y = digits.images[keep][:200], digits.target[keep][:200]
    np.savez(tmp_path / "digits.npz", x_train=x[:160], y_train=y[:160], x_test=x[160:],
             y_test=y[160:])  # fmt: skip
    manifest = _search(cli, write_config, tmp_path, "arrays",
                       f"{{source: npz, path: {tmp_path / 'digits.npz'}}}")  # fmt: skip
    assert manifest["data"]["sizes"] == {"train": 128, "validation": 32, "test": 40}
    assert manifest["data"]["task"] == "multiclass" and manifest["data"]["input_shape"] == [8, 8]
