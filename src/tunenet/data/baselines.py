"""Reference baselines (docs/report.md): scikit-learn models fitted in seconds on a search's split.

The majority class (regression: the mean), logistic (linear) regression and histogram gradient
boosting, fitted on the training split with the network's own preprocessing (the Dataset's
normalization statistics; text columns one-hot encoded) and scored like the network:
classification error is 1 - accuracy, regression error the MSE divided by the variance of the
training target. Classification rows also carry each model's log loss (the majority row is the
class-prior model, whose log loss `not learning` compares against); regression rows carry the
standard error of each error. On large data they are fitted on a seeded subsample of the
training split, so they cost seconds, not minutes. Never imports TensorFlow.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from tunenet.data.dataset import Dataset
from tunenet.data.examples import Features, subsample
from tunenet.data.scores import log_losses, standard_error

MAX_ROWS = 20_000  # training rows fitted at most
MAX_VALUES = 8_000_000  # rows × input values fitted at most: wide inputs get fewer rows
MIN_ROWS = 1_000  # ... but never fewer than this (or the whole training split)
BOOSTING_MAX_VALUES = 4096  # inputs larger than this (images) skip boosting (docs/report.md)
# Boosting's cost grows with trees × input values (~60 µs each on one core, measured with 784
# values and 2,000-8,000 rows); this many keep it to seconds. Fewer than BOOSTING_MIN_ITER
# iterations would not be a fair reference: then boosting is left out.
BOOSTING_BUDGET = 100_000  # iterations × trees per iteration (classes, or 1) × input values
BOOSTING_MAX_ITER = 100
BOOSTING_MIN_ITER = 10
MAX_CATEGORIES = 100  # per text column; rarer categories share one column
LOGISTIC_MAX_ITER = 200
RIDGE_ALPHA = 1.0  # a light penalty: stable with one-hot columns and wide inputs
THREADS = 1  # per model fit (see _fit_one)


@dataclass
class Baselines:
    """What fitting the baselines gave: one row per model that could be fitted (the columns of
    baselines.csv, docs/run-format.md), how many training rows they saw, how their
    work was capped (`notes`) and why any model was left out (`skipped`)."""

    rows: list[dict[str, Any]]
    fitted_rows: int
    train_rows: int
    seconds: float
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def subsampled(self) -> bool:
        return self.fitted_rows < self.train_rows

    def manifest(self) -> dict[str, Any]:
        """manifest.json's `baselines`: what the report needs to say how they were fitted."""
        return {
            "fitted_rows": self.fitted_rows,
            "train_rows": self.train_rows,
            "notes": list(self.notes),
            "skipped": list(self.skipped),
        }

    def summary(self) -> str:
        """One line for stderr: `baselines (3.1 s): logistic 2.8%, majority 89.9% validation
        error`, with the subsample when there was one."""
        ranked = sorted(self.rows, key=lambda row: row["val_error"])
        errors = ", ".join(f"{row['model']} {100 * row['val_error']:.1f}%" for row in ranked)
        line = f"baselines ({self.seconds:.1f} s): {errors or 'none fitted'}"
        line += " validation error" if errors else ""
        if self.subsampled:
            line += f"; fitted on {self.fitted_rows:,} of {self.train_rows:,} training rows"
        return "; ".join([line, *self.notes])


def fit_baselines(
    dataset: Dataset,
    normalize: str,
    seed: int,
    class_weight: Optional[dict[int, float]] = None,
    status: Optional[Callable[[str], None]] = None,
) -> Baselines:
    """Fit the reference models on a search's split and score them on every split.

    Args:
        dataset: the search's Dataset (its fixed train / validation / test split).
        normalize: `data.normalize` (none, standard or minmax), applied as the network does.
        seed: the run's seed: the subsample of a large training split and boosting's seed.
        class_weight: `training.class_weight` by class index (`Dataset.class_weights`), or
            None. Logistic regression and boosting are weighted like the network, so that
            their errors (the auto target) are what a weighted model reaches; the majority
            row stays the class prior, the reference of a model that learned nothing.
        status: told "fitting 3 baselines (logistic 2/3)" before each model is fitted.

    A model that cannot be fitted (e.g. too few examples of a class) is left out, with the
    reason in `skipped`; this function does not raise for such a model.
    """
    started = time.perf_counter()
    classification = dataset.task != "regression"
    train_rows = len(dataset.y_train)
    values = int(np.prod(dataset.input_shape))
    limit = min(MAX_ROWS, max(MIN_ROWS, MAX_VALUES // max(values, 1)))
    kept = np.sort(subsample(dataset.y_train, limit, seed, stratify=classification))
    encode = _encoder(dataset, normalize)
    x_train, y_train = encode(_rows(dataset.x_train, kept)), dataset.y_train[kept]
    splits = {"train": (x_train, y_train)}
    for name in ("val", "test"):
        x, y = dataset.split(name)
        splits[name] = (encode(x), y) if len(y) else (None, y)
    trees = len(dataset.classes) if len(dataset.classes) > 2 else 1  # trees per iteration
    iterations, why_not = boosting_iterations(values, trees)
    fitted = Baselines([], len(kept), train_rows, 0.0)
    if iterations is not None and iterations < BOOSTING_MAX_ITER:
        fitted.notes.append(f"boosting: {iterations} of {BOOSTING_MAX_ITER} iterations ({why_not})")
    if class_weight:
        fitted.notes.append("logistic and boosting weighted by training.class_weight")
    models = _models(classification, seed, iterations, class_weight)
    fitting = [name for name, model in models if model is not None]
    for name, model in models:
        if model is None:
            fitted.skipped.append(f"{name}: {why_not}")
            continue
        if status is not None:
            where = f"{name} {fitting.index(name) + 1}/{len(fitting)}"
            status(f"fitting {len(fitting)} baselines ({where})")
        try:
            fitted.rows.append(_fit_one(name, model, splits, dataset))
        except Exception as error:  # a reference must never stop the search
            fitted.skipped.append(f"{name}: {type(error).__name__}: {str(error)[:200]}")
    fitted.seconds = round(time.perf_counter() - started, 2)
    return fitted


def boosting_iterations(values: int, trees: int) -> tuple[Optional[int], str]:
    """Boosting's iterations within BOOSTING_BUDGET for an input of `values` values and `trees`
    trees per iteration, or None when it is left out; and the reason for a cap."""
    if values > BOOSTING_MAX_VALUES:
        return None, f"input of {values:,} values (> {BOOSTING_MAX_VALUES:,})"
    iterations = min(BOOSTING_MAX_ITER, BOOSTING_BUDGET // (values * trees))
    size = f"{values:,} input values" + (f" × {trees} classes" if trees > 1 else "")
    if iterations < BOOSTING_MIN_ITER:
        return None, f"{size}: under {BOOSTING_MIN_ITER} iterations would fit in seconds"
    return iterations, f"{size}, to take seconds"


def _models(
    classification: bool,
    seed: int,
    boosting: Optional[int],
    class_weight: Optional[dict[int, float]] = None,
) -> list[tuple[str, Any]]:
    """(name, unfitted estimator) of each reference; None for boosting when it is left out.

    Args:
        boosting: boosting's iterations, or None to leave it out.
        class_weight: the class weights of logistic regression and boosting (classification).
    """
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge

    booster = None
    if boosting is not None:
        kind = HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor
        weights = {"class_weight": class_weight} if classification and class_weight else {}
        booster = kind(max_iter=boosting, random_state=seed, **weights)
    if classification:
        return [
            # the class-prior model: the training split's class frequencies for every row (its
            # predicted class is the majority class, its log loss the entropy of the prior)
            ("majority", DummyClassifier(strategy="prior")),
            ("logistic", LogisticRegression(max_iter=LOGISTIC_MAX_ITER, class_weight=class_weight)),
            ("boosting", booster),
        ]
    return [("mean", DummyRegressor()), ("linear", Ridge(alpha=RIDGE_ALPHA)), ("boosting", booster)]


def _fit_one(name: str, model: Any, splits: dict, dataset: Dataset) -> dict[str, Any]:
    """Fit one model on the training rows and score it on each split; a row of baselines.csv
    (keys: `runs.baselines.BASELINE_COLUMNS`)."""
    from threadpoolctl import threadpool_limits

    started = time.perf_counter()
    x_train, y_train = splits["train"]
    # One thread: OpenMP threads spin-wait on a busy core (boosting on digits took 5-18 s with
    # 2 threads beside another process, 1.7 s with 1).
    with threadpool_limits(limits=THREADS), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # iterations are capped on purpose: no convergence warning
        model.fit(x_train, y_train)
        scores: dict[str, Any] = {}
        for split, (x, y) in splits.items():
            scores[f"{split}_error"] = None  # no such split (no test split)
            if x is not None:
                scores.update(_scores(model, x, y, dataset, split))
    return {"model": name, **scores, "seconds": round(time.perf_counter() - started, 3)}


def _scores(model: Any, x: np.ndarray, y: np.ndarray, dataset: Dataset, split: str) -> dict:
    """A split's cells of baselines.csv (docs/run-format.md): the error as the network's (1 -
    accuracy, or MSE / variance of the training target); regression: its standard error;
    classification: the mean log loss (train and validation; validation with its standard
    error)."""
    if dataset.task == "regression":
        per_example = (model.predict(x) - y) ** 2 / dataset.target_variance
        return {f"{split}_error": float(per_example.mean()),
                f"{split}_error_se": standard_error(per_example)}  # fmt: skip
    found = {f"{split}_error": float(np.mean(model.predict(x) != y))}
    if split == "test":
        return found
    losses = log_losses(_full_probabilities(model, x, len(dataset.classes)), y)
    found[f"{split}_log_loss"] = float(losses.mean())
    if split == "val":
        found["val_log_loss_se"] = standard_error(losses)
    return found


def _full_probabilities(model: Any, x: np.ndarray, classes: int) -> np.ndarray:
    """predict_proba with one column per class of the data: a class the fitted rows lacked
    gets probability 0 (scikit-learn gives columns only for the classes it saw)."""
    found = model.predict_proba(x)
    probs = np.zeros((len(found), classes))
    probs[:, np.asarray(model.classes_, dtype="int64")] = found
    return probs


def _rows(x: Features, indices: np.ndarray) -> Features:
    if isinstance(x, dict):
        return {name: column[indices] for name, column in x.items()}
    return x[indices]


def _encoder(dataset: Dataset, normalize: str) -> Any:
    """A function from a split's inputs to a 2-D float matrix, preprocessed like the network's
    input: the numeric values scaled by the training split's statistics (per feature, or per
    channel for images), text columns one-hot encoded with the training split's categories."""
    statistics = dataset.normalization(normalize)

    def scale(x: np.ndarray) -> np.ndarray:
        x = x.astype("float32")
        if statistics is not None:
            center, variance = statistics
            x = (x - center) / np.sqrt(variance)
        return x.reshape(len(x), -1)

    if not dataset.columns:
        return scale
    text = list(dataset.vocabularies)
    numeric = [name for name in dataset.x_train if name not in dataset.vocabularies]
    one_hot = _one_hot(dataset, text)

    def encode(x: dict[str, np.ndarray]) -> np.ndarray:
        parts = [scale(np.stack([x[name] for name in numeric], axis=1))] if numeric else []
        if one_hot is not None:
            parts.append(one_hot.transform(_text_matrix(x, text)).astype("float32"))
        return np.hstack(parts)

    return encode


def _one_hot(dataset: Dataset, text: list[str]) -> Optional[Any]:
    """A OneHotEncoder fitted on the training split's text columns (None without any)."""
    if not text:
        return None
    from sklearn.preprocessing import OneHotEncoder

    encoder = OneHotEncoder(
        handle_unknown="ignore", max_categories=MAX_CATEGORIES, sparse_output=False
    )
    return encoder.fit(_text_matrix(dataset.x_train, text))


def _text_matrix(x: dict[str, np.ndarray], text: list[str]) -> np.ndarray:
    """The text columns as one (n, k) array of strings (a missing value is its own category)."""
    return np.stack([x[name].astype(str) for name in text], axis=1)
