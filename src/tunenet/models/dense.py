"""The dense body: hidden layers Dense -> [BatchNorm] -> activation -> [Dropout]."""

from __future__ import annotations

from typing import Any

import keras

from tunenet.models.blocks import LayerNames, Params, dense_block


def dense_body(x: Any, params: Params, names: LayerNames) -> Any:
    """`model.layers` hidden layers of `model.units.i` units each, images flattened first.

    Layer i is `dense_{i}` -> [`batch_norm_{i}`] -> `activation_{i}` -> [`dropout_{i}`], each
    name made unique against the CSV column inputs by `names`.
    """
    if len(x.shape) > 2:
        x = keras.layers.Flatten(name=names("flatten"))(x)
    for index in range(int(params["model.layers"])):
        layers = (
            names(f"dense_{index}"),
            names(f"batch_norm_{index}"),
            names(f"activation_{index}"),
            names(f"dropout_{index}"),
        )
        x = dense_block(x, params, int(params[f"model.units.{index}"]), layers)
    return x
