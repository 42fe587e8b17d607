"""Coarse to fine: a new config whose ranges are narrowed around the best trials of a run.

`tunenet refine RUN` reads `RUN/resolved.yaml` (every default spelled out) and `RUN/trials.csv`,
takes the completed trials tied with the best (at most K of them, best first) and writes a
config in which

- a key the report advises changing for the best trial (`tunenet report`'s recommendations) is
  kept as it was: narrowing it would forbid the advice;
- a numeric range becomes the chosen values' range plus a margin: × 3 each side for log ranges,
  ± half its span (at least a fifth of the old range) otherwise; never wider than before; integer
  ranges stay integer, a `step` is kept and the bounds stay on its grid;
- a choice keeps every value the chosen trials used (one value left: it becomes fixed);
- fixed keys, and tuned keys the chosen trials never used (e.g. `optimizer.momentum` when they
  all chose adam), are kept as they were.

A trial is tied with the best when the 95% interval of the difference of their validation errors
includes zero, counting both trials' own intervals and seed noise: the spread between executions
where they repeat, else a stated allowance (refine_evidence.py). Each key gets a line that says
why its range is what it is.

Failed, diverged and not-learning trials (train error no better than the majority class, or the
mean, of baselines.csv) are never narrowed around. Without an interval (no `val_error` with
`val_n` in trials.csv or the manifest's validation size) the top K are used. A comment header
says where the config came from and which trials it used. Pure Python: no TensorFlow.
"""

from __future__ import annotations

import copy
import math
import textwrap
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Optional

import yaml

from tunenet.config import load as loader
from tunenet.config import space as space_module
from tunenet.config.objective import Objective
from tunenet.config.sections import Choice, Config, Fixed, Range
from tunenet.diagnosis.intervals import Interval, difference_ci, error_ci
from tunenet.diagnosis.labels import (
    NOT_LEARNING,
    Chance,
    Noise,
    Thresholds,
    chance_error,
    fit_diagnosis,
)
from tunenet.errors import ConfigError, RunDirError
from tunenet.models.checks import MODEL_CHECKS
from tunenet.reporting.noise import chance, log_loss
from tunenet.runs import (
    Run,
    RunDir,
    TrialStatus,
    load_run,
    read_baseline_rows,
    read_resolved_text,
    read_trials_text,
    write_atomic,
)
from tunenet.runs.cells import number
from tunenet.runs.objective import run_objective
from tunenet.studies.refine_evidence import (
    Advice,
    SeedNoise,
    advised,
    report_advice,
    seed_noise,
    z_half,
)

DEFAULT_TOP = 5
SIGNIFICANT = 3  # digits kept when float bounds are rounded outward
CHANCE_MODELS = ("majority", "mean")  # baselines.csv's chance level: classification, regression
TOLERANCE = 1e-9  # errors this close are equal (float noise, not a difference)
# The margin kept around the tied trials' values: what one search cannot tell apart from the best
# must stay reachable. Log ranges: a factor each side; linear: a share of the values' span, at
# least a share of the search's range (so one value still leaves room).
LOG_FACTOR = 3.0
SPAN_MARGIN = 0.5
RANGE_MARGIN = 0.2
# Only the not-learning part of a diagnosis matters to refine: its thresholds do not.
ANY_THRESHOLDS = Thresholds(target_error=0.0, bias_threshold=0.0, variance_threshold=0.0)


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
    basis: list[str] = field(default_factory=list)  # how `top` was chosen, for the header
    reasons: list[str] = field(default_factory=list)  # one line per key: why its range is so


def refine_run(path: Path, top: int = DEFAULT_TOP, today: Optional[str] = None) -> Refinement:
    """Narrow a run's search space around the completed trials tied with the best.

    Args:
        path: the run directory (holds resolved.yaml and trials.csv; manifest.json and
            baselines.csv optional).
        top: the most trials to narrow around (the best first). Default 5.
        today: the date written in the header (default: today, ISO format).

    Raises:
        RunDirError: no completed trial, or every one is no better than chance.
    """
    run = RunDir(Path(path))
    resolved = _read_resolved(run)
    base = loader.validate_dict(
        copy.deepcopy(resolved), source=str(run.resolved_file), checks=MODEL_CHECKS
    )
    rows = _read_trials(run)
    objective = run_objective(_manifest(run), resolved, rows[0] if rows else ())
    completed = [row for row in rows if _score(row) is not None]
    if not completed:
        raise RunDirError(
            f"{run.trials_file}: no completed trial with an objective value; "
            "nothing to refine around. Run or resume the search first."
        )
    loaded, problem = _load(run)
    best, basis = _neighbours(run, loaded, objective.ordered(completed), max(1, top), objective)
    advice = report_advice(loaded, best[0]["trial_id"], problem)
    basis.append(_advice_line(advice))

    refined = copy.deepcopy(resolved)
    refined.pop("name", None)  # the new config's run is named after its own file
    changes, kept, reasons = [], [], []
    for key in space_module.tunable_keys(base):
        param = space_module._param(base, key)
        if param is None:
            continue
        said = advised(advice, key)  # what the report advises doing with it, if anything
        seen = [] if isinstance(param, Fixed) else _seen_values(base, key, best)
        users = sum(1 for row in best if _seen_values(base, key, [row]))
        new, reason = _refined_key(param, seen, said, users)
        if reason:
            reasons.append(f"{key}: {reason}")
        if new is None:
            if not isinstance(param, Fixed) and said is None and not seen:
                kept.append(key)  # a tuned key no tied trial used
            continue
        old = _plain(param)
        if new != old:
            _set(refined, key, new)
            changes.append((key, old, new))
    config = loader.validate_dict(
        copy.deepcopy(refined), source="the refined config", checks=MODEL_CHECKS
    )
    refinement = Refinement(
        text="",
        config=config,
        objective=objective,
        top=best,
        completed=len(completed),
        changes=changes,
        kept=kept,
        basis=basis,
        reasons=reasons,
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


def _manifest(run: RunDir) -> dict:
    """manifest.json, or {} when it is missing or unreadable (it is optional)."""
    if not run.manifest_file.exists():
        return {}
    try:
        manifest = run.read_manifest()
    except RunDirError:
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _score(row: dict) -> Optional[float]:
    if row.get("status") != TrialStatus.COMPLETED:
        return None
    return number(row.get("objective"))


# ---------------------------------------------------------------- the trials to narrow around


@dataclass(frozen=True)
class _DataFacts:
    """What refine knows of the run's data: whether errors are regression's normalized MSE
    (intervals only from `*_error_se`), split sizes from the manifest (`train`, `val`), and the
    train error of a model that learned nothing (None: unknown, no trial is left out as such)."""

    regression: bool
    sizes: dict[str, float]
    chance: Optional[Chance]


def _load(run: RunDir) -> tuple[Optional[Run], Optional[str]]:
    """The run as the report reads it (for the spread between executions and the advice), or
    None and why not (a hand-made run without epochs.csv, say)."""
    try:
        return load_run(run.path), None
    except RunDirError as error:
        return None, str(error)


def _neighbours(
    run: RunDir, loaded: Optional[Run], ranked: list[dict], top: int, objective: Objective
) -> tuple[list[dict], list[str]]:
    """The learning trials tied with the best (at most `top`, best first) and the header lines
    that say how they were chosen.

    Raises:
        RunDirError: every completed trial is no better than chance.
    """
    facts = _data_facts(run, loaded, ranked)
    stuck = [row["trial_id"] for row in ranked if _not_learning(row, facts)]
    learning = [row for row in ranked if row["trial_id"] not in stuck]
    if not learning:
        raise RunDirError(
            f"{run.trials_file}: every completed trial is not learning ({_chance_text(facts)}): "
            "nothing to refine around. Fix the learning first: optimizer.learning_rate, "
            "optimizer.name, data.normalize, model.layers, model.units."
        )
    basis = []
    if stuck:
        basis.append(f"left out, not learning ({_chance_text(facts)}): {', '.join(stuck)}.")
    best = learning[0]
    best_error = number(best.get("val_error"))
    if best_error is None or _error_ci(best, "val", facts) is None:
        unknown = "no interval on the best trial's validation error (val_error with val_n or "
        basis.insert(0, unknown + "val_error_se unknown): the top trials by the objective.")
        return learning[:top], basis
    seed = seed_noise(run, objective, best_error, facts.regression)
    tied = [best] + [row for row in learning[1:] if _tied(row, best, facts, seed)]
    basis[0:0] = [_tie_line(len(tied), top), seed.text + "."]
    return tied[:top], basis


def _tied(row: dict, best: dict, facts: _DataFacts, seed: SeedNoise) -> bool:
    """The 95% interval of (this trial's validation error − the best's) includes zero, with
    both trials' own intervals and seed noise added in quadrature."""
    error, best_error = number(row.get("val_error")), number(best.get("val_error"))
    if error is None or best_error is None:
        return False
    difference = error - best_error
    own = difference_ci(
        error, _error_ci(row, "val", facts), best_error, _error_ci(best, "val", facts),
        proportions=not facts.regression,
    )  # fmt: skip
    below = difference - own[0] if own is not None else 0.0
    seeds = z_half(seed.sd, seed.count(row["trial_id"]), seed.count(best["trial_id"]))
    return difference - math.hypot(below, seeds) <= TOLERANCE


def _tie_line(tied: int, top: int) -> str:
    rule = (
        "the 95% interval of the validation-error difference with the best, from both trials' "
        "own intervals and seed noise"
    )
    if tied == 1:
        return f"only the best trial is tied with the best ({rule}): narrowed around it alone."
    capped = f"; --top {top} keeps the best {top}" if tied > top else ""
    return f"{tied} trials tied with the best ({rule}, includes zero){capped}."


def _advice_line(advice: Advice) -> str:
    if advice.unknown is not None:
        why = advice.unknown.splitlines()[0].split(" (found")[0]
        return f"the report's advice is unknown ({why}): no key is kept for it."
    if not advice.keys:
        return f"the report advises no key for trial {advice.trial_id}."
    keys = ", ".join(f"{key} ({phrase})" for key, phrase in advice.keys.items())
    return f"the report advises for trial {advice.trial_id}: {keys}; those keys are not narrowed."


def _not_learning(row: dict, facts: _DataFacts) -> bool:
    """The report's `not learning` label: train error not clearly below chance."""
    train, val = number(row.get("train_error")), number(row.get("val_error"))
    if facts.chance is None or train is None:
        return False
    noise = Noise(train_ci=_error_ci(row, "train", facts), proportions=not facts.regression)
    val = val if val is not None else train  # only the train error decides
    fit = fit_diagnosis(train, val, ANY_THRESHOLDS, noise, facts.chance, log_loss(row))
    return fit is not None and fit.label == NOT_LEARNING


def _error_ci(row: dict, split: str, facts: _DataFacts) -> Optional[Interval]:
    """The 95% interval of a row's `<split>_error`: from `<split>_error_se` for regression, else
    Wilson on `<split>_n` (or the manifest's size of that split)."""
    error = number(row.get(f"{split}_error"))
    if facts.regression:
        return error_ci(error, None, number(row.get(f"{split}_error_se")))
    return error_ci(error, number(row.get(f"{split}_n")) or facts.sizes.get(split))


def _data_facts(run: RunDir, loaded: Optional[Run], rows: list[dict]) -> _DataFacts:
    data = _manifest(run).get("data")
    data = data if isinstance(data, dict) else {}
    task = data.get("task") if isinstance(data.get("task"), str) else None
    if task is None and rows and any(column.endswith("_error_se") for column in rows[0]):
        task = "regression"
    classes = data.get("classes")
    count = len(classes) if isinstance(classes, list) and classes else None
    majority = next(
        (row["train_error"] for row in read_baseline_rows(run) or []
         if row["model"] in CHANCE_MODELS),
        None,
    )  # fmt: skip
    sizes = data.get("sizes") if isinstance(data.get("sizes"), dict) else {}
    known = {"train": number(sizes.get("train")), "val": number(sizes.get("validation"))}
    return _DataFacts(
        regression=task == "regression",
        sizes={split: n for split, n in known.items() if n is not None},
        # the report's chance (the class prior's log loss, class weights) when it reads
        chance=chance(loaded) if loaded is not None else chance_error(task, count, majority),
    )


def _chance_text(facts: _DataFacts) -> str:
    chance = facts.chance
    if chance is None:
        return ""
    text = f"train error not clearly below {chance.error:.1%}, the error of {chance.source}"
    if chance.log_loss is not None:  # as the report judges: both must hold
        prior = chance.log_loss
        text += f", and validation log loss not clearly below {prior.whose} {prior.value:.3g}"
    return text


def _seen_values(config: Config, key: str, rows: list[dict]) -> list[str]:
    """The key's values in the rows, as CSV text; per-layer columns count for their key."""
    per_layer = f"model.{space_module.PER_LAYER.get(config.model.kind)}"  # none: custom
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


def _refined_key(
    param: Any, seen: list[str], advice: Optional[str], tied: int
) -> tuple[Any, Optional[str]]:
    """The key's new value (None: as it was) and the line that says why."""
    if isinstance(param, Fixed):
        if advice is None:
            return None, None
        return None, (
            f"{_flow(param.value)}, fixed in the run: the report advises {advice}; "
            "make it a tuned key to follow that"
        )
    if advice is not None:
        return None, f"{_span(param)} kept: the report advises {advice}"
    if not seen:
        return None, f"{_span(param)} kept: the tied trials did not use it"
    if isinstance(param, Choice):
        return _narrow_choice(param, seen)
    return _narrow_range(param, seen, tied)


def _span(param: Any) -> str:
    """A tuned key's values as a reader writes them: `0–0.5`, `[sgd, adam]`."""
    if isinstance(param, Range):
        return f"{_num(param.min)}–{_num(param.max)}"
    return _flow(_plain(param))


def _num(value: float) -> str:
    return f"{value:.3g}"


def _plain(param: Any) -> Any:
    """A tunable in the user's syntax (a list or a range mapping)."""
    return param.model_dump(mode="json")


def _narrow_choice(param: Choice, seen: list[str]) -> tuple[Any, str]:
    """Every value the tied trials used (in the search's order); one value: fixed."""
    kept = [
        value
        for value in param.values
        if any(space_module.same_value(value, text) for text in seen)
    ]
    if not kept:
        return _plain(param), f"{_span(param)} kept: the tied trials' values are not among them"
    if len(kept) == 1:
        return kept[0], f"fixed at {_flow(kept[0])}: every tied trial used it"
    whole = " (all of the search's)" if len(kept) == len(param.values) else ""
    return kept, f"{_flow(kept)}: the values the tied trials used{whole}"


def _narrow_range(param: Range, seen: list[str], tied: int) -> tuple[Any, str]:
    """The tied trials' range plus a margin (LOG_FACTOR, SPAN_MARGIN, RANGE_MARGIN), inside the
    search's range, and the sentence that says so."""
    try:
        values = [float(text) for text in seen]
    except ValueError:
        return _plain(param), f"{_span(param)} kept: the tied trials' values are not numbers"
    integer = isinstance(param.min, int) and isinstance(param.max, int)
    log = param.sampling == "log"
    forward = math.log if log else float
    backward = math.exp if log else float
    low, high = forward(min(values)), forward(max(values))
    old_low, old_high = forward(param.min), forward(param.max)
    if log:
        margin = math.log(LOG_FACTOR)
        how = f"× {LOG_FACTOR:g} each side"
    else:
        margin = max(SPAN_MARGIN * (high - low), RANGE_MARGIN * (old_high - old_low))
        how = f"± {_num(margin)} (half its span, at least a fifth of the search's range)"
    low = backward(max(old_low, low - margin))
    high = backward(min(old_high, high + margin))
    if integer:
        low, high = _int_bounds(param, low, high)
    else:
        low, high = _float_bounds(param, low, high)
    narrowed: dict[str, Any] = {"min": low, "max": high, "sampling": param.sampling}
    if param.step is not None:
        narrowed["step"] = param.step
    one = min(values) == max(values)
    found = _num(values[0]) if one else f"{_num(min(values))}–{_num(max(values))}"
    whose = (
        f"the {tied} tied trials' range"
        if tied > 1
        else ("one tied trial's value" if one else "one tied trial's values")
    )
    inside = _inside(param, low, high)
    return narrowed, f"{_num(low)}–{_num(high)}: {whose} {found} {how}{inside}"


def _inside(param: Range, low: float, high: float) -> str:
    if low <= param.min and high >= param.max:
        return ", which covers the search's whole range"
    if low <= param.min or high >= param.max:
        return ", kept inside the search's range"
    return ""


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
    for line in refinement.basis:
        lines += textwrap.wrap(line[0].upper() + line[1:], 98, initial_indent="# ",
                               subsequent_indent="#   ")  # fmt: skip
    if refinement.changes:
        lines.append("# Changed:")
        lines += [
            f"#   {key}: {_flow(old)} -> {_flow(new)}" for key, old, new in refinement.changes
        ]
    else:
        lines.append("# Nothing could be narrowed: the top trials span the whole space.")
    if refinement.kept:
        lines.append(f"# Kept (the top trials did not use them): {', '.join(refinement.kept)}.")
    if refinement.reasons:
        lines.append("# Why each key is what it is:")
        for line in refinement.reasons:
            lines += textwrap.wrap(line, 96, initial_indent="#   ", subsequent_indent="#     ")
    lines += [
        "# Every other key is as in the run's resolved.yaml (defaults spelled out).",
        "# The run name defaults to this file's stem. Next: tunenet validate FILE, then "
        "tunenet search FILE.",
        "",
    ]
    return "\n".join(lines) + "\n"


def _dump(raw: dict) -> str:
    return yaml.safe_dump(raw, sort_keys=False, default_flow_style=None, width=100)
