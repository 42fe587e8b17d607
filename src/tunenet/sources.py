"""Sources -> Examples: every way tunenet reads examples before they are split.

Built-in sources come from scikit-learn, which ships its data, so they work offline. File
sources read a CSV file, a NumPy `.npz` archive or a folder of images (one sub-folder per
class). `keras:*` sources download through `keras.datasets` once and fail with a clear message
when offline. Relative paths are relative to the working directory.

A source returns the raw labels (text or numbers); `data.py` infers or applies the task,
encodes class labels (keeping their names), down-samples, splits and scales.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import os
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np

from tunenet.config import DataConfig
from tunenet.errors import DataError

log = logging.getLogger("tunenet")

# x is an array (n, ...) or, for a CSV with text columns, a dict of columns (name -> array (n,)).
Features = Union[np.ndarray, dict[str, np.ndarray]]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


@dataclass
class Examples:
    """All examples of a source before splitting. `classes` is empty for regression.

    `classes` empty with a classification task means `y` holds raw labels still to encode;
    when given, `y` holds the codes 0..len(classes)-1. `pixels` marks uint8 images to rescale
    to [0, 1]. `files` are the absolute paths read, for the manifest and `tunenet evaluate`.
    """

    x: Features
    y: np.ndarray
    task: str
    classes: list[str] = field(default_factory=list)
    feature_names: list[str] = field(default_factory=list)
    x_test: Optional[Features] = None  # a source's own test split, when it has one
    y_test: Optional[np.ndarray] = None
    pixels: bool = False
    files: dict[str, str] = field(default_factory=dict)


Source = Callable[[DataConfig, int], Examples]


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


def subsample(y: np.ndarray, limit: Optional[int], seed: int, stratify: bool) -> np.ndarray:
    """Indices of at most `limit` examples, stratified by `y` when asked and possible."""
    if limit is None or limit >= len(y):
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(y))
    try:
        kept, _ = train_test_split(
            indices, train_size=limit, stratify=y if stratify else None, random_state=seed
        )
    except ValueError:  # a class too rare to stratify: plain random down-sampling
        kept, _ = train_test_split(indices, train_size=limit, random_state=seed)
    return kept


# ---------------------------------------------------------------- built-in sources


def _sklearn_bunch(loader: Callable, task: str) -> Source:
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
    def load(config: DataConfig, seed: int) -> Examples:
        from sklearn import datasets

        return _sklearn_bunch(getattr(datasets, f"load_{name}"), task)(config, seed)

    return load


# ---------------------------------------------------------------- files


def _file(path: Optional[str], key: str) -> Path:
    """An existing, non-empty, readable file; errors name the key, the path and the fix."""
    if not path:
        raise DataError(f"{key}: is required for this source: give the file.")
    found = Path(path).expanduser()
    if not found.exists():
        raise DataError(
            f"{key}: {path}: no such file (relative paths are relative to the working "
            f"directory, {Path.cwd()}). Check the path."
        )
    if found.is_dir():
        raise DataError(f"{key}: {path}: is a directory, expected a file: give the file in it.")
    if not found.is_file():  # a FIFO or a device would block or never end
        raise DataError(f"{key}: {path}: is not a regular file. Give a file.")
    if found.stat().st_size == 0:
        raise DataError(f"{key}: {path}: is empty. Give a file with examples.")
    try:
        with open(found, "rb"):
            pass
    except OSError as error:
        raise DataError(
            f"{key}: {path}: cannot be read ({error.strerror}). Check the file's permissions."
        ) from None
    return found.resolve()


def _folder(path: Optional[str], key: str) -> Path:
    if not path:
        raise DataError(f"{key}: is required for source 'images': give the folder.")
    found = Path(path).expanduser()
    if not found.exists():
        raise DataError(
            f"{key}: {path}: no such folder (relative paths are relative to the working "
            f"directory, {Path.cwd()}). Check the path."
        )
    if not found.is_dir():
        raise DataError(
            f"{key}: {path}: is a file; source 'images' needs a folder with one sub-folder "
            f"per class (e.g. {path}/cat/001.png, {path}/dog/001.png)."
        )
    return found.resolve()


# ---------------------------------------------------------------- csv


DELIMITERS = ",;\t|"
SHOWN = 5  # bad cells named in a message


def _head(path: Path, key: str) -> str:
    """The file's first 64 kB as text, refusing binary files."""
    with open(path, "rb") as file:
        head = file.read(65536)
    if b"\x00" in head:
        raise DataError(f"{key}: {path}: is a binary file, expected CSV text.")
    return head.decode("utf-8-sig", errors="ignore")


def _header(head: str) -> tuple[list[str], list[str], str]:
    """The header's names and the first row's fields, as the csv module reads them, and the
    delimiter."""
    first = head.split("\n", 1)[0]
    try:
        delimiter = csv.Sniffer().sniff(first, delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(head.splitlines(), delimiter=delimiter)
    names, row = next(reader, []), next(reader, [])
    return names, row, delimiter


def _check_header(names: list[str], row: list[str], path: Path, key: str) -> None:
    """Duplicate names, and a header one name short: pandas would rename the second `y` to
    `y.1` and use it as a feature, or silently make each row's first field an index."""
    if names and len(row) == len(names) + 1:
        raise DataError(
            f"{key}: {path}: the rows have {len(row)} fields but the header names "
            f"{len(names)} columns. Name every column in the header."
        )
    for name in dict.fromkeys(names):
        places = [index + 1 for index, other in enumerate(names) if other == name]
        if name and len(places) > 1:
            raise DataError(
                f"{key}: {path}: column {name!r} appears {len(places)} times in the header "
                f"(columns {', '.join(map(str, places[:-1]))} and {places[-1]}). Rename all but "
                "one: every column name must be unique."
            )


def _read_csv(path: Path, key: str, missing_values: tuple[str, ...] = ()) -> Any:
    """Read a CSV file into a DataFrame, refusing binary and non-UTF-8 files.

    Only empty cells (and `missing_values`) are missing: pandas' default list would turn the
    texts "NA", "None", "null", ... into gaps. A leading column without a name (the index that
    `DataFrame.to_csv` writes) is left out, with a warning.
    """
    import pandas as pd

    names, row, delimiter = _header(_head(path, key))
    _check_header(names, row, path, key)
    try:
        frame = pd.read_csv(
            path, sep=delimiter, encoding="utf-8-sig", keep_default_na=False,
            na_values=["", *missing_values],
        )  # fmt: skip
    except UnicodeDecodeError:
        raise DataError(f"{key}: {path}: is not UTF-8 text. Save the CSV as UTF-8.") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{key}: {path}: has no columns. Give a CSV with a header row.") from None
    except (pd.errors.ParserError, ValueError) as error:
        message = str(error).strip().splitlines()[0]
        raise DataError(f"{key}: {path}: cannot be read as CSV ({message}).") from None
    if len(frame) == 0:
        raise DataError(f"{key}: {path}: has a header but no rows. Add examples.")
    frame.columns = [str(column) for column in frame.columns]
    return _drop_unnamed(frame, names, path)


def _drop_unnamed(frame: Any, names: list[str], path: Path) -> Any:
    """Columns without a name in the header: the leading index `DataFrame.to_csv` writes and
    empty columns (a delimiter at the end of each line) are left out, with a warning; an
    unnamed column that holds values elsewhere is an error."""
    unnamed = [i for i, name in enumerate(names[: len(frame.columns)]) if name == ""]
    dropped = []
    for position in unnamed:
        column = frame.columns[position]
        if position == 0 and len(frame.columns) > 1:
            log.warning(
                "%s: the first column has no name (the index DataFrame.to_csv writes); it is "
                "left out. Give it a name in the header to use it as a feature.", path,
            )  # fmt: skip
        elif frame[column].isna().all():
            log.warning(
                "%s: column %d has no name and no values; it is left out.", path, position + 1
            )
        else:
            raise DataError(
                f"{path}: column {position + 1} has no name in the header but holds values. "
                "Name it in the header."
            )
        dropped.append(column)
    return frame.drop(columns=dropped)


def _check_columns(frame: Any, path: Path, config: DataConfig) -> list[str]:
    """The feature columns, after checking the target and features exist in the file."""
    import difflib

    columns = list(frame.columns)
    listing = ", ".join(columns)
    target = config.target
    if target not in columns:
        hint = difflib.get_close_matches(str(target), columns, n=1, cutoff=0.6)
        suggestion = f" Did you mean '{hint[0]}'?" if hint else ""
        if len(columns) == 1:
            suggestion += (
                " The header was read as one column: tunenet detects , ; tab and | as "
                "delimiters; save the file with one of them."
            )
        raise DataError(
            f"data.target: column {target!r} is not in {path}; its columns are: {listing}. "
            f"Set data.target to the column to predict.{suggestion}"
        )
    features = list(config.features) if config.features else [c for c in columns if c != target]
    unknown = [name for name in features if name not in columns]
    if unknown:
        raise DataError(
            f"data.features: {', '.join(repr(name) for name in unknown)} not in {path}; "
            f"its columns are: {listing}. Fix data.features or leave it out to use every column."
        )
    if not features:
        raise DataError(
            f"{path}: has no feature column besides the target {target!r}. "
            "Add feature columns to the file."
        )
    return features


def _cells(series: Any, mask: Any) -> str:
    """Where the masked cells are and what they hold: `line 4: 'NA', line 9: 'inf'` (header = 1)."""
    found = series[mask]
    shown = [f"line {int(row) + 2}: {str(value)!r}" for row, value in found.head(SHOWN).items()]
    more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    return ", ".join(shown) + more


def _placeholders(series: Any) -> list[str]:
    """The few texts among a column of numbers ("NA", "?", "n/a"): not values, not categories.

    A column of categories that holds a number or two ("yes", "no", "1") is text, not this.
    """
    import pandas as pd

    if _numeric(series):
        return []
    present = series.dropna().astype(str)
    numbers = pd.to_numeric(present, errors="coerce")
    distinct = list(dict.fromkeys(present[numbers.isna()]))
    if not distinct or len(distinct) > 3 or numbers.nunique() <= len(distinct):
        return []
    return distinct


def _check_values(frame: Any, path: Path, config: DataConfig, features: list[str]) -> None:
    """Text among the numbers of a feature or a numeric target, an infinite target: name the
    lines, the values and the fix before anything trains."""
    target = str(config.target)
    numeric_target = config.task in ("auto", "regression")
    for name in [*features, target] if numeric_target else features:
        texts = _placeholders(frame[name])
        if texts:
            raise _text_among_numbers(frame[name], texts, path, is_target=name == target)
    _check_finite_target(frame[target], path)


def _text_among_numbers(series: Any, texts: list[str], path: Path, is_target: bool) -> DataError:
    quoted = ", ".join(f'"{text}"' for text in texts)
    where = _cells(series, series.astype(str).isin(texts))
    key = "data.target: " if is_target else ""
    other = (
        "or set data.task to binary or multiclass if they are classes"
        if is_target
        else "or leave the column out with data.features"
    )
    return DataError(
        f"{key}{path}: column {series.name!r} holds numbers but also text: {where}. If that "
        f"text marks a missing value, add data.missing_values: [{quoted}] (data.missing then "
        f"decides what happens to those rows); otherwise fix those cells, {other}."
    )


def _check_finite_target(series: Any, path: Path) -> None:
    import pandas as pd

    if not _numeric(series) or pd.api.types.is_bool_dtype(series):
        return
    infinite = np.isinf(series.to_numpy(dtype="float64", na_value=np.nan))
    if infinite.any():
        raise DataError(
            f"data.target: column {series.name!r} of {path} has {int(infinite.sum())} "
            f"infinite value(s): {_cells(series, infinite)}. The target must be a finite "
            "number in every row: fix or remove those rows."
        )


def _missing(frame: Any, path: Path, features: list[str], target: str, mode: str) -> Any:
    """Apply `data.missing`: error names the columns and counts; drop or keep for `mean`."""
    used = [*features, target]
    counts = frame[used].isna().sum()
    counts = counts[counts > 0]
    if counts.empty:
        return frame
    if mode == "error":
        listing = ", ".join(f"{name!r} ({int(count)})" for name, count in counts.items())
        rows = int(frame[used].isna().any(axis=1).sum())
        raise DataError(
            f"{path}: {rows} row(s) have missing values, in columns {listing}. Fill them in "
            "the file, or set data.missing: drop (leave those rows out) or data.missing: mean "
            "(fill with the training split's mean, or most frequent value for text columns)."
        )
    frame = frame.dropna(subset=used if mode == "drop" else [target])
    if len(frame) == 0:
        raise DataError(f"{path}: no row is left after dropping the rows with missing values.")
    return frame


def _numeric(series: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))


def _column(series: Any, numeric: bool, path: Path) -> np.ndarray:
    """One feature column: float32 (NaN where missing) or text (None where missing)."""
    import pandas as pd

    if numeric:
        try:
            values = pd.to_numeric(series).to_numpy(dtype="float32", na_value=np.nan)
        except (ValueError, TypeError):
            raise DataError(
                f"{path}: column {series.name!r} holds text, but it is numeric in data.path. "
                "Use the same columns and types in both files."
            ) from None
        infinite = np.isinf(values)
        if infinite.any():
            raise DataError(
                f"{path}: column {series.name!r} has {int(infinite.sum())} infinite value(s): "
                f"{_cells(series, infinite)}. Fix those cells, or mark them missing with "
                "data.missing_values."
            )
        return values
    values = series.to_numpy(dtype=object)
    present = ~series.isna().to_numpy()
    values[present] = [str(value) for value in values[present]]
    values[~present] = None
    return values


def _csv_part(
    path: Path, config: DataConfig, features: list[str], kinds: dict[str, bool], frame: Any
) -> tuple[Features, np.ndarray]:
    _check_values(frame, path, config, features)
    frame = _missing(frame, path, features, str(config.target), config.missing)
    columns = {name: _column(frame[name], kinds[name], path) for name in features}
    target = frame[config.target]
    y = target.to_numpy() if _numeric(target) else _column(target, False, path)
    if all(kinds.values()):
        return np.stack([columns[name] for name in features], axis=1), y
    return columns, y


def load_csv(config: DataConfig, seed: int) -> Examples:
    """A CSV file: `target` is the label column, `features` (default: all others) the inputs.

    Numeric columns are features as they are; text columns are categories, one-hot encoded
    inside the model (so the saved model takes raw rows, one input per column). A text target
    is a class label, encoded with the class names kept.
    """
    path = _file(config.path, "data.path")
    frame = _read_csv(path, "data.path", tuple(config.missing_values))
    features = _check_columns(frame, path, config)
    kinds = {name: _numeric(frame[name]) for name in features}
    text = [name for name, numeric in kinds.items() if not numeric]
    slashed = [name for name in features if "/" in name]
    if text and slashed:  # text columns make one model input per column, named by the column
        raise DataError(
            f"{path}: column name(s) {', '.join(map(repr, slashed))} contain '/', which Keras "
            "does not allow in an input name. Rename the column(s) or leave them out with "
            "data.features."
        )
    x, y = _csv_part(path, config, features, kinds, frame)
    for name in text:
        distinct = len(set(x[name]) - {None})
        if distinct > 100 and distinct > 0.5 * len(y):
            log.warning(
                "%s: text column %r has %d distinct values in %d rows; it looks like an "
                "identifier. Leave it out with data.features.",
                path, name, distinct, len(y),
            )  # fmt: skip
    examples = Examples(x=x, y=y, task=infer_task(y), feature_names=features)
    examples.files["path"] = str(path)
    if config.test_path:
        test_path = _file(config.test_path, "data.test_path")
        test_frame = _read_csv(test_path, "data.test_path", tuple(config.missing_values))
        lacking = [name for name in [*features, config.target] if name not in test_frame.columns]
        if lacking:
            raise DataError(
                f"data.test_path: {test_path} lacks the column(s) "
                f"{', '.join(map(repr, lacking))} that data.path has. Use the same columns."
            )
        examples.x_test, examples.y_test = _csv_part(test_path, config, features, kinds, test_frame)
        examples.files["test_path"] = str(test_path)
    return examples


# ---------------------------------------------------------------- npz


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
    path = _file(config.path, "data.path")
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
        test_path = _file(config.test_path, "data.test_path")
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


# ---------------------------------------------------------------- images


def _image_files(folder: Path, key: str) -> tuple[list[Path], np.ndarray]:
    """Every image file under folder/<class>/, and its class name."""
    classes = sorted(
        entry for entry in folder.iterdir() if entry.is_dir() and not entry.name.startswith(".")
    )
    if not classes:
        raise DataError(
            f"{key}: {folder}: has no class sub-folders. Put the images of each class in their "
            f"own sub-folder, e.g. {folder}/cat/001.png and {folder}/dog/001.png."
        )
    files: list[Path] = []
    labels: list[str] = []
    for directory in classes:
        found = sorted(
            entry
            for entry in directory.iterdir()
            if entry.is_file()
            and entry.suffix.lower() in IMAGE_SUFFIXES
            and not entry.name.startswith(".")
        )
        if not found:
            raise DataError(
                f"{key}: class folder {directory} has no images ({', '.join(IMAGE_SUFFIXES)}). "
                "Add images to it or remove the folder."
            )
        files += found
        labels += [directory.name] * len(found)
    return files, np.array(labels, dtype=object)


def _decode(files: list[Path], config: DataConfig) -> np.ndarray:
    """Decode, convert and resize every image once, into uint8 (n, height, width, channels)."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        raise DataError("source 'images' needs Pillow: pip install pillow") from None
    height, width = config.image_size
    mode, channels = ("L", 1) if config.color_mode == "grayscale" else ("RGB", 3)
    pixels = np.empty((len(files), height, width, channels), dtype="uint8")
    for index, path in enumerate(files):
        try:
            with Image.open(path) as image:
                image = image.convert(mode)
                if image.size != (width, height):
                    image = image.resize((width, height), Image.Resampling.BILINEAR)
                pixels[index] = np.asarray(image, dtype="uint8").reshape(height, width, channels)
        except (OSError, ValueError, Image.DecompressionBombError) as error:
            raise DataError(
                f"{path}: cannot be read as an image ({error}). Remove or replace the file."
            ) from None
    return pixels


def _class_folders(config: DataConfig) -> tuple[Path, list[Path], np.ndarray]:
    """The folder of `data.path`, its image files and their classes: at least two classes."""
    folder = _folder(config.path, "data.path")
    files, labels = _image_files(folder, "data.path")
    classes = list(dict.fromkeys(labels.tolist()))
    if len(classes) < 2:
        raise DataError(
            f"data.path: {folder}: has one class sub-folder, {classes[0]!r}; classification "
            f"needs at least two classes: add a sub-folder per class (e.g. {folder}/other/)."
        )
    return folder, files, labels


def load_images(config: DataConfig, seed: int) -> Examples:
    """A folder with one sub-folder per class, resized to `image_size`, pixels in [0, 1].

    With `limit`, the stratified down-sampling happens before decoding, so only the kept
    images are read.
    """
    folder, files, labels = _class_folders(config)
    kept = subsample(labels, config.limit, seed, stratify=True)
    files, labels = [files[index] for index in kept], labels[kept]
    examples = Examples(x=_decode(files, config), y=labels, task=infer_task(labels), pixels=True)
    examples.files["path"] = str(folder)
    if config.test_path:
        test_folder = _folder(config.test_path, "data.test_path")
        test_files, test_labels = _image_files(test_folder, "data.test_path")
        examples.x_test, examples.y_test = _decode(test_files, config), test_labels
        examples.files["test_path"] = str(test_folder)
    return examples


def scan_images(config: DataConfig, seed: int) -> Examples:
    """The labels of an image folder without decoding any image: what `validate` checks.

    `x` is a placeholder with no values (one empty row per image).
    """
    folder, _, labels = _class_folders(config)
    examples = Examples(x=np.empty((len(labels), 0)), y=labels, task=infer_task(labels))
    examples.files["path"] = str(folder)
    if config.test_path:
        test_folder = _folder(config.test_path, "data.test_path")
        _, test_labels = _image_files(test_folder, "data.test_path")
        examples.x_test, examples.y_test = np.empty((len(test_labels), 0)), test_labels
    return examples


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
    **{name: _keras(name) for name in KERAS_DATASETS},
}
