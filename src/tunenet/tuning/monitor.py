"""Per-layer training dynamics (docs/dynamics.md): at every epoch end, measure each Dense / Conv2D
layer on a fixed probe batch of the training split and append one row per layer to layers.csv.

The probe is the same ≤ 256 training examples every epoch (chosen once with the trial's seed).
All layers are measured in ONE compiled call per epoch: a GradientTape over a functional
sub-model whose outputs are the hidden activations plus the prediction. The call runs in
inference mode (dropout off, batch norm with its moving statistics) and changes no variable, so
training is the same with monitoring on or off. `diagnosis/dynamics.py` reads the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import keras
import numpy as np
import tensorflow as tf

from tunenet.data.dataset import Dataset
from tunenet.runs import EpochLog

PROBE_SIZE = 256
# Activations whose units can die (output exactly 0 for every input) ...
DEAD_FAMILY = ("relu", "leaky_relu", "elu", "selu")
# ... and those that saturate: (low asymptote, high asymptote).
SATURATING = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}
SATURATION_BAND = 0.01  # within 1% of the output range of an asymptote
SATURATED_SHARE = 0.95  # ... for at least 95% of the probe examples (and positions)


@dataclass(frozen=True)
class Probe:
    """The fixed probe batch: inputs (an array or a dict of columns) and training targets."""

    x: Any
    y: Any


def probe_batch(dataset: Dataset, scale: Optional[tuple[float, float]], seed: int) -> Probe:
    """Up to PROBE_SIZE training examples chosen with `seed`, as tensors, with the target
    standardized like the training pipeline's (`scale`: regression's (mean, std), else None)."""
    count = len(dataset.y_train)
    rows = np.sort(np.random.default_rng(seed).permutation(count)[:PROBE_SIZE])
    y = dataset.y_train[rows]
    if scale is not None:
        y = ((y - scale[0]) / scale[1]).astype("float32")
    if isinstance(dataset.x_train, dict):
        x: Any = {name: tf.constant(column[rows]) for name, column in dataset.x_train.items()}
    else:
        x = tf.constant(dataset.x_train[rows])
    return Probe(x, tf.constant(y))


@dataclass(frozen=True)
class Monitored:
    """One monitored layer: its Keras layer, kind (dense | conv2d), units or filters, and the
    activation applied to it (None for the output layer, whose activation is the task's)."""

    layer: Any
    kind: str
    units: int
    activation: Optional[str]
    output: Any = None  # the activation layer's output tensor (hidden layers only)


def monitored_layers(model: keras.Model) -> list[Monitored]:
    """The model's Dense and Conv2D layers in order, each with the activation that follows it
    (through a batch norm); the normalization and lookup layers have no kernel and are skipped."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kind, units = "conv2d", int(layer.filters)
        elif isinstance(layer, keras.layers.Dense):
            kind, units = "dense", int(layer.units)
        else:
            continue
        follower = _activation_after(layer)
        if follower is None:
            found.append(Monitored(layer, kind, units, None))
        else:
            found.append(Monitored(layer, kind, units, _activation_name(follower), follower.output))
    return found


def _activation_after(layer: Any) -> Any:
    """The Activation / LeakyReLU layer fed by `layer` (through a BatchNormalization), or None."""
    current = layer
    for _ in range(2):
        consumers = [node.operation for node in getattr(current, "_outbound_nodes", [])]
        if len(consumers) != 1:
            return None
        current = consumers[0]
        if isinstance(current, (keras.layers.Activation, keras.layers.LeakyReLU)):
            return current
        if not isinstance(current, keras.layers.BatchNormalization):
            return None
    return None


def _activation_name(layer: Any) -> str:
    if isinstance(layer, keras.layers.LeakyReLU):
        return "leaky_relu"
    return getattr(layer.activation, "__name__", str(layer.activation))


class LayerMonitor(keras.callbacks.Callback):
    """Appends each monitored layer's dynamics to layers.csv at every epoch end.

    Args:
        log: layers.csv (columns runs.insight.LAYER_COLUMNS).
        trial_id: the trial.
        execution: the execution's index within the trial.
        probe: the fixed probe batch (`probe_batch`).
    """

    def __init__(self, log: EpochLog, trial_id: str, execution: int, probe: Probe):
        super().__init__()
        self.log, self.trial_id, self.execution, self.probe = log, trial_id, execution, probe
        self.layers: list[Monitored] = []
        self._measure: Any = None
        self._start: list[tf.Tensor] = []

    def set_model(self, model: keras.Model) -> None:
        super().set_model(model)
        self.layers = monitored_layers(model)
        self._measure = _compiled_measure(model, self.layers) if self.layers else None

    def on_epoch_begin(self, epoch: int, logs: Optional[dict] = None) -> None:
        self._start = [tf.identity(m.layer.kernel.value) for m in self.layers]

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        if self._measure is None or not self._start:
            return
        values = self._measure(self.probe.x, self.probe.y, self._start).numpy()
        for monitored, numbers in zip(self.layers, values, strict=True):
            self.log.append(self._row(epoch + 1, monitored, numbers))

    def _row(self, epoch: int, monitored: Monitored, numbers: np.ndarray) -> dict:
        grad, weight, update, dead, saturated = (float(value) for value in numbers)
        activation = monitored.activation
        return {
            "trial_id": self.trial_id,
            "execution": self.execution,
            "epoch": epoch,
            "layer": monitored.layer.name,
            "kind": monitored.kind,
            "units": monitored.units,
            "grad_norm": grad,
            "weight_norm": weight,
            "update_ratio": update,
            "dead_fraction": dead if activation in DEAD_FAMILY else None,
            "saturated_fraction": saturated if activation in SATURATING else None,
        }


def _compiled_measure(model: keras.Model, layers: list[Monitored]) -> Any:
    """One tf.function, built once per model, returning a (layers, 5) tensor: grad_norm,
    weight_norm, update_ratio, dead_fraction, saturated_fraction (0 where not applicable)."""
    hidden = [index for index, m in enumerate(layers) if m.output is not None]
    probe_model = keras.Model(model.input, [layers[i].output for i in hidden] + [model.output])
    kernels = [m.layer.kernel for m in layers]
    loss_fn = keras.losses.get(model.loss)

    @tf.function(autograph=False, reduce_retracing=True)
    def measure(x: Any, y: Any, start: list) -> tf.Tensor:
        with tf.GradientTape() as tape:
            outputs = probe_model(x, training=False)
            outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
            loss = tf.reduce_mean(loss_fn(_same_rank(y, outputs[-1]), outputs[-1]))
        grads = tape.gradient(loss, kernels)
        activations = dict(zip(hidden, outputs[:-1], strict=True))
        rows = []
        for index, (monitored, kernel, grad, before) in enumerate(
            zip(layers, kernels, grads, start, strict=True)
        ):
            weights = tf.convert_to_tensor(kernel)
            dead, saturated = _unit_fractions(activations.get(index), monitored.activation)
            rows.append(
                tf.stack(
                    [
                        tf.norm(grad) if grad is not None else tf.constant(0.0),
                        tf.norm(weights),
                        tf.norm(weights - before) / tf.norm(before),
                        dead,
                        saturated,
                    ]
                )
            )
        return tf.stack(rows)

    return measure


def _same_rank(y: tf.Tensor, prediction: tf.Tensor) -> tf.Tensor:
    """A (n,) target beside a (n, 1) prediction (binary, regression) as (n, 1), as Keras'
    compiled loss would take it."""
    if len(y.shape) < len(prediction.shape) and prediction.shape[-1] == 1:
        return tf.expand_dims(y, -1)
    return y


def _unit_fractions(output: Any, activation: Optional[str]) -> tuple[tf.Tensor, tf.Tensor]:
    """(dead, saturated) fractions of a layer's units (filters: over every position too)."""
    zero = tf.constant(0.0)
    if output is None:
        return zero, zero
    axes = list(range(len(output.shape) - 1))  # all but the units axis
    dead = zero
    if activation in DEAD_FAMILY:
        alive = tf.reduce_any(tf.not_equal(output, 0.0), axis=axes)
        dead = 1.0 - tf.reduce_mean(tf.cast(alive, tf.float32))
    saturated = zero
    if activation in SATURATING:
        low, high = SATURATING[activation]
        band = SATURATION_BAND * (high - low)
        near = tf.logical_or(output <= low + band, output >= high - band)
        share = tf.reduce_mean(tf.cast(near, tf.float32), axis=axes)
        saturated = tf.reduce_mean(tf.cast(share >= SATURATED_SHARE, tf.float32))
    return dead, saturated
