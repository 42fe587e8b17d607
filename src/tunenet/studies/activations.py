"""`tunenet activations`: what the conv and pooling layers of a run's best model make of one image.

The image goes through the same preprocessing as training: it is read, converted to the
model's channels (`data.color_mode`), resized to its height and width (`data.image_size`) and
scaled the way the data source scales pixels — [0, 1] for image folders and Keras datasets,
0–16 for `digits` (scikit-learn's 8x8 digits: 0 is background, 16 is full ink, so a bright
stroke on a dark background). A `.npy` array is taken as it is: the values the data source
gives. The model itself holds the rest (normalization fitted on the training split).

Each panel of the picture is one layer, its channels drawn as a grid; conv layers are drawn
after their activation (`conv_activation_{i}`), which is what the next block sees. Each map
has its own colour scale (dark: its smallest value, yellow: its largest), so its pattern shows
whatever its magnitude; a map that is dark all over is constant: that filter does not respond
to this image. Maps of a single pixel share one scale per layer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

from tunenet.errors import DataError, RunDirError
from tunenet.runs import RunDir
from tunenet.runs.best import load_best_model, open_finished_run, run_config
from tunenet.runs.files import replace_atomic

PANEL_LAYER = re.compile(r"^(conv|pool)_\d+$")
MAX_CHANNELS = 64  # channels drawn per layer (the first ones)
GRID_COLUMNS = 8  # channels per row inside a panel
PANEL_COLUMNS = 3  # panels per row of the picture
PIXEL_SCALE = {"digits": 16.0}  # what a white pixel is in the source; 1.0 otherwise
DPI = 100


@dataclass
class Activations:
    """What `draw_activations` wrote: the PNG and one title per panel (input first)."""

    path: Path
    panels: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- inputs


def load_run(run_path: Path) -> tuple[RunDir, Any, Any]:
    """The run directory, its resolved config and its best model (loaded in safe mode)."""
    run = open_finished_run(run_path, manifest=False)
    return run, run_config(run), load_best_model(run, compile=False)


def read_input(path: Path, config: Any, input_shape: tuple[int, ...]) -> np.ndarray:
    """One example as the model takes it, with a batch axis: (1, height, width, channels).

    Args:
        path: a `.npy` array (the data source's own values, any shape of the right size) or an
            image file Pillow reads (PNG, JPEG, ...), preprocessed as described in the module.
        config: the run's resolved config (`data.source` decides the pixel scale).
        input_shape: the model's input shape without the batch axis.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such input file. Give a PNG/JPEG image or a .npy array.")
    expected = "x".join(str(side) for side in input_shape)
    if path.suffix.lower() == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise DataError(f"{path}: not a readable .npy array ({error}).") from None
        if array.dtype.kind not in "biuf" or array.size != math.prod(input_shape):
            raise DataError(
                f"{path}: holds a {array.dtype} array of shape {array.shape}; the model takes "
                f"one {expected} example of numbers."
            )
        return array.astype("float32").reshape(1, *input_shape)
    if len(input_shape) != 3:
        raise DataError(f"the model takes {expected} inputs, not an image; give a .npy array.")
    from PIL import Image, UnidentifiedImageError

    height, width, channels = input_shape
    try:
        with Image.open(path) as opened:
            image = opened.convert("L" if channels == 1 else "RGB")
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise DataError(
            f"{path}: not an image Pillow can read ({error}). Give a PNG/JPEG or a .npy array."
        ) from None
    if channels not in (1, 3):
        raise DataError(f"the model takes {channels}-channel images; give a .npy array.")
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    pixels = np.asarray(image, dtype="float32").reshape(height, width, channels) / 255.0
    scale = PIXEL_SCALE.get(config.data.source, 1.0)
    return (pixels * scale)[np.newaxis]


def choose_layers(model: Any, names: Optional[list[str]]) -> list[Any]:
    """The layers to draw: `names` in that order, or every conv_i / pool_i of the model."""
    by_name = {layer.name: layer for layer in model.layers}
    maps = [name for name, layer in by_name.items() if _is_feature_map(layer)]
    if not names:
        chosen = [name for name in by_name if PANEL_LAYER.match(name)]
        if not chosen:
            other = f"; --layers can name its image layers: {', '.join(maps)}" if maps else ""
            raise RunDirError(
                "the best model has no conv or pooling layers: activations are drawn for CNNs "
                f"(model.kind: cnn){other}."
            )
        return [by_name[name] for name in chosen]
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise RunDirError(
            f"--layers: the best model has no layer {', '.join(map(repr, unknown))}. "
            f"Layers with feature maps: {', '.join(maps) or 'none'}."
        )
    flat = [name for name in names if not _is_feature_map(by_name[name])]
    if flat:
        raise RunDirError(
            f"--layers: {', '.join(map(repr, flat))}: no feature maps (height x width x channels) "
            f"to draw. Choose among: {', '.join(maps) or 'none'}."
        )
    return [by_name[name] for name in names]


def _is_feature_map(layer: Any) -> bool:
    try:
        return len(layer.output.shape) == 4
    except (AttributeError, ValueError):
        return False


def _shown(model: Any, layer: Any) -> tuple[Any, str]:
    """The tensor drawn for a layer and the panel title (conv layers after their activation)."""
    match = re.fullmatch(r"conv_(\d+)", layer.name)
    names = {other.name: other for other in model.layers}
    activation = names.get(f"conv_activation_{match.group(1)}") if match else None
    if activation is not None:
        function = _activation_name(activation)
        return activation.output, f"{layer.name} (after {function})"
    return layer.output, layer.name


def _activation_name(layer: Any) -> str:
    config = layer.get_config()
    name = config.get("activation")
    return name if isinstance(name, str) else type(layer).__name__.lower()


# ---------------------------------------------------------------- drawing


def _mosaic(maps: np.ndarray) -> tuple[np.ndarray, int]:
    """Tile (height, width, channels) maps into one grid image (values unchanged).

    Cells are separated by one NaN pixel (drawn as the background). Returns the image and how
    many channels it shows (the first MAX_CHANNELS).
    """
    height, width, count = maps.shape[:3]
    shown = min(count, MAX_CHANNELS)
    columns = min(shown, GRID_COLUMNS)
    rows = math.ceil(shown / columns)
    extra = maps.shape[3:]  # RGB kernels keep their colour axis
    grid = np.full((rows * (height + 1) - 1, columns * (width + 1) - 1, *extra), np.nan, "float32")
    for index in range(shown):
        row, column = divmod(index, columns)
        top, left = row * (height + 1), column * (width + 1)
        grid[top : top + height, left : left + width] = maps[:, :, index]
    return grid, shown


def _scaled(maps: np.ndarray) -> np.ndarray:
    """Each channel to [0, 1] on its own scale, so its pattern shows whatever its magnitude.

    A constant channel (a filter that does not respond to this image) is 0. Maps of a single
    pixel have no pattern: they share one scale for the layer instead, to compare channels.
    """
    maps = maps.astype("float64")
    if maps.shape[0] * maps.shape[1] == 1:
        low, high = _span(maps)
        return (maps - low) / (high - low)
    low = maps.min(axis=(0, 1), keepdims=True)
    spread = maps.max(axis=(0, 1), keepdims=True) - low
    return np.where(spread > 0, (maps - low) / np.where(spread > 0, spread, 1.0), 0.0)


def _span(values: np.ndarray) -> tuple[float, float]:
    """One colour scale for a whole layer: its smallest and largest value."""
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    return (low, high) if high > low else (low, low + 1.0)


def _draw_input(axes: Any, example: np.ndarray, source: str) -> str:
    image = example[0]
    scale = PIXEL_SCALE.get(source, 1.0)
    if image.shape[-1] == 1:
        axes.imshow(image[:, :, 0], cmap="gray", vmin=0, vmax=scale, interpolation="nearest")
    else:
        axes.imshow(np.clip(image[:, :, :3] / scale, 0, 1), interpolation="nearest")
    return f"input · {'x'.join(str(side) for side in image.shape)}"


def draw_activations(
    run_path: Path,
    input_path: Path,
    *,
    layers: Optional[list[str]] = None,
    out: Optional[Path] = None,
    filters: bool = False,
) -> Activations:
    """Draw the input and the feature maps of each conv and pooling layer of a run's best model.

    Args:
        run_path: a run directory with `best/model.keras` and `resolved.yaml`.
        input_path: the image (PNG, JPEG, ...) or `.npy` array to feed the model.
        layers: layer names to draw, in order (default: every `conv_i` and `pool_i`).
        out: the PNG to write (default: `RUN/report/activations.png`).
        filters: also draw the first conv layer's kernels.

    Returns:
        The PNG's path and the panel titles (the input first); one panel per drawn layer.
    """
    run, config, model = load_run(run_path)
    input_shape = tuple(model.input_shape[1:])
    chosen = choose_layers(model, layers)
    example = read_input(input_path, config, input_shape)
    shown = [_shown(model, layer) for layer in chosen]

    import keras

    probe = keras.Model(model.inputs, [tensor for tensor, _ in shown], name="activations")
    outputs = probe.predict(example, verbose=0)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    first_conv = next((layer for layer in model.layers if layer.name == "conv_0"), None)
    if filters and first_conv is None:
        raise RunDirError("--filters: the best model has no conv_0 layer (it is not a CNN).")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = 1 + len(shown) + (1 if filters else 0)
    columns = min(PANEL_COLUMNS, count)
    rows = math.ceil(count / columns)
    figure, grid = plt.subplots(
        rows, columns, figsize=(4.2 * columns, 4.4 * rows), squeeze=False, layout="constrained"
    )
    axes_list = list(grid.flat)
    titles = [_draw_input(axes_list[0], example, config.data.source)]
    cmap = plt.get_cmap("viridis").with_extremes(bad="white")  # white: gaps between channels
    for axes, (_, title), output in zip(axes_list[1:], shown, outputs, strict=False):
        maps = np.asarray(output)[0]
        mosaic, drawn = _mosaic(_scaled(maps))
        axes.imshow(mosaic, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        height, width, channels = maps.shape
        more = f" (first {drawn})" if drawn < channels else ""
        titles.append(f"{title} · {channels} maps {height}x{width}{more}")
    if filters:
        kernel = np.asarray(first_conv.get_weights()[0])  # (k, k, input channels, filters)
        axes = axes_list[len(titles)]
        if kernel.shape[2] == 3:  # colour input: each filter as an RGB patch
            low, high = _span(kernel)
            mosaic, _ = _mosaic(np.moveaxis((kernel - low) / (high - low), 2, 3))
            axes.imshow(np.nan_to_num(mosaic, nan=1.0), interpolation="nearest")
            how = "RGB"
        else:  # mean over the input channels, 0 in white: red positive, blue negative
            weights = kernel.mean(axis=2)
            limit = float(np.abs(weights).max()) or 1.0
            mosaic, _ = _mosaic(weights)
            diverging = plt.get_cmap("RdBu_r").with_extremes(bad="0.6")  # white is a zero weight
            axes.imshow(mosaic, cmap=diverging, vmin=-limit, vmax=limit, interpolation="nearest")
            inputs = kernel.shape[2]
            how = f"mean over {inputs} input channel{'s' if inputs > 1 else ''}"
        size = f"{kernel.shape[0]}x{kernel.shape[1]}"
        titles.append(f"conv_0 kernels · {kernel.shape[3]} filters {size} ({how})")
    for axes, title in zip(axes_list, titles, strict=False):
        axes.set_title(title, fontsize=9)
    for axes in axes_list:
        axes.set_xticks([])
        axes.set_yticks([])
    for axes in axes_list[len(titles) :]:
        axes.set_axis_off()
    figure.suptitle(f"{run.name}: activations for {Path(input_path).name}", fontsize=11)
    target = Path(out) if out is not None else run.report_dir / "activations.png"
    _save(figure, target)
    plt.close(figure)
    return Activations(path=target, panels=titles)


def _save(figure: Any, target: Path) -> None:
    """Write the PNG atomically (temp file + rename)."""
    try:
        replace_atomic(target, lambda temp: figure.savefig(temp, dpi=DPI, format="png"), ".png")
    except OSError as error:
        raise RunDirError(f"{target}: cannot write the picture ({error.strerror}).") from None
