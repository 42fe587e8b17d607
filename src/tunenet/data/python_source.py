"""`data.source: python`: the examples the user's own `load()` returns (docs/data.md).

The loader is imported and called at search time only (never by `validate`), through
`tunenet.config.user_code.import_function`. `load()` returns `(x, y)`, which tunenet splits like
any source, or a dict of `train`, `validation` and optionally `test` `(x, y)` pairs, kept as
given. Everything it returns is checked here, and refused with a ConfigError naming
`data.loader`, its file, what came back and what is expected.
"""

from __future__ import annotations

import contextlib
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np

from tunenet.config import user_code  # import_function: the one place user code is imported
from tunenet.config.sections import DataConfig
from tunenet.data.examples import Examples, infer_task
from tunenet.errors import ConfigError, Problem, printable

SPLITS = ("train", "validation", "test")
EXPECTED = (
    "The loader must return (x, y), or a dict {'train': (x, y), 'validation': (x, y)} with an "
    "optional 'test': (x, y)"
)
LABELS = "biufUS"  # numbers, booleans and text labels


def refuse(where: str, problem: str, fix: str = EXPECTED, key: str = "data.loader") -> ConfigError:
    """The error for a loader (or what it returned): `data.loader <where>: <problem>. <fix>.`"""
    message = f"{key}: {where}: {problem}. {fix}."
    return ConfigError(message, [Problem(key, message.removeprefix(f"{key}: "))])


def _loader(config: DataConfig) -> tuple[Callable[[], Any], str]:
    """The loader function, and how messages name it (its spec, the file of a module's)."""
    loader = config.loader
    if callable(loader):  # the Python API may pass the function itself
        name = user_code.callable_text(loader)  # module:name, or <callable module.name>
        return loader, name if name.startswith("<") else f"function {name}"
    spec = user_code.parse_spec(str(loader))
    function = user_code.import_function(spec, "data.loader")
    path = user_code.source_file(spec)
    return function, spec.text + (f" (file {path})" if spec.module is not None and path else "")


def load_python(config: DataConfig, seed: int) -> Examples:
    """Call `load()` of `data.loader` and check what it returns (see the module docstring)."""
    function, where = _loader(config)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # a loader's prints are not tunenet's output
            returned = function()
    except (Exception, SystemExit) as error:  # the loader's own error, not tunenet's
        lines = printable(str(error)).strip().splitlines()
        reason = lines[0] if lines else "(no message)"
        raise refuse(
            where,
            f"the loader raised {type(error).__name__}: {reason}{_raised_at(error, function)}",
            "Fix the loader; tunenet calls it with no arguments",
        ) from None
    examples = _examples(returned, where)
    _check_tokens(examples, config, where)
    return examples


def _raised_at(error: BaseException, function: Callable) -> str:
    """` (load.py, line 12)`: the last line of the loader's own file the error passed through
    (a loader that calls np.load shows its call, not NumPy's line), or empty."""
    own = getattr(getattr(function, "__code__", None), "co_filename", None)
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == own]
    if not frames:
        return ""
    return f" ({printable(Path(frames[-1].filename).name)}, line {frames[-1].lineno})"


def _examples(returned: Any, where: str) -> Examples:
    """(x, y) -> Examples split later; a dict -> Examples with its own validation and test."""
    if isinstance(returned, dict):
        keys = [str(key) for key in returned]
        missing = [key for key in SPLITS[:2] if key not in returned]
        extra = [key for key in keys if key not in SPLITS]
        if missing or extra:
            wrong = f"lacks {', '.join(map(repr, missing))}" if missing else ""
            wrong += (" and " if wrong else "") + (
                f"has unknown key(s) {', '.join(map(repr, extra))}" if extra else ""
            )
            raise refuse(where, f"the loader returned a dict with keys {keys}, which {wrong}")
        pairs = {
            split: _pair(returned[split], where, split) for split in SPLITS if split in returned
        }
        _check_shapes(pairs, where)
        x, y = pairs["train"]
        x_val, y_val = pairs["validation"]
        examples = Examples(x=x, y=y, task=infer_task(y), x_val=x_val, y_val=y_val)
        if "test" in pairs:
            examples.x_test, examples.y_test = pairs["test"]
    else:
        x, y = _pair(returned, where, None)
        examples = Examples(x=x, y=y, task=infer_task(y))
    examples.tokens = x.dtype.kind in "iu"
    examples.feature_names = _column_names(returned, x)
    return examples


def _column_names(returned: Any, x: np.ndarray) -> list[str]:
    """A pandas DataFrame's column names for x's features (the manifest's feature_scales names
    them), else none."""
    table = returned["train"][0] if isinstance(returned, dict) else returned[0]
    columns = getattr(table, "columns", None)
    if columns is None or x.ndim != 2 or len(columns) != x.shape[1]:
        return []
    return [str(name) for name in columns]


def _pair(value: Any, where: str, split: str | None) -> tuple[np.ndarray, np.ndarray]:
    """One (x, y) pair as arrays, checked: x numbers of rank >= 1, finite; y one per example."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        named = f"the {split!r} entry of the loader's dict is" if split else "the loader returned"
        raise refuse(where, f"{named} {_described(value)}, not an (x, y) pair")
    label = f"{split} x" if split else "x"
    x = _array(value[0], where, label)
    y = _array(value[1], where, label[:-1] + "y")
    if x.dtype.kind not in "biuf":
        raise refuse(
            where,
            f"{label} has dtype {x.dtype}; expected numbers (floats, or integer token ids)",
            "Encode text and categories as numbers before returning them",
        )
    if x.ndim == 0:
        raise refuse(
            where,
            f"{label} is one value ({x.item()!r}), not an array of examples",
            "Return x with one example per row of its first axis",
        )
    if len(x) == 0:
        raise refuse(where, f"{label} is empty (shape {x.shape})", "Return at least one example")
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    if x.dtype.kind == "b":
        x = x.astype("float32")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    _check_labels(x, y, where, label)
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        count = int((~np.isfinite(x)).sum())
        raise refuse(
            where,
            f"{label} has {count} NaN or infinite value(s) of {x.size}",
            "Fill or drop them in the loader",
        )
    return x, y


def _described(value: Any) -> str:
    """`None`, `a str`, `a tuple of length 3`: what came back, without printing its data."""
    if value is None:
        return "None"
    sized = hasattr(value, "__len__") and not isinstance(value, (str, bytes))
    return f"a {type(value).__name__}" + (f" of length {len(value)}" if sized else "")


def _array(value: Any, where: str, label: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise refuse(
            where,
            f"{label} cannot be read as an array ({error})",
            "Return NumPy arrays of one shape per example",
        ) from None
    if array.dtype == object:  # text labels in an object array: their strings
        if all(isinstance(item, str) for item in array.ravel().tolist()):
            array = array.astype(str)
    return array


def _check_labels(x: np.ndarray, y: np.ndarray, where: str, label: str) -> None:
    name = label[:-1] + "y"
    if y.ndim != 1:
        raise refuse(
            where,
            f"{name} has shape {y.shape}; expected one label or value per example, shape "
            f"({len(x)},)",
            "Give class indices or labels, not one-hot rows",
        )
    if len(x) != len(y):
        raise refuse(
            where,
            f"{label} has {len(x)} examples but {name} has {len(y)}",
            f"Return one {name} value per example of {label}",
        )
    if y.dtype.kind not in LABELS:
        raise refuse(
            where,
            f"{name} has dtype {y.dtype}; expected numbers or text labels",
            "Return y as a NumPy array of numbers or strings",
        )
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        count = int((~np.isfinite(y)).sum())
        raise refuse(where, f"{name} has {count} NaN or infinite value(s)", "Drop those examples")


def _check_shapes(pairs: dict[str, tuple[np.ndarray, np.ndarray]], where: str) -> None:
    """Every split of the dict form: one example shape, and one kind of x (tokens or numbers)."""
    train = pairs["train"][0]
    for split, (x, _) in pairs.items():
        if x.shape[1:] != train.shape[1:]:
            raise refuse(
                where,
                f"{split} x has examples of shape {x.shape[1:]}, train x {train.shape[1:]}",
                "Return examples of one shape in every split",
            )
        if (x.dtype.kind in "iu") != (train.dtype.kind in "iu"):
            raise refuse(
                where,
                f"{split} x has dtype {x.dtype}, train x {train.dtype}",
                "Return integer token ids in every split, or floats in every split",
            )


def _check_tokens(examples: Examples, config: DataConfig, where: str) -> None:
    """Integer x are token ids: scaling them would break an embedding's lookup."""
    if not examples.tokens or config.normalize == "none":
        return
    raise refuse(
        f"{config.normalize!r}",
        f"data.loader {where} returns integer x (dtype {examples.x.dtype}), which tunenet takes "
        "for token ids, and scaling token ids breaks an embedding's lookup",
        "Set data.normalize: none, or return x as floats (x.astype('float32')) when the "
        "integers are measurements or pixels",
        key="data.normalize",
    )
