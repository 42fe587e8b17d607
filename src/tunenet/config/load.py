"""YAML text -> dict (YAML 1.2 scalars) -> validated Config, with every error of a file at once."""

from __future__ import annotations

import codecs
import difflib
import functools
import re
import typing
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Callable, Optional

import yaml
from pydantic import BaseModel, ValidationError

from tunenet.config import sections as config_module
from tunenet.config import user_code
from tunenet.config.enqueue import check_enqueue
from tunenet.config.objective import task_problems
from tunenet.config.sections import (
    FAMILY_KEYS,
    TAGS,
    Choice,
    Config,
    Fixed,
    Range,
    run_name_problem,
)
from tunenet.errors import ConfigError, Problem

# A cross-field check: the config in, (dotted key, message) pairs out.
Check = Callable[[Config], list[tuple[str, str]]]

MAX_ALIAS_NODES = 10_000
"""Values that aliases may add to a config. A few anchors reuse a list; a "billion laughs" adds
billions, and every later step (validation, messages, resolved.yaml) would walk them all."""
MAX_CONFIG_BYTES = 2**20
"""A config file is read up to this size (1 MiB; a real one is a few kB): a device or a huge
file is refused at once instead of filling the memory."""
MAX_YAML_NODES = 50_000
"""Values (keys included) a config's YAML may hold: a 10,000-entry list fits; parsing more would
take seconds before any check could refuse them."""
MAX_YAML_DEPTH = 50
"""Nesting depth of a config's YAML; a real config nests 4 or 5 levels."""


class YamlLimitError(yaml.YAMLError):
    """Well-formed YAML that is refused: an alias that expands too far or into itself."""

    def __init__(self, problem: str, mark: yaml.Mark) -> None:
        super().__init__(problem)
        self.problem, self.problem_mark = problem, mark


class Yaml12Loader(yaml.SafeLoader):
    """A safe loader with YAML 1.2 floats (`1e-3`) and booleans (only true/false).

    It also refuses alias bombs while composing, before anything is expanded: each node's size
    with its aliases expanded is counted once, and each alias adds the size of its anchor.
    """

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.expanded_sizes: dict[int, int] = {}  # id(node) -> values once aliases are expanded
        self.alias_nodes = 0
        self.nodes = 0
        self.depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._count_alias(self.peek_event())
            return super().compose_node(parent, index)
        self._count_node(self.peek_event())
        self.depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        children = _children(node)
        self.expanded_sizes[id(node)] = 1 + sum(self.expanded_sizes[id(c)] for c in children)
        return node

    def _count_node(self, event: yaml.Event) -> None:
        self.nodes += 1
        if self.nodes > MAX_YAML_NODES:
            raise YamlLimitError(
                f"holds more than {MAX_YAML_NODES:,} values; a config needs far fewer (a long "
                "list of values is better written as a range {min, max, step})",
                event.start_mark,
            )
        if self.depth >= MAX_YAML_DEPTH:
            raise YamlLimitError(
                f"nested more than {MAX_YAML_DEPTH} levels deep; a config nests 4 or 5",
                event.start_mark,
            )

    def _count_alias(self, event: yaml.AliasEvent) -> None:
        node = self.anchors.get(event.anchor)
        if node is None:
            return  # an undefined alias: the composer says so
        size = self.expanded_sizes.get(id(node))
        if size is None:  # its anchor is still being composed
            raise YamlLimitError(
                f"the alias *{event.anchor} refers to itself (it is inside &{event.anchor}), "
                "which never ends; write the value out",
                event.start_mark,
            )
        self.alias_nodes += size
        if self.alias_nodes > MAX_ALIAS_NODES:
            raise YamlLimitError(
                f"aliases expand to more than {MAX_ALIAS_NODES} values (refused at "
                f"*{event.anchor}); a config needs only a few: write the values out",
                event.start_mark,
            )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


Yaml12Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:float")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML 1.2 text; syntax errors, duplicate keys and alias bombs name file and line."""
    try:
        return _load(text, source)
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to be a config.") from None
    except YamlLimitError as error:
        raise ConfigError(f"{source}:{error.problem_mark.line + 1}: {error.problem}.") from None
    except yaml.reader.ReaderError as error:  # a control character; it carries no line
        line = text.count("\n", 0, error.position) + 1
        problem = f"unacceptable character #x{error.character:04x} ({error.reason})"
        raise ConfigError(f"{source}:{line}: YAML syntax error: {problem}. Remove it.") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"{where}: YAML syntax error: {problem}. Fix the YAML syntax.") from None


def _load(text: str, source: str) -> Any:
    loader = Yaml12Loader(text)  # checks the characters already
    try:
        node = loader.get_single_node()
        _last_tree[:] = [
            text,
            node,
        ]  # the line numbers of this text's errors, without parsing again
        if node is None:
            return None
        _refuse_duplicates(node, source)
        return loader.construct_document(node)
    finally:
        loader.dispose()


_last_tree: list = [None, None]  # [text, node tree] of the text parsed last


def _refuse_duplicates(root: yaml.Node, source: str) -> None:
    """A key given twice in one mapping is an error: YAML would silently keep the last value."""
    problems = []
    for path, first, again in _duplicates(root, (), set()):
        lines = f"line {first}" if first == again else f"lines {first} and {again}"
        message = f"duplicate key on {lines}: YAML keeps only the last value; keep one"
        problems.append((first, path, message))
    if problems:
        raise _config_error(source, problems)


def _duplicates(node: yaml.Node, loc: tuple, seen: set[int]) -> Iterator[tuple[str, int, int]]:
    """(dotted path, first line, repeated line) of every duplicate key below node."""
    if id(node) in seen:  # an alias: its anchor was checked already
        return
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicates(item, (*loc, index), seen)
    if not isinstance(node, yaml.MappingNode):
        return
    first_lines: dict[tuple[str, str], int] = {}
    for key, value in node.value:
        name = key.value if isinstance(key, yaml.ScalarNode) else "?"
        line = key.start_mark.line + 1
        if isinstance(key, yaml.ScalarNode) and (key.tag, name) in first_lines:
            yield _dotted((*loc, name)), first_lines[(key.tag, name)], line
        first_lines.setdefault((key.tag, name), line)
        yield from _duplicates(value, (*loc, name), seen)


def read_text(path: Path) -> str:
    """Read a config file as UTF-8 text, with errors that say what is wrong.

    At most `MAX_CONFIG_BYTES` are read: a larger file (or a device such as /dev/zero) is
    refused without reading the rest.
    """
    if not path.exists():
        raise ConfigError(f"{path}: no such config file. Check the path.")
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, expected a YAML config file.")
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror}).") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{path}: is larger than {MAX_CONFIG_BYTES // 2**20} MiB, the size limit of a config "
            "file (a config is a few kB). Give the YAML config file."
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ConfigError(f"{path}:1: is UTF-16 text; save it as UTF-8.")
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise ConfigError(
            f"{path}:{line}: is a binary file (a NUL byte on line {line}), "
            "expected a YAML config file."
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConfigError(
            f"{path}:{line}: is not UTF-8 text (byte 0x{data[error.start]:02x} on line {line}); "
            "save it as UTF-8."
        ) from None


def load_config(
    path: Path,
    *,
    max_trials: Optional[int] = None,
    epochs: Optional[int] = None,
    seed: Optional[int] = None,
    smoke: bool = False,
    checks: Sequence[Check] = (),
) -> Config:
    """Load and validate a config file; command-line overrides apply before validation.

    Args:
        path: the YAML file.
        max_trials, epochs, seed: `--max-trials`, `--epochs`, `--seed` (None: keep the file's).
        smoke: `--smoke`: at most 2 trials, 2 epochs and 512 examples, for CI.
        checks: more cross-field checks, after this module's own: a command that builds models
            passes `models.checks.MODEL_CHECKS` (config/ cannot import models/).
    """
    text = read_text(path)
    raw = parse_yaml(text, str(path))
    if raw is None:
        raise ConfigError(f"{path}: is empty. A config needs at least `data: {{source: digits}}`.")
    if not isinstance(raw, dict):
        root = _compose_quietly(text)
        where = f"{path}:{root.start_mark.line + 1}" if root else str(path)
        raise ConfigError(
            f"{where}: expected a mapping of sections (data, model, ...), "
            f"got {type(raw).__name__}: {_short(raw)}"
        )
    return load_mapping(
        raw, source=str(path), text=text, max_trials=max_trials, epochs=epochs, seed=seed,
        smoke=smoke, checks=checks, base=path.parent,
    )  # fmt: skip


def load_mapping(
    raw: dict,
    *,
    source: str = "config",
    text: Optional[str] = None,
    max_trials: Optional[int] = None,
    epochs: Optional[int] = None,
    seed: Optional[int] = None,
    smoke: bool = False,
    checks: Sequence[Check] = (),
    base: Optional[Path] = None,
) -> Config:
    """Validate a config's content (a YAML file's, or a dict); the overrides apply first.

    Args:
        raw: the config as a mapping of sections (`data`, `model`, ...).
        source: what errors name the config by: its file, or "config" for a dict.
        text: the YAML text, when there is one, so that errors give line numbers.
        max_trials, epochs, seed, smoke, checks: as for `load_config`.
        base: the directory relative .py paths of `model.build` / `data.loader` start from:
            the config file's (default: the current directory).

    Raises:
        ConfigError: every problem at once, in `.errors`.
    """
    raw = _apply_overrides(raw, max_trials=max_trials, epochs=epochs, seed=seed)
    if smoke:
        raw = _smoke(raw)
    return validate_dict(raw, source=source, text=text, checks=checks, base=base)


def validate_dict(
    raw: dict,
    *,
    source: str = "config",
    text: Optional[str] = None,
    checks: Sequence[Check] = (),
    base: Optional[Path] = None,
) -> Config:
    """Validate an already-parsed config; every problem is reported in one ConfigError.
    `checks` run after this module's own (see `load_config`); relative .py paths of the user's
    code are made absolute against `base` (default: the current directory)."""
    try:
        config = Config.model_validate(raw)
    except ValidationError as error:
        problems = [_describe(item, raw) for item in error.errors()]
        raise _located_error(source, problems, text) from None
    except (RecursionError, TypeError, ValueError) as error:
        raise ConfigError(f"{source}: cannot be validated: {error}") from None
    stem = Path(source).stem
    if config.name is None and source.endswith((".yaml", ".yml")) and not run_name_problem(stem):
        config = config.model_copy(update={"name": stem})  # else runs.run_name says why
    config = _absolute_code_paths(config, base or Path.cwd())
    problems = [problem for check in (*CHECKS, *checks) for problem in check(config)]
    if problems:
        raise _located_error(source, problems, text)
    return config


SMOKE = {"search.max_trials": 2, "training.epochs": 2, "search.max_epochs": 2, "data.limit": 512}


def _smoke(raw: dict) -> dict:
    """Shrink a config to a CI smoke run; every code path still runs, on a tiny budget."""
    raw = dict(raw)
    for dotted, ceiling in SMOKE.items():
        section, key = dotted.split(".")
        part = raw.get(section)
        if part is None:
            part = {}
        if not isinstance(part, dict):
            continue  # the schema reports the wrong type
        value = part.get(key)
        small = (
            ceiling
            if not isinstance(value, int) or isinstance(value, bool)
            else min(value, ceiling)
        )
        raw[section] = {**part, key: small}
    return raw


def _apply_overrides(raw: dict, **overrides: Optional[int]) -> dict:
    raw = dict(raw)
    sections = {"max_trials": "search", "epochs": "training"}
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "seed":
            raw["seed"] = value
            continue
        section = raw.get(sections[key]) or {}
        if isinstance(section, dict):
            raw[sections[key]] = {**section, key: value}
    return raw


# ---------------------------------------------------------------- messages


def _describe(item: dict, raw: dict) -> tuple[str, str]:
    """One pydantic error -> (dotted path, message with the bad value and what is expected)."""
    loc = _clean_loc(item["loc"])
    path = _dotted(loc)
    if item["type"] == "extra_forbidden":
        known = _known_keys(loc[:-1])
        suggestion = _suggest_key(str(loc[-1]), known)
        return path, f"unknown key{suggestion} (allowed: {', '.join(known)})"
    if item["type"] == "missing":
        return path, "is required"
    message = item["msg"].removeprefix("Value error, ")
    message = message.replace("Input should be", "expected")
    return path, f"got {_short(item.get('input'))}: {message}{_did_you_mean(item)}"


def _suggest_key(key: str, known: list[str]) -> str:
    """The "did you mean" for an unknown key: its full path when it belongs to another section
    (`split` -> `data.split`), else the closest key here (a typo), else the closest anywhere."""
    everywhere = _key_paths()
    if key in everywhere:
        return f"; did you mean {_either(everywhere[key])}?"
    hint = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if hint:
        return f"; did you mean '{hint[0]}'?"
    hint = difflib.get_close_matches(key, list(everywhere), n=1, cutoff=0.8)
    return f"; did you mean {_either(everywhere[hint[0]])}?" if hint else ""


def _either(paths: list[str]) -> str:
    quoted = [f"'{path}'" for path in paths]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


@functools.cache
def _key_paths() -> dict[str, list[str]]:
    """Every key of every config section -> its dotted paths (`epochs` -> [`training.epochs`])."""
    paths: dict[str, list[str]] = {}

    def visit(model: Any, prefix: str) -> None:
        for name, field in model.model_fields.items():
            path = f"{prefix}.{name}" if prefix else name
            paths.setdefault(name, []).append(path)
            inner = _inner_model(field.annotation)
            if inner is not None:
                visit(inner, path)

    visit(Config, "")
    return paths


def _did_you_mean(item: dict) -> str:
    """For a value outside a fixed set (`digitz`), the closest allowed value."""
    if item["type"] != "literal_error" or not isinstance(item.get("input"), str):
        return ""
    allowed = re.findall(r"'([^']*)'", str(item.get("ctx", {}).get("expected", "")))
    hint = difflib.get_close_matches(item["input"], allowed, n=1, cutoff=0.6)
    return f"; did you mean '{hint[0]}'?" if hint else ""


def _clean_loc(loc: tuple) -> tuple:
    """Drop the union tags pydantic adds so the path reads like the YAML the user wrote."""
    cleaned: list = []
    for index, part in enumerate(loc):
        if part in TAGS or part in _SECTION_NAMES or part == "[key]":
            continue
        if part == "value" and index and loc[index - 1] == "fixed":
            continue
        if part == "values" and index and loc[index - 1] == "choice":
            continue
        if isinstance(part, str) and part.startswith(("literal[", "function-")):
            continue
        cleaned.append(part)
    return tuple(cleaned)


def _dotted(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _known_keys(loc: tuple) -> list[str]:
    """The keys allowed at a path, for "did you mean"."""
    model: Any = Config
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if _is_model(model) else None
        if field is None:
            return []
        model = _inner_model(field.annotation)
        if model is None:
            return ["min", "max", "sampling", "step", "values"]
    return list(model.model_fields) if _is_model(model) else []


def _is_model(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


# Union members pydantic adds to error paths (e.g. "EarlyStoppingConfig").
_SECTION_NAMES = {name for name, value in vars(config_module).items() if _is_model(value)}


def _inner_model(annotation: Any) -> Any:
    """The section model inside an annotation like Optional[Section] (None for tunables)."""
    if _is_model(annotation):
        return None if issubclass(annotation, (Fixed, Choice, Range)) else annotation
    for argument in typing.get_args(annotation):
        found = _inner_model(argument)
        if found is not None:
            return found
    return None


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _located_error(
    source: str, problems: list[tuple[str, str]], text: Optional[str]
) -> ConfigError:
    root = _compose_quietly(text) if text else None
    located = [(_line_of(root, path), path, message) for path, message in problems]
    return _config_error(source, located)


def _config_error(source: str, problems: list[tuple[Optional[int], str, str]]) -> ConfigError:
    """One error for all problems, each `(line or None, dotted path, message)`."""
    errors = [Problem(path, message, line) for line, path, message in problems]
    lines = [f"{source}: {len(errors)} problem{'s' if len(errors) > 1 else ''} in the config:"]
    lines += [f"  - {problem}" for problem in errors]
    return ConfigError("\n".join(lines), errors)


def _compose_quietly(text: str) -> Optional[yaml.Node]:
    """The YAML node tree, for line numbers; None when the text does not compose."""
    if _last_tree[0] == text:
        return _last_tree[1]
    try:
        return yaml.compose(text, Loader=Yaml12Loader)
    except (yaml.YAMLError, RecursionError):
        return None


def _line_of(node: Optional[yaml.Node], path: str) -> Optional[int]:
    """The 1-based line of a dotted path in the YAML node tree, when it can be found."""
    parts = [part for part in re.split(r"\.|\[(\d+)\]", path) if part]
    line = None
    for part in parts:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == part), None)
            key = next((k for k, v in node.value if k.value == part), None)
            if match is None:
                break
            line, node = key.start_mark.line + 1, match
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            break
    return line


# ---------------------------------------------------------------- cross-field checks


def _check_sources(config: Config) -> list[tuple[str, str]]:
    data = config.data
    problems = []
    if data.source in ("csv", "npz", "images") and not data.path:
        problems.append(("data.path", f"is required for source '{data.source}': give the file"))
    if data.source == "csv" and not data.target:
        problems.append(("data.target", "is required for source 'csv': name the target column"))
    files, csv_only = ("csv", "npz", "images"), ("csv",)
    for key, value, used_by in (
        ("path", data.path, files),
        ("test_path", data.test_path, files),
        ("target", data.target, csv_only),
        ("features", data.features, csv_only),
        ("missing", None if data.missing == "error" else data.missing, csv_only),
        ("missing_values", data.missing_values or None, csv_only),
    ):
        if value is not None and data.source not in used_by:
            problems.append(
                (
                    f"data.{key}",
                    f"got {_short(value)}: only used with source {' / '.join(used_by)}, "
                    f"not {data.source!r}; remove it",
                )
            )
    if data.source == "csv" and data.features and data.target in data.features:
        problems.append(
            ("data.features", f"includes the target column {data.target!r}: leave it out")
        )
    return problems


def _absolute_code_paths(config: Config, base: Path) -> Config:
    """`model.build` and `data.loader` with their .py paths made absolute, so that nothing
    downstream needs the config's directory (resolved.yaml records them so)."""

    def absolute(spec: Any) -> Any:
        return user_code.parse_spec(spec).resolved(base).text if isinstance(spec, str) else spec

    model, data = config.model, config.data
    if isinstance(model.build, str):
        model = model.model_copy(update={"build": absolute(model.build)})
    if isinstance(data.loader, str):
        data = data.model_copy(update={"loader": absolute(data.loader)})
    return config.model_copy(update={"model": model, "data": data})


def _check_custom(config: Config) -> list[tuple[str, str]]:
    """A custom model names its builder and takes no family key; the builder's file is read
    and parsed here, never imported (docs/custom-models.md)."""
    model = config.model
    if model.kind != "custom":
        return [
            (
                f"model.{key}",
                f"is only used with model.kind custom, not {model.kind!r}; remove it or set "
                "model.kind: custom",
            )
            for key in ("build", "params")
            if key in model.model_fields_set and getattr(model, key)
        ]
    problems = [
        (
            f"model.{key}",
            "is a key of the dense and cnn families, not used with model.kind custom: custom "
            f"models take their knobs under model.params (e.g. model.params.{key}); move or "
            "remove it",
        )
        for key in FAMILY_KEYS
        if key in model.model_fields_set
    ]
    if config.search.strategy == "capacity":
        problems.append(
            (
                "search.strategy",
                "got 'capacity', which grows model.layers and model.units of the dense and cnn "
                "families; a custom model's size is its builder's: use random, bayesian, grid "
                "or hyperband",
            )
        )
    if model.build is None:
        problems.append(
            ("model.build", "is required with model.kind custom: name the builder function, "
             "e.g. models/my_model.py:build (a file relative to the config) or "
             "my_package.models:build")
        )  # fmt: skip
    elif isinstance(model.build, str):
        spec = user_code.parse_spec(model.build)
        problems += [
            ("model.build", problem) for problem in user_code.static_problems(spec, "build")
        ]
    return problems


def _check_loader(config: Config) -> list[tuple[str, str]]:
    """Source python names its loader, whose file is read and parsed here, never imported."""
    data = config.data
    if data.source != "python":
        if data.loader is None:
            return []
        return [("data.loader", f"is only used with data.source python, not {data.source!r}; "
                 "remove it or set data.source: python")]  # fmt: skip
    if data.loader is None:
        need = (
            "name the function that returns (x, y), e.g. data/load.py:load (relative to the config)"
        )
        return [("data.loader", f"is required with data.source python: {need}")]
    if not isinstance(data.loader, str):
        return []
    spec = user_code.parse_spec(data.loader)
    return [("data.loader", problem) for problem in user_code.static_problems(spec, "loader")]


def _check_grid(config: Config) -> list[tuple[str, str]]:
    if config.search.strategy != "grid":
        return []
    from tunenet.config.space import build_space

    return [
        (hp.name, "is a continuous range; search.strategy 'grid' needs a list or a range with step")
        for hp in build_space(config)
        if hp.kind == "float" and hp.step is None
    ]


def _check_pruning(config: Config) -> list[tuple[str, str]]:
    search = config.search
    if search.pruning == "none" or search.strategy in ("random", "bayesian"):
        return []
    return [
        (
            "search.pruning",
            f"got {search.pruning!r}: pruning works with search.strategy random or bayesian, "
            f"not {search.strategy!r}; set search.pruning: none or change the strategy",
        )
    ]


def _check_objective(config: Config) -> list[tuple[str, str]]:
    objective = config.search.objective
    if objective is None or objective.name.startswith("val_") or objective.name == "loss":
        return []
    return [
        (
            "search.objective",
            f"got {_short(objective.name)}: the objective must be a validation metric; "
            f"did you mean {_short('val_' + objective.name)}?",
        )
    ]


# The task of the sources whose task the config determines (csv and npz: read from the data).
SOURCE_TASKS = {"circles": "binary", "moons": "binary", "breast_cancer": "binary",
                "digits": "multiclass", "iris": "multiclass", "wine": "multiclass",
                "diabetes": "regression", "images": "multiclass",
                **{source: "multiclass" for source in config_module.KERAS_SOURCES}}  # fmt: skip


def _check_monitor(config: Config) -> list[tuple[str, str]]:
    """Early stopping on a key Keras does not log would silently never stop a trial, and an
    objective the model does not log would fail the search's first trial."""
    task = config.data.task if config.data.task != "auto" else SOURCE_TASKS.get(config.data.source)
    return task_problems(config, task)


def _check_class_weight(config: Config) -> list[tuple[str, str]]:
    """Class weights on a target the config already says is a regression one; a target read
    from the data is checked once read (`data.dataset.check_class_weight`)."""
    setting = config.training.class_weight
    task = config.data.task if config.data.task != "auto" else SOURCE_TASKS.get(config.data.source)
    if setting is None or task != "regression":
        return []
    return [
        (
            "training.class_weight",
            f"got {_short(setting)}, but the target is a regression target; class weights "
            "apply to classification only. Remove training.class_weight.",
        )
    ]


NOT_SUPPORTED_YET: dict[str, tuple[str, ...]] = {}


def _check_supported(config: Config) -> list[tuple[str, str]]:
    values = {
        "data.source": config.data.source,
        "model.kind": config.model.kind,
        "search.strategy": config.search.strategy,
    }
    return [
        (key, f"got {values[key]!r}: not supported yet in this version of tunenet")
        for key, unsupported in NOT_SUPPORTED_YET.items()
        if values[key] in unsupported
    ]


CHECKS = [
    _check_sources,
    _check_custom,
    _check_loader,
    _check_grid,
    _check_pruning,
    _check_objective,
    _check_supported,
    _check_monitor,
    _check_class_weight,
    check_enqueue,
]
