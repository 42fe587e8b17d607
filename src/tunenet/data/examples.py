"""Examples: what every source returns before the split, and what the sources share.

A source is a function `(DataConfig, seed) -> Examples` that returns the raw labels (text or
numbers); `dataset.py` infers or applies the task, encodes class labels (keeping their names),
down-samples, splits and scales.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Union

import numpy as np

from tunenet.config.sections import DataConfig

# x is an array (n, ...) or, for a CSV with text columns, a dict of columns (name -> array (n,)).
Features = Union[np.ndarray, dict[str, np.ndarray]]


@dataclass
class Examples:
    """All examples of a source before splitting. `classes` is empty for regression.

    `classes` empty with a classification task means `y` holds raw labels still to encode;
    when given, `y` holds the codes 0..len(classes)-1. `pixels` marks uint8 images to rescale
    to [0, 1]; `tokens` marks integer token ids, kept as integers (never scaled). `files` are
    the absolute paths read, for the manifest and `tunenet evaluate`. A source that gives its
    own validation split (a python loader's dict) sets `x_val` and `y_val`: `x` is then the
    training split, kept as given.
    """

    x: Features
    y: np.ndarray
    task: str
    classes: list[str] = field(default_factory=list)
    feature_names: list[str] = field(default_factory=list)
    x_test: Optional[Features] = None  # a source's own test split, when it has one
    y_test: Optional[np.ndarray] = None
    x_val: Optional[Features] = None  # a source's own validation split, when it has one
    y_val: Optional[np.ndarray] = None
    pixels: bool = False
    tokens: bool = False
    files: dict[str, str] = field(default_factory=dict)


Source = Callable[[DataConfig, int], Examples]


def infer_task(y: np.ndarray) -> str:
    """binary / multiclass for a few discrete labels, regression for continuous targets."""
    if y.dtype.kind in "OUSb":
        return "binary" if len(np.unique(y)) == 2 else "multiclass"
    values = np.unique(y)
    integral = np.all(np.mod(values, 1) == 0)
    if integral and len(values) == 2:
        return "binary"
    if integral and len(values) <= max(20, int(0.05 * len(y))) and len(values) < len(y):
        return "multiclass"
    return "regression"


def subsample(y: np.ndarray, limit: Optional[int], seed: int, stratify: bool) -> np.ndarray:
    """Indices of at most `limit` examples, stratified by `y` when asked and possible."""
    if limit is None or limit >= len(y):
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(y))
    try:
        kept, _ = train_test_split(
            indices, train_size=limit, stratify=y if stratify else None, random_state=seed
        )
    except ValueError:  # a class too rare to stratify: plain random down-sampling
        kept, _ = train_test_split(indices, train_size=limit, random_state=seed)
    return kept
