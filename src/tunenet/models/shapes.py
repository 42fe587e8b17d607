"""Pure shape arithmetic for CNNs: will the largest model of a search space fit the image?

No TensorFlow or Keras here: `tunenet validate` checks a CNN's space against the input shape
the config determines, and `tunenet search` against the loaded data's shape, before training.
"""

from __future__ import annotations

import math
from typing import Any, Optional

from tunenet.config.sections import Choice, Config, Fixed
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
        features = (TABULAR_FEATURES[data.source],)
        return cnn_input_shape(features) if config.model.kind == "cnn" else features
    return None


def cnn_input_shape(inner: tuple[int, ...]) -> tuple[int, ...]:
    """An example's shape as `dataset.as_images` gives it to a CNN: square flat features become
    side x side x 1, a grayscale image gets its channel axis; anything else is kept."""
    if len(inner) == 1:
        side = math.isqrt(inner[0])
        return (side, side, 1) if side * side == inner[0] else inner
    return (*inner, 1) if len(inner) == 2 else inner


def _values(param: Any) -> list:
    return list(param.values) if isinstance(param, (Fixed, Choice)) else [param.min, param.max]


def value_ends(param: Any) -> list:
    """The smallest and largest value of a numeric key (one value when they are equal)."""
    values = _values(param)
    return sorted({min(values), max(values)})


def _largest(param: Any) -> Any:
    return value_ends(param)[-1]


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
