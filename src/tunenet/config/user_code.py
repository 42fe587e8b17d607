"""The user's own Python code a config names: `model.build`, `data.loader` (docs/custom-models.md).

A spec is `<file.py>:<function>` or `<package.module>:<function>`. Everything here but
`import_function` reads the file as text and parses it (ast): `tunenet validate` checks the
function and fingerprints the file without running a line of it. `import_function` is the only
place user code is imported, at search time.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.machinery
import importlib.util
import keyword
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal, Optional

from tunenet.errors import ConfigError, printable

MAX_SOURCE_BYTES = 2**20  # a builder or loader file is read up to 1 MiB
REGULARIZATION_KEYS = ("regularization.l1", "regularization.l2", "regularization.dropout")
SPEC_FORMS = "'<file.py>:<function>' (e.g. models/lstm.py:build) or '<package.module>:<function>'"
Role = Literal["build", "loader"]
ARGUMENTS = {"build": "params, data", "loader": ""}


class UserCodeError(ConfigError, ValueError):
    """A spec that cannot be parsed, or user code that cannot be imported (also a ValueError,
    so that the config's validation reports it against its key)."""


@dataclass(frozen=True)
class UserFunction:
    """A parsed spec.

    Attributes:
        path: the .py file (as written; `load_config` makes it absolute), or None for a module.
        module: the dotted module name, or None for a file.
        function: the function's name in that file or module.
        text: the spec as text, `<path or module>:<function>`.
    """

    path: Optional[Path]
    module: Optional[str]
    function: str
    text: str

    def __str__(self) -> str:
        return self.text

    def resolved(self, base: Path) -> "UserFunction":
        """The same spec with a relative file path made absolute against `base`."""
        if self.path is None or self.path.is_absolute():
            return self
        path = Path(base, self.path).absolute()
        return UserFunction(path, None, self.function, f"{path}:{self.function}")


def parse_spec(text: str) -> UserFunction:
    """`<file.py>:<function>` or `<package.module>:<function>` -> a UserFunction.

    Raises:
        UserCodeError: the text is not one of the two forms.
    """
    if not isinstance(text, str):
        raise UserCodeError(f"expected {SPEC_FORMS}, got {type(text).__name__}")
    where, colon, function = text.strip().rpartition(":")
    if not colon or not where:
        raise UserCodeError(f"got {_quoted(text)}: expected {SPEC_FORMS}")
    if not _is_name(function):
        raise UserCodeError(
            f"got {_quoted(text)}: {_quoted(function)} after the last ':' is not a function "
            f"name; expected {SPEC_FORMS}"
        )
    if where.endswith(".py"):
        path = Path(where).expanduser()
        return UserFunction(path, None, function, f"{path}:{function}")
    if all(_is_name(part) for part in where.split(".")):
        return UserFunction(None, where, function, f"{where}:{function}")
    hint = "; a file must end in .py" if "/" in where or "\\" in where else ""
    raise UserCodeError(f"got {_quoted(text)}: expected {SPEC_FORMS}{hint}")


def _is_name(text: str) -> bool:
    return text.isidentifier() and not keyword.iskeyword(text)


def _quoted(text: str, limit: int = 200) -> str:
    text = printable(text)
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


# ---------------------------------------------------------------- the file, without running it


def source_file(spec: UserFunction) -> Optional[Path]:
    """The file the spec's function lives in, or None when a module cannot be located.

    A module is located with `PathFinder` on `sys.path`, one package level at a time, reading
    directories only: no package `__init__` runs.
    """
    if spec.path is not None:
        return spec.path
    locations: Optional[list[str]] = None
    found = None
    parts = spec.module.split(".")
    for depth in range(1, len(parts) + 1):
        name = ".".join(parts[:depth])
        try:
            found = importlib.machinery.PathFinder.find_spec(name, locations)
        except (ImportError, OSError, ValueError):
            return None
        if found is None:
            return None
        if depth < len(parts):
            if not found.submodule_search_locations:
                return None  # a plain module has no submodules
            locations = list(found.submodule_search_locations)
    origin = found.origin if found is not None else None
    return Path(origin) if origin and origin.endswith(".py") else None


def _read(path: Path) -> bytes:
    """The file's bytes (OSError when absent or unreadable; ValueError when too large or not
    a regular file, which could block or never end)."""
    if path.exists() and not path.is_file():
        raise ValueError("is not a regular file")
    with open(path, "rb") as file:
        data = file.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        raise ValueError(f"is larger than {MAX_SOURCE_BYTES // 2**20} MiB")
    return data


def static_problems(spec: UserFunction, role: Role) -> list[str]:
    """What keeps the spec's function from being called as tunenet calls it, found without
    importing anything: the file exists and parses, it defines the function at its top level,
    and the function takes (params, data) for `build`, no required argument for `loader`.

    Returns:
        one message per problem, each naming the file and the fix (empty when all is well).
    """
    path = source_file(spec)
    if path is None:
        return [
            f"module {spec.module!r} is not found on Python's path (sys.path) as a .py file; "
            "install its package, add its directory to PYTHONPATH, or give the file: "
            f"path/to/file.py:{spec.function}"
        ]
    shown = printable(str(path))
    if not path.exists():
        relative = " (a relative path is relative to the config file's directory)"
        return [f"{shown}: no such file; check the path{relative if spec.module is None else ''}"]
    if path.is_dir():
        return [f"{shown}: is a directory; give a .py file"]
    if not path.is_file():  # a FIFO or a device: reading it could block or never end
        return [f"{shown}: is not a regular file; give a .py file"]
    try:
        tree = ast.parse(_read(path), filename=str(path))
    except OSError as error:
        return [f"{shown}: cannot be read ({error.strerror}); check its permissions"]
    except SyntaxError as error:
        line = f" on line {error.lineno}" if error.lineno else ""
        return [f"{shown}: Python syntax error{line}: {error.msg}; fix the file"]
    except ValueError as error:  # too large, or a NUL byte
        return [f"{shown}: {error}; give the Python source file of the {role} function"]
    return _function_problems(tree, spec.function, role, shown)


def _top_level(tree: ast.Module) -> list[ast.stmt]:
    """The module's top-level statements, those inside top-level if / try / with included."""
    found: list[ast.stmt] = []
    pending = list(tree.body)
    while pending:
        node = pending.pop(0)
        found.append(node)
        if isinstance(node, (ast.If, ast.With, ast.For, ast.While)):
            pending += node.body + getattr(node, "orelse", [])
        elif isinstance(node, ast.Try):
            pending += node.body + node.orelse + node.finalbody
            pending += [part for handler in node.handlers for part in handler.body]
    return found


def _bound_names(node: ast.stmt) -> set[str]:
    """Names a top-level assignment or import binds (a function defined another way)."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    names = (name for target in targets for name in ast.walk(target))
    return {name.id for name in names if isinstance(name, ast.Name)}


def _function_problems(tree: ast.Module, name: str, role: Role, shown: str) -> list[str]:
    statements = _top_level(tree)
    defined = [
        node
        for node in statements
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    ]
    matches = [node for node in defined if node.name == name]
    if not matches:
        if any(name in _bound_names(node) for node in statements):
            return []  # imported or assigned: its parameters are checked when it is called
        functions = sorted({node.name for node in defined if not isinstance(node, ast.ClassDef)})
        listed = f" (it defines: {', '.join(functions[:10])})" if functions else ""
        return [
            f"{shown}: defines no top-level function {name!r}{listed}; "
            f"define `def {name}({ARGUMENTS[role]}):` there or name another function after the ':'"
        ]
    node = matches[-1]  # the last definition wins, as when Python runs the file
    if isinstance(node, ast.ClassDef):
        return [f"{shown}: {name!r} is a class; name a function `def {name}({ARGUMENTS[role]}):`"]
    if isinstance(node, ast.AsyncFunctionDef):
        return [f"{shown}: {name!r} is an async function; define it with plain `def`"]
    return _parameter_problems(node, role, shown)


def _parameter_problems(node: ast.FunctionDef, role: Role, shown: str) -> list[str]:
    args = node.args
    positional = [arg.arg for arg in (*args.posonlyargs, *args.args)]
    required = len(positional) - len(args.defaults)
    keywords = zip(args.kwonlyargs, args.kw_defaults, strict=True)
    required_keywords = [arg.arg for arg, default in keywords if default is None]
    signature = f"{node.name}({', '.join(positional)})"
    expected = 2 if role == "build" else 0
    fits = required <= expected and (len(positional) >= expected or args.vararg is not None)
    if fits and not required_keywords:
        return []
    takes = (
        f"needs the keyword argument(s) {', '.join(required_keywords)}"
        if fits
        else f"takes {required} required parameter{'s' if required != 1 else ''}"
    )
    if role == "build":
        call = f"{node.name}(params, data)"
        fix = f"tunenet calls {call}: define it as `def {call}:`"
    else:
        fix = f"tunenet calls {node.name}() with no argument: give its parameters defaults"
    return [f"{shown}: line {node.lineno}: {signature} {takes}; {fix}"]


def source_hash(spec: UserFunction) -> Optional[str]:
    """The sha256 of the spec's file, or None when it cannot be located or read."""
    path = source_file(spec)
    try:
        return hashlib.sha256(_read(path)).hexdigest() if path is not None else None
    except (OSError, ValueError):
        return None


def regularization_reads(spec: UserFunction) -> tuple[str, ...]:
    """The `regularization.*` keys whose text appears as a string in the spec's file, in the
    order of REGULARIZATION_KEYS: the keys the builder may read (advice names only those)."""
    path = source_file(spec)
    return _reads(path) if path is not None else ()


def _reads(path: Path) -> tuple[str, ...]:
    try:
        tree = ast.parse(_read(path))
    except (OSError, SyntaxError, ValueError):
        return ()
    strings = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    return tuple(key for key in REGULARIZATION_KEYS if key in strings)


def runs_line(key: str, spec: UserFunction) -> str:
    """What `tunenet validate` says the config runs."""
    path = source_file(spec)
    where = printable(str(path)) if spec.module is None else f"{spec.module} ({path})"
    return f"{key}: runs {spec.function}() from {where} (not imported by validate)"


def config_runs(config: Any) -> list[str]:
    """The lines `tunenet validate` prints on the user code a config runs (model.build,
    data.loader), none when it runs none."""
    lines = []
    for key, value in (("model.build", config.model.build), ("data.loader", config.data.loader)):
        if callable(value):
            lines.append(f"{key}: runs the function {callable_text(value)} given in Python")
        elif value is not None:
            lines.append(runs_line(key, parse_spec(value)))
    return lines


def code_identity(config: Any) -> dict[str, dict]:
    """The user code a config runs, as a run records it (docs/run-format.md): `model.build` as
    {spec, sha256, reads} and `data.loader` as {spec, sha256}, by those dotted keys; sha256 is
    None when the file cannot be read (or a callable has no file)."""
    found: dict[str, dict] = {}
    for key, value in (("model.build", config.model.build), ("data.loader", config.data.loader)):
        if value is None:
            continue
        if callable(value):
            found[key] = {"spec": callable_text(value), "sha256": callable_hash(value)}
            path = callable_file(value)
            if key == "model.build":
                found[key]["reads"] = list(_reads(path) if path else ())
            continue
        spec = parse_spec(value)
        found[key] = {"spec": spec.text, "sha256": source_hash(spec)}
        if key == "model.build":
            found[key]["reads"] = list(regularization_reads(spec))
    return found


def with_code(raw: dict, config: Any, *, callables: bool) -> dict:
    """A config mapping with `model.build` and `data.loader` as the validated `config` holds
    them (relative paths made absolute): a callable as itself when `callables`, else as its
    text (for a YAML file, e.g. a run's own config.yaml written from a dict)."""
    sections = {"model": ("build", config.model.build), "data": ("loader", config.data.loader)}
    raw = dict(raw)
    for section, (key, value) in sections.items():
        if value is None or not isinstance(raw.get(section), dict):
            continue
        written = value if callables or not callable(value) else callable_text(value)
        raw[section] = {**raw[section], key: written}
    return raw


# ---------------------------------------------------------------- callables (Python API)


def callable_text(function: Callable) -> str:
    """How a callable given in the Python API is written in resolved.yaml: a spec that imports
    the same function again when there is one (`module:name` when that module is found on
    sys.path as the function's file, else `file.py:name`), else a description."""
    module = getattr(function, "__module__", None) or "?"
    name = getattr(function, "__qualname__", None) or type(function).__name__
    path = callable_file(function)
    if module == "__main__" or not _is_name(name) or path is None:
        return f"<callable {module}.{name}>"  # a script or notebook: importing it runs it
    if all(_is_name(part) for part in module.split(".")):
        spec = UserFunction(None, module, name, f"{module}:{name}")
        if source_file(spec) == path:
            return spec.text
    return f"{path}:{name}"


def callable_file(function: Callable) -> Optional[Path]:
    """The .py file a function was defined in, or None (a builtin, a notebook cell)."""
    filename = getattr(getattr(function, "__code__", None), "co_filename", None)
    return Path(filename) if filename and filename.endswith(".py") else None


def callable_hash(function: Callable) -> Optional[str]:
    """The sha256 of the file a callable was defined in, or None when it has none."""
    path = callable_file(function)
    try:
        return hashlib.sha256(_read(path)).hexdigest() if path is not None else None
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------- search time: import


_IMPORTED: dict[tuple[str, Optional[str]], Callable] = {}


def import_function(spec: UserFunction, key: str = "") -> Callable:
    """Import the spec's file or module and return its function: the one place user code runs
    on import, at search time (once per process and file content).

    A file is imported under a unique module name with its directory on `sys.path` while it
    runs, so that it can import its sibling files.

    Raises:
        UserCodeError: the file or module cannot be imported (its error, file and line named),
            or has no such callable.
    """
    prefix = f"{key}: " if key else ""
    cache_key = (spec.text, source_hash(spec))
    if cache_key in _IMPORTED:
        return _IMPORTED[cache_key]
    path = source_file(spec)
    if path is None or not path.is_file():
        role: Role = "loader" if key == "data.loader" else "build"
        raise UserCodeError(f"{prefix}{static_problems(spec, role)[0]}.")
    try:
        if spec.path is not None:
            module = _import_file(spec)
        else:
            module = importlib.import_module(spec.module)
    except (Exception, SystemExit) as error:
        raise UserCodeError(f"{prefix}{_import_failure(spec, error)}") from None
    function = getattr(module, spec.function, None)
    if not callable(function):
        what = "has no" if function is None else f"has a non-callable {type(function).__name__}"
        raise UserCodeError(
            f"{prefix}{printable(str(source_file(spec)))}: {what} {spec.function!r} once "
            "imported; name a function defined in that file."
        )
    _IMPORTED[cache_key] = function
    return function


def _import_file(spec: UserFunction) -> Any:
    path = spec.path.absolute()
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    name = f"tunenet_user_{digest}_{''.join(c if c.isalnum() else '_' for c in path.stem)}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"{path} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # dataclasses and pickling look the module up by name
    directory = str(path.parent)
    sys.path.insert(0, directory)
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        if directory in sys.path:
            sys.path.remove(directory)
    return module


def _import_failure(spec: UserFunction, error: BaseException) -> str:
    """The import's error in one line, at the user's line (the last frame in their file)."""
    where = printable(str(source_file(spec) or spec.module))
    frames = traceback.extract_tb(error.__traceback__)
    own = [frame for frame in frames if not frame.filename.startswith(str(Path(__file__).parent))]
    user = [frame for frame in own if "importlib" not in frame.filename]
    line = f" ({printable(user[-1].filename)}, line {user[-1].lineno})" if user else ""
    if isinstance(error, SyntaxError):
        line = f" (line {error.lineno})"
    message = printable(str(error)) or "(no message)"
    return (
        f"{where}: importing it raised {type(error).__name__}: {message}{line}. "
        "Fix the file (run `python <file>` to see the whole error)."
    )
