"""Convolutional networks: the conv body, the augmentation block and the shape check.

`cnn_body` and `augmentation_block` build Keras layers (Keras is imported inside them);
`output_size`, `fit_problems` and `check_fits` are pure Python, so `tunenet validate` can tell
that a search space cannot fit the image without importing TensorFlow.

Layer names are part of the contract with `tunenet activations`: block `i` is
`conv_{i}` -> [`conv_batch_norm_{i}`] -> `conv_activation_{i}` -> [`pool_{i}`] ->
[`conv_dropout_{i}`]; the head is `global_pool` or `flatten`, then `dense_head` ->
[`head_batch_norm`] -> `head_activation` -> [`head_dropout`].
"""

from __future__ import annotations

import math
from typing import Any, Optional

from tunenet.config import Choice, Config, Fixed, Range
from tunenet.errors import ConfigError

POOL_SIZE = 2  # pooling halves each side (pool 2, stride 2, valid padding: floor(n / 2))

# Input shapes the config alone determines, for the check at validate time.
KNOWN_SHAPES: dict[str, tuple[int, int, int]] = {
    "digits": (8, 8, 1),
    "keras:mnist": (28, 28, 1),
    "keras:fashion_mnist": (28, 28, 1),
    "keras:cifar10": (32, 32, 3),
}
TABULAR_FEATURES = {"circles": 2, "moons": 2, "iris": 4, "wine": 13, "breast_cancer": 30,
                    "diabetes": 10}  # fmt: skip


# ---------------------------------------------------------------- layers


def filters_of(params: Any, index: int) -> int:
    """Filters of conv block `index`: drawn per block, or block 0's times `filters_growth`**i."""
    growth = params.config.model.filters_growth
    if growth:
        return max(1, int(round(int(params["model.filters.0"]) * growth**index)))
    return int(params[f"model.filters.{index}"])


def cnn_body(x: Any, params: Any) -> Any:
    """Conv blocks then the dense head, for one trial.

    Block i: Conv2D(`model.filters.i`, `kernel_size`, `strides`, `padding`) with L1/L2 from
    `regularization.l1/l2` -> [BatchNormalization if `batch_norm`] -> `activation` ->
    [Max/AveragePooling2D(2) unless `pooling: none`] -> [Dropout(`regularization.dropout`)].
    Head: GlobalAveragePooling2D if `model.global_pooling` else Flatten, then a Dense layer of
    `model.dense_units` (none when 0) with the same batch norm, activation and dropout.

    Args:
        x: the image tensor (batch, height, width, channels) after preprocessing.
        params: the trial's values (`models.Params`), read by dotted name.
    """
    import keras

    from tunenet.models import _regularizer, activation_layer

    batch_norm = bool(params["model.batch_norm"])
    dropout = float(params["regularization.dropout"])
    activation = params["model.activation"]
    pooling = params["model.pooling"]
    pools = {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}
    for index in range(int(params["model.layers"])):
        x = keras.layers.Conv2D(
            filters_of(params, index),
            int(params["model.kernel_size"]),
            strides=int(params["model.strides"]),
            padding=params["model.padding"],
            kernel_initializer=params["model.initializer"],
            kernel_regularizer=_regularizer(params),
            use_bias=not batch_norm,
            name=f"conv_{index}",
        )(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"conv_batch_norm_{index}")(x)
        x = activation_layer(activation, f"conv_activation_{index}")(x)
        if pooling != "none":
            x = pools[pooling](pool_size=POOL_SIZE, name=f"pool_{index}")(x)
        if dropout > 0:
            x = keras.layers.Dropout(dropout, name=f"conv_dropout_{index}")(x)
    if params.config.model.global_pooling:
        x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
    else:
        x = keras.layers.Flatten(name="flatten")(x)
    units = int(params["model.dense_units"])
    if units > 0:
        x = keras.layers.Dense(
            units,
            kernel_initializer=params["model.initializer"],
            kernel_regularizer=_regularizer(params),
            use_bias=not batch_norm,
            name="dense_head",
        )(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name="head_batch_norm")(x)
        x = activation_layer(activation, "head_activation")(x)
        if dropout > 0:
            x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    return x


# Augmentation acts on the normalized image, so RandomContrast must not clip to pixel values.
_NO_CLIP = (-1.0e6, 1.0e6)


def augmentation_block(x: Any, params: Any) -> Any:
    """Random flip, rotation, zoom, translation and contrast from `data.augmentation`.

    Keras preprocessing layers: active in `fit`, the identity in `predict` and `evaluate`.
    A layer is added only when its key is not 0 / "none" for this trial.

    Args:
        x: the image tensor (batch, height, width, channels).
        params: the trial's values (`models.Params`), read by dotted name.
    """
    import keras

    flip = params["data.augmentation.flip"]
    rotation = float(params["data.augmentation.rotation"])
    zoom = float(params["data.augmentation.zoom"])
    translation = float(params["data.augmentation.translation"])
    contrast = float(params["data.augmentation.contrast"])
    if flip != "none":
        x = keras.layers.RandomFlip(flip, name="augment_flip")(x)
    if rotation > 0:
        x = keras.layers.RandomRotation(rotation, name="augment_rotation")(x)
    if zoom > 0:
        x = keras.layers.RandomZoom(zoom, zoom, name="augment_zoom")(x)
    if translation > 0:
        x = keras.layers.RandomTranslation(translation, translation, name="augment_translation")(x)
    if contrast > 0:
        x = keras.layers.RandomContrast(contrast, value_range=_NO_CLIP, name="augment_contrast")(x)
    return x


# ---------------------------------------------------------------- shape check


def output_size(
    size: int, layers: int, kernel_size: int, strides: int, padding: str, pooling: str
) -> list[int]:
    """The side length after each conv block, for one side of the image.

    Conv: `ceil(n / strides)` with `same` padding, `floor((n - kernel_size) / strides) + 1` with
    `valid`; then pooling (unless `none`) halves it, rounding down. A value below 1 means the
    block cannot be built.

    Args:
        size: the input side (height or width) in pixels.
        layers, kernel_size, strides, padding, pooling: the `model.*` values.

    Returns:
        One side length per block (stops at the first that is below 1).
    """
    sides = []
    for _ in range(layers):
        if padding == "same":
            size = math.ceil(size / strides)
        else:
            size = (size - kernel_size) // strides + 1
        if size >= 1 and pooling != "none":
            size //= POOL_SIZE
        sides.append(size)
        if size < 1:
            break
    return sides


def known_input_shape(config: Config) -> Optional[tuple[int, ...]]:
    """The model's input shape when the config alone determines it, else None (csv, npz)."""
    data = config.data
    if data.source == "images":
        channels = 1 if data.color_mode == "grayscale" else 3
        return (*data.image_size, channels)
    if data.source == "digits" and config.model.kind != "cnn":
        return (64,)  # digits are 8x8 images only for a CNN, flat features otherwise
    if data.source in KNOWN_SHAPES:
        return KNOWN_SHAPES[data.source]
    if data.source in TABULAR_FEATURES:
        features = TABULAR_FEATURES[data.source]
        if config.model.kind != "cnn":
            return (features,)
        side = math.isqrt(features)
        return (side, side, 1) if side * side == features else (features,)
    return None


def _largest(param: Any) -> Any:
    if isinstance(param, Fixed):
        return param.value
    if isinstance(param, Choice):
        return max(param.values)
    assert isinstance(param, Range)  # the schema allows nothing else
    return param.max


def _values(param: Any) -> list:
    return list(param.values) if isinstance(param, (Fixed, Choice)) else [param.min, param.max]


def worst_case(config: Config) -> dict[str, Any]:
    """The conv settings of the search space that shrink the image the most.

    Every setting only ever shrinks the image more as it grows (more blocks, a bigger kernel,
    bigger strides, `valid` rather than `same`, pooling rather than none), so the largest value
    of each key gives the smallest output.
    """
    model = config.model
    pooling = [value for value in _values(model.pooling) if value != "none"]
    return {
        "model.layers": _largest(model.layers),
        "model.kernel_size": _largest(model.kernel_size),
        "model.strides": _largest(model.strides),
        "model.padding": "valid" if "valid" in _values(model.padding) else "same",
        "model.pooling": pooling[0] if pooling else "none",
    }


def fit_problems(config: Config, input_shape: Optional[tuple[int, ...]]) -> list[tuple[str, str]]:
    """Problems of a CNN (or augmentation) on this input shape, as (dotted key, message) pairs.

    Args:
        config: the validated config.
        input_shape: the model's input shape without the batch axis; None when unknown.
    """
    if input_shape is None:
        return []
    problems: list[tuple[str, str]] = []
    image = len(input_shape) == 3
    source = config.data.source
    if config.model.kind == "cnn" and not image:
        problems.append(
            (
                "model.kind",
                f"got 'cnn', but source {source!r} gives {input_shape[0]} flat features, "
                "not an image (height x width x channels). Use model.kind: dense, or an image "
                "source (images, digits, keras:mnist, ...).",
            )
        )
    elif config.model.kind == "cnn":
        problems += _shrink_problems(config, input_shape)
    if config.data.augmentation is not None and not image:
        problems.append(
            (
                "data.augmentation",
                f"needs image-shaped inputs, but source {source!r} gives {input_shape[0]} flat "
                "features with model.kind "
                f"{config.model.kind!r}. Remove data.augmentation"
                + (" or use model.kind: cnn." if source == "digits" else "."),
            )
        )
    return problems


def _shrink_problems(config: Config, input_shape: tuple[int, ...]) -> list[tuple[str, str]]:
    worst = worst_case(config)
    height, width = input_shape[0], input_shape[1]
    sides = [
        output_size(
            side,
            worst["model.layers"],
            worst["model.kernel_size"],
            worst["model.strides"],
            worst["model.padding"],
            worst["model.pooling"],
        )
        for side in (height, width)
    ]
    if all(not side or side[-1] >= 1 for side in sides):
        return []
    block = min(len(side) for side in sides if side and side[-1] < 1) - 1
    sizes = " -> ".join(
        f"{h}x{w}" for h, w in zip([height, *sides[0]], [width, *sides[1]], strict=False)
    )
    settings = ", ".join(f"{key}={value}" for key, value in worst.items())
    fixes = ["fewer blocks (model.layers)"]
    if worst["model.padding"] == "valid":
        fixes.append("model.padding: same")
    if worst["model.pooling"] != "none":
        fixes.append("model.pooling: none")
    if worst["model.strides"] > 1:
        fixes.append("model.strides: 1")
    if worst["model.padding"] == "valid" and worst["model.kernel_size"] > 1:
        fixes.append("a smaller model.kernel_size")
    if config.data.source == "images":
        fixes.append("a larger data.image_size")
    message = (
        f"the largest model of the search space ({settings}) shrinks the {height}x{width} input "
        f"below 1x1 in block conv_{block} ({sizes}). Use {', '.join(fixes)}."
    )
    return [("model.layers", message)]


def check_fits(config: Config, input_shape: tuple[int, ...]) -> None:
    """Raise ConfigError when the CNN (or augmentation) of the space cannot take this input.

    Called by `tunenet validate` where the shape is known from the config, and at the start of
    `tunenet search` with the loaded data's shape (csv, npz), before any trial runs.
    """
    problems = fit_problems(config, tuple(input_shape))
    if problems:
        lines = [f"{len(problems)} problem{'s' if len(problems) > 1 else ''} in the config:"]
        lines += [f"  - {key}: {message}" for key, message in problems]
        raise ConfigError("\n".join(lines))
