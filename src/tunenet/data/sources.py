"""Every source by name: built-in datasets, keras datasets and the file sources.

Built-in sources come from scikit-learn, which ships its data, so they work offline. File
sources read a CSV file (`csv_file.py`), a NumPy `.npz` archive (`npz_file.py`) or a folder of
images (`image_folder.py`); `python` calls the user's own loader (`python_source.py`). `keras:*`
sources download through `keras.datasets` once and fail with a clear message when offline.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass

import numpy as np

from tunenet.config.sections import DataConfig
from tunenet.data.csv_file import load_csv
from tunenet.data.examples import Examples, Source
from tunenet.data.image_folder import load_images, scan_images
from tunenet.data.npz_file import load_npz
from tunenet.data.python_source import load_python
from tunenet.errors import DataError

# ---------------------------------------------------------------- scikit-learn


def _toy(maker: str) -> Source:
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


def _builtin(name: str, task: str) -> Source:
    """scikit-learn's `load_<name>`, with its class and feature names."""

    def load(config: DataConfig, seed: int) -> Examples:
        from sklearn import datasets

        bunch = getattr(datasets, f"load_{name}")()
        classes = [str(label) for label in getattr(bunch, "target_names", [])]
        if task != "regression" and not classes:
            classes = [str(value) for value in np.unique(bunch.target)]
        return Examples(
            x=np.asarray(bunch.data, dtype="float32"),
            y=np.asarray(bunch.target),
            task=task,
            classes=classes if task != "regression" else [],
            feature_names=[str(feature) for feature in getattr(bunch, "feature_names", [])],
        )

    return load


# ---------------------------------------------------------------- keras.datasets


@dataclass(frozen=True)
class KerasDataset:
    """A keras.datasets module, its class names, and the file(s) it downloads."""

    module: str
    classes: tuple[str, ...]
    url: str
    place: str  # where keras.datasets looks for the file, under $KERAS_HOME (~/.keras)


KERAS_BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
KERAS_DATASETS = {
    "keras:mnist": KerasDataset(
        "mnist", tuple(str(digit) for digit in range(10)), KERAS_BASE_URL + "mnist.npz",
        "datasets/mnist.npz",
    ),
    "keras:fashion_mnist": KerasDataset(
        "fashion_mnist",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
         "Bag", "Ankle boot"),
        KERAS_BASE_URL + "{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (4 files)",
        "datasets/fashion-mnist/ (the 4 .gz files)",
    ),
    "keras:cifar10": KerasDataset(
        "cifar10",
        ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
         "truck"),
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "datasets/cifar-10-batches-py-target_archive (the .tar.gz, renamed)",
    ),
}  # fmt: skip


def keras_home() -> str:
    return os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")


def _keras(source: str) -> Source:
    spec = KERAS_DATASETS[source]

    def load(config: DataConfig, seed: int) -> Examples:
        import keras

        place = os.path.join(keras_home(), spec.place)
        try:
            with contextlib.redirect_stdout(sys.stderr):  # keras' download bar is not a result
                (x, y), (x_test, y_test) = getattr(keras.datasets, spec.module).load_data()
        except Exception as error:  # urllib, hash and archive errors all mean: no usable file
            reason = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            raise DataError(
                f"data.source {source!r}: could not download the dataset; tunenet seems to be "
                f"offline ({reason}). On a machine with internet access download {spec.url} "
                f"and put it at {place}; keras.datasets reads it from there without "
                "downloading. Or use a built-in source that works offline (digits)."
            ) from None
        if x.ndim == 3:  # grayscale: add the channel axis
            x, x_test = x[..., np.newaxis], x_test[..., np.newaxis]
        return Examples(
            x=x,
            y=np.asarray(y).ravel(),
            task="multiclass",
            classes=list(spec.classes),
            x_test=x_test,
            y_test=np.asarray(y_test).ravel(),
            pixels=True,
        )

    return load


SOURCES: dict[str, Source] = {
    "circles": _toy("circles"),
    "moons": _toy("moons"),
    "digits": _builtin("digits", "multiclass"),
    "breast_cancer": _builtin("breast_cancer", "binary"),
    "iris": _builtin("iris", "multiclass"),
    "wine": _builtin("wine", "multiclass"),
    "diabetes": _builtin("diabetes", "regression"),
    "csv": load_csv,
    "npz": load_npz,
    "images": load_images,
    "python": load_python,  # the user's load(), imported at search time only
    **{name: _keras(name) for name in KERAS_DATASETS},
}

# The file sources read as `SOURCES` reads them, for `tunenet validate`: without TensorFlow,
# and images listed, not decoded. Never `python`: validate does not run the user's code.
SCANS: dict[str, Source] = {"csv": load_csv, "npz": load_npz, "images": scan_images}
