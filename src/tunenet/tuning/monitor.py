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
    """One monitored layer: its Keras layer, kind (dense, conv2d, or another layer's class name
    in lower case: lstm, gru, conv1d, embedding, ...), units or filters, the activation applied
    to it (None for an output layer, whose activation is the task's, and for recurrent layers),
    that activation's output tensor in the graph of `graph` (the model or nested sub-model
    holding the layer), and the weight measured (`kernel`: the kernel, else the layer's first
    trainable weight)."""

    layer: Any
    kind: str
    units: int
    activation: Optional[str]
    output: Any = None  # the activation layer's output tensor (hidden layers only)
    kernel: Any = None
    graph: Any = None


# Layers with trainable weights that are not measured: a normalization's scale and shift say
# nothing of how gradients flow through the network's kernels.
NOT_MONITORED = (
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.GroupNormalization,
)


def monitored_layers(model: keras.Model) -> list[Monitored]:
    """The model's layers with trainable weights in order, those of nested sub-models (a
    functional or sequential model used as a layer) in place, each with the activation that
    follows it (through a batch norm) or its own; normalization and lookup layers are skipped.
    A built-in family's model gives its Dense and Conv2D layers."""
    found: list[Monitored] = []
    _walk(model, found, _output_layer(model))
    return found


def _walk(graph: keras.Model, found: list[Monitored], final: Any) -> None:
    for layer in graph.layers:
        if isinstance(layer, keras.Model):
            _walk(layer, found, final)
        elif layer.trainable_weights and not isinstance(layer, NOT_MONITORED):
            kind, units, kernel = _describe(layer)
            activation, output = (None, None) if layer is final else _activation_of(layer)
            found.append(Monitored(layer, kind, units, activation, output, kernel, graph))


def _output_layer(model: keras.Model) -> Any:
    """The layer that makes the model's prediction (inside nested sub-models), or None."""
    layer: Any = model
    try:
        while isinstance(layer, keras.Model):
            layer = layer.outputs[0]._keras_history[0]
    except (AttributeError, IndexError, ValueError):
        return None
    return layer


def _describe(layer: Any) -> tuple[str, int, Any]:
    """(kind, units, kernel) of a layer with trainable weights."""
    if isinstance(layer, keras.layers.Conv2D):
        return "conv2d", int(layer.filters), layer.kernel
    if isinstance(layer, keras.layers.Dense):
        return "dense", int(layer.units), layer.kernel
    kernel = getattr(layer, "kernel", None)
    if not isinstance(kernel, keras.Variable):
        kernel = layer.trainable_weights[0]
    units = next(
        (
            getattr(owner, name)
            for owner in (layer, getattr(layer, "cell", None))
            for name in ("units", "filters", "output_dim")
            if isinstance(getattr(owner, name, None), int)
        ),
        kernel.shape[-1] if len(kernel.shape) else 1,
    )
    return type(layer).__name__.lower(), int(units), kernel


def _activation_of(layer: Any) -> tuple[Optional[str], Any]:
    """(activation name, its output tensor) of a hidden layer: the Activation layer that follows
    it, else its own activation (a Dense(64, activation="relu")), but never a recurrent
    layer's; (None, None) when there is none or it cannot be read (a layer called more than
    once)."""
    try:
        follower = _activation_after(layer)
        if follower is not None:
            return _activation_name(follower), follower.output
        own = getattr(getattr(layer, "activation", None), "__name__", None)
        if own not in (*DEAD_FAMILY, *SATURATING) or isinstance(layer, keras.layers.RNN):
            return None, None
        return own, layer.output
    except (AttributeError, ValueError):
        return None, None


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
        self.measured: set[int] = set()  # the layers whose activation output is measured
        self._measure: Any = None
        self._start: list[tf.Tensor] = []

    def set_model(self, model: keras.Model) -> None:
        super().set_model(model)
        self.layers = monitored_layers(model)
        if self.layers:
            self._measure, self.measured = _compiled_measure(model, self.layers)

    def on_epoch_begin(self, epoch: int, logs: Optional[dict] = None) -> None:
        self._start = [tf.identity(m.kernel.value) for m in self.layers]

    def on_epoch_end(self, epoch: int, logs: Optional[dict] = None) -> None:
        if self._measure is None or not self._start:
            return
        values = self._measure(self.probe.x, self.probe.y, self._start).numpy()
        for index, (monitored, numbers) in enumerate(zip(self.layers, values, strict=True)):
            self.log.append(self._row(epoch + 1, monitored, numbers, index in self.measured))

    def _row(self, epoch: int, monitored: Monitored, numbers: np.ndarray, measured: bool) -> dict:
        grad, weight, update, dead, saturated = (float(value) for value in numbers)
        activation = monitored.activation if measured else None
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


@dataclass(frozen=True)
class Graph:
    """How the activations of one (sub-)model's monitored layers are read: `probe` maps its
    inputs to those activations (`indices` into the monitored layers), then to the inputs of
    its nested sub-models that have any (`children`), then (the model itself) to its output."""

    probe: keras.Model
    indices: tuple[int, ...]
    children: tuple[Graph, ...]


def _graph(model: keras.Model, layers: list[Monitored], top: bool = False) -> Optional[Graph]:
    """The Graph of `model`, or None when nothing in it is measured or its layers' outputs
    cannot be read (a subclassed model; a sub-model called more than once)."""
    indices = [i for i, m in enumerate(layers) if m.output is not None and m.graph is model]
    children, child_inputs = [], []
    for layer in model.layers:
        if not isinstance(layer, keras.Model) or len(layer._inbound_nodes) != 1:
            continue
        child = _graph(layer, layers)
        if child is not None:
            tensors = layer._inbound_nodes[0].input_tensors
            children.append(child)
            child_inputs.append(tensors[0] if len(tensors) == 1 else list(tensors))
    if not indices and not children and not top:
        return None
    outputs = [layers[i].output for i in indices] + child_inputs
    # A sequential model's own input is `inputs` (its `input`: what it was first called on)
    inputs = model.input if top and not isinstance(model, keras.Sequential) else model.inputs
    try:  # the whole model's probe ends with its prediction, for the loss
        probe = keras.Model(inputs, outputs + [model.output] if top else outputs)
    except (AttributeError, ValueError, TypeError):
        return None
    return Graph(probe, tuple(indices), tuple(children))


def _activations(graph: Graph, outputs: list, found: dict) -> None:
    """Fill `found` (monitored index -> activation) from a probe's `outputs`, running the
    children's probes on their inputs."""
    count = len(graph.indices)
    found.update(zip(graph.indices, outputs[:count], strict=True))
    inputs = outputs[count:]  # then the inputs of the children, in order
    for child, x in zip(graph.children, inputs[: len(graph.children)], strict=True):
        values = child.probe(x, training=False)
        _activations(child, values if isinstance(values, (list, tuple)) else [values], found)


def _measured(graph: Optional[Graph]) -> set[int]:
    if graph is None:
        return set()
    return set(graph.indices).union(*(_measured(child) for child in graph.children))


def _compiled_measure(model: keras.Model, layers: list[Monitored]) -> tuple[Any, set[int]]:
    """One tf.function, built once per model, returning a (layers, 5) tensor: grad_norm,
    weight_norm, update_ratio, dead_fraction, saturated_fraction (0 where not applicable); and
    the layers whose activation it measures (nested sub-models' through their own probes)."""
    graph = _graph(model, layers, top=True)
    kernels = [m.kernel for m in layers]
    loss_fn = keras.losses.get(model.loss)

    @tf.function(autograph=False, reduce_retracing=True)
    def measure(x: Any, y: Any, start: list) -> tf.Tensor:
        with tf.GradientTape() as tape:
            outputs = graph.probe(x, training=False) if graph else model(x, training=False)
            outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
            loss = tf.reduce_mean(loss_fn(_same_rank(y, outputs[-1]), outputs[-1]))
        grads = tape.gradient(loss, kernels)
        activations: dict = {}
        if graph is not None:
            _activations(graph, list(outputs[:-1]), activations)
        rows = []
        for index, (monitored, kernel, grad, before) in enumerate(
            zip(layers, kernels, grads, start, strict=True)
        ):
            weights = tf.convert_to_tensor(kernel)
            dead, saturated = _unit_fractions(activations.get(index), monitored.activation)
            rows.append(
                tf.stack(
                    [
                        _norm(grad),
                        tf.norm(weights),
                        tf.norm(weights - before) / tf.norm(before),
                        dead,
                        saturated,
                    ]
                )
            )
        return tf.stack(rows)

    return measure, _measured(graph)


def _norm(grad: Any) -> tf.Tensor:
    """A gradient's L2 norm (an Embedding's comes as IndexedSlices: the rows it touched)."""
    if grad is None:
        return tf.constant(0.0)
    return tf.norm(tf.convert_to_tensor(grad))


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
