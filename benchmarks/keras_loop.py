"""The plain Keras loop that `tunenet search` is measured against: no tuner at all.

The same models as the benchmark's grid (same split, layers, units, optimizer, learning rates,
batch size, epochs and EarlyStopping): build, compile and fit each with NumPy arrays, keep the
best by validation accuracy, evaluate it on the test split.

Usage: python benchmarks/keras_loop.py SPEC.json WORKDIR
Prints one JSON line: best val_accuracy, test accuracy, trials, search seconds.
"""

import itertools
import json
import sys
import time

import keras
import numpy as np
from sklearn import datasets
from sklearn.model_selection import train_test_split


def load_split(spec: dict) -> tuple:
    """train / validation / test, stratified, with the seeds and fractions tunenet uses."""
    x, y = getattr(datasets, f"load_{spec['dataset']}")(return_X_y=True)
    x, y = x.astype("float32"), y.astype("int32")
    seed, test, validation = spec["seed"], spec["test"], spec["validation"]
    rest, test_idx = train_test_split(
        np.arange(len(y)), test_size=test, stratify=y, random_state=seed
    )
    train_idx, val_idx = train_test_split(
        rest, test_size=validation / (1 - test), stratify=y[rest], random_state=seed + 1
    )
    return (x[train_idx], y[train_idx]), (x[val_idx], y[val_idx]), (x[test_idx], y[test_idx])


def main(spec_path: str, workdir: str) -> None:
    spec = json.loads(open(spec_path).read())
    (x, y), (xv, yv), (xt, yt) = load_split(spec)
    classes = int(y.max()) + 1
    mean, variance = x.mean(axis=0), x.var(axis=0)
    keras.utils.set_random_seed(spec["seed"])

    started = time.perf_counter()
    best_score, best_model, trials = -1.0, None, 0
    for units, learning_rate in itertools.product(spec["units"], spec["learning_rate"]):
        model = keras.Sequential(
            [
                keras.Input(shape=x.shape[1:]),
                keras.layers.Normalization(mean=mean, variance=variance),
                keras.layers.Dense(units, activation="relu"),
                keras.layers.Dense(classes, activation="softmax"),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        history = model.fit(
            x,
            y,
            validation_data=(xv, yv),
            epochs=spec["epochs"],
            batch_size=spec["batch_size"],
            callbacks=[
                keras.callbacks.EarlyStopping(
                    monitor=spec["monitor"],
                    patience=spec["patience"],
                    restore_best_weights=True,
                )
            ],
            verbose=0,
        )
        trials += 1
        score = max(history.history["val_accuracy"])
        if score > best_score:
            best_score, best_model = score, model
    _, test_accuracy = best_model.evaluate(xt, yt, verbose=0)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "best_val_accuracy": best_score,
                "test_accuracy": float(test_accuracy),
                "trials": trials,
                "search_seconds": round(seconds, 3),
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:3])
