"""How big the largest model of a search space is, without TensorFlow: parameters and bytes.

`tunenet validate` (and `tunenet search`, before anything trains) refuses a space whose largest
model has more parameters than `search.max_model_params`. The count is the one Keras gives
(`model.count_params()`: trainable and non-trainable weights) for the layers tunenet builds
(`dense.py`, `cnn.py`, `blocks.py`): Dense and Conv2D kernels and biases, 4 weights per unit of
batch normalization, and the output layer. Normalization, one-hot lookups, pooling, dropout and
augmentation layers hold no counted weights here.

The input shape comes from the data without reading it: built-in and Keras datasets have known
shapes, images are `data.image_size` x channels, an npz file's `x` shape is in its header, and a
csv file's header gives the feature columns. A csv's text columns are one-hot encoded inside the
model into more inputs than one; the estimate counts one input per column, a lower bound. The
output layer has one unit per class when the classes are known (built-in datasets, class
folders of images), else one (a lower bound).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from tunenet.config.sections import Config
from tunenet.config.space import param_values
from tunenet.data.csv_file import header_names
from tunenet.data.npz_file import bytes_text, header_shapes
from tunenet.errors import TunenetError
from tunenet.models.shapes import cnn_input_shape, known_input_shape, output_size, value_ends

FLOAT32_BYTES = 4
# Output units of the sources whose classes the config determines (binary and regression: 1).
KNOWN_OUTPUTS = {"digits": 10, "iris": 3, "wine": 3, "keras:mnist": 10,
                 "keras:fashion_mnist": 10, "keras:cifar10": 10}  # fmt: skip
SINGLE_OUTPUT = ("circles", "moons", "breast_cancer", "diabetes")  # binary or regression


@dataclass(frozen=True)
class Estimate:
    """The largest model of a space.

    Attributes:
        params: its parameter count (Keras' `count_params()`).
        settings: the values of the space that give it, by dotted key.
        input_shape: the input shape it was computed for.
        lower_bound: True when the input or output size is a lower bound (csv text columns,
            unknown classes), so the real model may be larger.
    """

    params: int
    settings: dict[str, Any]
    input_shape: tuple[int, ...]
    lower_bound: bool = False

    @property
    def bytes(self) -> int:
        """The parameters' size as float32."""
        return self.params * FLOAT32_BYTES


def params_text(count: int) -> str:
    """A parameter count in words: 12,345,678 or 1.2e12."""
    if count < 10**9:
        return f"{count:,}"
    exponent = math.floor(math.log10(count))
    return f"{count / 10**exponent:.1f}e{exponent}"


# ---------------------------------------------------------------- the input shape


def data_shape(config: Config) -> tuple[Optional[tuple[int, ...]], int, bool]:
    """(input shape or None when unknown, output units, whether either is a lower bound).

    Reads at most a file's header: an npz file's array header, a csv file's first line.
    """
    data = config.data
    outputs, exact = _outputs(config)
    shape = known_input_shape(config)
    if shape is None and data.source == "npz" and data.path:
        shape = _npz_shape(config)
    if shape is None and data.source == "csv" and data.path:
        features = _csv_features(config)
        shape, exact = (None if features is None else (features,)), False
    return shape, outputs, not exact


def _outputs(config: Config) -> tuple[int, bool]:
    """The output layer's units, and whether that is known (else 1, a lower bound)."""
    data = config.data
    if data.task in ("binary", "regression") or data.source in SINGLE_OUTPUT:
        return 1, True
    if data.source in KNOWN_OUTPUTS:
        return KNOWN_OUTPUTS[data.source], True
    if data.source == "images" and data.path:
        classes = _class_folders(Path(data.path).expanduser())
        return (classes if classes > 2 else 1), classes > 0
    return 1, False


def _class_folders(folder: Path) -> int:
    try:
        with os.scandir(folder) as entries:
            return sum(1 for e in entries if e.is_dir() and not e.name.startswith("."))
    except OSError:
        return 0


def _regular_file(path: str) -> Optional[Path]:
    """The data file, when it is a regular file (a FIFO would block; the data check says so)."""
    found = Path(path).expanduser()
    return found if found.is_file() else None


def _npz_shape(config: Config) -> Optional[tuple[int, ...]]:
    """The model's input shape from the npz header of `x` (as `dataset.as_images` shapes it)."""
    path = _regular_file(config.data.path)
    try:
        shapes = header_shapes(path) if path else {}
    except (OSError, ValueError):
        return None  # the data check says what is wrong with the file
    x = shapes.get("x", shapes.get("x_train"))
    if x is None or not x:
        return None
    inner = tuple(x[1:]) or (1,)
    return cnn_input_shape(inner) if config.model.kind == "cnn" else inner


def _csv_features(config: Config) -> Optional[int]:
    """The number of feature columns, from the csv header (each text column counted once)."""
    if config.data.features:
        return len(config.data.features)
    path = _regular_file(config.data.path)
    try:
        names = header_names(path) if path else []
    except (OSError, ValueError, TunenetError):
        return None  # the data check says what is wrong with the file
    named = [name for name in names if name and name != config.data.target]
    return len(named) or None


# ---------------------------------------------------------------- the largest model


def largest_model(
    config: Config, input_shape: tuple[int, ...], outputs: int = 1
) -> Optional[Estimate]:
    """The largest model of the space on this input, or None when none can be built.

    Every model grows with the units, filters, dense_units and batch norm, so their largest
    values are taken; the layer counts and (cnn) the kernel sizes' ends are tried one by one,
    since more blocks or a larger kernel also shrink the image that the dense head sees.
    """
    model = config.model
    if model.kind == "custom":
        return None  # its builder alone knows its layers
    batch_norm = True in param_values(model.batch_norm)
    if model.kind == "cnn":  # on a flat input it cannot be built: `shapes.fit_problems` says so
        return (
            _largest_cnn(config, input_shape, outputs, batch_norm)
            if len(input_shape) == 3
            else None
        )
    width = value_ends(model.units)[-1]
    features = math.prod(input_shape)
    best = None
    for layers in sorted(set(param_values(model.layers))):
        params = _dense_params(features, [width] * layers, outputs, batch_norm)
        if best is None or params > best[0]:
            best = (params, {"model.layers": layers, "model.units": width})
    params, settings = best
    if batch_norm and settings["model.layers"] > 0:
        settings["model.batch_norm"] = True
    return Estimate(params, settings, tuple(input_shape))


def _dense_params(features: int, widths: list[int], outputs: int, batch_norm: bool) -> int:
    """Dense layers of these widths, then the output layer."""
    total, inputs = 0, features
    for width in widths:
        total += inputs * width + (4 * width if batch_norm else width)
        inputs = width
    return total + inputs * outputs + outputs


def _largest_cnn(
    config: Config, input_shape: tuple[int, ...], outputs: int, batch_norm: bool
) -> Optional[Estimate]:
    model = config.model
    padding = "same" if "same" in param_values(model.padding) else "valid"
    pooling = "none" if "none" in param_values(model.pooling) else "max"
    fixed = {
        "filters": value_ends(model.filters)[-1],
        "dense_units": value_ends(model.dense_units)[-1],
        "strides": value_ends(model.strides)[0],
        "padding": padding,
        "pooling": pooling,
    }  # fmt: skip
    best = None
    for layers in sorted(set(param_values(model.layers))):
        for kernel in value_ends(model.kernel_size):
            params = _cnn_params(config, input_shape, outputs, batch_norm, layers, kernel, fixed)
            if params is not None and (best is None or params > best[0]):
                best = (params, layers, kernel)
    if best is None:
        return None
    params, layers, kernel = best
    settings = {"model.layers": layers, "model.filters": fixed["filters"],
                "model.kernel_size": kernel, "model.dense_units": fixed["dense_units"]}  # fmt: skip
    return Estimate(params, settings, tuple(input_shape))


def _cnn_params(
    config: Config,
    input_shape: tuple[int, ...],
    outputs: int,
    batch_norm: bool,
    layers: int,
    kernel: int,
    fixed: dict,
) -> Optional[int]:
    """Conv blocks (cnn.py), the flatten or global pooling, the dense head and the output."""
    height, width, channels = input_shape
    sides = [
        output_size(side, layers, kernel, fixed["strides"], fixed["padding"], fixed["pooling"])
        for side in (height, width)
    ]
    if any(side and side[-1] < 1 for side in sides):
        return None  # `shapes.fit_problems` says why
    growth = config.model.filters_growth
    total, inputs = 0, channels
    for index in range(layers):
        filters = fixed["filters"]
        if growth:
            filters = max(1, int(round(filters * growth**index)))
        total += kernel * kernel * inputs * filters + (4 * filters if batch_norm else filters)
        inputs = filters
    out_height = sides[0][-1] if sides[0] else height
    out_width = sides[1][-1] if sides[1] else width
    flat = inputs if config.model.global_pooling else out_height * out_width * inputs
    head = [fixed["dense_units"]] if fixed["dense_units"] > 0 else []
    return total + _dense_params(flat, head, outputs, batch_norm)


# ---------------------------------------------------------------- the check


def size_problems(
    config: Config,
    input_shape: Optional[tuple[int, ...]],
    outputs: int = 1,
    lower_bound: bool = True,
) -> list[tuple[str, str]]:
    """(key, message) when the largest model of the space exceeds `search.max_model_params`."""
    if input_shape is None or not all(isinstance(side, int) for side in input_shape):
        return []
    estimate = largest_model(config, tuple(input_shape), outputs)
    limit = config.search.max_model_params
    if estimate is None or estimate.params <= limit:
        return []
    settings = ", ".join(f"{key}={value}" for key, value in estimate.settings.items())
    shape = "x".join(str(side) for side in estimate.input_shape)
    at_least = "at least " if lower_bound else ""
    keys = _culprits(config)
    return [
        (
            "model",
            f"the largest model in this space ({settings}, input {shape}) has {at_least}"
            f"{params_text(estimate.params)} parameters ({bytes_text(estimate.bytes)} as "
            f"float32), above search.max_model_params = {limit:,}; lower {keys}, or raise "
            "search.max_model_params",
        )
    ]


def _culprits(config: Config) -> str:
    if config.model.kind == "cnn":
        keys = ["model.filters", "model.dense_units", "model.layers"]
        if config.data.source == "images":
            keys.append("data.image_size")
    else:
        keys = ["model.units", "model.layers"]
    return ", ".join(keys[:-1]) + f" or {keys[-1]}"


UNKNOWN_UNTIL_BUILT = (
    "Largest model: unknown until built (model.kind custom: only build() knows its layers, "
    "and validate does not run it)."
)


def check_config(config: Config) -> list[tuple[str, str]]:
    """The size check of a config, on the input shape its data's headers give (none for a
    custom model: only its builder knows its layers)."""
    if config.model.kind == "custom":
        return []
    shape, outputs, lower_bound = data_shape(config)
    return size_problems(config, shape, outputs, lower_bound)


def describe(config: Config) -> Optional[str]:
    """One sentence on the largest model of the space, for `tunenet validate`."""
    if config.model.kind == "custom":
        return UNKNOWN_UNTIL_BUILT
    shape, outputs, lower_bound = data_shape(config)
    if shape is None:
        return None
    estimate = largest_model(config, shape, outputs)
    if estimate is None:
        return None
    at_least = "at least " if lower_bound else ""
    return (
        f"Largest model: {at_least}{params_text(estimate.params)} parameters "
        f"({bytes_text(estimate.bytes)} as float32); search.max_model_params = "
        f"{config.search.max_model_params:,}."
    )
