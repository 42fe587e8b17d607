"""CSV files -> Examples: read with pandas after checking everything a CSV can get wrong.

Numeric columns are features as they are; text columns are categories, one-hot encoded inside
the model. Only empty cells (and `data.missing_values`) are missing. Every problem is a
DataError that names the file, the column or line, the bad value and the fix.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from tunenet.config.sections import DataConfig
from tunenet.data.examples import Examples, Features, infer_task
from tunenet.data.paths import existing_file
from tunenet.errors import DataError

log = logging.getLogger("tunenet")

DELIMITERS = ",;\t|"
SHOWN = 5  # bad cells named in a message
CHUNK = 65536
MAX_HEADER_BYTES = 64 * 2**20
"""The header and first row are read whole up to this size (64 MiB: a million columns)."""


def _head(path: Path, key: str) -> str:
    """The header line and the first row, whole however wide, as text; binary files refused."""
    head = bytearray()
    lines = 0
    with open(path, "rb") as file:
        while lines < 2 and len(head) < MAX_HEADER_BYTES:
            chunk = file.read(CHUNK)
            if not chunk:
                break
            if b"\x00" in chunk:
                raise DataError(f"{key}: {path}: is a binary file, expected CSV text.")
            head += chunk
            lines += chunk.count(b"\n")
    if lines < 1 and len(head) >= MAX_HEADER_BYTES:
        raise DataError(
            f"{key}: {path}: its first line is longer than {MAX_HEADER_BYTES // 2**20} MiB; "
            "expected a CSV header row of column names."
        )
    return head.decode("utf-8-sig", errors="ignore")


def header_names(path: Path) -> list[str]:
    """The column names of a CSV file's header, reading only its first lines."""
    return _header(_head(path, "data.path"))[0]


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
    repeated = [name for name, seen in Counter(names).items() if name and seen > 1]
    if repeated:  # the first, in header order; counted once (a header may have 100,000 names)
        name = repeated[0]
        places = [index + 1 for index, other in enumerate(names) if other == name]
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


INDEX_NAMES = ("rownames", "unnamed: 0", "id")  # R's write.csv, pandas' to_csv read back, ids


def _drop_index(frame: Any, path: Path, config: DataConfig) -> Any:
    """A first column that only numbers the rows (named rownames, Unnamed: 0 or id, any case; or
    holding exactly 0..n-1 or 1..n in file order) is left out, with a warning naming it: as a
    feature it would let the model learn the row order. Kept when data.target names it, when
    data.features lists the columns (then they are the features, this one or not), or when it is
    the only column besides the target."""
    if len(frame.columns) < 3 or config.target not in frame.columns:
        return frame  # too few columns, or a missing target: _check_columns says so
    name = frame.columns[0]
    if name == config.target or config.features:
        return frame  # named as the target, or data.features says which columns are used
    column = frame[name]
    named = name.strip().lower() in INDEX_NAMES
    if not named and not _counts_rows(column):
        return frame
    why = "its name says it is a row index" if named else "it numbers the rows"
    log.warning(
        "%s: the first column %r looks like a row index (%s); it is left out. List it in "
        "data.features to use it as a feature.", path, name, why,
    )  # fmt: skip
    return frame.drop(columns=[name])


def _counts_rows(column: Any) -> bool:
    """Whether a column holds exactly 0, 1, ..., n-1 or 1, 2, ..., n in file order."""
    import pandas as pd

    if not pd.api.types.is_integer_dtype(column) or pd.api.types.is_bool_dtype(column):
        return False
    values = column.to_numpy()
    steps = np.arange(len(values))
    return bool(np.array_equal(values, steps) or np.array_equal(values, steps + 1))


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
    present = set(columns)
    unknown = [name for name in features if name not in present]
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
    numeric = numeric_columns(frame)
    for name in [*features, target] if numeric_target else features:
        if numeric[name]:
            continue  # numbers only: no placeholder text among them
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


def numeric_columns(frame: Any) -> dict[str, bool]:
    """Which columns hold numbers, read from the dtypes at once (a CSV may be 20,000 wide)."""
    return {str(name): _numeric(dtype) for name, dtype in frame.dtypes.items()}


def _numeric(series: Any) -> bool:
    """Whether a column (or its dtype) holds numbers or booleans."""
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
    target = frame[config.target]
    y = target.to_numpy() if _numeric(target) else _column(target, False, path)
    if all(kinds.values()):
        matrix = _numeric_matrix(frame, features)
        if matrix is not None:
            return matrix, y
    columns = {name: _column(frame[name], kinds[name], path) for name in features}
    if all(kinds.values()):
        return np.stack([columns[name] for name in features], axis=1), y
    return columns, y


def _numeric_matrix(frame: Any, features: list[str]) -> Any:
    """All feature columns as one float32 matrix in one step, or None when a column holds text
    or an infinite value (then `_column`, column by column, names the cells)."""
    try:
        values = frame[features].to_numpy(dtype="float32", na_value=np.nan)
    except (ValueError, TypeError):
        return None
    return None if np.isinf(values).any() else values


def load_csv(config: DataConfig, seed: int) -> Examples:
    """A CSV file: `target` is the label column, `features` (default: all others) the inputs.

    Numeric columns are features as they are; text columns are categories, one-hot encoded
    inside the model (so the saved model takes raw rows, one input per column). A text target
    is a class label, encoded with the class names kept.
    """
    path = existing_file(config.path, "data.path")
    frame = _drop_index(_read_csv(path, "data.path", tuple(config.missing_values)), path, config)
    features = _check_columns(frame, path, config)
    numeric = numeric_columns(frame)
    kinds = {name: numeric[name] for name in features}
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
        test_path = existing_file(config.test_path, "data.test_path")
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
