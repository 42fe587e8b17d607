"""Image folders -> Examples: one sub-folder per class, resized to `data.image_size`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tunenet.config.sections import DataConfig
from tunenet.data.examples import Examples, infer_task, subsample
from tunenet.data.paths import existing_folder
from tunenet.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def _image_files(folder: Path, key: str) -> tuple[list[Path], np.ndarray]:
    """Every image file under folder/<class>/, and its class name."""
    classes = sorted(
        entry for entry in folder.iterdir() if entry.is_dir() and not entry.name.startswith(".")
    )
    if not classes:
        raise DataError(
            f"{key}: {folder}: has no class sub-folders. Put the images of each class in their "
            f"own sub-folder, e.g. {folder}/cat/001.png and {folder}/dog/001.png."
        )
    files: list[Path] = []
    labels: list[str] = []
    for directory in classes:
        found = sorted(
            entry
            for entry in directory.iterdir()
            if entry.is_file()
            and entry.suffix.lower() in IMAGE_SUFFIXES
            and not entry.name.startswith(".")
        )
        if not found:
            raise DataError(
                f"{key}: class folder {directory} has no images ({', '.join(IMAGE_SUFFIXES)}). "
                "Add images to it or remove the folder."
            )
        files += found
        labels += [directory.name] * len(found)
    return files, np.array(labels, dtype=object)


def _decode(files: list[Path], config: DataConfig) -> np.ndarray:
    """Decode, convert and resize every image once, into uint8 (n, height, width, channels)."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        raise DataError("source 'images' needs Pillow: pip install pillow") from None
    height, width = config.image_size
    mode, channels = ("L", 1) if config.color_mode == "grayscale" else ("RGB", 3)
    pixels = np.empty((len(files), height, width, channels), dtype="uint8")
    for index, path in enumerate(files):
        try:
            with Image.open(path) as image:
                image = image.convert(mode)
                if image.size != (width, height):
                    image = image.resize((width, height), Image.Resampling.BILINEAR)
                pixels[index] = np.asarray(image, dtype="uint8").reshape(height, width, channels)
        except (OSError, ValueError, Image.DecompressionBombError) as error:
            raise DataError(
                f"{path}: cannot be read as an image ({error}). Remove or replace the file."
            ) from None
    return pixels


def _class_folders(config: DataConfig) -> tuple[Path, list[Path], np.ndarray]:
    """The folder of `data.path`, its image files and their classes: at least two classes."""
    folder = existing_folder(config.path, "data.path")
    files, labels = _image_files(folder, "data.path")
    classes = list(dict.fromkeys(labels.tolist()))
    if len(classes) < 2:
        raise DataError(
            f"data.path: {folder}: has one class sub-folder, {classes[0]!r}; classification "
            f"needs at least two classes: add a sub-folder per class (e.g. {folder}/other/)."
        )
    return folder, files, labels


def load_images(config: DataConfig, seed: int) -> Examples:
    """A folder with one sub-folder per class, resized to `image_size`, pixels in [0, 1].

    With `limit`, the stratified down-sampling happens before decoding, so only the kept
    images are read.
    """
    folder, files, labels = _class_folders(config)
    kept = subsample(labels, config.limit, seed, stratify=True)
    files, labels = [files[index] for index in kept], labels[kept]
    examples = Examples(x=_decode(files, config), y=labels, task=infer_task(labels), pixels=True)
    examples.files["path"] = str(folder)
    if config.test_path:
        test_folder = existing_folder(config.test_path, "data.test_path")
        test_files, test_labels = _image_files(test_folder, "data.test_path")
        examples.x_test, examples.y_test = _decode(test_files, config), test_labels
        examples.files["test_path"] = str(test_folder)
    return examples


def scan_images(config: DataConfig, seed: int) -> Examples:
    """The labels of an image folder without decoding any image: what `validate` checks.

    `x` is a placeholder with no values (one empty row per image).
    """
    folder, _, labels = _class_folders(config)
    examples = Examples(x=np.empty((len(labels), 0)), y=labels, task=infer_task(labels))
    examples.files["path"] = str(folder)
    if config.test_path:
        test_folder = existing_folder(config.test_path, "data.test_path")
        _, test_labels = _image_files(test_folder, "data.test_path")
        examples.x_test, examples.y_test = np.empty((len(test_labels), 0)), test_labels
    return examples
