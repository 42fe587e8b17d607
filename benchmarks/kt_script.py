"""The hand-written keras-tuner script that `tunenet search` is measured against.

Written the way a typical user writes it: a build function, `kt.GridSearch`, NumPy arrays,
`tuner.search(x, y, validation_data=..., epochs=..., callbacks=[EarlyStopping(...)])`, then the
best model evaluated on the test split. It runs the same trials as the benchmark's tunenet config
(same split, layers, units, optimizer, learning rates, batch size, epochs and EarlyStopping).

Usage: python benchmarks/kt_script.py SPEC.json WORKDIR
Prints one JSON line: best val_accuracy, test accuracy, trials, search seconds.
"""

import json
import sys
import time

import keras
import keras_tuner as kt
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

    def build(hp):
        model = keras.Sequential(
            [
                keras.Input(shape=x.shape[1:]),
                keras.layers.Normalization(mean=mean, variance=variance),
                keras.layers.Dense(hp.Choice("units", spec["units"]), activation="relu"),
                keras.layers.Dense(classes, activation="softmax"),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.Adam(hp.Choice("learning_rate", spec["learning_rate"])),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    started = time.perf_counter()
    tuner = kt.GridSearch(
        build,
        objective="val_accuracy",
        seed=spec["seed"],
        directory=workdir,
        project_name="kt_grid",
        overwrite=True,
    )
    tuner.search(
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
    best = tuner.get_best_models(1)[0]
    _, test_accuracy = best.evaluate(xt, yt, verbose=0)
    seconds = time.perf_counter() - started
    trials = tuner.oracle.get_best_trials(len(tuner.oracle.trials))
    print(
        json.dumps(
            {
                "best_val_accuracy": trials[0].score,
                "test_accuracy": float(test_accuracy),
                "trials": len(trials),
                "search_seconds": round(seconds, 3),
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:3])
