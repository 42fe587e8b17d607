"""Config -> search space: one hyperparameter per tuned key, named by its dotted config path.

Pure Python (no keras-tuner import) so that `tunenet validate` stays fast; `tuning.oracles` turns
these into keras-tuner hyperparameters.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

from tunenet.config.sections import (
    DECAY_SCHEDULES,
    MOMENTUM_OPTIMIZERS,
    Choice,
    Config,
    Fixed,
    Range,
    amount_text,
    range_count,
)

# Which model keys each architecture uses, and which of them are drawn once per layer.
MODEL_KEYS = {
    "dense": ("layers", "units", "activation", "initializer", "batch_norm"),
    "cnn": (
        "layers", "filters", "kernel_size", "strides", "padding", "pooling",
        "dense_units", "activation", "initializer", "batch_norm",
    ),
    "custom": (),  # the builder's own knobs: model.params.<name> (custom_keys)
}  # fmt: skip
PARAMS_PREFIX = "model.params."  # a custom builder's knob: model.params.<name>
PER_LAYER = {"dense": "units", "cnn": "filters"}
SHOWN_VALUES = 12  # values of a choice `tunenet validate` lists; a longer list is shortened
# key -> (parent key, parent values under which the key is used)
CONDITIONS = {
    "optimizer.momentum": ("optimizer.name", MOMENTUM_OPTIMIZERS),
    "optimizer.decay_rate": ("optimizer.schedule", DECAY_SCHEDULES),
    "optimizer.decay_epochs": ("optimizer.schedule", ("step",)),
}


@dataclass(frozen=True)
class HyperParameter:
    """One tuned key. `kind` is choice, int or float; ranges carry min/max/step/sampling."""

    name: str
    kind: str
    values: tuple = ()
    min: Any = None
    max: Any = None
    step: Any = None
    sampling: str = "linear"
    parent: Optional[str] = None
    parent_values: tuple = ()

    def count(self) -> Optional[int]:
        """How many values a grid visits (computed, not listed), or None when continuous."""
        if self.kind == "choice":
            return len(self.values)
        if self.kind == "float" and self.step is None:
            return None
        return range_count(self.min, self.max, self.step, self.sampling)

    def value_at(self, index: int) -> Any:
        """The `index`-th value a grid visits (0 <= index < count())."""
        if self.kind == "choice":
            return self.values[index]
        if self.sampling == "log" and self.step is not None:
            value = self.min * self.step**index
            return int(round(value)) if self.kind == "int" else value
        return self.min + index * (self.step if self.step is not None else 1)

    def grid_values(self) -> Optional[list]:
        """Every value a grid visits, or None when the range is continuous.

        The list is as long as `count()`, which the schema bounds; callers that only need the
        number of values or one of them use `count()` and `value_at()`.
        """
        count = self.count()
        return None if count is None else [self.value_at(index) for index in range(count)]

    def describe(self) -> str:
        """The values or range in words, for `tunenet validate` (a long list shortened)."""
        if self.kind == "choice":
            if len(self.values) > SHOWN_VALUES:
                head = ", ".join(str(value) for value in self.values[: SHOWN_VALUES - 1])
                return f"{head}, ..., {self.values[-1]} ({len(self.values):,} values)"
            return ", ".join(str(value) for value in self.values)
        text = f"{self.min} .. {self.max}"
        if self.sampling == "log":
            text += " (log)"
        if self.step is not None:
            text += f" step {self.step}"
        return text


def _param(config: Config, dotted: str) -> Any:
    if dotted.startswith(PARAMS_PREFIX):
        return config.model.params[dotted.removeprefix(PARAMS_PREFIX)]
    section, key = dotted.split(".", 1)
    owner = getattr(config, section)
    if section == "data":  # data.augmentation.<key>
        owner, key = owner.augmentation, key.split(".", 1)[1]
    return getattr(owner, key)


def tunable_keys(config: Config) -> list[str]:
    """Dotted names of every key this config's model uses, in a stable order."""
    keys = [f"model.{key}" for key in MODEL_KEYS[config.model.kind]]
    keys += custom_keys(config)
    keys += [f"regularization.{key}" for key in ("l1", "l2", "dropout")]
    keys += [
        f"optimizer.{key}"
        for key in ("name", "learning_rate", "momentum", "schedule", "decay_rate", "decay_epochs")
    ]
    if config.optimizer.clipnorm is not None:
        keys.append("optimizer.clipnorm")
    keys.append("training.batch_size")
    if config.data.augmentation is not None:
        keys += [
            f"data.augmentation.{key}"
            for key in ("flip", "rotation", "zoom", "translation", "contrast")
        ]
    return keys


def custom_keys(config: Config) -> list[str]:
    """A custom model's knobs, `model.params.<name>`, in the config's order (none for the
    built-in families)."""
    if config.model.kind != "custom":
        return []
    return [f"{PARAMS_PREFIX}{name}" for name in config.model.params]


def _from_param(name: str, param: Any, integer: bool) -> HyperParameter:
    if isinstance(param, Choice):
        return HyperParameter(name=name, kind="choice", values=tuple(param.values))
    return HyperParameter(
        name=name,
        kind="int" if integer else "float",
        min=param.min,
        max=param.max,
        step=param.step,
        sampling=param.sampling,
    )


def _is_int_range(param: Any) -> bool:
    # The schema types each range: int keys hold ints, float keys hold floats.
    return isinstance(param, Range) and isinstance(param.min, int) and isinstance(param.max, int)


def build_space(config: Config) -> list[HyperParameter]:
    """Every tuned key of the config as a HyperParameter, conditions included."""
    space: list[HyperParameter] = []
    per_layer = f"model.{PER_LAYER.get(config.model.kind)}"
    for dotted in tunable_keys(config):
        param = _param(config, dotted)
        if isinstance(param, Fixed) or param is None:
            continue
        if dotted == per_layer:
            space += _per_layer(config, dotted, param)
            continue
        hp = _from_param(dotted, param, _is_int_range(param))
        hp = _condition(config, hp)
        if hp is not None:
            space.append(hp)
    return space


def _per_layer(config: Config, dotted: str, param: Any) -> list[HyperParameter]:
    """One hyperparameter per layer, active only for the layers a trial has."""
    if config.model.kind == "cnn" and config.model.filters_growth:
        # The first block's filters are drawn; later blocks grow by the factor.
        return [_from_param(f"{dotted}.0", param, True)]
    layers = config.model.layers
    layer_counts = param_values(layers)
    hps = []
    for index in range(max(layer_counts)):
        hp = _from_param(f"{dotted}.{index}", param, True)
        if not isinstance(layers, Fixed):
            active = tuple(count for count in layer_counts if count > index)
            hp = HyperParameter(
                **{**hp.__dict__, "parent": "model.layers", "parent_values": active}
            )
        hps.append(hp)
    return hps


def param_values(param: Any) -> list:
    """Every value of a fixed, listed or stepped key (an int range without a step: each int)."""
    if isinstance(param, Fixed):
        return [param.value]
    if isinstance(param, Choice):
        return list(param.values)
    assert isinstance(param, Range)
    return _from_param("", param, True).grid_values() or []


def _condition(config: Config, hp: HyperParameter) -> Optional[HyperParameter]:
    """Attach the parent condition; None when the key is never used."""
    if hp.name not in CONDITIONS:
        return hp
    parent_name, users = CONDITIONS[hp.name]
    parent = _param(config, parent_name)
    active = tuple(value for value in param_values(parent) if value in users)
    if not active:
        return None
    if isinstance(parent, Fixed):
        return hp
    return HyperParameter(**{**hp.__dict__, "parent": parent_name, "parent_values": active})


@dataclass(frozen=True)
class _Dimension:
    """One unconditional key of the grid and the keys conditional on it.

    `blocks` holds, per value of the key, (value, its active children, how many combinations
    of their values there are); a key without children has none (each value is one point).
    """

    hp: HyperParameter
    size: int
    blocks: tuple[tuple[Any, tuple[HyperParameter, ...], int], ...] = ()

    def point(self, index: int) -> dict:
        """The `index`-th combination of this key and its children, in grid order."""
        if not self.blocks:
            return {self.hp.name: self.hp.value_at(index)}
        for value, children, size in self.blocks:
            if index < size:
                point = {self.hp.name: value}
                for child in reversed(children):  # the last child varies fastest
                    index, local = divmod(index, child.count() or 1)
                    point[child.name] = child.value_at(local)
                return point
            index -= size
        raise IndexError(index)


def _dimensions(space: list[HyperParameter]) -> Optional[list[_Dimension]]:
    """The grid's unconditional keys with their sizes, or None when a range is continuous.

    Only keys with conditional children (model.layers, optimizer.name, optimizer.schedule) have
    their values walked, and those are short; every other count is computed.
    """
    children: dict[str, list[HyperParameter]] = {}
    for hp in space:
        if hp.parent:
            children.setdefault(hp.parent, []).append(hp)
    if any(child.count() is None for group in children.values() for child in group):
        return None
    dimensions = []
    for hp in (hp for hp in space if not hp.parent):
        count = hp.count()
        if count is None:
            return None
        if hp.name not in children:
            dimensions.append(_Dimension(hp, count))
            continue
        blocks = []
        for index in range(count):
            value = hp.value_at(index)
            active = tuple(c for c in children[hp.name] if value in c.parent_values)
            blocks.append((value, active, math.prod(c.count() or 1 for c in active)))
        dimensions.append(_Dimension(hp, sum(size for *_, size in blocks), tuple(blocks)))
    return dimensions


def grid_size(space: list[HyperParameter]) -> Optional[int]:
    """Number of distinct points of the space, or None when a range is continuous.

    Computed from each key's count, never by listing the points.
    """
    dimensions = _dimensions(space)
    return None if dimensions is None else math.prod(d.size for d in dimensions)


class GridPoints(Sequence):
    """The points of a grid in a fixed order, each computed when asked for, never all listed.

    The first key varies slowest. `len()` is capped at `sys.maxsize`: no search gets there.
    """

    def __init__(self, dimensions: list[_Dimension]):
        self.dimensions = dimensions
        self.size = math.prod(d.size for d in dimensions)

    def __len__(self) -> int:
        return min(self.size, sys.maxsize)

    def __eq__(self, other: object) -> bool:
        """Equal to a list (or another grid) of the same points in the same order."""
        if not isinstance(other, (list, tuple, GridPoints)) or len(other) != len(self):
            return False
        return all(mine == theirs for mine, theirs in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += self.size
        if not 0 <= index < self.size:
            raise IndexError(index)
        point: dict = {}
        for dimension in reversed(self.dimensions):  # the last key varies fastest
            index, local = divmod(index, dimension.size)
            point.update(dimension.point(local))
        return point


def grid_points(space: list[HyperParameter]) -> Optional[GridPoints]:
    """Every point of the grid, in a fixed order (None when a range is continuous).

    A conditional key appears only in the points where its parent has a value that uses it.
    The points are computed one at a time as they are asked for (`points[i]`).
    """
    dimensions = _dimensions(space)
    return None if dimensions is None else GridPoints(dimensions)


def hyperband_schedule(max_epochs: int, factor: int) -> list[tuple[int, int]]:
    """keras-tuner's Hyperband brackets as (trials, epochs trained) pairs, one per round."""
    end_size = math.ceil(1 + math.log(max_epochs, factor))
    brackets, epochs = 0, max_epochs
    while epochs >= 1:
        epochs, brackets = epochs / factor, brackets + 1
    rounds = []
    for bracket in range(brackets - 1, -1, -1):
        previous = 0
        for round_num in range(bracket + 1):
            size = math.ceil(end_size / (bracket + 1) * factor ** (bracket - round_num))
            total = math.ceil(max_epochs / factor ** (bracket - round_num))
            rounds.append((size, total - previous))
            previous = total
    return rounds


def width_ladder(hp: HyperParameter) -> list:
    """The widths growth visits, smallest first.

    A list visits its values in order; a range with a `step` visits its grid; a range without
    a step doubles from `min` (8, 16, 32, ...) and ends at `max`.
    """
    if hp.kind == "choice":
        return sorted(set(hp.values))
    if hp.step is not None:
        return [int(round(value)) for value in hp.grid_values() or []]
    values, value = [], int(hp.min)
    while value < hp.max:
        values.append(value)
        value *= 2
    return values + [int(hp.max)]


def layer_ladder(hp: HyperParameter) -> list:
    """The layer counts growth visits: every count of the list or range, smallest first."""
    if hp.kind == "choice":
        return sorted(set(hp.values))
    if hp.step is not None:
        return [int(round(value)) for value in hp.grid_values() or []]
    return list(range(int(hp.min), int(hp.max) + 1))


def capacity_steps(space: list[HyperParameter]) -> Optional[int]:
    """Most trials the capacity strategy can take: every width, then every further layer count."""
    widths = [hp for hp in space if hp.name in ("model.units.0", "model.filters.0")]
    layers = [hp for hp in space if hp.name == "model.layers"]
    width_count = len(width_ladder(widths[0])) if widths else 1
    layer_count = len(layer_ladder(layers[0])) if layers else 1
    return width_count + layer_count - 1


def trial_budget(config: Config, space: list[HyperParameter]) -> tuple[int, int]:
    """Worst-case (trials, epochs) of the search: no early stopping, every trial run."""
    search = config.search
    epochs = config.training.epochs
    if search.strategy == "hyperband":
        rounds = hyperband_schedule(search.max_epochs or epochs, search.factor)
        trials, spent = 0, 0
        for size, trained in rounds:
            taken = min(size, search.max_trials - trials)
            trials, spent = trials + taken, spent + taken * trained
        return trials, spent * search.executions_per_trial
    size = capacity_steps(space) if search.strategy == "capacity" else grid_size(space)
    trials = search.max_trials if size is None else min(search.max_trials, size)
    return trials, trials * epochs * search.executions_per_trial


def summary_line(config: Config, space: list[HyperParameter]) -> str:
    """Grid size and worst-case epoch budget in one sentence."""
    size = grid_size(space)
    trials, epochs = trial_budget(config, space)
    grid = "infinite (continuous ranges)" if size is None else f"{amount_text(size)} point(s)"
    return (
        f"{len(space)} tuned hyperparameter(s); grid size: {grid}; "
        f"strategy {config.search.strategy}: at most {trials} trial(s), "
        f"{epochs} epoch(s) in the worst case."
    )


def value_of(config: Config, values: dict, name: str) -> Any:
    """A key's value for one trial: the tuned value when drawn, else the config's fixed value."""
    if name in values:
        return values[name]
    base = name.rsplit(".", 1)[0] if name.rsplit(".", 1)[-1].isdigit() else name
    if base in values:
        return values[base]
    param = _param(config, base)
    if param is None or isinstance(param, Fixed):
        return None if param is None else param.value
    raise KeyError(f"{name} is tuned but has no value in this trial")


def same_value(value: Any, text: str) -> bool:
    """Whether `text`, a value as trials.csv writes it, is the hyperparameter value `value`."""
    if isinstance(value, bool):
        return text.lower() == str(value).lower()
    if isinstance(value, (int, float)):
        try:
            return math.isclose(float(text), float(value), rel_tol=1e-6, abs_tol=1e-12)
        except ValueError:
            return False
    return text == str(value)
