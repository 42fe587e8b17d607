"""Builder for configs/sequence-digits.yaml: a recurrent network on (steps, features) inputs.

tunenet calls `build(params, data)` once per trial with this trial's values in `params` and
returns the model uncompiled: tunenet compiles it with the config's `optimizer` and the task's
loss. Knobs (`model.params`): `units`, `cell` (lstm or gru), `bidirectional`, `layers`.
It reads `regularization.dropout` (between the recurrent layers and before the output).
"""

import keras


def build(params, data):
    """An LSTM or GRU stack over the sequence, then the output layer tunenet expects."""
    cell = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[params.get("cell", "lstm")]
    layers = int(params.get("layers", 1))
    dropout = float(params.get("regularization.dropout") or 0.0)
    inputs = keras.Input(shape=data.input_shape)  # (steps, features)
    x = inputs
    for index in range(layers):
        last = index == layers - 1
        layer = cell(int(params.get("units", 32)), return_sequences=not last, name=f"rnn_{index}")
        if params.get("bidirectional", False):
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{index}")
        x = layer(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
    outputs = keras.layers.Dense(
        data.output_units, activation=data.output_activation, name="output"
    )(x)
    return keras.Model(inputs, outputs, name="recurrent")
