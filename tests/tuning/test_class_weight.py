"""training.class_weight (docs/config-reference.md): the weights Keras' fit gets, by class index,
and their effect on the minority class of an imbalanced table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tunenet
from tunenet.data.dataset import Dataset
from tunenet.errors import ConfigError


def dataset_95_5(n: int = 200) -> Dataset:
    y = np.array([0] * (n * 95 // 100) + [1] * (n * 5 // 100), dtype="int32")
    x = np.zeros((n, 2), dtype="float32")
    return Dataset("csv", "binary", ["no", "yes"], ["a", "b"], x, y, x, y, x[:0], y[:0])


def test_balanced_weighs_each_class_by_n_over_classes_times_its_count():
    weights = dataset_95_5().class_weights("balanced")
    assert weights == pytest.approx({0: 200 / (2 * 190), 1: 200 / (2 * 10)})  # 0.526, 10


def test_a_mapping_is_keyed_by_class_index_and_unlisted_classes_weigh_one():
    dataset = dataset_95_5()
    assert dataset.class_weights({"yes": 4.0}) == {0: 1.0, 1: 4.0}
    assert dataset.class_weights(None) is None
    with pytest.raises(ConfigError, match=r"class 'maybe' is not a class of the data"):
        dataset.class_weights({"maybe": 2.0})


def test_balanced_gives_a_class_missing_from_training_weight_one():
    dataset = dataset_95_5()
    dataset.classes = ["no", "yes", "rare"]  # class 2 has no training example
    weights = dataset.class_weights("balanced")
    assert weights[2] == 1.0 and weights[1] == pytest.approx(10.0)


def imbalanced_csv(path: Path) -> Path:
    rng = np.random.default_rng(0)
    y = (rng.random(1000) < 0.05).astype(int)
    frame = pd.DataFrame({"x1": rng.normal(size=1000) + 1.5 * y, "x2": rng.normal(size=1000)})
    frame["y"] = y
    frame.to_csv(path, index=False)
    return path


def validation_recall(run_dir: Path) -> float:
    """Recall of class "1" on the validation split, from best/confusion.json."""
    counts = json.loads((run_dir / "best" / "confusion.json").read_text())["splits"]["val"]
    return counts[1][1] / sum(counts[1])


@pytest.mark.e2e
@pytest.mark.slow
def test_balanced_weights_raise_the_minority_recall(tmp_path):
    path = imbalanced_csv(tmp_path / "rare.csv")
    recalls = {}
    for weight in (None, "balanced"):
        config = {
            "name": f"weights-{weight}",
            "seed": 1,
            "data": {"source": "csv", "path": str(path), "target": "y"},
            "model": {"layers": 0},  # logistic regression
            "optimizer": {"learning_rate": 0.05},
            "training": {"epochs": 5, "batch_size": 64, "class_weight": weight,
                         "early_stopping": False, "monitor_layers": False},
            "search": {"max_trials": 1},
        }  # fmt: skip
        result = tunenet.search(config, runs_dir=tmp_path / "runs")
        recalls[weight] = validation_recall(result.run_dir)
    # unweighted, the 5% class is mostly answered "0"; balanced, most of it is found
    assert recalls[None] < 0.5 < recalls["balanced"]
