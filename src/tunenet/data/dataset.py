"""Examples -> Dataset: task, down-sampling, fixed seeded splits and normalization statistics.

The sources themselves (built-in, csv, npz, images, keras, python) are in `sources.py`. Everything
fitted on data — normalization statistics, the categories of text columns, the values that
fill missing entries with `missing: mean` — comes from the training split alone.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Optional

import numpy as np

from tunenet.config.objective import check_task
from tunenet.config.sections import Config, DataConfig
from tunenet.data.examples import Examples, Features, subsample
from tunenet.data.sources import KERAS_DATASETS, SCANS, SOURCES
from tunenet.errors import ConfigError, DataError, Problem

SCALE_ROWS = 100_000  # rows that measure the feature scales at most (manifest data.feature_scales)


def _take(x: Features, indices: np.ndarray) -> Features:
    """Rows of an array, or of every column of a dict of columns."""
    if isinstance(x, dict):
        return {name: column[indices] for name, column in x.items()}
    return x[indices]


@dataclass
class Dataset:
    """The fixed train / validation / test split every trial of a search uses.

    `x_*` are arrays, or for a CSV with text columns a dict of columns (name -> array (n,);
    text columns hold Python strings), which is what the model's inputs take.
    """

    source: str
    task: str
    classes: list[str]
    feature_names: list[str]
    x_train: Features
    y_train: np.ndarray
    x_val: Features
    y_val: np.ndarray
    x_test: Features
    y_test: np.ndarray
    files: dict[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> bool:
        """True when the inputs are a dict of named columns (a CSV with text columns)."""
        return isinstance(self.x_train, dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        if self.columns:
            return (len(self.feature_names),)
        return tuple(self.x_train.shape[1:])

    @cached_property
    def vocabularies(self) -> dict[str, list[str]]:
        """The categories of each text column, as seen in the training split (sorted)."""
        if not self.columns:
            return {}
        return {
            name: sorted(set(column.tolist()) - {None})
            for name, column in self.x_train.items()
            if column.dtype == object
        }

    @property
    def target_variance(self) -> float:
        """Variance of the training target: regression error is MSE divided by it."""
        if self.task != "regression":
            return 1.0
        variance = float(np.var(self.y_train))
        return variance if variance > 0 else 1.0

    def split(self, name: str) -> tuple[Features, np.ndarray]:
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
        summary = {
            "source": self.source,
            "task": self.task,
            "classes": list(self.classes),
            "input_shape": list(self.input_shape),
            "features": int(np.prod(self.input_shape)),
            "sizes": {
                "train": int(len(self.y_train)),
                "validation": int(len(self.y_val)),
                "test": int(len(self.y_test)),
            },
        }
        if self.source == "csv":
            summary["feature_names"] = list(self.feature_names)
        if self.vocabularies:
            summary["categories"] = {name: len(v) for name, v in self.vocabularies.items()}
        if self.files:
            summary["files"] = dict(self.files)
        summary["feature_scales"] = self.feature_scales()
        return summary

    def feature_scales(self) -> Optional[dict]:
        """How far apart the numeric input features' scales are, before normalization:
        `{ratio, largest, smallest}` = the largest standard deviation (training split) over the
        smallest among features with one above 0, and their names. None but for tables (rank-2
        inputs, or a CSV's columns) with two such features (docs/run-format.md)."""
        if not self.columns and (self.x_train.ndim != 2 or self.input_dtype != "float32"):
            return None  # images, sequences and token ids
        x = self._numeric_train()
        if x is None or x.shape[1] < 2:
            return None
        x = x[:: max(1, len(x) // SCALE_ROWS)]  # evenly spaced rows: the scales, not a copy
        names = [n for n in self.feature_names if n not in self.vocabularies]
        if len(names) != x.shape[1]:
            names = [str(index) for index in range(x.shape[1])]
        with warnings.catch_warnings():  # an all-missing column: its std is NaN, left out
            warnings.simplefilter("ignore", RuntimeWarning)
            spread = np.nanstd(x.astype("float64"), axis=0)
        kept = np.flatnonzero(np.isfinite(spread) & (spread > 0))
        if len(kept) < 2:
            return None
        largest, smallest = kept[np.argmax(spread[kept])], kept[np.argmin(spread[kept])]
        return {
            "ratio": float(spread[largest] / spread[smallest]),
            "largest": names[largest],
            "smallest": names[smallest],
        }

    def class_weights(self, setting: Any) -> Optional[dict[int, float]]:
        """`training.class_weight` as Keras' `fit` takes it: a weight for every class index
        (unlisted classes 1.0), or None. `balanced` is scikit-learn's `compute_class_weight`
        on the training split: n / (classes × count of the class). Raises ConfigError for a
        label the data lacks, or for a regression target (`check_class_weight`)."""
        if setting is None:
            return None
        check_class_weight(setting, self.task, self.classes)
        if setting != "balanced":
            return {index: float(setting.get(name, 1.0)) for index, name in enumerate(self.classes)}
        from sklearn.utils.class_weight import compute_class_weight

        present = np.unique(self.y_train)
        balanced = compute_class_weight("balanced", classes=present, y=self.y_train)
        found = dict(zip(present.tolist(), balanced.tolist(), strict=True))
        return {index: float(found.get(index, 1.0)) for index in range(len(self.classes))}

    @property
    def input_dtype(self) -> str:
        """`int32` for integer token ids (a python loader's integer x), else `float32`."""
        if self.columns or self.x_train.dtype.kind not in "iu":
            return "float32"
        return str(self.x_train.dtype)

    def _numeric_train(self) -> Optional[np.ndarray]:
        """The training inputs a Normalization layer sees, as (values, features) rows."""
        if self.columns:
            numeric = [c for name, c in self.x_train.items() if name not in self.vocabularies]
            return np.stack(numeric, axis=1) if numeric else None
        if self.x_train.ndim > 2:  # sequences and images: one statistic per last-axis feature
            return self.x_train.reshape(-1, self.x_train.shape[-1])
        return self.x_train.reshape(len(self.x_train), -1)

    def normalization(self, method: str) -> Optional[tuple[np.ndarray, np.ndarray]]:
        """(mean, variance) for a Keras Normalization layer, fitted on the training split only.

        One statistic per feature for tabular data (the numeric columns of a CSV, in order),
        one per last-axis feature on rank > 2: per step feature of a sequence (n, t, d), fitted
        over its n × t rows; per channel of an image (n, h, w, c). `minmax` is expressed as
        mean=min, variance=(max-min)^2, so one layer does both. Constant features get variance
        1 so that unseen values stay finite. Returns None for `none` or without numeric input.
        """
        if method == "none":
            return None
        x = self._numeric_train()
        if x is None or len(x) == 0:
            return None
        if method == "standard":
            center, variance = _moments(x)
        else:
            center = x.min(axis=0).astype("float64")
            variance = (x.max(axis=0).astype("float64") - center) ** 2
        variance = np.where(variance > 0, variance, 1.0)
        return center.astype("float32"), variance.astype("float32")


def _moments(x: np.ndarray, chunk: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance per column in float64, without a float64 copy of a large array."""
    mean = x.mean(axis=0, dtype="float64")
    total = np.zeros_like(mean)
    for start in range(0, len(x), chunk):
        total += ((x[start : start + chunk] - mean) ** 2).sum(axis=0)
    return mean, total / len(x)


# ---------------------------------------------------------------- task, limit, split


def _label_names(values: np.ndarray) -> list[str]:
    """Class names: text as is, whole numbers without a trailing `.0`."""
    names = []
    for value in values.tolist():
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        names.append(str(value))
    return names


def _encode(examples: Examples) -> None:
    """Replace raw labels by codes 0..k-1, keeping the class names (a source's own validation
    and test splits too: their labels must be among the training examples')."""
    classes, codes = np.unique(examples.y, return_inverse=True)
    examples.y, examples.classes = codes.astype("int32"), _label_names(classes)
    for split, name in (("validation", "y_val"), ("test", "y_test")):
        labels = getattr(examples, name)
        if labels is None:
            continue
        unknown = sorted(set(labels.tolist()) - set(classes.tolist()), key=str)
        if unknown:
            shown = ", ".join(repr(value) for value in unknown[:5])
            raise DataError(
                f"the {split} examples have labels the training examples lack: {shown}. "
                f"Every {split} class needs training examples."
            )
        setattr(examples, name, np.searchsorted(classes, labels).astype("int32"))


def check_class_weight(setting: Any, task: str, classes: list[str], target: str = "") -> None:
    """`training.class_weight` against the data: classification only, and every label it
    names a class of the data. Raises ConfigError naming the key, the label and the classes."""
    if setting is None:
        return
    where = f" ({target})" if target else ""
    if task == "regression":
        message = (
            f"training.class_weight: got {setting!r}, but the target{where} is a regression "
            "target; class weights apply to classification only. Remove training.class_weight."
        )
        raise ConfigError(message, [Problem("training.class_weight", message)])
    if setting == "balanced":
        return
    unknown = [label for label in setting if label not in classes]
    if unknown:
        shown = ", ".join(repr(label) for label in classes[:20])
        more = f" and {len(classes) - 20} more" if len(classes) > 20 else ""
        message = (
            f"training.class_weight: class {unknown[0]!r} is not a class of the data{where}; "
            f"its classes are {shown}{more}. Name classes as the data labels them."
        )
        raise ConfigError(message, [Problem("training.class_weight", message)])


def _target(examples: Examples, config: DataConfig) -> str:
    """Where the target comes from, for messages: `column 'price' of /data/houses.csv`."""
    path = examples.files.get("path")
    if config.source == "csv":
        return f"column {config.target!r} of {path}"
    if config.source == "npz":
        return f"array y of {path}"
    if config.source == "images":
        return f"the class folders of {path}"
    if config.source == "python":
        return "the y that data.loader returned"
    return f"source {config.source!r}"


def _apply_task(examples: Examples, config: DataConfig) -> Examples:
    """Apply the config's `task` over the inferred one; encode class labels."""
    task = config.task
    chosen = examples.task if task == "auto" else task
    if chosen == "regression":
        if examples.y.dtype.kind not in "biuf":
            text = next((value for value in examples.y if isinstance(value, str)), examples.y[0])
            raise DataError(
                f"data.task: 'regression' needs a numeric target, but "
                f"{_target(examples, config)} holds text such as {text!r}. Use task: auto, "
                "binary or multiclass."
            )
        examples.classes = []
    elif not examples.classes:
        _encode(examples)
    count = len(examples.classes)
    if chosen == "binary" and count != 2:
        raise DataError(
            f"data.task: 'binary' needs exactly 2 classes, {_target(examples, config)} has "
            f"{count}. Use task: auto or multiclass."
        )
    if chosen != "regression" and count < 2:
        raise DataError(
            f"{_target(examples, config)} has a single class "
            f"({', '.join(examples.classes)}); classification needs at least two. "
            "Check data.target."
        )
    examples.task = chosen
    return examples


def _limit(examples: Examples, limit: Optional[int], seed: int) -> Examples:
    """Keep at most `limit` examples, stratified for classification."""
    if limit is None or limit >= len(examples.y):
        return examples
    kept = subsample(examples.y, limit, seed, stratify=examples.task != "regression")
    examples.x, examples.y = _take(examples.x, kept), examples.y[kept]
    return examples


def _finalize_types(examples: Examples) -> Examples:
    """float32 inputs (images rescaled to [0, 1]), int32 class codes, float32 targets."""

    def inputs(x: Features) -> Features:
        if isinstance(x, dict):
            return {n: c if c.dtype == object else c.astype("float32") for n, c in x.items()}
        if examples.tokens:
            return x.astype(token_dtype)
        return x.astype("float32") / 255.0 if examples.pixels else x.astype("float32")

    token_dtype = "int32"
    if examples.tokens and max(_largest_id(x) for x in _inputs(examples)) >= 2**31:
        token_dtype = "int64"
    target = "float32" if examples.task == "regression" else "int32"
    for x_name, y_name in (("x", "y"), ("x_val", "y_val"), ("x_test", "y_test")):
        if getattr(examples, y_name) is not None:
            setattr(examples, x_name, inputs(getattr(examples, x_name)))
            setattr(examples, y_name, getattr(examples, y_name).astype(target))
    return examples


def _inputs(examples: Examples) -> list[Features]:
    """The inputs of every split a source gave (training, and its own validation and test)."""
    return [x for x in (examples.x, examples.x_val, examples.x_test) if x is not None]


def _largest_id(x: np.ndarray) -> int:
    return int(np.abs(x).max()) if x.size else 0


def _split(examples: Examples, config: DataConfig, seed: int) -> Dataset:
    """Train / validation / test by index, stratified for classification, fixed by the seed."""
    from sklearn.model_selection import train_test_split

    if examples.x_val is not None:
        return _given_split(examples, config)
    fractions = config.split
    stratify = fractions.stratify and examples.task != "regression"
    y = examples.y
    rest = np.arange(len(y))
    test = rest[:0]
    own_test = examples.x_test is not None
    try:
        if not own_test and fractions.test > 0:
            rest, test = train_test_split(
                rest, test_size=fractions.test, stratify=y if stratify else None,
                random_state=seed,
            )  # fmt: skip
        validation = fractions.validation / (1 - (0 if own_test else fractions.test))
        train, val = train_test_split(
            rest, test_size=validation, stratify=y[rest] if stratify else None,
            random_state=seed + 1,
        )  # fmt: skip
    except ValueError as error:
        raise DataError(
            f"data.split: cannot split {len(y)} examples into train / validation / test "
            f"with validation={fractions.validation}, test={fractions.test}: {error}. "
            "Use more examples (data.limit), other fractions, or data.split.stratify: false."
        ) from None
    x_test, y_test = (
        (examples.x_test, examples.y_test) if own_test else (_take(examples.x, test), y[test])
    )
    return Dataset(
        source=config.source,
        task=examples.task,
        classes=examples.classes,
        feature_names=examples.feature_names,
        x_train=_take(examples.x, train),
        y_train=y[train],
        x_val=_take(examples.x, val),
        y_val=y[val],
        x_test=x_test,
        y_test=y_test,
        files=dict(examples.files),
    )


def _given_split(examples: Examples, config: DataConfig) -> Dataset:
    """A source's own train / validation (/ test) splits, kept as given; no test: none."""
    x_test, y_test = examples.x_test, examples.y_test
    if x_test is None:
        x_test, y_test = _take(examples.x, np.arange(0)), examples.y[:0]
    return Dataset(
        source=config.source,
        task=examples.task,
        classes=examples.classes,
        feature_names=examples.feature_names,
        x_train=examples.x,
        y_train=examples.y,
        x_val=examples.x_val,
        y_val=examples.y_val,
        x_test=x_test,
        y_test=y_test,
        files=dict(examples.files),
    )


def _impute(dataset: Dataset) -> Dataset:
    """`missing: mean`: fill with the training split's mean (most frequent value for text)."""
    splits = ("x_train", "x_val", "x_test")
    if not dataset.columns:
        if not any(np.isnan(getattr(dataset, name)).any() for name in splits):
            return dataset  # a gap only in validation or test is filled from training too
        with warnings.catch_warnings():  # a column with no value stays NaN: _check_filled
            warnings.simplefilter("ignore", RuntimeWarning)
            means = np.nanmean(dataset.x_train, axis=0)
        for name in splits:
            x = getattr(dataset, name)
            rows, cols = np.nonzero(np.isnan(x))
            x[rows, cols] = means[cols]
        return dataset
    for column, train in dataset.x_train.items():
        if train.dtype == object:
            present = np.array([value for value in train if value is not None], dtype=object)
            values, counts = np.unique(present, return_counts=True)
            fill = values[np.argmax(counts)] if len(values) else None
        else:
            fill = float(np.nanmean(train)) if np.isnan(train).sum() < len(train) else None
        if fill is None:
            continue
        for name in splits:
            x = getattr(dataset, name)[column]
            x[_missing_mask(x)] = fill
    return dataset


def _missing_mask(column: np.ndarray) -> np.ndarray:
    if column.dtype == object:
        return np.array([value is None for value in column], dtype=bool)
    return np.isnan(column)


def _check_filled(dataset: Dataset) -> None:
    """After `missing: mean`: a column with no training value cannot be filled."""
    for split in ("x_train", "x_val", "x_test"):
        x = getattr(dataset, split)
        columns = x.items() if isinstance(x, dict) else []
        empty = [name for name, column in columns if len(column) and _missing_mask(column).any()]
        if not isinstance(x, dict) and np.isnan(x).any():
            empty = [
                dataset.feature_names[i] if i < len(dataset.feature_names) else str(i)
                for i in np.unique(np.nonzero(np.isnan(x))[1])
            ]
        if empty:
            raise DataError(
                f"data.missing: 'mean' cannot fill column(s) {', '.join(map(repr, empty))}: "
                "they have no value in the training split. Leave them out with data.features."
            )


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
    examples = _apply_task(examples, config)
    check_task(full, examples.task)  # the objective and monitor this task's model logs
    setting = full.training.class_weight
    check_class_weight(setting, examples.task, examples.classes, _target(examples, config))
    examples = _limit(examples, config.limit, seed)
    examples = _finalize_types(examples)
    if full.model.kind == "cnn":
        examples = as_images(examples)
    dataset = _split(examples, config, seed)
    if config.missing == "mean":
        dataset = _impute(dataset)
        _check_filled(dataset)
    return dataset


def check_data(full: Config) -> Optional[str]:
    """Make the data checks of `load_dataset` for `tunenet validate`, without TensorFlow.

    File sources (csv, npz, images) are read as a search reads them, so a data problem that
    would stop the search stops `validate` with the same message. Built-in and keras sources
    are not read, and a python loader is never imported nor called (the config's own checks
    look at its file). Returns one line saying what was found, or None when nothing was read.
    """
    scan = SCANS.get(full.data.source)
    if scan is None:
        _check_known_classes(full)
        return None
    examples = _apply_task(scan(full.data, full.seed), full.data)
    check_task(full, examples.task)
    setting = full.training.class_weight
    check_class_weight(setting, examples.task, examples.classes, _target(examples, full.data))
    if full.model.kind == "cnn" and full.data.source != "images":
        as_images(examples)
    return _found(examples, full.data)


def _check_known_classes(full: Config) -> None:
    """A class_weight mapping against the classes of a built-in or keras source, which
    `validate` does not read otherwise: scikit-learn's ship with it (read in milliseconds),
    keras' are listed in `KERAS_DATASETS`."""
    setting, source = full.training.class_weight, full.data.source
    if not isinstance(setting, dict) or source not in SOURCES or source == "python":
        return  # a python loader runs at search time only
    if source in KERAS_DATASETS:
        check_class_weight(setting, "multiclass", list(KERAS_DATASETS[source].classes))
        return
    examples = _apply_task(SOURCES[source](full.data, full.seed), full.data)
    check_class_weight(setting, examples.task, examples.classes, _target(examples, full.data))


def _found(examples: Examples, config: DataConfig) -> str:
    """`data: <path>: 90 examples, 3 features (1 text), target 'label': binary (no, yes)`."""
    line = f"data: {examples.files.get('path', config.path)}: {len(examples.y)} examples"
    if config.source == "csv":
        columns = examples.x.values() if isinstance(examples.x, dict) else []
        text = sum(1 for column in columns if column.dtype == object)
        described = f" ({text} text)" if text else ""
        line += f", {len(examples.feature_names)} features{described}, target {config.target!r}"
    elif config.source == "npz":
        line += f" of shape {tuple(examples.x.shape[1:])}"
    if examples.x_test is not None:
        line += f", {len(examples.y_test)} test examples"
    classes = ", ".join(examples.classes[:10]) + (", ..." if len(examples.classes) > 10 else "")
    return line + f": {examples.task}" + (f" ({classes})" if classes else "")


def as_images(examples: Examples) -> Examples:
    """Give inputs the height x width x channels shape a CNN needs.

    Flat square inputs (digits' 64 pixels) become side x side x 1; grayscale images
    (n, height, width) get a channel axis; images are kept as they are.
    """
    if isinstance(examples.x, dict):
        raise DataError(
            "model.kind: 'cnn' needs image-shaped inputs; a CSV with text columns is tabular "
            "data. Use model.kind: dense."
        )
    if examples.x.ndim not in (2, 3):
        return examples
    side = int(round(np.sqrt(examples.x.shape[1])))
    if examples.x.ndim == 2 and side * side != examples.x.shape[1]:
        raise DataError(
            f"model.kind: 'cnn' needs image-shaped inputs; {examples.x.shape[1]} features "
            "are not a square image. Use model.kind: dense for tabular data."
        )
    for name in ("x", "x_val", "x_test"):
        x = getattr(examples, name)
        if x is not None:
            image = x[..., np.newaxis] if x.ndim == 3 else x.reshape(len(x), side, side, 1)
            setattr(examples, name, image)
    return examples
