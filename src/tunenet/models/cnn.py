"""The convolutional body: conv blocks, then the dense head.

Layer names are part of the contract with `tunenet activations`: block `i` is
`conv_{i}` -> [`conv_batch_norm_{i}`] -> `conv_activation_{i}` -> [`pool_{i}`] ->
[`conv_dropout_{i}`]; the head is `global_pool` or `flatten`, then `dense_head` ->
[`head_batch_norm`] -> `head_activation` -> [`head_dropout`]. What these layers do to the
image's size is computed without Keras in `shapes.py`.
"""

from __future__ import annotations

from typing import Any

import keras

from tunenet.models.blocks import Params, activation_layer, dense_block, regularizer
from tunenet.models.shapes import POOL_SIZE


def filters_of(params: Params, index: int) -> int:
    """Filters of conv block `index`: drawn per block, or block 0's times `filters_growth`**i."""
    growth = params.config.model.filters_growth
    if growth:
        return max(1, int(round(int(params["model.filters.0"]) * growth**index)))
    return int(params[f"model.filters.{index}"])


def cnn_body(x: Any, params: Params) -> Any:
    """Conv blocks then the dense head, for one trial.

    Block i: Conv2D(`model.filters.i`, `kernel_size`, `strides`, `padding`) with L1/L2 from
    `regularization.l1/l2` -> [BatchNormalization if `batch_norm`] -> `activation` ->
    [Max/AveragePooling2D(2) unless `pooling: none`] -> [Dropout(`regularization.dropout`)].
    Head: GlobalAveragePooling2D if `model.global_pooling` else Flatten, then a Dense layer of
    `model.dense_units` (none when 0) with the same batch norm, activation and dropout.

    Args:
        x: the image tensor (batch, height, width, channels) after preprocessing.
        params: the trial's values, read by dotted name.
    """
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
            kernel_regularizer=regularizer(params),
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
        head = ("dense_head", "head_batch_norm", "head_activation", "head_dropout")
        x = dense_block(x, params, units, head)
    return x
