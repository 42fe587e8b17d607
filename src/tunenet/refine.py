"""Coarse to fine: a new config whose ranges are narrowed around the best trials of a run.

`tunenet refine RUN` reads `RUN/resolved.yaml` (every default spelled out) and `RUN/trials.csv`,
takes the top-K completed trials by the objective and writes a config in which

- a numeric range becomes [min, max] of the top-K values, widened a little (10% of that span,
  at least 5% of the old one; in log space for log ranges) so it is never a point, and never
  wider than before; integer ranges stay integer, a `step` is kept and the bounds stay on its
  grid;
- a choice keeps only the values the top-K trials used (one value left: it becomes fixed);
- fixed keys, and tuned keys the top-K trials never used (e.g. `optimizer.momentum` when they
  all chose adam), are kept as they were.

A comment header says where the config came from. Pure Python: no TensorFlow.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Optional

import yaml

from tunenet import loader
from tunenet import space as space_module
from tunenet.config import Choice, Config, Fixed, Range
from tunenet.errors import ConfigError, RunDirError
from tunenet.objective import Objective
from tunenet.runs import RunDir, TrialStatus, read_resolved_text, read_trials_text, write_atomic

DEFAULT_TOP = 5
SIGNIFICANT = 3  # digits kept when float bounds are rounded outward


@dataclass
class Refinement:
    """The refined config and what changed."""

    text: str
    config: Config
    objective: Objective
    top: list[dict]
    completed: int
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)  # key, before, after
    kept: list[str] = field(default_factory=list)  # tuned keys the top trials never used


def refine_run(path: Path, top: int = DEFAULT_TOP, today: Optional[str] = None) -> Refinement:
    """Narrow a run's search space around its top-K completed trials.

    Args:
        path: the run directory (holds resolved.yaml and trials.csv; manifest.json optional).
        top: how many of the best completed trials to keep. Default 5.
        today: the date written in the header (default: today, ISO format).
    """
    run = RunDir(Path(path))
    resolved = _read_resolved(run)
    base = loader.validate_dict(copy.deepcopy(resolved), source=str(run.resolved_file))
    rows = _read_trials(run)
    objective = _objective(run, base, rows)
    completed = [row for row in rows if _score(row) is not None]
    if not completed:
        raise RunDirError(
            f"{run.trials_file}: no completed trial with an objective value; "
            "nothing to refine around. Run or resume the search first."
        )
    best = objective.ordered(completed)[: max(1, top)]

    refined = copy.deepcopy(resolved)
    refined.pop("name", None)  # the new config's run is named after its own file
    changes, kept = [], []
    for key in space_module.tunable_keys(base):
        param = space_module._param(base, key)
        if param is None or isinstance(param, Fixed):
            continue
        seen = _seen_values(base, key, best)
        if not seen:
            kept.append(key)
            continue
        new = (
            _narrow_choice(param, seen) if isinstance(param, Choice) else _narrow_range(param, seen)
        )
        old = _plain(param)
        if new != old:
            _set(refined, key, new)
            changes.append((key, old, new))
    config = loader.validate_dict(copy.deepcopy(refined), source="the refined config")
    refinement = Refinement(
        text="",
        config=config,
        objective=objective,
        top=best,
        completed=len(completed),
        changes=changes,
        kept=kept,
    )
    refinement.text = _header(run, refinement, today) + _dump(refined)
    return refinement


def write_config(text: str, out: Path) -> None:
    """Write a generated config; never replaces an existing file."""
    if out.exists():
        raise ConfigError(
            f"{out} already exists; tunenet never overwrites a config. "
            "Choose another --out, or remove the file first."
        )
    try:
        write_atomic(out, text)
    except OSError as error:
        raise ConfigError(f"{out}: cannot be written ({error.strerror}).") from None


# ---------------------------------------------------------------- reading the run


def _read_resolved(run: RunDir) -> dict:
    text = read_resolved_text(run)
    try:
        raw = loader.parse_yaml(text, str(run.resolved_file))
    except ConfigError as error:
        raise RunDirError(str(error)) from None
    if not isinstance(raw, dict):
        raise RunDirError(f"{run.resolved_file}: expected a mapping of config sections.")
    return raw


def _read_trials(run: RunDir) -> list[dict]:
    rows = read_trials_text(run)  # every value a str, trial_id included
    if rows and not {"trial_id", "status", "objective"} <= set(rows[0]):
        raise RunDirError(
            f"{run.trials_file}: expected the columns trial_id, status and objective."
        )
    return rows


def _objective(run: RunDir, config: Config, rows: list[dict]) -> Objective:
    """The objective's name and direction: the manifest's, else the config's, else inferred."""
    manifest: dict = {}
    if run.manifest_file.exists():
        try:
            manifest = run.read_manifest()
        except RunDirError:
            manifest = {}
    recorded = manifest.get("objective") if isinstance(manifest.get("objective"), dict) else {}
    chosen = config.search.objective
    name = recorded.get("name") or (chosen.name if chosen else None)
    if name is None:
        name = "val_accuracy" if rows and "val_accuracy" in rows[0] else "val_loss"
    direction = recorded.get("direction") or (chosen.direction if chosen else None)
    return Objective.named(name, direction)


def _score(row: dict) -> Optional[float]:
    if row.get("status") != TrialStatus.COMPLETED:
        return None
    try:
        value = float(row.get("objective") or "nan")
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _seen_values(config: Config, key: str, rows: list[dict]) -> list[str]:
    """The key's values in the rows, as CSV text; per-layer columns count for their key."""
    per_layer = f"model.{space_module.PER_LAYER[config.model.kind]}"
    columns = [f"hp.{key}"]
    if key == per_layer and rows:
        columns += [
            column for column in rows[0]
            if column.startswith(f"hp.{key}.") and column.rsplit(".", 1)[-1].isdigit()
        ]  # fmt: skip
    return [
        row[column].strip() for row in rows for column in columns
        if (row.get(column) or "").strip() not in ("", "nan")
    ]  # fmt: skip


# ---------------------------------------------------------------- narrowing


def _plain(param: Any) -> Any:
    """A tunable in the user's syntax (a list or a range mapping)."""
    return param.model_dump(mode="json")


def _same(value: Any, text: str) -> bool:
    if isinstance(value, bool):
        return text.lower() == str(value).lower()
    if isinstance(value, (int, float)):
        try:
            return math.isclose(float(text), float(value), rel_tol=1e-6, abs_tol=1e-12)
        except ValueError:
            return False
    return text == str(value)


def _narrow_choice(param: Choice, seen: list[str]) -> Any:
    kept = [value for value in param.values if any(_same(value, text) for text in seen)]
    if not kept:
        return _plain(param)
    return kept[0] if len(kept) == 1 else kept


def _narrow_range(param: Range, seen: list[str]) -> Any:
    try:
        values = [float(text) for text in seen]
    except ValueError:
        return _plain(param)
    integer = isinstance(param.min, int) and isinstance(param.max, int)
    log = param.sampling == "log"
    forward = math.log if log else float
    backward = math.exp if log else float
    low, high = forward(min(values)), forward(max(values))
    old_low, old_high = forward(param.min), forward(param.max)
    margin = max(0.1 * (high - low), 0.05 * (old_high - old_low))
    low = backward(max(old_low, low - margin))
    high = backward(min(old_high, high + margin))
    if integer:
        low, high = _int_bounds(param, low, high)
    else:
        low, high = _float_bounds(param, low, high)
    narrowed: dict[str, Any] = {"min": low, "max": high, "sampling": param.sampling}
    if param.step is not None:
        narrowed["step"] = param.step
    return narrowed


def _int_bounds(param: Range, low: float, high: float) -> tuple[int, int]:
    """Integer bounds on the range's grid (its step), never a point."""
    step = param.step
    if step is None:
        low_int, high_int = max(param.min, math.floor(low)), min(param.max, math.ceil(high))
        if low_int >= high_int:  # one value: widen by one, inside the old range
            if high_int < param.max:
                high_int += 1
            else:
                low_int -= 1
        return low_int, high_int
    grid = [int(round(value)) for value in _grid(param)]
    below = [value for value in grid if value <= low + 1e-9] or grid[:1]
    above = [value for value in grid if value >= high - 1e-9] or grid[-1:]
    low_int, high_int = below[-1], above[0]
    if low_int >= high_int:
        index = grid.index(low_int)
        low_int, high_int = (grid[index - 1], low_int) if index > 0 else (low_int, grid[1])
    return low_int, high_int


def _float_bounds(param: Range, low: float, high: float) -> tuple[float, float]:
    """Float bounds rounded outward to a few significant digits (on the step's grid)."""
    if param.step is not None:
        grid = _grid(param)
        below = [value for value in grid if value <= low * (1 + 1e-9)] or grid[:1]
        above = [value for value in grid if value >= high * (1 - 1e-9)] or grid[-1:]
        rounded = (_clean(below[-1]), _clean(above[0]))
        if rounded[0] >= rounded[1]:
            return _clean(param.min), _clean(param.max)
        return rounded
    rounded_low = max(param.min, _round(low, up=False))
    rounded_high = min(param.max, _round(high, up=True))
    if rounded_low < rounded_high:
        return rounded_low, rounded_high
    return low, high


def _grid(param: Range) -> list[float]:
    """The values a range with a step allows (a factor with log sampling)."""
    values, value, index = [], float(param.min), 0
    while value <= param.max * (1 + 1e-9) and index < 10_000:
        values.append(value)
        index += 1
        value = (
            param.min * param.step**index if param.sampling == "log"
            else param.min + index * param.step
        )  # fmt: skip
    return values


def _round(value: float, up: bool) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    exponent = math.floor(math.log10(abs(value))) - (SIGNIFICANT - 1)
    scaled = value / 10**exponent
    scaled = math.ceil(scaled - 1e-9) if up else math.floor(scaled + 1e-9)
    return _clean(scaled * 10**exponent)


def _clean(value: float) -> float:
    return float(f"{value:.12g}")


# ---------------------------------------------------------------- writing


def _set(raw: dict, dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def _flow(value: Any) -> str:
    if isinstance(value, (dict, list)):
        text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10_000)
        return text.strip()
    return str(value)


def _header(run: RunDir, refinement: Refinement, today: Optional[str]) -> str:
    best, objective = _score(refinement.top[0]), refinement.objective
    lines = [
        f"# Refined by `tunenet refine` on {today or date.today().isoformat()} "
        f"from the run {run.path}:",
        f"# ranges narrowed around the top {len(refinement.top)} of {refinement.completed} "
        f"completed trial(s) by {objective.name} ({objective.direction}; best {best:.4g},",
        f"# trial(s) {', '.join(row['trial_id'] for row in refinement.top)}).",
    ]
    if refinement.changes:
        lines.append("# Changed:")
        lines += [
            f"#   {key}: {_flow(old)} -> {_flow(new)}" for key, old, new in refinement.changes
        ]
    else:
        lines.append("# Nothing could be narrowed: the top trials span the whole space.")
    if refinement.kept:
        lines.append(f"# Kept (the top trials did not use them): {', '.join(refinement.kept)}.")
    lines += [
        "# Every other key is as in the run's resolved.yaml (defaults spelled out).",
        "# The run name defaults to this file's stem. Next: tunenet validate FILE, then "
        "tunenet search FILE.",
        "",
    ]
    return "\n".join(lines) + "\n"


def _dump(raw: dict) -> str:
    return yaml.safe_dump(raw, sort_keys=False, default_flow_style=None, width=100)
