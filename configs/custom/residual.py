"""Builder for configs/functional-residual.yaml: a functional model with residual blocks.

Each block computes Dense -> Dropout -> Dense and adds its input back (x + f(x)), the skip
connection of residual networks, which keeps deep stacks trainable. Knobs (`model.params`):
`width` (units of every Dense layer) and `blocks`. It reads `regularization.dropout` and
`regularization.l2` from `params`, so the report's advice may name them.
"""

import keras


def build(params, data):
    """Input -> Dense(width) -> `blocks` residual blocks -> the output layer tunenet expects."""
    width = int(params.get("width", 64))
    dropout = float(params.get("regularization.dropout") or 0.0)
    l2 = float(params.get("regularization.l2") or 0.0)
    regularizer = keras.regularizers.L2(l2) if l2 else None

    def dense(name, activation="relu"):
        return keras.layers.Dense(
            width, activation=activation, kernel_regularizer=regularizer, name=name
        )

    inputs = keras.Input(shape=data.input_shape)
    x = dense("stem")(inputs)
    for index in range(int(params.get("blocks", 1))):
        h = dense(f"block{index}_a")(x)
        h = keras.layers.Dropout(dropout)(h) if dropout else h
        h = dense(f"block{index}_b", activation=None)(h)
        x = keras.layers.Activation("relu")(keras.layers.Add(name=f"block{index}_add")([x, h]))
    outputs = keras.layers.Dense(
        data.output_units, activation=data.output_activation, name="output"
    )(x)
    return keras.Model(inputs, outputs, name="residual")
