"""The user's own model (`model.kind: custom`, docs/custom-models.md): what the builder is given
(`DataSpec`, its params) and the checks on what it returns.

`models.build.build_model` puts tunenet's input preprocessing in front of the returned model and
compiles it as for a built-in family. Keras is imported inside the functions only, so that
`tunenet.DataSpec` (this module's) stays as light as `import tunenet`.
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from tunenet.config import user_code
from tunenet.config.sections import Config
from tunenet.config.space import value_of
from tunenet.errors import printable

REGULARIZATION = ("regularization.l1", "regularization.l2", "regularization.dropout")


@dataclass(frozen=True)
class DataSpec:
    """What a `model.build` function is told about the data (its second argument, `data`).

    Attributes:
        input_shape: one example's shape, without the batch axis: (features,) for a table,
            (steps, features) for sequences, (height, width, channels) for images. The shape the
            model's `keras.Input` takes (after tunenet's normalization, which comes first).
        task: binary, multiclass or regression.
        classes: the class labels in the order of the output units, or None for regression.
        output_units: the units of the model's last layer: 1 (binary, regression) or the number
            of classes.
        output_activation: the last layer's activation tunenet's loss expects: sigmoid (binary),
            softmax (multiclass) or None (regression: linear).
        loss: the loss tunenet compiles the model with (binary_crossentropy,
            sparse_categorical_crossentropy or mse).
        input_dtype: float32, or int32 / int64 for integer token ids (for an Embedding):
            `keras.Input(shape=data.input_shape, dtype=data.input_dtype)`.
    """

    input_shape: tuple[int, ...]
    task: str
    classes: Optional[tuple[str, ...]]
    output_units: int
    output_activation: Optional[str]
    loss: str
    input_dtype: str = "float32"


class ModelBuildError(Exception):
    """The builder raised, or returned something tunenet cannot train: that trial fails with
    this message (trials.csv `message`), and the search goes on."""


def builder_params(config: Config, values: dict) -> dict[str, Any]:
    """The builder's `params`: this trial's value of each `model.params.<name>` by `<name>`, then
    `regularization.l1`, `regularization.l2`, `regularization.dropout` (tuned or fixed)."""
    own = getattr(config.model, "params", None) or {}
    params = {name: value_of(config, values, f"model.params.{name}") for name in own}
    params.update({key: value_of(config, values, key) for key in REGULARIZATION})
    return params


def builder_function(config: Config) -> Callable:
    """The `model.build` function: a callable given in the Python API, or imported from its
    file or module (once per process and file content, `user_code.import_function`)."""
    build = config.model.build
    if callable(build):
        return build
    spec = build if isinstance(build, user_code.UserFunction) else user_code.parse_spec(build)
    try:
        return user_code.import_function(spec, "model.build")
    except user_code.UserCodeError as error:
        raise ModelBuildError(str(error)) from None


def call_builder(build: Callable, params: dict, data: DataSpec) -> Any:
    """`build(params, data)`; its exception becomes a ModelBuildError naming it and the line of
    the user's code that raised it."""
    try:
        return build(dict(params), data)
    except Exception as error:
        text = printable(str(error)).strip().splitlines()
        message = f"{type(error).__name__}: {text[0] if text else '(no message)'}"
        raise ModelBuildError(
            f"model.build {_name(build)} raised {message}{_user_line(error)}"
        ) from error


def check_model(model: Any, data: DataSpec, build: Callable) -> Any:
    """`model` when it is a keras.Model; else a ModelBuildError saying what came back."""
    import keras

    if isinstance(model, keras.Model):
        return model
    shown = type(model).__name__ if model is not None else "None"
    raise ModelBuildError(
        f"model.build {_name(build)} returned {shown}, expected a keras.Model "
        f"(end the function with `return keras.Model(inputs, outputs)`)"
    )


def check_output(outputs: Any, data: DataSpec, build: Callable) -> Any:
    """The model's output tensor, when it is one tensor of shape (batch, data.output_units);
    else a ModelBuildError with the expected and the actual shape."""
    if isinstance(outputs, (list, tuple, dict)):
        raise ModelBuildError(
            f"model.build {_name(build)} returned a model with {len(outputs)} outputs; "
            f"tunenet trains one output of shape (None, {data.output_units})"
        )
    got = tuple(outputs.shape)
    expected = (None, data.output_units)
    if got[1:] != expected[1:]:
        activation = f", activation={data.output_activation!r}" if data.output_activation else ""
        raise ModelBuildError(
            f"model.build {_name(build)} returned a model whose output shape is {_shape(got)}; "
            f"a {data.task} task needs {_shape(expected)}: end it with "
            f"keras.layers.Dense(data.output_units{activation}) "
            f"(data.output_units = {data.output_units})"
        )
    return outputs


def _shape(shape: tuple) -> str:
    return "(" + ", ".join("None" if size is None else str(size) for size in shape) + ")"


def _name(build: Callable) -> str:
    return getattr(build, "__qualname__", None) or type(build).__name__


def _user_line(error: BaseException) -> str:
    """` (file.py:12)`: the innermost frame of the traceback outside tunenet, Keras and
    TensorFlow (the user's own line), or empty."""
    frames = traceback.extract_tb(error.__traceback__)
    own = [frame for frame in frames if not frame.filename.startswith(_library_dirs())]
    if not own:
        return ""
    return f" ({printable(Path(own[-1].filename).name)}:{own[-1].lineno})"


def _library_dirs() -> tuple[str, ...]:
    """The directories of tunenet's, Keras' and TensorFlow's own code."""
    found = []
    for name in ("tunenet", "keras", "tensorflow", "keras_tuner"):
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__file__", None):
            found.append(str(Path(module.__file__).parent))
    return tuple(found)
