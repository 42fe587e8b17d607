"""Configurations run before the strategy's own (docs/guide.md, "Run these first"): whether each
value of a `search.enqueue` entry (or of an earlier run's trial) fits this config's search space,
and the whole configuration it stands for.

Pure Python, for `tunenet validate`. A key an entry does not give takes the space's default: the
first value of a list, the `min` of a range (keras-tuner's default), so that an entry always
stands for one configuration, whatever the strategy.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any, Optional

from tunenet.config.sections import Config
from tunenet.config.space import (
    PER_LAYER,
    HyperParameter,
    build_space,
    tunable_keys,
    value_of,
)

KEY = "search.enqueue"
# Strategies that choose their own sequence of trials: nothing can run before it.
OWN_ORDER = {
    "hyperband": "hyperband trains its trials in brackets it draws itself",
    "capacity": "capacity grows one path of sizes from the smallest network",
}
MAX_SHOWN_PROBLEMS = 20  # a long list with one mistake repeated is not printed 10,000 times
SHOWN_NAMES = 12
PER_LAYER_NAME = re.compile(r"^(model\.(?:units|filters))\.(\d+)$")
Entry = dict[str, Any]
Problem = tuple[str, Any, str]  # (name, value, why it does not fit: "not in [adam, sgd]")


def default(hp: HyperParameter) -> Any:
    """keras-tuner's default of a hyperparameter: the first value of a list, else the min."""
    return hp.values[0] if hp.kind == "choice" else hp.min


def fill(space: list[HyperParameter], entry: Entry) -> Entry:
    """The configuration an entry stands for: every key its values make active, given or
    default, in the space's order (a parent comes before the keys it conditions)."""
    values: Entry = {}
    for hp in space:
        if hp.parent is not None and values.get(hp.parent) not in hp.parent_values:
            continue
        values[hp.name] = entry.get(hp.name, default(hp))
    return values


def fitted(space: list[HyperParameter], config: Config, entry: Entry) -> tuple[Entry, list]:
    """(the entry's values as the space holds them, the problems of the others). A key the
    config fixes may be given its fixed value; it is dropped."""
    by_name = {hp.name: hp for hp in space}
    kept: Entry = {}
    problems: list[Problem] = []
    for name, value in entry.items():
        hp = by_name.get(name)
        if hp is None:
            reason = _untuned(config, space, name, value)
            if reason:
                problems.append((name, value, reason))
            continue
        held, reason = fit_value(hp, value)
        if reason:
            problems.append((name, value, reason))
        else:
            kept[name] = held
    if not problems:
        problems = _inactive(space, kept)
    return kept, problems


def fit_value(hp: HyperParameter, value: Any) -> tuple[Any, str]:
    """(the value as the space holds it, "") or (None, why it does not fit)."""
    if hp.kind == "choice":
        for allowed in hp.values:
            if _same(allowed, value):
                return allowed, ""
        return None, f"not in [{_listed(hp.values)}]"
    number = _number(value)
    if number is None or (hp.kind == "int" and not float(number).is_integer()):
        kind = "an integer" if hp.kind == "int" else "a number"
        return None, f"not {kind} ({hp.name} takes {hp.describe()})"
    held = int(number) if hp.kind == "int" else float(number)
    if not _within(held, hp.min, hp.max):
        return None, f"outside {hp.describe()}"
    if hp.step is not None and not _on_step(hp, held):
        return None, f"not on the steps of {hp.describe()}"
    return held, ""


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) else None


def _within(value: float, low: float, high: float) -> bool:
    slack = 1e-9 * max(abs(low), abs(high), 1e-300)
    return low - slack <= value <= high + slack


def _on_step(hp: HyperParameter, value: float) -> bool:
    if hp.sampling == "log":
        if value <= 0 or hp.min <= 0 or hp.step <= 1:
            return False
        index = round(math.log(value / hp.min) / math.log(hp.step))
        return any(
            math.isclose(hp.value_at(i), value, rel_tol=1e-6) for i in (index - 1, index, index + 1)
        )
    index = (value - hp.min) / hp.step
    return math.isclose(index, round(index), abs_tol=1e-6)


def _same(allowed: Any, value: Any) -> bool:
    """`value` is the choice `allowed`: same kind (true is not 1), numbers equal."""
    if isinstance(allowed, bool) or isinstance(value, bool):
        return isinstance(allowed, bool) and isinstance(value, bool) and allowed == value
    first, second = _number(allowed), _number(value)
    if first is None or second is None:
        return allowed == value
    return math.isclose(first, second, rel_tol=1e-9, abs_tol=1e-12)


def _listed(values: tuple) -> str:
    shown = [str(value) for value in values[:SHOWN_NAMES]]
    return ", ".join(shown) + (", ..." if len(values) > SHOWN_NAMES else "")


def _untuned(config: Config, space: list[HyperParameter], name: str, value: Any) -> str:
    """Why a name the space does not tune cannot be given, or "" (a fixed key at its value)."""
    layered = PER_LAYER_NAME.match(name)
    base = layered.group(1) if layered else name
    if layered and base == f"model.{PER_LAYER.get(config.model.kind)}":
        tuned = sorted(hp.name for hp in space if hp.name.startswith(f"{base}."))
        if tuned:  # per-layer values tuned, not this layer
            if config.model.kind == "cnn" and config.model.filters_growth:
                return f"not tuned: later blocks grow by model.filters_growth from {tuned[0]}"
            return (
                f"beyond the {len(tuned)} layer(s) model.layers allows: per-layer names go "
                f"up to {tuned[-1]}"
            )
    if base in _tunable(config):
        try:
            fixed = value_of(config, {}, name)
        except KeyError:
            fixed = None
        if fixed is not None and _same(fixed, value):
            return ""
        return f"not tuned: this config fixes it at {fixed}"
    names = [hp.name for hp in space]
    hint = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    suggestion = f"; did you mean {hint[0]}?" if hint else ""
    tuned = f"tuned: {_listed(tuple(names))}" if names else "this config tunes nothing"
    return f"not a hyperparameter of this config{suggestion} ({tuned})"


_tunable_cache: dict[int, tuple[Config, set[str]]] = {}


def _tunable(config: Config) -> set[str]:
    """`tunable_keys` of the config, computed once per config (10,000 entries ask again)."""
    cached = _tunable_cache.get(id(config))
    if cached is None or cached[0] is not config:
        _tunable_cache.clear()
        cached = _tunable_cache[id(config)] = (config, set(tunable_keys(config)))
    return cached[1]


def _inactive(space: list[HyperParameter], kept: Entry) -> list[Problem]:
    """Given keys their configuration does not use (model.units.2 with model.layers 1)."""
    values = fill(space, kept)
    problems = []
    for hp in space:
        if hp.name in kept and hp.name not in values:
            parent = values.get(hp.parent)
            how = "" if hp.parent in kept else f" (its default; give {hp.parent})"
            problems.append(
                (
                    hp.name,
                    kept[hp.name],
                    f"not used when {hp.parent} is {parent}{how}; used with {hp.parent} in "
                    f"[{_listed(hp.parent_values)}]",
                )
            )
    return problems


def check_enqueue(config: Config) -> list[tuple[str, str]]:
    """The config check of `search.enqueue` (and where `search.warm_start` cannot be used)."""
    search = config.search
    problems = []
    if search.strategy in OWN_ORDER:
        for key, given in (("enqueue", search.enqueue), ("warm_start", search.warm_start)):
            if given:
                problems.append(
                    (
                        f"search.{key}",
                        f"cannot run configurations first with search.strategy "
                        f"{search.strategy!r}: {OWN_ORDER[search.strategy]}; use random, "
                        "bayesian or grid, or remove it",
                    )
                )
        return problems
    if not search.enqueue:
        return []
    space = build_space(config)
    for index, entry in enumerate(search.enqueue):
        for name, value, reason in fitted(space, config, entry)[1]:
            problems.append((f"{KEY}[{index}].{name}", f"got {value!r}: {reason}"))
    if len(problems) > MAX_SHOWN_PROBLEMS:
        more = len(problems) - MAX_SHOWN_PROBLEMS
        problems = problems[:MAX_SHOWN_PROBLEMS] + [(KEY, f"and {more:,} more problem(s) alike")]
    return problems
