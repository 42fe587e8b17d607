"""`tunenet lr-find CONFIG`: the learning-rate range test (docs/guide.md).

One model — each tuned key held at one value (`first_values`: a list's first value, an integer
range's min, a float range's midpoint) — trains for `steps` batches while a
constant learning rate, set before each batch, grows exponentially from `min_lr` to `max_lr`.
Each batch's loss and its smoothed, bias-corrected value go to `<runs-dir>/<name>-lr-find/
lr_find.csv`, with a plot `lr_find.png`; the suggested range (`lr_range.suggest`) spans where
the loss falls fastest and a tenth of the rate where it is lowest. `--out` writes the config
with that range as `optimizer.learning_rate` (for a grid search, log-spaced rates from it:
`suggested_rate`). Only `run_lr_find` imports TensorFlow; the options, the config, the data,
the directory and `--out` are checked before it does.
"""

from __future__ import annotations

import math
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Optional

import numpy as np
import yaml

from tunenet.config import load as loader
from tunenet.config import space as space_module
from tunenet.config.sections import Config
from tunenet.errors import ConfigError, RunDirError, TunenetError
from tunenet.models.checks import MODEL_CHECKS
from tunenet.runs import RunOptions, csv_line, run_name, write_atomic
from tunenet.runs.files import replace_atomic
from tunenet.studies.lr_range import (
    BLOW_UP,
    MEDIAN,
    Suggestion,
    Watch,
    blow_up_line,
    decade_median,
    grid_rates,
    high_start,
    learning_rates,
    list_text,
    range_text,
    spikes,
    suggest,
)

MIN_LR, MAX_LR, STEPS = 1e-7, 10.0, 100  # the CLI's defaults (docs/guide.md)
MIN_STEPS = 10
COLUMNS = ("step", "learning_rate", "loss", "smoothed_loss")
CSV_NAME, PLOT_NAME = "lr_find.csv", "lr_find.png"
NOT_STOPPED = "reached --max-lr without the loss blowing up"


@dataclass
class LrFindResult:
    """What `tunenet lr-find` found and wrote."""

    directory: Path
    architecture: dict[str, Any]
    learning_rates: list[float]
    losses: list[float]
    smoothed: list[float]
    planned_steps: int
    stop_reason: str
    suggestion: Optional[Suggestion]
    files: list[Path] = field(default_factory=list)
    config_out: Optional[Path] = None
    config_note: Optional[str] = None  # for a grid: the rates it needs instead of the range
    held: dict[str, str] = field(default_factory=dict)  # tuned key -> how its value was chosen

    def lines(self) -> list[str]:
        """What the CLI prints on stdout."""
        shown = ", ".join(f"{name}={value}" for name, value in self.architecture.items())
        lines = [f"architecture: {shown}"]
        lines += held_lines(self.held)
        lines.append(
            f"{len(self.losses)} of {self.planned_steps} steps, learning rate "
            f"{self.learning_rates[0]:.3g} to {self.learning_rates[-1]:.3g}: {self.stop_reason}"
        )
        lines += self.curve_notes()
        s = self.suggestion
        if s is None:
            lines.append(
                "no range suggested: the loss never fell by 10%. Raise --max-lr or --steps, "
                f"or check the data and the model; the losses are in {self.files[0]}."
            )
        else:
            lines += [
                f"suggested optimizer.learning_rate: {range_text(s)}",
                f"  spans the loss's steepest descent (lr {s.steepest:.3g}) and a tenth of the "
                f"lr of its minimum ({s.at_minimum:.3g}); one decade at least",
            ]
            if self.stop_reason == NOT_STOPPED:
                lines.append(
                    "  uncertain top: the loss had not blown up by --max-lr, so a larger rate may "
                    "train too; run again with a larger --max-lr to be sure"
                )
            if self.config_note:
                lines.append(f"  {self.config_note}")
        lines.append("wrote " + ", ".join(str(path) for path in self.files))
        return lines

    def curve_notes(self) -> list[str]:
        """What the plot shows above the blow-up line that the stop reason does not name."""
        notes = []
        start = high_start(self.losses)
        if start is not None:
            after = float(np.median(self.losses[1 : 1 + MEDIAN]))
            notes.append(
                f"  the loss started high ({start:.3g} at the first step, above {BLOW_UP:g}× "
                f"the {after:.3g} of the next batches) and fell: not a blow-up but a hard start "
                "(inputs not normalized? see data.normalize)"
            )
        above = spikes(self.losses)
        if above:
            rates = ", ".join(f"{self.learning_rates[i]:.3g}" for i in above[:5])
            more = f" and {len(above) - 5} more" if len(above) > 5 else ""
            notes.append(
                f"  single batches above the blow-up line ({BLOW_UP:g}× the lowest level so "
                f"far) at lr {rates}{more}, each followed by a batch below it"
            )
        return notes


HELD = {
    "choice": "a list's first value",
    "int": "an integer range's min",
    "log": "a log range's geometric midpoint",
    "float": "a range's midpoint",
}


def held_lines(held: dict[str, str]) -> list[str]:
    """`  tuned keys held at: a list's first value (model.layers, ...); ...`"""
    if not held:
        return []
    groups: dict[str, list[str]] = {}
    for name, rule in held.items():
        groups.setdefault(rule, []).append(name)
    parts = [f"{HELD[rule]} ({', '.join(names)})" for rule, names in groups.items()]
    return ["  tuned keys held at " + "; ".join(parts)]


# ---------------------------------------------------------------- checks before training


def check_options(min_lr: float, max_lr: float, steps: int) -> None:
    """Refuse options that cannot make a range test (exit 2)."""
    for name, value in (("--min-lr", min_lr), ("--max-lr", max_lr)):
        if not math.isfinite(value) or value <= 0:
            raise TunenetError(f"{name} {value}: expected a positive learning rate, e.g. 1e-7.")
    if min_lr >= max_lr:
        raise TunenetError(
            f"--min-lr {min_lr:g} must be smaller than --max-lr {max_lr:g}; "
            f"the defaults are {MIN_LR:g} and {MAX_LR:g}."
        )
    if steps < MIN_STEPS:
        raise TunenetError(
            f"--steps {steps}: expected at least {MIN_STEPS} batches (default {STEPS}); fewer "
            "cannot show where the loss falls fastest."
        )


def output_dir(config: Config, config_path: Path, runs_dir: Path) -> Path:
    """`<runs-dir>/<name>-lr-find`, checked: inside runs-dir, and either absent, empty or an
    lr-find directory (holding lr_find.csv) that a new test may replace."""
    name = run_name(config, RunOptions(config_path=config_path, runs_dir=runs_dir))
    path = runs_dir / f"{name}-lr-find"
    root, target = runs_dir.resolve(), path.resolve()
    if path.is_symlink() or not target.is_relative_to(root) or target == root:
        raise RunDirError(
            f"{path}: leads to {target}, not a directory inside {runs_dir}; tunenet lr-find "
            "writes only there. Remove the link or give the config another `name`."
        )
    if path.exists() and not path.is_dir():
        raise RunDirError(f"{path}: is a file, not an lr-find directory. Move it away.")
    if path.is_dir() and any(path.iterdir()) and not (path / CSV_NAME).is_file():
        raise RunDirError(
            f"{path}: exists and is not an lr-find directory (no {CSV_NAME}), so lr-find does "
            "not replace it. Move it away or give the config another `name`."
        )
    existing = next(folder for folder in (runs_dir.resolve(), *root.parents) if folder.exists())
    if not os.access(existing, os.W_OK | os.X_OK):  # said now, not after the training
        raise RunDirError(
            f"{runs_dir}: cannot write there ({existing} is not writable). Choose another place "
            "with --runs-dir."
        )
    return path


def check_out(out: Optional[Path], config_path: Path) -> None:
    """`--out` names a new file: tunenet never overwrites a config (nor the input itself)."""
    if out is None:
        return
    if out.exists():
        same = out.resolve() == config_path.resolve()
        what = "is the input config" if same else "already exists"
        raise ConfigError(
            f"--out {out}: {what}; tunenet never overwrites a config. Choose a new file name."
        )
    if not out.parent.is_dir():
        raise ConfigError(f"--out {out}: the folder {out.parent} does not exist.")


# ---------------------------------------------------------------- the pure part


def first_values(config: Config) -> dict[str, Any]:
    """The fixed architecture: each tuned key's first value (a list's first element, a float
    range's midpoint — geometric for log sampling — and an int range's min), conditions
    applied; `optimizer.learning_rate` and `optimizer.schedule` are the test's own."""
    values: dict[str, Any] = {}
    for hp in space_module.build_space(config):
        if hp.name in ("optimizer.learning_rate", "optimizer.schedule"):
            continue
        if hp.parent and values.get(hp.parent) not in hp.parent_values:
            continue  # e.g. units of a layer the first layer count does not have
        values[hp.name] = _first(hp)
    return values


SHOWN = ("model.kind", "model.layers", "optimizer.name", "training.batch_size")


def architecture(config: Config, values: dict[str, Any]) -> dict[str, Any]:
    """What the CLI prints: the kind, depth, optimizer and batch size (fixed or tuned), then
    every other tuned key's value."""
    shown = {name: space_module.value_of(config, values, name) for name in SHOWN[1:]}
    return {"model.kind": config.model.kind, **shown, **values}


def held_rules(config: Config, values: dict[str, Any]) -> dict[str, str]:
    """How each held key's value was chosen (a key of HELD), for the printed line."""
    rules = {}
    for hp in space_module.build_space(config):
        if hp.name in values:
            kind = hp.kind if hp.kind in ("choice", "int") else hp.sampling
            rules[hp.name] = kind if kind in HELD else "float"
    return rules


def _first(hp: space_module.HyperParameter) -> Any:
    if hp.kind == "choice":
        return hp.values[0]
    if hp.kind == "int":
        return int(hp.min)
    if hp.sampling == "log":
        return float(f"{math.sqrt(hp.min * hp.max):.3g}")
    return float(f"{(hp.min + hp.max) / 2:.3g}")


# ---------------------------------------------------------------- the run


def run_lr_find(
    config_path: Path,
    *,
    runs_dir: Path = Path("runs"),
    min_lr: float = MIN_LR,
    max_lr: float = MAX_LR,
    steps: int = STEPS,
    out: Optional[Path] = None,
) -> LrFindResult:
    """Load the config and its data as `search` does, run the range test, write its files.

    Args:
        config_path: the YAML config.
        runs_dir: where `<name>-lr-find/` goes. Default: "runs".
        min_lr, max_lr: the first and last learning rate. Default: 1e-7 and 10.
        steps: batches to train (the training split repeats as needed). Default: 100.
        out: write the config with the suggested `optimizer.learning_rate` here (a new file).

    Raises:
        TunenetError: bad options (exit 2); ConfigError, DataError, RunDirError as `search`.

    Returns:
        An `LrFindResult`; its `suggestion` is None when the loss never fell (then `out` is
        not written, and the CLI exits 1).
    """
    check_options(min_lr, max_lr, steps)
    config = loader.load_config(config_path, checks=MODEL_CHECKS)
    directory = output_dir(config, config_path, runs_dir)
    check_out(out, config_path)
    from tunenet.data.dataset import load_dataset
    from tunenet.models.shapes import check_fits

    dataset = load_dataset(config)
    check_fits(config, dataset.input_shape)
    values = first_values(config)
    rates = learning_rates(min_lr, max_lr, steps)
    losses, smoothed, reason = _train(config, dataset, values, rates)
    kept = [float(rate) for rate in rates[: len(losses)]]
    result = LrFindResult(
        directory, architecture(config, values), kept, losses, smoothed, steps, reason,
        suggest(kept, losses), held=held_rules(config, values),
    )  # fmt: skip
    _write(result)
    if out is not None and result.suggestion is not None:
        result.config_note = write_config(config_path, out, result.suggestion)
        result.config_out = out
    elif result.suggestion is not None:
        result.config_note = grid_hint(config, result.suggestion)
    return result


def _train(
    config: Config, dataset: Any, values: dict, rates: np.ndarray
) -> tuple[list[float], list[float], str]:
    """Train batch by batch at each rate; returns the losses, the smoothed losses and why the
    test ended. `train_on_batch` returns the batch's own loss (fit's logs average the epoch)."""
    import keras

    from tunenet.models.build import build_model
    from tunenet.tuning.pipelines import Pipelines

    keras.utils.set_random_seed(config.seed)
    values = {**values, "optimizer.learning_rate": float(rates[0])}
    values["optimizer.schedule"] = "constant"  # _train sets the rate before each batch
    model = build_model(config, values, dataset, 1, dataset.normalization(config.data.normalize))
    batch_size = int(space_module.value_of(config, values, "training.batch_size"))
    batches = iter(Pipelines(dataset).train(batch_size, config.seed).repeat())
    watch = Watch()
    losses: list[float] = []
    smoothed: list[float] = []
    for rate in rates:
        model.optimizer.learning_rate = float(rate)
        x, y = next(batches)
        loss = float(model.train_on_batch(x, y, return_dict=True)["loss"])
        losses.append(loss)
        value, reason = watch.add(loss)
        smoothed.append(value)
        if reason:
            return losses, smoothed, f"{reason} (lr {rate:.3g})"
    return losses, smoothed, NOT_STOPPED


def _write(result: LrFindResult) -> None:
    """Replace the lr-find directory (checked by `output_dir`) with the CSV and the plot."""
    directory = result.directory
    try:
        if directory.is_dir():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        lines = [csv_line(COLUMNS)]
        columns = (result.learning_rates, result.losses, result.smoothed)
        for step, row in enumerate(zip(*columns, strict=True)):
            lines.append(csv_line((step + 1, *row)))
        write_atomic(directory / CSV_NAME, "".join(lines))
        result.files.append(directory / CSV_NAME)
        result.files.append(_plot(result, directory / PLOT_NAME))
    except OSError as error:
        raise RunDirError(f"{error.filename or directory}: cannot be written ({error}).") from None


def _plot(result: LrFindResult, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=100)
    rates = result.learning_rates
    finite = [loss if math.isfinite(loss) else np.nan for loss in result.losses]
    axes.plot(rates, finite, color="0.7", linewidth=1, label="loss (each batch)")
    axes.plot(rates, result.smoothed, color="tab:blue", linewidth=2, label="smoothed loss (EMA)")
    median = decade_median(rates, result.losses)
    axes.plot(rates, median, color="tab:orange", linestyle="--", label="median over a decade")
    line = blow_up_line(result.losses)  # the rule the text reads (lr_range.Watch)
    shown = np.where(np.isfinite(line), line, np.nan)
    label = f"blow-up line: {BLOW_UP:g}× the lowest level so far"
    axes.plot(rates, shown, color="tab:red", linestyle=":", linewidth=1, label=label)
    if result.stop_reason != NOT_STOPPED:
        axes.axvline(
            rates[-1], color="tab:red", linewidth=1, label=f"stopped at lr {rates[-1]:.3g}"
        )
    s = result.suggestion
    if s is not None:
        axes.axvspan(
            s.low, s.high, color="tab:green", alpha=0.2, label=f"suggested {range_text(s)}"
        )
    axes.set_xscale("log")
    lowest = np.nanmin(result.smoothed) if np.isfinite(result.smoothed).any() else None
    if lowest is not None:  # the blow-up would squash the interesting part
        top = max(np.nanmax(finite[:3] + [lowest * BLOW_UP]), lowest) * 1.1
        axes.set_ylim(bottom=min(0.0, float(np.nanmin(finite))), top=top)
    axes.set_xlabel("learning rate (log scale)")
    axes.set_ylabel("training loss")
    axes.set_title("Learning-rate range test")
    axes.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    write_png(figure, path)
    plt.close(figure)
    return path


def write_png(figure: Any, path: Path) -> None:
    """Save a figure atomically (temp file + rename)."""
    replace_atomic(path, figure.savefig, ".png")


# ---------------------------------------------------------------- --out


@dataclass
class SuggestedRate:
    """What `--out` writes as `optimizer.learning_rate` for the config's strategy."""

    value: Any  # the YAML value: a log range, or a list of rates for a grid
    text: str  # the same in YAML flow style

    @property
    def grid(self) -> bool:
        return isinstance(self.value, list)

    @property
    def count(self) -> int:
        return len(self.value) if self.grid else 0


def suggested_rate(config: Config, suggestion: Suggestion) -> SuggestedRate:
    """The suggested range as `optimizer.learning_rate` for the config's search strategy.

    A grid needs a list (or a range with a step): it gets log-spaced rates from the range,
    both ends included. Every other strategy samples the log range itself.
    """
    if config.search.strategy != "grid":
        value = {"min": suggestion.low, "max": suggestion.high, "sampling": "log"}
        return SuggestedRate(value, range_text(suggestion))
    rates = grid_rates(suggestion)
    return SuggestedRate(rates, list_text(rates))


def grid_hint(config: Config, suggestion: Suggestion) -> Optional[str]:
    """Without --out, for a grid search: the rates to write (the range would not validate)."""
    rate = suggested_rate(config, suggestion)
    if not rate.grid:
        return None
    return (
        f"search.strategy grid needs a list: use {rate.count} log-spaced rates {rate.text} "
        "from that range (--out writes them)"
    )


def write_config(config_path: Path, out: Path, suggestion: Suggestion) -> Optional[str]:
    """Write the input config with `optimizer.learning_rate` set to the suggestion: the log
    range, or for a grid search log-spaced rates from it (`suggested_rate`).

    The user's text is kept (comments included) where the key can be replaced line by line;
    otherwise the parsed config is written again, without its comments. Either way the result
    is checked to parse to the same config but for that key, and to validate.

    Returns:
        What to tell the user about the written rate (for a grid: the rates and the grid's new
        size), or None when it is the suggested range itself.
    """
    text = loader.read_text(config_path)
    raw = loader.parse_yaml(text, str(config_path))
    config = loader.load_mapping(raw, source=str(config_path), checks=MODEL_CHECKS)
    rate = suggested_rate(config, suggestion)
    expected = _with_rate(raw, rate.value)
    edited = _edit_text(text, rate.text)
    if edited is None or loader.parse_yaml(edited, str(out)) != expected:
        edited = yaml.safe_dump(expected, sort_keys=False, default_flow_style=None, width=100)
    # the written config validates
    written = loader.load_mapping(expected, source=str(out), checks=MODEL_CHECKS)
    header = (
        f"# optimizer.learning_rate set by `tunenet lr-find` on {date.today().isoformat()} "
        f"from {config_path.name}\n"
    )
    check_out(out, config_path)  # still new: nothing overwritten while the test ran
    try:
        write_atomic(out, header + edited)
    except OSError as error:
        raise ConfigError(f"--out {out}: cannot be written ({error.strerror}).") from None
    if not rate.grid:
        return None
    return (
        f"search.strategy grid needs a list: wrote {rate.count} log-spaced rates {rate.text} "
        f"from that range to {out}{_grid_size_note(written)}"
    )


def _grid_size_note(config: Config) -> str:
    """How many points the written grid has, and whether search.max_trials covers them."""
    size = space_module.grid_size(space_module.build_space(config))
    if size is None:
        return ""
    trials = config.search.max_trials
    if size <= trials:
        return f"; the grid has {size} point(s)"
    return (
        f"; the grid has {size} point(s), search.max_trials {trials} runs {trials} of them "
        "(raise it to run them all)"
    )


def _with_rate(raw: dict, rate: Any) -> dict:
    optimizer = raw.get("optimizer") if isinstance(raw.get("optimizer"), dict) else {}
    return {**raw, "optimizer": {**(optimizer or {}), "learning_rate": rate}}


SECTION = re.compile(r"^optimizer\s*:\s*(#.*)?$")
KEY = re.compile(r"^(\s+)learning_rate\s*:")


def _edit_text(text: str, flow: str) -> Optional[str]:
    """The YAML text with the `learning_rate` line of a block `optimizer:` section replaced
    (and its nested lines removed), or inserted; None when the layout is not that simple."""
    lines = text.splitlines()
    new = f"learning_rate: {flow}  # tunenet lr-find"
    starts = [index for index, line in enumerate(lines) if SECTION.match(line)]
    if not starts:
        if any(line.startswith("optimizer") for line in lines):
            return None  # a flow mapping or something unusual: rewrite the parsed config
        return "\n".join([*lines, "optimizer:", f"  {new}"]) + "\n"
    start = starts[0]
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t#"):
        end += 1
    body = range(start + 1, end)
    indents = [_indent(lines[i]) for i in body if lines[i].strip() and _indent(lines[i])]
    indent = min(indents) if indents else 2
    for index in body:
        match = KEY.match(lines[index])
        if match and len(match.group(1)) == indent:
            stop = index + 1
            while stop < end and (not lines[stop].strip() or _indent(lines[stop]) > indent):
                stop += 1
            lines[index:stop] = [" " * indent + new]
            return "\n".join(lines) + "\n"
    lines.insert(start + 1, " " * indent + new)
    return "\n".join(lines) + "\n"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))
