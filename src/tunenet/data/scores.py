"""Per-example scores shared by the network's evaluation and the reference baselines.

A classification model is scored from its predicted probabilities: each example's error (wrong
or right) and its log loss; a regression model by each example's squared error over the training
target's variance. Their means are the errors of trials.csv and baselines.csv, and their standard
errors the intervals the report draws (docs/run-format.md). Never imports TensorFlow.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

# Probabilities are clipped to [EPSILON, 1 - EPSILON] before the log: Keras' own cross-entropy
# clips with its epsilon, so a confident mistake costs ln(1e7) ≈ 16, not infinity.
EPSILON = 1e-7


def probabilities(outputs: np.ndarray) -> np.ndarray:
    """A model's outputs as an (n, classes) matrix: a sigmoid's (n, 1) becomes (1 - p, p)."""
    outputs = np.asarray(outputs, dtype="float64")
    outputs = outputs.reshape(len(outputs), -1)
    if outputs.shape[1] == 1:
        return np.hstack([1.0 - outputs, outputs])
    return outputs


def wrong(outputs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """1.0 where the predicted class (a sigmoid above 0.5, else the largest output, as Keras'
    accuracy decides) is not the label, else 0.0."""
    outputs = np.asarray(outputs, dtype="float64").reshape(len(y), -1)
    predicted = (outputs[:, 0] > 0.5) if outputs.shape[1] == 1 else outputs.argmax(axis=1)
    return (predicted.astype("int64") != np.asarray(y).astype("int64")).astype("float64")


def log_losses(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each example's natural-log loss, -ln p(true class), p clipped to [1e-7, 1 - 1e-7]."""
    chosen = probs[np.arange(len(y)), np.asarray(y).astype("int64")]
    return -np.log(np.clip(chosen, EPSILON, 1.0 - EPSILON))


def standard_error(per_example: Optional[np.ndarray]) -> Optional[float]:
    """std(ddof=1) / sqrt(n) of per-example values; None without two finite values."""
    if per_example is None or len(per_example) < 2 or not np.isfinite(per_example).all():
        return None
    return float(np.std(per_example, ddof=1) / np.sqrt(len(per_example)))
