"""Sources -> Dataset: fixed seeded splits, task, classes and normalization statistics.

Built-in sources come from scikit-learn, which ships its data, so everything works offline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from tunenet.config import Config, DataConfig
from tunenet.errors import DataError

TASKS = ("binary", "multiclass", "regression")


@dataclass
class Examples:
    """All examples of a source before splitting. `classes` is empty for regression."""

    x: np.ndarray
    y: np.ndarray
    task: str
    classes: list[str] = field(default_factory=list)
    feature_names: list[str] = field(default_factory=list)
    x_test: Optional[np.ndarray] = None  # a source's own test split, when it has one
    y_test: Optional[np.ndarray] = None


@dataclass
class Dataset:
    """The fixed train / validation / test split every trial of a search uses."""

    source: str
    task: str
    classes: list[str]
    feature_names: list[str]
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def target_variance(self) -> float:
        """Variance of the training target: regression error is MSE divided by it."""
        if self.task != "regression":
            return 1.0
        variance = float(np.var(self.y_train))
        return variance if variance > 0 else 1.0

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The arrays of one split: train, val (or validation) or test."""
        pairs = {
            "train": (self.x_train, self.y_train),
            "val": (self.x_val, self.y_val),
            "validation": (self.x_val, self.y_val),
            "test": (self.x_test, self.y_test),
        }
        return pairs[name]

    def summary(self) -> dict:
        """The manifest's data summary."""
        return {
            "source": self.source,
            "task": self.task,
            "classes": list(self.classes),
            "input_shape": list(self.input_shape),
            "features": len(self.feature_names),
            "sizes": {
                "train": int(len(self.y_train)),
                "validation": int(len(self.y_val)),
                "test": int(len(self.y_test)),
            },
        }

    def normalization(self, method: str) -> Optional[tuple[np.ndarray, np.ndarray]]:
        """(mean, variance) for a Keras Normalization layer, fitted on the training split only.

        `minmax` is expressed as mean=min, variance=(max-min)^2, so one layer does both.
        Constant features get variance 1 so that unseen values stay finite.
        """
        if method == "none":
            return None
        x = self.x_train.reshape(len(self.x_train), -1).astype("float64")
        if method == "standard":
            center, variance = x.mean(axis=0), x.var(axis=0)
        else:
            center = x.min(axis=0)
            variance = (x.max(axis=0) - center) ** 2
        variance = np.where(variance > 0, variance, 1.0)
        shape = self.input_shape
        return center.reshape(shape).astype("float32"), variance.reshape(shape).astype("float32")


# ---------------------------------------------------------------- built-in sources


def _sklearn_bunch(loader: Callable, task: str) -> Callable[[DataConfig, int], Examples]:
    def load(config: DataConfig, seed: int) -> Examples:
        bunch = loader()
        classes = [str(name) for name in getattr(bunch, "target_names", [])]
        if task != "regression" and not classes:
            classes = [str(value) for value in np.unique(bunch.target)]
        return Examples(
            x=np.asarray(bunch.data, dtype="float32"),
            y=np.asarray(bunch.target),
            task=task,
            classes=classes if task != "regression" else [],
            feature_names=[str(name) for name in getattr(bunch, "feature_names", [])],
        )

    return load


def _toy(maker: str) -> Callable[[DataConfig, int], Examples]:
    def load(config: DataConfig, seed: int) -> Examples:
        from sklearn import datasets

        if maker == "circles":
            x, y = datasets.make_circles(n_samples=1000, noise=0.1, factor=0.5, random_state=seed)
        else:
            x, y = datasets.make_moons(n_samples=1000, noise=0.2, random_state=seed)
        return Examples(
            x=x.astype("float32"),
            y=y,
            task="binary",
            classes=["0", "1"],
            feature_names=["x1", "x2"],
        )

    return load


def _builtin(name: str, task: str) -> Callable[[DataConfig, int], Examples]:
    def load(config: DataConfig, seed: int) -> Examples:
        from sklearn import datasets

        return _sklearn_bunch(getattr(datasets, f"load_{name}"), task)(config, seed)

    return load


SOURCES: dict[str, Callable[[DataConfig, int], Examples]] = {
    "circles": _toy("circles"),
    "moons": _toy("moons"),
    "digits": _builtin("digits", "multiclass"),
    "breast_cancer": _builtin("breast_cancer", "binary"),
    "iris": _builtin("iris", "multiclass"),
    "wine": _builtin("wine", "multiclass"),
    "diabetes": _builtin("diabetes", "regression"),
}


# ---------------------------------------------------------------- task, limit, split


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


def _apply_task(examples: Examples, task: str) -> Examples:
    """Apply the config's `task` over the inferred one, with a clear error when it cannot fit."""
    if task == "auto" or task == examples.task:
        return examples
    count = len(np.unique(examples.y))
    if task == "binary" and count != 2:
        raise DataError(f"data.task: 'binary' needs exactly 2 classes, the target has {count}.")
    if task == "regression":
        examples.y = examples.y.astype("float32")
        examples.classes = []
    elif not examples.classes:
        examples.y, classes = _encode_labels(examples.y)
        examples.classes = classes
    examples.task = task
    return examples


def _encode_labels(y: np.ndarray) -> tuple[np.ndarray, list[str]]:
    classes, codes = np.unique(y, return_inverse=True)
    return codes.astype("int32"), [str(value) for value in classes]


def _limit(examples: Examples, limit: Optional[int], seed: int) -> Examples:
    """Keep at most `limit` examples, stratified for classification."""
    if limit is None or limit >= len(examples.y):
        return examples
    from sklearn.model_selection import train_test_split

    stratify = examples.y if examples.task != "regression" else None
    try:
        x, _, y, _ = train_test_split(
            examples.x, examples.y, train_size=limit, stratify=stratify, random_state=seed
        )
    except ValueError:
        x, _, y, _ = train_test_split(examples.x, examples.y, train_size=limit, random_state=seed)
    examples.x, examples.y = x, y
    return examples


def _split(examples: Examples, config: DataConfig, seed: int) -> Dataset:
    from sklearn.model_selection import train_test_split

    fractions = config.split
    stratify = fractions.stratify and examples.task != "regression"
    x, y = examples.x, examples.y
    x_test, y_test = examples.x_test, examples.y_test
    try:
        if x_test is None:
            x_test, y_test = x[:0], y[:0]
            if fractions.test > 0:
                x, x_test, y, y_test = train_test_split(
                    x, y, test_size=fractions.test, stratify=y if stratify else None,
                    random_state=seed,
                )  # fmt: skip
        validation = fractions.validation / (
            1 - (0 if examples.x_test is not None else fractions.test)
        )
        x_train, x_val, y_train, y_val = train_test_split(
            x, y, test_size=validation, stratify=y if stratify else None, random_state=seed + 1
        )
    except ValueError as error:
        raise DataError(
            f"data.split: cannot split {len(examples.y)} examples into train / validation / test "
            f"with validation={fractions.validation}, test={fractions.test}: {error}. "
            "Use more examples (data.limit), fewer classes, or other fractions."
        ) from None
    return Dataset(
        source=config.source,
        task=examples.task,
        classes=examples.classes,
        feature_names=examples.feature_names,
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        x_test=x_test,
        y_test=y_test,
    )


def _finalize_types(examples: Examples) -> Examples:
    examples.x = examples.x.astype("float32")
    if examples.task == "regression":
        examples.y = examples.y.astype("float32")
    else:
        examples.y = examples.y.astype("int32")
    if examples.y_test is not None:
        examples.y_test = examples.y_test.astype(examples.y.dtype)
        examples.x_test = examples.x_test.astype("float32")
    return examples


def load_dataset(full: Config) -> Dataset:
    """Load a source, apply `task` and `limit`, and split it with the run's seed.

    Args:
        full: the validated config; the split depends only on `data` and `seed`, so it is the
            same for every trial and every resume.
    """
    config, seed = full.data, full.seed
    loader = SOURCES.get(config.source)
    if loader is None:
        raise DataError(f"data.source: {config.source!r} is not supported yet.")
    examples = loader(config, seed)
    if len(examples.y) == 0:
        raise DataError(f"data.source: {config.source!r} has no examples.")
    examples = _apply_task(examples, config.task)
    examples = _finalize_types(examples)
    examples = _limit(examples, config.limit, seed)
    if full.model.kind == "cnn":
        examples = as_images(examples)
    return _split(examples, config, seed)


def as_images(examples: Examples) -> Examples:
    """Give flat square inputs (digits' 64 pixels) the height x width x 1 shape a CNN needs."""
    if examples.x.ndim != 2:
        return examples
    side = int(round(np.sqrt(examples.x.shape[1])))
    if side * side != examples.x.shape[1]:
        raise DataError(
            f"model.kind: 'cnn' needs image-shaped inputs; {examples.x.shape[1]} features "
            "are not a square image. Use model.kind: dense for tabular data."
        )
    examples.x = examples.x.reshape(len(examples.x), side, side, 1)
    if examples.x_test is not None:
        examples.x_test = examples.x_test.reshape(len(examples.x_test), side, side, 1)
    return examples
