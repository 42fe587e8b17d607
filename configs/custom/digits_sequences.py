"""Loader for configs/sequence-digits.yaml: scikit-learn's digits read row by row.

Each 8x8 image becomes a sequence of 8 steps (its rows) of 8 features (the pixels of a row):
the classic "sequential MNIST" exercise, small enough for a laptop. tunenet splits, stratifies
and normalizes what `load()` returns (`normalize` works per pixel column, the last axis).
"""

import numpy as np
from sklearn.datasets import load_digits


def load():
    """(x, y): x of shape (1797, 8, 8), float32 pixel values 0-16; y the digit, 0-9."""
    digits = load_digits()
    return digits.images.astype(np.float32), digits.target
