"""The tf.data pipelines a search trains and evaluates on, and the error a model makes on them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from tunenet.data.dataset import Dataset
from tunenet.data.scores import log_losses, probabilities, standard_error, wrong
from tunenet.models.saved import target_scale

EVAL_BATCH = 2048


def without_autotune(data: tf.data.Dataset) -> tf.data.Dataset:
    """`data` without tf.data's autotuner. Every epoch and every validation pass makes a new
    iterator, and on one core (a worker's share) the autotuner leaves it idle ~15 ms each time:
    0.25 s of a 1.1 s trial of small MLPs (benchmarks/RESULTS.md). The data is in memory, so
    there is nothing for it to tune."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return data.with_options(options)


def error_of(task: str, metrics: dict, target_variance: float) -> float:
    """1 - accuracy for classification; MSE / variance of the training target for regression."""
    if task == "regression":
        return float(metrics["mse"]) / target_variance
    return 1.0 - float(metrics["accuracy"])


@dataclass
class SplitError:
    """A model's error on one split and each example's share of it.

    `per_example` (regression) holds the normalized squared errors (y - prediction)² / variance
    of the training target, whose mean is `error`; None for classification. `losses`
    (classification) holds each example's log loss, -ln p(true class), without the
    regularization penalties the training loss adds; None for regression.
    """

    error: float
    per_example: Optional[np.ndarray] = None
    losses: Optional[np.ndarray] = None

    @property
    def standard_error(self) -> Optional[float]:
        """Standard error of the mean of `per_example`, or None (classification, n < 2)."""
        return standard_error(self.per_example)

    @property
    def log_loss(self) -> Optional[float]:
        """The mean log loss (classification), or None."""
        return None if self.losses is None or not len(self.losses) else float(self.losses.mean())


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
        return without_autotune(
            tf.data.Dataset.from_tensor_slices((x, y))
            .shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size)
            .prefetch(tf.data.AUTOTUNE)
        )

    def evaluation(self, split: str, raw: bool = False) -> tf.data.Dataset:
        if (split, raw) not in self._eval:
            x, y = self.dataset.split(split)
            self._eval[(split, raw)] = without_autotune(
                tf.data.Dataset.from_tensor_slices((x, self._target(y, raw)))
                .batch(EVAL_BATCH)
                .cache()
                .prefetch(2)
            )
        return self._eval[(split, raw)]

    def split_error(self, model: keras.Model, split: str, raw: bool = False) -> SplitError:
        """Error of `model` on a split, in inference mode, in one pass over the data.

        The model's outputs are computed once: classification derives its error (1 -
        accuracy) and each example's log loss from them, regression each example's squared
        error, so that the standard errors cost no second pass.

        Args:
            model: a trial's model, or the saved best model with `raw=True`.
            split: "train", "val" or "test".
            raw: the target in its own units (the saved model), not standardized (trial
                models, whose target has variance 1). Default: False.
        """
        data = self.evaluation(split, raw=raw)
        predicted = _predict(model, data)
        if self.dataset.task != "regression":
            y = self.dataset.split(split)[1]
            losses = log_losses(probabilities(predicted), y)
            return SplitError(float(wrong(predicted, y).mean()), losses=losses)
        y = np.asarray(self._target(self.dataset.split(split)[1], raw), dtype="float64")
        variance = self.dataset.target_variance if raw else 1.0
        per_example = (y - predicted.reshape(len(y))) ** 2 / variance
        return SplitError(float(per_example.mean()), per_example)


def _predict(model: keras.Model, data: tf.data.Dataset) -> np.ndarray:
    """The model's outputs in inference mode, as float64, batch by batch: `predict` would
    trace a new function for every model (~50 ms a trial on diabetes)."""
    outputs = [keras.ops.convert_to_numpy(model(x, training=False)) for x, _ in data]
    return np.concatenate(outputs).astype("float64")
