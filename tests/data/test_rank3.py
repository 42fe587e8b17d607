"""Inputs of rank > 2 (docs/data.md): sequences (n, t, d) from an npz file, normalized per
last-axis feature with statistics of the training split only, and the baselines on them.

No test here trains a network: each builds a Dataset from a tiny array written in tmp_path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tunenet.config.load import validate_dict
from tunenet.data import dataset as data_module
from tunenet.data.baselines import BOOSTING_MAX_VALUES, fit_baselines


def sequences(count: int = 90, steps: int = 6, features: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Sequences whose features have distinct scales and shift with the example's index, so
    that statistics over all examples, or over all axes, differ from the training split's."""
    rng = np.random.default_rng(5)
    scales = np.array([1.0, 10.0, 100.0][:features])
    x = rng.normal(size=(count, steps, features)) * scales
    x += np.arange(count)[:, None, None]  # a later example is larger: splits differ
    return x, np.arange(count) % 3


def npz_dataset(tmp_path: Path, x: np.ndarray, y: np.ndarray, **data) -> data_module.Dataset:
    path = tmp_path / "sequences.npz"
    np.savez(path, x=x, y=y)
    config = validate_dict({"seed": 4, "data": {"source": "npz", "path": str(path), **data}})
    return data_module.load_dataset(config)


def test_npz_sequences_keep_their_shape(tmp_path: Path):
    x, y = sequences()
    dataset = npz_dataset(tmp_path, x, y)
    assert dataset.input_shape == (6, 3)
    assert dataset.x_train.shape == (54, 6, 3) and dataset.x_val.shape == (18, 6, 3)
    summary = dataset.summary()
    assert summary["input_shape"] == [6, 3] and summary["features"] == 18
    assert summary["sizes"] == {"train": 54, "validation": 18, "test": 18}
    assert summary["feature_scales"] is None  # a table's measure, not a sequence's


def test_validate_reads_npz_sequences(tmp_path: Path):
    x, y = sequences()
    path = tmp_path / "sequences.npz"
    np.savez(path, x=x, y=y)
    line = data_module.check_data(validate_dict({"data": {"source": "npz", "path": str(path)}}))
    assert line == f"data: {path}: 90 examples of shape (6, 3): multiclass (0, 1, 2)"


def test_standard_normalization_is_per_step_feature_on_the_training_split(tmp_path: Path):
    x, y = sequences()
    dataset = npz_dataset(tmp_path, x, y)
    mean, variance = dataset.normalization("standard")
    rows = dataset.x_train.astype("float64").reshape(-1, 3)  # n × t rows of 3 features
    assert mean.shape == (3,) and variance.shape == (3,)
    np.testing.assert_allclose(mean, rows.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(variance, rows.var(axis=0), rtol=1e-5)
    everything = x.reshape(-1, 3)
    assert not np.allclose(mean, everything.mean(axis=0), rtol=1e-3)  # not fitted on all data


def test_minmax_normalization_is_per_step_feature_on_the_training_split(tmp_path: Path):
    x, y = sequences()
    dataset = npz_dataset(tmp_path, x, y, normalize="minmax")
    low, spread = dataset.normalization("minmax")
    rows = dataset.x_train.reshape(-1, 3)
    np.testing.assert_allclose(low, rows.min(axis=0), rtol=1e-6)
    np.testing.assert_allclose(spread, (rows.max(axis=0) - rows.min(axis=0)) ** 2, rtol=1e-5)
    assert not np.allclose(low, x.reshape(-1, 3).min(axis=0))  # not fitted on all data


def test_a_constant_step_feature_gets_variance_one(tmp_path: Path):
    x, y = sequences()
    x[:, :, 1] = 7.0
    mean, variance = npz_dataset(tmp_path, x, y).normalization("standard")
    assert mean[1] == pytest.approx(7.0) and variance[1] == 1.0


def test_baselines_fit_on_flattened_sequences(tmp_path: Path):
    x, y = sequences()
    x[:, :, 0] += y[:, None] * 50.0  # the class shows in feature 0 of every step
    dataset = npz_dataset(tmp_path, x, y)
    fitted = fit_baselines(dataset, "standard", seed=4)
    rows = {row["model"]: row for row in fitted.rows}
    assert set(rows) == {"majority", "logistic", "boosting"} and not fitted.skipped
    assert rows["logistic"]["val_error"] < rows["majority"]["val_error"]


def test_baselines_skip_boosting_on_long_sequences(tmp_path: Path):
    steps = BOOSTING_MAX_VALUES // 2 + 1  # × 2 features: just over boosting's input limit
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, steps, 2)).astype("float32"), np.arange(40) % 2
    fitted = fit_baselines(npz_dataset(tmp_path, x, y), "standard", seed=4)
    assert [row["model"] for row in fitted.rows] == ["majority", "logistic"]
    assert fitted.skipped == [f"boosting: input of {steps * 2:,} values (> 4,096)"]


def test_a_cnn_reads_npz_sequences_as_one_channel_images(tmp_path: Path):
    x, y = sequences()
    path = tmp_path / "sequences.npz"
    np.savez(path, x=x, y=y)
    config = validate_dict(
        {"data": {"source": "npz", "path": str(path)}, "model": {"kind": "cnn", "layers": 1}}
    )
    dataset = data_module.load_dataset(config)
    assert dataset.input_shape == (6, 3, 1)
    assert dataset.normalization("standard")[0].shape == (1,)  # one channel
