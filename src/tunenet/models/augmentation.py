"""Image augmentation from `data.augmentation`: Keras preprocessing layers in the model."""

from __future__ import annotations

from typing import Any

import keras

from tunenet.models.blocks import Params

# Augmentation acts on the normalized image, so RandomContrast must not clip to pixel values.
_NO_CLIP = (-1.0e6, 1.0e6)


def augmentation_block(x: Any, params: Params) -> Any:
    """Random flip, rotation, zoom, translation and contrast from `data.augmentation`.

    Keras preprocessing layers: active in `fit`, the identity in `predict` and `evaluate`.
    A layer is added only when its key is not 0 / "none" for this trial.

    Args:
        x: the image tensor (batch, height, width, channels).
        params: the trial's values, read by dotted name.
    """
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
