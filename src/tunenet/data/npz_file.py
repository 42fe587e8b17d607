"""NumPy `.npz` archives -> Examples: x and y, or x_train and y_train (+ x_test and y_test).

Every array's shape and dtype are read from its `.npy` header first: an array larger than
`MAX_ARRAY_BYTES`, or one that inflates more than `MAX_INFLATION` times its compressed size (a
decompression bomb), is refused before anything is decompressed.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from tunenet.config.sections import DataConfig
from tunenet.data.examples import Examples, infer_task
from tunenet.data.paths import existing_file
from tunenet.errors import DataError

MAX_ARRAY_BYTES = 8 * 2**30
"""The largest array tunenet reads from an npz file: 8 GiB, more than a search can train on in
memory (it is read whole)."""
MAX_INFLATION = 200
"""How many times its compressed size an array may inflate to. Real data compresses 2 to 20
times; a decompression bomb (a few MB that inflate to GBs) far more."""
SMALL_ARRAY_BYTES = 2**20
"""Arrays up to this size (1 MiB) may inflate any number of times (a constant column)."""
ZIP_ERRORS = (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError)
"""What reading a damaged zip archive's members raises."""


def header_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """The shape of every array of an npz file, from the `.npy` headers alone (no data read).

    Raises:
        OSError, ValueError: the file cannot be read as an npz archive.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return {name: shape for name, (shape, _, _) in _headers(archive).items()}
    except ZIP_ERRORS as error:
        raise ValueError(str(error)) from None


def _headers(
    archive: zipfile.ZipFile,
) -> dict[str, tuple[tuple[int, ...], np.dtype, zipfile.ZipInfo]]:
    """(shape, dtype, zip entry) of every `.npy` member, reading only each member's header."""
    found = {}
    for info in archive.infolist():
        if info.filename.endswith(".npy"):
            with archive.open(info) as member:
                shape, dtype = _header(member)
            found[info.filename.removesuffix(".npy")] = (shape, dtype, info)
    return found


def _header(member: Any) -> tuple[tuple[int, ...], np.dtype]:
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    else:
        raise ValueError(f".npy format version {version[0]}.{version[1]} is not supported")
    return tuple(int(side) for side in shape), dtype


def _check_sizes(archive: zipfile.ZipFile, path: Path, key: str, names: tuple[str, ...]) -> None:
    """Refuse an array too large to hold, or a decompression bomb, before reading any data."""
    try:
        headers = _headers(archive)
    except (OSError, ValueError, *ZIP_ERRORS):
        return  # np.load below says what is wrong with the file
    for name in names:
        if name not in headers:
            continue
        shape, dtype, info = headers[name]
        size = math.prod(shape) * dtype.itemsize
        if size > MAX_ARRAY_BYTES:
            raise DataError(
                f"{key}: {path}: array {name} has shape {shape} of {dtype}, "
                f"{bytes_text(size)} once read; tunenet reads arrays up to "
                f"{bytes_text(MAX_ARRAY_BYTES)}. Save fewer or smaller examples (data.limit "
                "samples after reading)."
            )
        compressed = max(info.compress_size, 1)
        if size > SMALL_ARRAY_BYTES and size > MAX_INFLATION * compressed:
            raise DataError(
                f"{key}: {path}: array {name} is {bytes_text(compressed)} compressed but declares "
                f"shape {shape} of {dtype}, {bytes_text(size)} once decompressed (more than "
                f"{MAX_INFLATION} times): refused as a decompression bomb. Save real data, "
                "with numpy.savez (not compressed) if it is this regular."
            )


def bytes_text(count: int) -> str:
    """A size in words: 48 kB, 4.8 TB (powers of 1000)."""
    for unit, scale in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} bytes"


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
        _check_sizes(archive.zip, path, key, wanted)  # the open archive: no second read
        try:
            x, y = archive[wanted[0]], archive[wanted[1]]
        except ValueError as error:  # object arrays need pickle, which tunenet never allows
            raise DataError(
                f"{key}: {path}: {error}. Save numeric arrays (and text labels as str arrays)."
            ) from None
        except MemoryError:
            raise DataError(
                f"{key}: {path}: arrays {wanted[0]} and {wanted[1]} do not fit in memory. "
                "Save fewer or smaller examples."
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
