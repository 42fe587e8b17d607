"""The optimizer of one trial: `optimizer.name`, its learning-rate schedule and clipping."""

from __future__ import annotations

from typing import Any

import keras

from tunenet.models.blocks import Params


def learning_rate(params: Params, steps_per_epoch: int, epochs: int) -> Any:
    """A float, or a Keras schedule that decays per epoch (exponential, step) or over training."""
    rate = float(params["optimizer.learning_rate"])
    schedule = params["optimizer.schedule"]
    if schedule == "constant":
        return rate
    if schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(rate, decay_steps=steps_per_epoch * epochs)
    decay_rate = float(params["optimizer.decay_rate"])
    if schedule == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(rate, steps_per_epoch, decay_rate)
    every = steps_per_epoch * int(params["optimizer.decay_epochs"])
    return keras.optimizers.schedules.ExponentialDecay(rate, every, decay_rate, staircase=True)


def build_optimizer(params: Params, steps_per_epoch: int, epochs: int) -> keras.Optimizer:
    """The optimizer named by `optimizer.name`, with its schedule and clipping."""
    name = params["optimizer.name"]
    rate = learning_rate(params, steps_per_epoch, epochs)
    clip = params["optimizer.clipnorm"]
    common: dict[str, Any] = {"learning_rate": rate}
    if clip is not None:
        common["clipnorm"] = float(clip)
    momentum = (
        float(params["optimizer.momentum"]) if name in ("momentum", "nesterov", "rmsprop") else 0.0
    )
    if name == "sgd":
        return keras.optimizers.SGD(**common)
    if name in ("momentum", "nesterov"):
        return keras.optimizers.SGD(momentum=momentum, nesterov=name == "nesterov", **common)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(momentum=momentum, **common)
    optimizers = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "adagrad": keras.optimizers.Adagrad,
    }
    return optimizers[name](**common)
