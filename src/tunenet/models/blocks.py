"""What every model body shares: the trial's values, layer names, the regularizer, activations."""

from __future__ import annotations

from typing import Any, Optional

import keras

from tunenet.config.sections import Config
from tunenet.config.space import value_of


class Params:
    """Reads a key's value for one trial: tuned when drawn, fixed from the config otherwise."""

    def __init__(self, config: Config, values: dict):
        self.config, self.values = config, values

    def __getitem__(self, name: str) -> Any:
        return value_of(self.config, self.values, name)


class LayerNames:
    """Names for tunenet's own layers that no CSV column input has taken.

    With text columns each column is an input named by the column (the saved model takes
    `{column: values}`), so a column may be called `output` or `dense_0`: then tunenet's own
    layer gets a trailing `_` instead (`output_`).
    """

    def __init__(self, taken: Any = ()):
        self.taken = set(taken)

    def __call__(self, name: str) -> str:
        while name in self.taken:
            name += "_"
        self.taken.add(name)
        return name


def regularizer(params: Params) -> Optional[keras.regularizers.Regularizer]:
    """L1/L2 weight penalty from `regularization.l1/l2`, or None when both are 0."""
    l1, l2 = float(params["regularization.l1"]), float(params["regularization.l2"])
    if l1 == 0 and l2 == 0:
        return None
    return keras.regularizers.L1L2(l1=l1, l2=l2)


def activation_layer(name: str, label: str) -> keras.layers.Layer:
    """The activation `name` as its own layer, called `label` (leaky_relu has a layer class)."""
    if name == "leaky_relu":
        return keras.layers.LeakyReLU(name=label)
    return keras.layers.Activation(name, name=label)


def dense_block(x: Any, params: Params, units: int, names: tuple[str, str, str, str]) -> Any:
    """Dense(units) -> [BatchNormalization] -> activation -> [Dropout], as the trial sets them.

    The initializer, L1/L2 penalty, batch norm, activation and dropout are the trial's
    `model.*` and `regularization.*` values; with batch norm the Dense layer has no bias.

    Args:
        x: the input tensor.
        params: the trial's values, read by dotted name.
        units: the Dense layer's units.
        names: the names of the Dense, batch norm, activation and dropout layers.
    """
    dense, batch_norm, activation, dropout = names
    use_batch_norm = bool(params["model.batch_norm"])
    rate = float(params["regularization.dropout"])
    x = keras.layers.Dense(
        units,
        kernel_initializer=params["model.initializer"],
        kernel_regularizer=regularizer(params),
        use_bias=not use_batch_norm,
        name=dense,
    )(x)
    if use_batch_norm:
        x = keras.layers.BatchNormalization(name=batch_norm)(x)
    x = activation_layer(params["model.activation"], activation)(x)
    if rate > 0:
        x = keras.layers.Dropout(rate, name=dropout)(x)
    return x
