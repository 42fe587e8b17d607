"""Model building: layers, regularizers, optimizers and schedules are really set."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from tunenet.config.load import validate_dict
from tunenet.data.dataset import Dataset
from tunenet.models.build import build_model


def dataset(task: str = "multiclass", classes: int = 3, features: int = 4) -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, features)).astype("float32")
    y = rng.integers(0, classes, size=30).astype("int32" if task != "regression" else "float32")
    names = [str(i) for i in range(classes)] if task != "regression" else []
    return Dataset("test", task, names, [], x, y, x[:5], y[:5], x[:5], y[:5])


def build(values=None, task="multiclass", classes=3, **sections):
    config = validate_dict({"data": {"source": "wine"}, **sections})
    data = dataset(task, classes)
    return build_model(config, values or {}, data, 10, data.normalization("standard"))


def layers_of(model, kind):
    return [layer for layer in model.layers if isinstance(layer, kind)]


def test_dense_layers_units_per_layer_and_output():
    model = build({"model.layers": 3, "model.units.0": 8, "model.units.1": 16, "model.units.2": 4},
                  model={"layers": [1, 3], "units": [4, 8, 16]})  # fmt: skip
    dense = layers_of(model, keras.layers.Dense)
    assert [layer.units for layer in dense] == [8, 16, 4, 3]
    assert dense[-1].activation.__name__ == "softmax"
    assert model.loss == "sparse_categorical_crossentropy"
    assert isinstance(model.layers[1], keras.layers.Normalization)


def test_regularizers_dropout_batch_norm_and_initializer():
    model = build(
        model={"layers": 2, "units": 8, "batch_norm": True, "initializer": "he_normal",
               "activation": "leaky_relu"},
        regularization={"l1": 1.0e-4, "l2": 1.0e-3, "dropout": 0.3},
    )  # fmt: skip
    hidden = layers_of(model, keras.layers.Dense)[:-1]
    for layer in hidden:
        config = layer.kernel_regularizer.get_config()
        assert config["l1"] == pytest.approx(1e-4) and config["l2"] == pytest.approx(1e-3)
        assert isinstance(layer.kernel_initializer, keras.initializers.HeNormal)
        assert layer.use_bias is False  # batch norm supplies the shift
    assert len(layers_of(model, keras.layers.BatchNormalization)) == 2
    assert [layer.rate for layer in layers_of(model, keras.layers.Dropout)] == [0.3, 0.3]
    assert len(layers_of(model, keras.layers.LeakyReLU)) == 2


def test_zero_layers_is_logistic_regression():
    model = build(model={"layers": 0}, task="binary", classes=2)
    dense = layers_of(model, keras.layers.Dense)
    assert len(dense) == 1 and dense[0].units == 1
    assert dense[0].activation.__name__ == "sigmoid" and model.loss == "binary_crossentropy"


def test_regression_output_and_metrics():
    model = build(task="regression")
    assert layers_of(model, keras.layers.Dense)[-1].activation.__name__ == "linear"
    assert model.loss == "mse"


@pytest.mark.parametrize(
    ("name", "kind", "momentum", "nesterov"),
    [
        ("sgd", keras.optimizers.SGD, 0.0, False),
        ("momentum", keras.optimizers.SGD, 0.8, False),
        ("nesterov", keras.optimizers.SGD, 0.8, True),
        ("rmsprop", keras.optimizers.RMSprop, 0.8, None),
        ("adam", keras.optimizers.Adam, None, None),
        ("adamw", keras.optimizers.AdamW, None, None),
        ("adagrad", keras.optimizers.Adagrad, None, None),
    ],
)
def test_optimizers(name, kind, momentum, nesterov):
    model = build(optimizer={"name": name, "learning_rate": 0.05, "momentum": 0.8, "clipnorm": 2.0})
    optimizer = model.optimizer
    assert type(optimizer) is kind
    assert float(optimizer.learning_rate) == pytest.approx(0.05)
    assert optimizer.clipnorm == 2.0
    if momentum is not None:
        assert optimizer.momentum == pytest.approx(momentum)
    if nesterov is not None:
        assert optimizer.nesterov is nesterov


@pytest.mark.parametrize(
    ("schedule", "kind"),
    [
        ("exponential", keras.optimizers.schedules.ExponentialDecay),
        ("step", keras.optimizers.schedules.ExponentialDecay),
        ("cosine", keras.optimizers.schedules.CosineDecay),
    ],
)
def test_learning_rate_schedules(schedule, kind):
    model = build(optimizer={"schedule": schedule, "learning_rate": 0.1, "decay_rate": 0.5,
                             "decay_epochs": 2})  # fmt: skip
    rate = model.optimizer._learning_rate
    assert isinstance(rate, kind)
    if schedule == "step":
        assert rate.staircase and rate.decay_steps == 20  # 10 steps per epoch x 2 epochs
        assert float(rate(19)) == pytest.approx(0.1) and float(rate(20)) == pytest.approx(0.05)
    if schedule == "exponential":
        assert float(rate(10)) == pytest.approx(0.05)  # one epoch: x decay_rate


def test_normalization_is_fitted_on_the_training_split_only():
    data = dataset()
    data.x_val = data.x_val + 100.0  # would move the statistics if they were used
    mean, variance = data.normalization("standard")
    np.testing.assert_allclose(mean, data.x_train.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(variance, data.x_train.var(axis=0), rtol=1e-4)
    low, spread = data.normalization("minmax")
    np.testing.assert_allclose(low, data.x_train.min(axis=0))
