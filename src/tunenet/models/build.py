"""One trial's hyperparameters + the Dataset -> a compiled keras.Model (pure Keras).

The input normalization fitted on the training split is a layer of the model, so the saved
model takes raw inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import keras
import numpy as np

from tunenet.config.objective import compiled_metrics
from tunenet.config.sections import Config
from tunenet.data.dataset import Dataset
from tunenet.models.augmentation import augmentation_block
from tunenet.models.blocks import LayerNames, Params
from tunenet.models.cnn import cnn_body
from tunenet.models.custom import (
    DataSpec,
    ModelBuildError,
    builder_function,
    builder_params,
    call_builder,
    check_model,
    check_output,
)
from tunenet.models.dense import dense_body
from tunenet.models.optimizers import build_optimizer


@dataclass(frozen=True)
class Task:
    """Output layer, loss and metrics of a task."""

    units: int
    activation: Optional[str]
    loss: str
    metrics: tuple[str, ...]


def task_spec(dataset: Dataset, extra: tuple[str, ...] = ()) -> Task:
    """The task's output, loss and metrics; `extra`: the optional metrics the objective or
    early stopping watch (`config.objective.compiled_metrics`: auc, pr_auc)."""
    if dataset.task == "binary":
        return Task(1, "sigmoid", "binary_crossentropy", ("accuracy", *extra))
    if dataset.task == "multiclass":
        metrics = ("accuracy", *extra)
        return Task(len(dataset.classes), "softmax", "sparse_categorical_crossentropy", metrics)
    return Task(1, None, "mse", ("mae", "mse"))


def metric_names(dataset: Dataset, config: Optional[Config] = None) -> list[str]:
    """Keras log keys of a trial's epochs, in the order the CSV files use. With `config`, the
    optional metrics its objective or early stopping watch (val_auc: auc, val_auc) too."""
    extra = compiled_metrics(config, dataset.task) if config is not None else ()
    names = ["loss", "val_loss"]
    for metric in task_spec(dataset, extra).metrics:
        names += [metric, f"val_{metric}"]
    return names


def keras_metric(name: str, dataset: Dataset) -> Any:
    """The Keras metric a metric name of `task_spec` compiles to. AUC and PR-AUC of a softmax
    output are one-vs-rest, micro-averaged (`SparseAUC`)."""
    if name not in ("auc", "pr_auc"):
        return name
    curve = "PR" if name == "pr_auc" else "ROC"
    if dataset.task == "multiclass":
        return SparseAUC(classes=len(dataset.classes), curve=curve, name=name)
    return keras.metrics.AUC(curve=curve, name=name)


@keras.saving.register_keras_serializable(package="tunenet")
class SparseAUC(keras.metrics.AUC):
    """AUC of a softmax output against integer labels: the labels are one-hot encoded and every
    (example, class) pair counts as one binary decision (one-vs-rest, micro-averaged).

    The saved best model is compiled without it (`plain_metrics`), so that
    `keras.models.load_model` needs no tunenet.
    """

    def __init__(self, classes: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.classes = int(classes)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
        one_hot = keras.ops.one_hot(labels, self.classes)
        if sample_weight is not None:  # one weight per example, for each of its classes
            weights = keras.ops.reshape(keras.ops.cast(sample_weight, "float32"), (-1, 1))
            sample_weight = keras.ops.broadcast_to(weights, keras.ops.shape(one_hot))
        return super().update_state(one_hot, y_pred, sample_weight)

    def get_config(self) -> dict:
        return {**super().get_config(), "classes": self.classes}


def plain_metrics(model: keras.Model, config: Config, dataset: Dataset) -> keras.Model:
    """`model` compiled again with its task's built-in metrics only (its trained optimizer
    kept) when it was compiled with `SparseAUC`: the saved file then loads without tunenet."""
    if dataset.task != "multiclass" or not compiled_metrics(config, dataset.task):
        return model
    task = task_spec(dataset)
    model.compile(optimizer=model.optimizer, loss=task.loss, metrics=list(task.metrics))
    return model


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
    task = task_spec(dataset, compiled_metrics(config, dataset.task))
    if config.model.kind == "custom":
        model = custom_model(config, values, dataset, task, (inputs, x))
    else:
        if config.data.augmentation is not None and len(x.shape) == 4:  # images only
            x = augmentation_block(x, params)
        x = cnn_body(x, params) if config.model.kind == "cnn" else dense_body(x, params, names)
        output = keras.layers.Dense(task.units, activation=task.activation, name=names("output"))
        model = keras.Model(inputs, output(x), name="tunenet")
    model.compile(
        optimizer=build_optimizer(params, steps_per_epoch, config.training.epochs),
        loss=task.loss,
        metrics=[keras_metric(name, dataset) for name in task.metrics],
        steps_per_execution=max(1, min(steps_per_epoch, 32)),
    )
    return model


def custom_model(
    config: Config, values: dict, dataset: Dataset, task: Task, preprocessed: tuple[Any, Any]
) -> keras.Model:
    """The `model.build` function's model of one trial (docs/custom-models.md), uncompiled.

    The builder is given `x`'s shape: after tunenet's preprocessing (normalization, a CSV's
    text columns encoded), which is put in front of its model when there is any, so that the
    saved model takes raw inputs as for a built-in family. Raises ModelBuildError when the
    builder raises or returns something else than one keras.Model of the task's output shape.
    """
    inputs, x = preprocessed
    spec = DataSpec(
        input_shape=tuple(int(size) for size in x.shape[1:]),
        input_dtype=str(x.dtype),
        task=dataset.task,
        classes=None if dataset.task == "regression" else tuple(dataset.classes),
        output_units=task.units,
        output_activation=task.activation,
        loss=task.loss,
    )
    build = builder_function(config)
    model = check_model(call_builder(build, builder_params(config, values), spec), spec, build)
    try:
        outputs = model(x)
    except Exception as error:  # the model does not take the input shape it was told
        raise ModelBuildError(
            f"model.build's model cannot take inputs of shape (None, "
            f"{', '.join(str(size) for size in spec.input_shape)}) (data.input_shape): "
            f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error) else ''}"
        ) from error
    check_output(outputs, spec, build)
    if x is inputs and _functional(model):  # the user's own model, its layers at the top level
        return model
    return keras.Model(inputs, outputs, name="tunenet")


def _functional(model: keras.Model) -> bool:
    """Whether `model` is a functional graph of layers, whose `input` and layers' outputs the
    layer monitor and the export read. A sequential model is not (called on tunenet's input,
    its `input` becomes that tensor), nor a subclassed one: both are nested in tunenet's."""
    if isinstance(model, keras.Sequential):
        return False
    try:
        return len(model.inputs) == 1 and len(model.outputs) == 1
    except (AttributeError, ValueError):
        return False


def input_block(
    dataset: Dataset,
    normalization: Optional[tuple[np.ndarray, np.ndarray]],
    names: LayerNames,
) -> tuple[Any, Any]:
    """The model's input and its preprocessing (normalization fitted on the training split).

    Arrays give one input named `inputs`. A CSV with text columns gives one input per column,
    named by the column (see `_column_inputs`), so the saved model predicts from raw rows.
    """
    if dataset.columns:
        return _column_inputs(dataset, normalization, names)
    inputs = keras.Input(shape=dataset.input_shape, dtype=dataset.input_dtype, name="inputs")
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
