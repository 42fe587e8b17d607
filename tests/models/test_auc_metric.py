"""The multiclass AUC metric (models.build.SparseAUC): one-vs-rest, micro-averaged, from integer
labels, as scikit-learn computes it."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from tunenet.models.build import SparseAUC


def scores(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=400)
    logits = rng.normal(size=(400, 3)) + 1.5 * np.eye(3)[y]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, probs.astype("float32")


def test_roc_auc_is_the_micro_average_of_one_vs_rest():
    y, probs = scores()
    metric = SparseAUC(classes=3, num_thresholds=2000, name="auc")
    metric.update_state(y, probs)
    expected = roc_auc_score(np.eye(3)[y], probs, average="micro")
    assert float(metric.result()) == pytest.approx(expected, abs=2e-3)


def test_pr_auc_is_close_to_the_micro_average_precision():
    y, probs = scores(1)
    metric = SparseAUC(classes=3, curve="PR", num_thresholds=2000, name="pr_auc")
    metric.update_state(y, probs)
    expected = average_precision_score(np.eye(3)[y], probs, average="micro")
    assert float(metric.result()) == pytest.approx(expected, abs=0.02)


def test_example_weights_count_for_every_class_of_the_example():
    y, probs = scores(2)
    weights = np.where(y == 0, 3.0, 1.0)
    metric = SparseAUC(classes=3, num_thresholds=2000, name="auc")
    metric.update_state(y, probs, sample_weight=weights)
    expected = roc_auc_score(np.eye(3)[y], probs, average="micro", sample_weight=weights)
    assert float(metric.result()) == pytest.approx(expected, abs=2e-3)
