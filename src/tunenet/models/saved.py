"""The best model as saved and loaded: regression outputs in the target's own units."""

from __future__ import annotations

from typing import Any, Optional

import keras
import numpy as np

from tunenet.data.dataset import Dataset
from tunenet.models.blocks import LayerNames


def target_scale(dataset: Dataset) -> Optional[tuple[float, float]]:
    """(mean, std) of the training target for regression, which trains on the standardized target.

    Standardizing keeps the loss near 1 whatever the target's units, so learning rates mean the
    same on every dataset; the saved model rescales its output back (see `export_model`).
    """
    if dataset.task != "regression":
        return None
    mean, std = float(np.mean(dataset.y_train)), float(np.std(dataset.y_train))
    return mean, std if std > 0 else 1.0


def export_model(model: keras.Model, scale: Optional[tuple[float, float]]) -> keras.Model:
    """The model as saved: for regression, outputs back in the target's own units."""
    if scale is None:
        return model
    mean, std = scale
    name = LayerNames(layer.name for layer in model.layers)("target_units")
    outputs = keras.layers.Rescaling(scale=std, offset=mean, name=name)(model.output)
    exported = keras.Model(model.input, outputs, name=model.name)
    # The trained optimizer, whose state covers the same weights: a fresh default one would be
    # saved unbuilt and Keras would warn on every load that it skips its variables.
    exported.compile(optimizer=model.optimizer, loss="mse", metrics=["mae", "mse"])
    return exported


def load_best_model(path: Any, compile: bool = True) -> keras.Model:
    """Load a saved model with Keras' safe mode (no code from the file is run)."""
    return keras.models.load_model(path, safe_mode=True, compile=compile)
