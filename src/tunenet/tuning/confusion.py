"""The best model's confusion matrix per split, written to best/confusion.json (docs/run-format.md).

Written with best/model.keras (validation split) and again when the search ends (test split
added), so that `report` shows it without TensorFlow. Classification only. A class is
predicted as Keras' `accuracy` counts it (sigmoid > 0.5, else the largest softmax output), so
the matrix's diagonal over its total is 1 − the error in trials.csv of the same model.
"""

from __future__ import annotations

from typing import Optional

import keras
import numpy as np
from sklearn.metrics import confusion_matrix

from tunenet.data.dataset import Dataset
from tunenet.runs import RunDir
from tunenet.runs.insight import read_confusion, write_confusion
from tunenet.tuning.pipelines import Pipelines


def predicted_classes(
    model: keras.Model, pipelines: Pipelines, split: str, raw: bool = False
) -> np.ndarray:
    """Class codes the model predicts for a split, in inference mode, batch by batch (`raw`
    picks the pipeline already built for the saved model, as `Pipelines.split_error`)."""
    outputs = [
        keras.ops.convert_to_numpy(model(x, training=False))
        for x, _ in pipelines.evaluation(split, raw=raw)
    ]
    scores = np.concatenate(outputs)
    if scores.ndim == 1 or scores.shape[-1] == 1:  # binary: one sigmoid output
        return (scores.reshape(len(scores)) > 0.5).astype("int64")
    return np.argmax(scores, axis=-1)


def split_matrix(
    model: keras.Model, pipelines: Pipelines, split: str, raw: bool = False
) -> list[list[int]]:
    """Rows: the true class; columns: the predicted one, in the dataset's class order."""
    dataset = pipelines.dataset
    truth = np.asarray(dataset.split(split)[1], dtype="int64")
    predicted = predicted_classes(model, pipelines, split, raw)
    matrix = confusion_matrix(truth, predicted, labels=list(range(len(dataset.classes))))
    return matrix.astype(int).tolist()


Matrices = dict[str, list[list[int]]]


def write_best_confusion(
    run: RunDir, trial_id: str, model: keras.Model, pipelines: Pipelines
) -> Optional[Matrices]:
    """With a new best model (a trial's, in memory): best/confusion.json for the validation
    split. Nothing for regression (returns None)."""
    if pipelines.dataset.task == "regression":
        return None
    matrices = {"val": split_matrix(model, pipelines, "val")}
    write_confusion(run, trial_id, pipelines.dataset.classes, matrices)
    return matrices


def add_test_confusion(
    run: RunDir, trial_id: str, model: keras.Model, pipelines: Pipelines
) -> Optional[Matrices]:
    """When the search ends (the saved best model, loaded): add the test split to
    best/confusion.json; the validation matrix is kept when it is that trial's, else made
    again. Nothing for regression or without a test split (returns None)."""
    dataset: Dataset = pipelines.dataset
    if dataset.task == "regression" or not len(dataset.y_test):
        return None
    found = read_confusion(run, [])  # unreadable: made again below
    matrices: Matrices = {}
    if found and found.get("trial_id") == trial_id and "val" in found["splits"]:
        matrices["val"] = found["splits"]["val"]
    else:
        matrices["val"] = split_matrix(model, pipelines, "val", raw=True)
    matrices["test"] = split_matrix(model, pipelines, "test", raw=True)
    write_confusion(run, trial_id, dataset.classes, matrices)
    return matrices
