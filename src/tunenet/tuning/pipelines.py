"""The tf.data pipelines a search trains and evaluates on, and the error a model makes on them."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tunenet.data.dataset import Dataset
from tunenet.models.saved import target_scale

EVAL_BATCH = 2048


def error_of(task: str, metrics: dict, target_variance: float) -> float:
    """1 - accuracy for classification; MSE / variance of the training target for regression."""
    if task == "regression":
        return float(metrics["mse"]) / target_variance
    return 1.0 - float(metrics["accuracy"])


class Pipelines:
    """tf.data pipelines built once per search: converting arrays every epoch is slow.

    Regression targets are standardized for training (see `models.saved.target_scale`);
    `raw=True` gives the target in its own units, for the saved model.
    """

    def __init__(self, dataset: Dataset):
        self.dataset = dataset
        self.scale = target_scale(dataset)
        self._eval: dict[tuple[str, bool], tf.data.Dataset] = {}

    def _target(self, y: np.ndarray, raw: bool) -> np.ndarray:
        if self.scale is None or raw:
            return y
        mean, std = self.scale
        return ((y - mean) / std).astype("float32")

    def train(self, batch_size: int, seed: int) -> tf.data.Dataset:
        x, y = self.dataset.x_train, self._target(self.dataset.y_train, raw=False)
        return (
            tf.data.Dataset.from_tensor_slices((x, y))
            .shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size)
            .prefetch(tf.data.AUTOTUNE)
        )

    def evaluation(self, split: str, raw: bool = False) -> tf.data.Dataset:
        if (split, raw) not in self._eval:
            x, y = self.dataset.split(split)
            self._eval[(split, raw)] = (
                tf.data.Dataset.from_tensor_slices((x, self._target(y, raw)))
                .batch(EVAL_BATCH)
                .cache()
                .prefetch(2)
            )
        return self._eval[(split, raw)]

    def error(self, model: keras.Model, split: str, raw: bool = False) -> float:
        """Error of `model` on a split, in inference mode. Trial models see the standardized
        target (variance 1); the saved model (`raw`) sees the target in its own units."""
        metrics = model.evaluate(self.evaluation(split, raw=raw), verbose=0, return_dict=True)
        variance = self.dataset.target_variance if raw or self.scale is None else 1.0
        return error_of(self.dataset.task, metrics, variance)
