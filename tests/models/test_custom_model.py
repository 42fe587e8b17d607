"""model.kind custom (docs/custom-models.md): what the builder is given, what tunenet puts around
its model, and the messages when it returns something tunenet cannot train. No training."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import tunenet
from conftest import REPO
from tunenet.config.load import validate_dict
from tunenet.data.dataset import Dataset
from tunenet.models.build import build_model
from tunenet.models.custom import DataSpec, ModelBuildError
from tunenet.tuning.monitor import LayerMonitor, monitored_layers, probe_batch

BUILDERS = REPO / "tests" / "fixtures" / "custom" / "builders"


def dataset(task: str = "multiclass", shape: tuple = (4,), classes: int = 3) -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, *shape)).astype("float32")
    y = rng.integers(0, max(classes, 2), size=30)
    y = y.astype("float32") if task == "regression" else y.astype("int32")
    names = [f"c{i}" for i in range(classes)] if task != "regression" else []
    return Dataset("test", task, names, [], x, y, x[:5], y[:5], x[:5], y[:5])


def custom_config(build, params=None, **sections):
    model = {"kind": "custom", "build": build, "params": params or {}}
    return validate_dict({"data": {"source": "wine"}, "model": model, **sections})


def build(config, data, values=None, normalize="standard"):
    return build_model(config, values or {}, data, 10, data.normalization(normalize))


class Recorder:
    """A builder (the Python API's callable form) that keeps what it was given."""

    def __init__(self):
        self.calls: list[tuple[dict, DataSpec]] = []

    def __call__(self, params, data):
        self.calls.append((params, data))
        inputs = keras.Input(shape=data.input_shape)
        x = keras.layers.Flatten()(inputs)
        outputs = keras.layers.Dense(data.output_units, activation=data.output_activation)(x)
        return keras.Model(inputs, outputs)


def test_params_hold_the_trials_own_keys_and_the_regularization_values():
    recorder = Recorder()
    config = custom_config(
        recorder,
        {"units": [32, 64], "cell": ["lstm", "gru"], "depth": 2},
        regularization={"l1": 0.0, "l2": [1.0e-4, 1.0e-3], "dropout": 0.25},
    )
    values = {"model.params.units": 64, "model.params.cell": "gru", "regularization.l2": 1.0e-3}
    build(config, dataset(), values)
    params, _ = recorder.calls[-1]
    assert params == {
        "units": 64, "cell": "gru", "depth": 2,
        "regularization.l1": 0.0, "regularization.l2": 1.0e-3, "regularization.dropout": 0.25,
    }  # fmt: skip
    assert type(params) is dict


@pytest.mark.parametrize(
    "task, classes, expected",
    [
        ("binary", 2, (("c0", "c1"), 1, "sigmoid", "binary_crossentropy")),
        (
            "multiclass",
            4,
            (("c0", "c1", "c2", "c3"), 4, "softmax", "sparse_categorical_crossentropy"),
        ),
        ("regression", 0, (None, 1, None, "mse")),
    ],
)
def test_data_spec_describes_the_task_tunenets_loss_expects(task, classes, expected):
    recorder = Recorder()
    model = build(custom_config(recorder), dataset(task, (8, 8), classes))
    data = recorder.calls[-1][1]
    assert isinstance(data, tunenet.DataSpec)
    assert data.input_shape == (8, 8) and data.task == task and data.input_dtype == "float32"
    assert (data.classes, data.output_units, data.output_activation, data.loss) == expected
    assert model.loss == data.loss
    with pytest.raises(AttributeError):
        data.task = "regression"  # frozen


def test_normalization_comes_first_and_the_model_is_compiled_with_the_optimizer_section():
    config = custom_config(
        f"{BUILDERS / 'two_branch.py'}:build",
        {"units": 8},
        optimizer={"name": "momentum", "learning_rate": 0.05, "momentum": 0.8},
    )
    model = build(config, dataset())
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputLayer", "Normalization", "Functional"
    ]  # fmt: skip
    assert model.layers[2].name == "two_branch"
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert float(model.optimizer.momentum) == pytest.approx(0.8)
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.05)
    assert model.loss == "sparse_categorical_crossentropy"
    raw = np.full((2, 4), 1000.0, dtype="float32")  # raw inputs: normalized inside the model
    assert model.predict(raw, verbose=0).shape == (2, 3)


def test_without_normalization_the_users_functional_model_is_the_model():
    config = custom_config(f"{BUILDERS / 'lstm.py'}:build", {"units": 4})
    model = build(config, dataset(shape=(8, 8)), normalize="none")
    assert model.name == "sequence_model"
    assert "recurrent" in [layer.name for layer in model.layers]


def test_a_raising_builder_fails_with_its_message_and_line():
    config = custom_config(f"{BUILDERS / 'broken.py'}:raises", {"units": [3, 5]})
    with pytest.raises(ModelBuildError) as caught:
        build(config, dataset(), {"model.params.units": 3})
    message = str(caught.value)
    assert message.startswith("model.build raises raised ValueError: units must be even, got 3")
    assert message.endswith("(broken.py:7)")


def test_a_builder_returning_something_else_than_a_model_is_named():
    config = custom_config(f"{BUILDERS / 'broken.py'}:not_a_model", {"units": 3})
    with pytest.raises(ModelBuildError, match=r"returned dict, expected a keras\.Model"):
        build(config, dataset())


def test_a_wrong_output_shape_names_the_expected_and_the_actual_shape():
    config = custom_config(f"{BUILDERS / 'broken.py'}:wrong_shape")
    with pytest.raises(ModelBuildError) as caught:
        build(config, dataset())
    message = str(caught.value)
    assert "output shape is (None, 7)" in message
    assert "a multiclass task needs (None, 3)" in message
    assert "Dense(data.output_units, activation='softmax')" in message


def test_a_model_that_cannot_take_the_input_shape_says_so():
    def flat_only(params, data):
        inputs = keras.Input(shape=(99,))
        return keras.Model(inputs, keras.layers.Dense(data.output_units)(inputs))

    with pytest.raises(ModelBuildError, match=r"cannot take inputs of shape \(None, 4\)"):
        build(custom_config(flat_only), dataset("regression", classes=0))


def test_a_sequential_model_is_nested_behind_the_input():
    config = custom_config(f"{BUILDERS / 'broken.py'}:sequential")
    model = build(config, dataset(shape=(8, 3)), normalize="none")
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Sequential"]
    assert model.input.shape == (None, 8, 3)


def test_layers_with_weights_are_monitored_nested_and_recurrent_ones_included():
    config = custom_config(f"{BUILDERS / 'lstm.py'}:build", {"units": 5})
    found = monitored_layers(build(config, dataset(shape=(8, 8))))
    assert [(m.layer.name, m.kind, m.units, m.activation) for m in found] == [
        ("recurrent", "lstm", 5, None),
        ("head", "dense", 8, "relu"),
        ("output", "dense", 3, None),  # the prediction: the task's activation, not measured
    ]
    config = custom_config(f"{BUILDERS / 'two_branch.py'}:build", {"units": 4})
    found = monitored_layers(build(config, dataset()))
    assert [(m.layer.name, m.activation) for m in found] == [
        ("deep_1", "relu"), ("deep_2", "tanh"), ("wide", None), ("output", None)
    ]  # fmt: skip


def test_the_dense_family_flattens_sequences():
    config = validate_dict({"data": {"source": "wine"}, "model": {"layers": 1, "units": 4}})
    model = build(config, dataset(shape=(8, 8)))
    assert [type(layer).__name__ for layer in model.layers][:3] == [
        "InputLayer", "Normalization", "Flatten"
    ]  # fmt: skip
    assert [m.kind for m in monitored_layers(model)] == ["dense", "dense"]


def test_token_ids_reach_an_embedding_as_integers_and_its_layers_are_measured():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 50, size=(40, 6)).astype("int32")
    y = rng.integers(0, 2, size=40).astype("int32")
    data = Dataset("test", "binary", ["a", "b"], [], x, y, x[:5], y[:5], x[:5], y[:5])
    config = custom_config(f"{BUILDERS / 'tokens.py'}:build", {"dim": 5})
    model = build(config, data, normalize="none")
    assert model.input.dtype == "int32"
    monitor = LayerMonitor(Rows(), "0", 0, probe_batch(data, None, seed=0))
    monitor.set_model(model)
    monitor.on_epoch_begin(0)
    model.optimizer.apply(
        [keras.ops.ones_like(weight) * 0.01 for weight in model.trainable_weights],
        model.trainable_weights,
    )  # one step, so that the update ratio is above 0
    monitor.on_epoch_end(0)
    rows = monitor.log.rows
    assert [(row["layer"], row["kind"], row["units"]) for row in rows] == [
        ("embed", "embedding", 5), ("gru", "gru", 3), ("output", "dense", 1)
    ]  # fmt: skip
    for row in rows:  # an Embedding's gradient comes as IndexedSlices: still one norm
        assert row["grad_norm"] > 0 and row["update_ratio"] > 0
        assert row["dead_fraction"] is None and row["saturated_fraction"] is None


class Rows:
    def __init__(self):
        self.rows: list[dict] = []

    def append(self, row: dict) -> None:
        self.rows.append(row)


def test_a_builder_file_that_fails_on_import_fails_the_trial_with_the_import_error(tmp_path):
    builder = tmp_path / "model.py"
    builder.write_text(
        "import keras\nraise RuntimeError('no GPU here')\n\ndef build(params, data):\n    pass\n"
    )
    with pytest.raises(ModelBuildError) as caught:
        build(custom_config(f"{builder}:build"), dataset())
    message = str(caught.value)
    assert message.startswith(
        f"model.build: {builder}: importing it raised RuntimeError: no GPU here"
    )
    assert "line 2" in message
