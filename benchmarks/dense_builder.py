"""A `model.build` function that returns the network `model.kind: dense` builds for one hidden
layer without batch norm, dropout or penalty: Dense(units, glorot_uniform) -> Activation(relu)
-> the output layer. `benchmarks/run.py` (custom section) times it against the dense family."""

import keras


def build(params, data):
    """Input -> Dense(`units`) -> relu -> output, the layers and initializers of the dense family."""
    inputs = keras.Input(shape=data.input_shape)
    x = keras.layers.Dense(int(params["units"]), kernel_initializer="glorot_uniform",
                           name="dense_0")(inputs)  # fmt: skip
    x = keras.layers.Activation("relu", name="activation_0")(x)
    outputs = keras.layers.Dense(data.output_units, activation=data.output_activation,
                                 name="output")(x)  # fmt: skip
    return keras.Model(inputs, outputs)
