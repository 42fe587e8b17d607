"""One trial's hyperparameters + the Dataset -> a compiled keras.Model (pure Keras).

The input normalization fitted on the training split is a layer of the model, so the saved
model takes raw inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import keras
import numpy as np

from tunenet import cnn
from tunenet.config import Config
from tunenet.data import Dataset
from tunenet.space import value_of


@dataclass(frozen=True)
class Task:
    """Output layer, loss and metrics of a task."""

    units: int
    activation: Optional[str]
    loss: str
    metrics: tuple[str, ...]


def task_spec(dataset: Dataset) -> Task:
    if dataset.task == "binary":
        return Task(1, "sigmoid", "binary_crossentropy", ("accuracy",))
    if dataset.task == "multiclass":
        return Task(
            len(dataset.classes), "softmax", "sparse_categorical_crossentropy", ("accuracy",)
        )
    return Task(1, None, "mse", ("mae", "mse"))


def target_scale(dataset: Dataset) -> Optional[tuple[float, float]]:
    """(mean, std) of the training target for regression, which trains on the standardized target.

    Standardizing keeps the loss near 1 whatever the target's units, so learning rates mean the
    same on every dataset; the saved model rescales its output back (see `export_model`).
    """
    if dataset.task != "regression":
        return None
    mean, std = float(np.mean(dataset.y_train)), float(np.std(dataset.y_train))
    return mean, std if std > 0 else 1.0


def export_model(model: keras.Model, scale: Optional[tuple[float, float]]) -> keras.Model:
    """The model as saved: for regression, outputs back in the target's own units."""
    if scale is None:
        return model
    mean, std = scale
    name = LayerNames(layer.name for layer in model.layers)("target_units")
    outputs = keras.layers.Rescaling(scale=std, offset=mean, name=name)(model.output)
    exported = keras.Model(model.input, outputs, name=model.name)
    # The trained optimizer, whose state covers the same weights: a fresh default one would be
    # saved unbuilt and Keras would warn on every load that it skips its variables.
    exported.compile(optimizer=model.optimizer, loss="mse", metrics=["mae", "mse"])
    return exported


def load_best_model(path: Any) -> keras.Model:
    """Load a saved model with Keras' safe mode (no code from the file is run)."""
    return keras.models.load_model(path, safe_mode=True)


def metric_names(dataset: Dataset) -> list[str]:
    """Keras log keys of a trial's epochs, in the order the CSV files use."""
    names = ["loss", "val_loss"]
    for metric in task_spec(dataset).metrics:
        names += [metric, f"val_{metric}"]
    return names


class LayerNames:
    """Names for tunenet's own layers that no CSV column input has taken.

    With text columns each column is an input named by the column (the saved model takes
    `{column: values}`), so a column may be called `output` or `dense_0`: then tunenet's own
    layer gets a trailing `_` instead (`output_`).
    """

    def __init__(self, taken: Any = ()):
        self.taken = set(taken)

    def __call__(self, name: str) -> str:
        while name in self.taken:
            name += "_"
        self.taken.add(name)
        return name


class Params:
    """Reads a key's value for one trial: tuned when drawn, fixed from the config otherwise."""

    def __init__(self, config: Config, values: dict):
        self.config, self.values = config, values

    def __getitem__(self, name: str) -> Any:
        return value_of(self.config, self.values, name)


def build_model(
    config: Config,
    values: dict,
    dataset: Dataset,
    steps_per_epoch: int,
    normalization: Optional[tuple[np.ndarray, np.ndarray]] = None,
) -> keras.Model:
    """Build and compile the model of one trial.

    Args:
        config: the validated config.
        values: the trial's hyperparameter values, by dotted name.
        dataset: the split data (input shape, task, classes).
        steps_per_epoch: batches per epoch, for learning-rate schedules.
        normalization: (mean, variance) fitted on the training split, or None.
    """
    params = Params(config, values)
    names = LayerNames(dataset.feature_names if dataset.columns else ())
    inputs, x = input_block(dataset, normalization, names)
    if config.data.augmentation is not None and len(x.shape) == 4:  # images only
        x = cnn.augmentation_block(x, params)
    x = cnn.cnn_body(x, params) if config.model.kind == "cnn" else _dense_body(x, params, names)
    task = task_spec(dataset)
    output = keras.layers.Dense(task.units, activation=task.activation, name=names("output"))
    outputs = output(x)
    model = keras.Model(inputs, outputs, name="tunenet")
    model.compile(
        optimizer=build_optimizer(params, steps_per_epoch, config.training.epochs),
        loss=task.loss,
        metrics=list(task.metrics),
        steps_per_execution=max(1, min(steps_per_epoch, 32)),
    )
    return model


def input_block(
    dataset: Dataset,
    normalization: Optional[tuple[np.ndarray, np.ndarray]],
    names: Optional[LayerNames] = None,
) -> tuple[Any, Any]:
    """The model's input and its preprocessing (normalization fitted on the training split).

    Arrays give one input named `inputs`. A CSV with text columns gives one input per column,
    named by the column (see `_column_inputs`), so the saved model predicts from raw rows.
    """
    if dataset.columns:
        return _column_inputs(dataset, normalization, names or LayerNames(dataset.feature_names))
    inputs = keras.Input(shape=dataset.input_shape, name="inputs")
    x = inputs
    if normalization is not None:
        mean, variance = normalization
        x = keras.layers.Normalization(mean=mean, variance=variance, name="normalize")(x)
    return inputs, x


def _column_inputs(
    dataset: Dataset, normalization: Optional[tuple[np.ndarray, np.ndarray]], names: LayerNames
) -> tuple[dict[str, Any], Any]:
    """One input per CSV column: numeric columns are normalized together; each text column is
    one-hot encoded by a StringLookup holding its training categories (unseen ones share an
    out-of-vocabulary slot). The model then takes `{column: array (n,)}`, text as str objects.
    """
    inputs: dict[str, Any] = {}
    numeric, encoded = [], []
    for name in dataset.feature_names:
        vocabulary = dataset.vocabularies.get(name)
        if vocabulary is None:
            inputs[name] = keras.Input(shape=(1,), name=name)
            numeric.append(inputs[name])
            continue
        inputs[name] = keras.Input(shape=(1,), dtype="string", name=name)
        lookup = keras.layers.StringLookup(
            vocabulary=vocabulary, output_mode="one_hot", name=names(f"lookup_{name}")
        )
        encoded.append(lookup(inputs[name]))
    parts = []
    if numeric:
        x = numeric[0]
        if len(numeric) > 1:
            x = keras.layers.Concatenate(name=names("numeric"))(numeric)
        if normalization is not None:
            mean, variance = normalization
            x = keras.layers.Normalization(mean=mean, variance=variance, name=names("normalize"))(x)
        parts.append(x)
    parts += encoded
    x = parts[0] if len(parts) == 1 else keras.layers.Concatenate(name=names("columns"))(parts)
    return inputs, x


def _regularizer(params: Params) -> Optional[keras.regularizers.Regularizer]:
    l1, l2 = float(params["regularization.l1"]), float(params["regularization.l2"])
    if l1 == 0 and l2 == 0:
        return None
    return keras.regularizers.L1L2(l1=l1, l2=l2)


def activation_layer(name: str, label: str) -> keras.layers.Layer:
    if name == "leaky_relu":
        return keras.layers.LeakyReLU(name=label)
    return keras.layers.Activation(name, name=label)


def _dense_body(x: Any, params: Params, names: Optional[LayerNames] = None) -> Any:
    """Hidden dense layers: Dense -> [BatchNorm] -> activation -> [Dropout]."""
    names = names or LayerNames()
    flat = len(x.shape) > 2
    if flat:
        x = keras.layers.Flatten(name=names("flatten"))(x)
    dropout = float(params["regularization.dropout"])
    for index in range(int(params["model.layers"])):
        x = keras.layers.Dense(
            int(params[f"model.units.{index}"]),
            kernel_initializer=params["model.initializer"],
            kernel_regularizer=_regularizer(params),
            use_bias=not params["model.batch_norm"],
            name=names(f"dense_{index}"),
        )(x)
        if params["model.batch_norm"]:
            x = keras.layers.BatchNormalization(name=names(f"batch_norm_{index}"))(x)
        x = activation_layer(params["model.activation"], names(f"activation_{index}"))(x)
        if dropout > 0:
            x = keras.layers.Dropout(dropout, name=names(f"dropout_{index}"))(x)
    return x


def learning_rate(params: Params, steps_per_epoch: int, epochs: int) -> Any:
    """A float, or a Keras schedule that decays per epoch (exponential, step) or over training."""
    rate = float(params["optimizer.learning_rate"])
    schedule = params["optimizer.schedule"]
    if schedule == "constant":
        return rate
    if schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(rate, decay_steps=steps_per_epoch * epochs)
    decay_rate = float(params["optimizer.decay_rate"])
    if schedule == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(rate, steps_per_epoch, decay_rate)
    every = steps_per_epoch * int(params["optimizer.decay_epochs"])
    return keras.optimizers.schedules.ExponentialDecay(rate, every, decay_rate, staircase=True)


def build_optimizer(params: Params, steps_per_epoch: int, epochs: int) -> keras.Optimizer:
    """The optimizer named by `optimizer.name`, with its schedule and clipping."""
    name = params["optimizer.name"]
    rate = learning_rate(params, steps_per_epoch, epochs)
    clip = params["optimizer.clipnorm"]
    common: dict[str, Any] = {"learning_rate": rate}
    if clip is not None:
        common["clipnorm"] = float(clip)
    momentum = (
        float(params["optimizer.momentum"]) if name in ("momentum", "nesterov", "rmsprop") else 0.0
    )
    if name == "sgd":
        return keras.optimizers.SGD(**common)
    if name in ("momentum", "nesterov"):
        return keras.optimizers.SGD(momentum=momentum, nesterov=name == "nesterov", **common)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(momentum=momentum, **common)
    optimizers = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "adagrad": keras.optimizers.Adagrad,
    }
    return optimizers[name](**common)
