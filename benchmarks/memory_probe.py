"""Where a search's memory growth comes from: plain Keras, no tuner, no tunenet.

    .venv/bin/python benchmarks/memory_probe.py [--models N] [--variants a,b,...]

Each variant runs in a fresh process: build, compile and fit N tiny models (iris-sized data,
2 epochs, validation), the way a trial does, and reads VmRSS after each model. Growth from
model 5 to model N, per model, is printed as a markdown table.

Variants:
  graph        clear_session(free_memory=False) before each model (tunenet's trial loop)
  graph-gc     clear_session() with gc.collect (keras-tuner's)
  graph-del    also drop the model's traced functions and iterators, then gc.collect
  eager        run_eagerly=True: nothing traced
  numpy        graph mode, NumPy arrays instead of tf.data pipelines
  graph-reset  graph-del, then TensorFlow's eager context reset (private API; the datasets are
               rebuilt for every model)
  trim         graph, then glibc malloc_trim(0) after each model (freed heap back to the system)
  gc-trim      graph-gc, then malloc_trim(0)
  arena2       gc-trim with MALLOC_ARENA_MAX=2 set before TensorFlow loads (fewer malloc arenas)
  release      graph, then the custom gradients registered since the start dropped from
               TensorFlow's gradient registry and gc.collect (what tunenet does after a trial)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

VARIANTS = (
    "graph", "graph-gc", "graph-del", "eager", "numpy", "graph-reset", "trim", "gc-trim",
    "arena2", "release",
)  # fmt: skip
ENVIRONMENTS = {"arena2": {"MALLOC_ARENA_MAX": "2"}}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def malloc_trim() -> None:
    import ctypes

    ctypes.CDLL("libc.so.6").malloc_trim(0)


def gradient_registry() -> dict:
    """TensorFlow's registry of gradient functions, where each traced tf.custom_gradient stays."""
    from tensorflow.python.framework import ops

    return ops._gradient_registry._registry


def probe(variant: str, models: int) -> list[float]:
    import gc

    import keras
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.normal(size=(90, 4)).astype("float32")
    y = rng.integers(0, 3, size=90).astype("int32")
    xv, yv = x[:30], y[:30]
    samples = []
    known = set(gradient_registry())
    for index in range(models):
        keras.backend.clear_session(
            free_memory=variant in ("graph-gc", "graph-del", "gc-trim", "arena2")
        )
        train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(90, seed=1).batch(16)
        val = tf.data.Dataset.from_tensor_slices((xv, yv)).batch(2048).cache()
        model = keras.Sequential(
            [
                keras.Input(shape=(4,)),
                keras.layers.Dense(8 + index % 3 * 8, activation="relu"),
                keras.layers.Dense(3, activation="softmax"),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.Adam(1e-2),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            run_eagerly=variant == "eager",
        )
        if variant == "numpy":
            model.fit(x, y, validation_data=(xv, yv), epochs=2, batch_size=16, verbose=0)
            model.evaluate(x, y, verbose=0)
        else:
            model.fit(train, validation_data=val, epochs=2, verbose=0)
            model.evaluate(val, verbose=0)
        if variant in ("graph-del", "graph-reset"):
            for name in ("train_function", "test_function", "predict_function"):
                setattr(model, name, None)
            for name in ("_eval_epoch_iterator",):
                if hasattr(model, name):
                    setattr(model, name, None)
            del model, train, val
            gc.collect()
        if variant == "graph-reset":
            from tensorflow.python.eager import context

            context._reset_context()
        if variant in ("trim", "gc-trim", "arena2"):
            malloc_trim()
        if variant == "release":
            registry = gradient_registry()
            for name in [key for key in registry if key not in known]:
                del registry[name]
            gc.collect()
        samples.append(rss_mb())
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=40)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--child", default="")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(probe(args.child, args.models)))
        return
    print("| variant | RSS after model 5 MB | at end MB | growth MB | MB per model |")
    print("|---|---|---|---|---|", flush=True)
    for variant in args.variants.split(","):
        done = subprocess.run(
            [sys.executable, __file__, "--child", variant, "--models", str(args.models)],
            capture_output=True,
            text=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **ENVIRONMENTS.get(variant, {})},
        )
        if done.returncode != 0:
            print(f"| {variant} | failed: {done.stderr.strip().splitlines()[-1]} |")
            continue
        rss = json.loads(done.stdout.strip().splitlines()[-1])
        growth = rss[-1] - rss[4]
        print(
            f"| {variant} | {rss[4]:.0f} | {rss[-1]:.0f} | {growth:+.1f} | "
            f"{growth / (len(rss) - 5):.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
