"""NumPy `.npz` archives -> Examples: x and y, or x_train and y_train (+ x_test and y_test)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from tunenet.config import DataConfig
from tunenet.data.examples import Examples, infer_task
from tunenet.data.paths import existing_file
from tunenet.errors import DataError


def _npz_arrays(path: Path, key: str, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(
            f"{key}: {path}: cannot be read as a NumPy .npz archive ({error}). "
            "Save it with numpy.savez(path, x=x, y=y)."
        ) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(
            f"{key}: {path}: is a single .npy array; tunenet needs a .npz archive with x and "
            "y. Save it with numpy.savez(path, x=x, y=y)."
        )
    with archive:
        found = set(archive.files)
        wanted = None
        for pair in (names, ("x", "y"), ("x_train", "y_train")):
            if set(pair) <= found:
                wanted = pair
                break
        if wanted is None:
            raise DataError(
                f"{key}: {path}: expected the arrays x and y, or x_train and y_train (and "
                f"optionally x_test and y_test); it holds: {', '.join(sorted(found)) or 'none'}. "
                "Save it with numpy.savez(path, x=x, y=y)."
            )
        try:
            x, y = archive[wanted[0]], archive[wanted[1]]
        except ValueError as error:  # object arrays need pickle, which tunenet never allows
            raise DataError(
                f"{key}: {path}: {error}. Save numeric arrays (and text labels as str arrays)."
            ) from None
    return _check_arrays(x, y, path, wanted)


def _check_arrays(
    x: np.ndarray, y: np.ndarray, path: Path, names: tuple[str, str]
) -> tuple[np.ndarray, np.ndarray]:
    if x.dtype.kind not in "biuf":
        raise DataError(f"{path}: array {names[0]} has dtype {x.dtype}; expected numbers.")
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise DataError(
            f"{path}: array {names[1]} has shape {y.shape}; expected one label or value per "
            "example (shape (n,)). Give class indices, not one-hot rows."
        )
    if len(x) != len(y):
        raise DataError(
            f"{path}: {names[0]} has {len(x)} examples but {names[1]} has {len(y)}; "
            f"they must match: save one {names[1]} value per example of {names[0]}."
        )
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        count = int((~np.isfinite(x)).sum())
        raise DataError(f"{path}: array {names[0]} has {count} NaN or infinite value(s).")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        count = int((~np.isfinite(y)).sum())
        raise DataError(f"{path}: array {names[1]} has {count} NaN or infinite value(s).")
    return x, y


def load_npz(config: DataConfig, seed: int) -> Examples:
    """A NumPy archive with x and y, or x_train and y_train (+ x_test and y_test)."""
    path = existing_file(config.path, "data.path")
    x, y = _npz_arrays(path, "data.path", ("x", "y"))
    examples = Examples(x=x, y=y, task=infer_task(y), files={"path": str(path)})
    with np.load(path, allow_pickle=False) as archive:
        has_test = [name for name in ("x_test", "y_test") if name in archive.files]
    if len(has_test) == 1:
        raise DataError(
            f"data.path: {path}: has {has_test[0]} without its pair; save both x_test and "
            "y_test, or neither."
        )
    if has_test and config.test_path:
        raise DataError(
            f"data.test_path: {path} already holds x_test and y_test; remove data.test_path "
            "or those arrays."
        )
    if has_test:
        examples.x_test, examples.y_test = _npz_arrays(path, "data.path", ("x_test", "y_test"))
    elif config.test_path:
        test_path = existing_file(config.test_path, "data.test_path")
        examples.x_test, examples.y_test = _npz_arrays(
            test_path, "data.test_path", ("x_test", "y_test")
        )
        examples.files["test_path"] = str(test_path)
    if examples.x_test is not None and examples.x_test.shape[1:] != x.shape[1:]:
        raise DataError(
            f"{path}: test examples have shape {examples.x_test.shape[1:]}, training examples "
            f"{x.shape[1:]}; they must match."
        )
    return examples
