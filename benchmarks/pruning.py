"""Pruning benchmark (benchmarks/README.md, the `search.pruning` row): one random search on digits run with
`search.pruning: none`, `median` and `asha` (same config, same seed); epochs spent and best
objective of each.

    .venv/bin/python benchmarks/pruning.py [--quick] [--trials 40] [--seed 1]
                                           [--out benchmarks/RESULTS.md] [--work DIR]

Target: median pruning spends at most 0.6x the epochs of no pruning, for a best objective
within 0.01 of it. Epoch counts do not depend on the machine's load, so the numbers hold on a
busy machine (the wall seconds do not).

Random search draws the same trials whatever their results, and pruning never changes a trial
it does not stop, so each pruned search must be the unpruned one with some trials cut short.
The script checks it: every trial's epochs.csv rows in a pruned run are the unpruned run's
rows (all of them for a completed trial, the first ones for a pruned trial). It also replays
each rule on the unpruned run's epochs.csv (`simulate`, the same pruner classes in plain
Python) and checks that the replay stops the same trials at the same epochs.

`--out` writes (or replaces) a "## Pruning" section in that markdown file and keeps the rest.
`--work DIR` keeps the runs in DIR; a search already completed there is read, not run again
(its wall seconds then come from its manifest's start and end).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import TUNENET, csv_rows, load_average, log, spawn, write_yaml  # noqa: E402

from tunenet.config.objective import Objective  # noqa: E402
from tunenet.tuning.pruning import AshaPruner, EpochCurves, MedianPruner, Pruner  # noqa: E402

RULES = ("none", "median", "asha")
SECTION = "## Pruning"
OBJECTIVE = Objective.named("val_accuracy")
TIME_COLUMNS = ("seconds",)


@dataclass(frozen=True)
class Sizes:
    trials: int
    epochs: int
    patience: int
    warmup: int
    min_trials: int


FULL = Sizes(trials=40, epochs=30, patience=5, warmup=3, min_trials=5)  # the default
QUICK = Sizes(trials=6, epochs=4, patience=2, warmup=1, min_trials=2)


def config(sizes: Sizes, rule: str, seed: int) -> dict:
    """The search: a wide space with poor regions (as a first search is), EarlyStopping on."""
    return {
        "name": f"pruning-{rule}",
        "seed": seed,
        "data": {"source": "digits", "normalize": "standard"},
        "model": {
            "layers": {"min": 1, "max": 3},
            "units": [8, 16, 32, 64, 128],
            "activation": ["relu", "tanh", "sigmoid"],
        },
        "regularization": {
            "l2": {"min": 1.0e-6, "max": 1.0e-1, "sampling": "log"},
            "dropout": [0.0, 0.2, 0.5],
        },
        "optimizer": {
            "name": ["sgd", "rmsprop", "adam"],
            "learning_rate": {"min": 1.0e-5, "max": 1.0, "sampling": "log"},
        },
        "training": {
            "epochs": sizes.epochs,
            "batch_size": 32,
            "early_stopping": {"monitor": "val_loss", "patience": sizes.patience},
            "monitor_layers": False,
        },
        "search": {
            "strategy": "random",
            "objective": OBJECTIVE.name,
            "max_trials": sizes.trials,
            "pruning": rule,
            "pruning_warmup": sizes.warmup,
            "pruning_min_trials": sizes.min_trials,
        },
    }


# ---------------------------------------------------------------- one run's numbers


@dataclass
class Outcome:
    rule: str
    epochs: int  # epochs trained, all trials (rows of epochs.csv)
    best: Optional[float]  # best objective of a completed trial
    statuses: dict[str, int]
    wall: float
    stopped: dict[str, int] = field(default_factory=dict)  # pruned trial -> its last epoch


def outcome_of(rule: str, run: Path, wall: float) -> Outcome:
    trials = csv_rows(run / "trials.csv")
    epochs = csv_rows(run / "epochs.csv")
    completed = [row for row in trials if row["status"] == "completed"]
    best = OBJECTIVE.best(completed)
    statuses: dict[str, int] = {}
    for row in trials:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    stopped = {row["trial_id"]: int(row["epochs_trained"]) for row in trials}
    pruned = {key: value for key, value in stopped.items() if _status(trials, key) == "pruned"}
    return Outcome(
        rule, len(epochs), float(best["objective"]) if best else None, statuses, wall, pruned
    )


def _status(trials: list[dict], trial_id: str) -> str:
    return next(row["status"] for row in trials if row["trial_id"] == trial_id)


def finished_seconds(run: Path) -> Optional[float]:
    """Seconds of a search already completed in `run` (from its manifest), else None."""
    try:
        manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("status") != "completed":
            return None
        started, ended = (
            datetime.fromisoformat(manifest[k]) for k in ("started_at", "finished_at")
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (ended - started).total_seconds()


# ---------------------------------------------------------------- checks


def simulate(rows: list[dict], pruner: Pruner, epochs: int) -> dict[str, int]:
    """Replay a pruning rule on an unpruned run's epochs.csv rows (trials in file order, one
    execution): the trials it stops and the epoch where each stops. Like PruningCallback, a
    trial is not checked at its last epoch (early stopping or the epoch limit ended it)."""
    curves = EpochCurves(None, OBJECTIVE.name)
    by_trial: dict[str, list[dict]] = {}
    for row in rows:
        by_trial.setdefault(row["trial_id"], []).append(row)
    stopped = {}
    for trial_id, trial_rows in by_trial.items():
        best: Optional[float] = None
        for row in trial_rows:
            epoch, value = int(row["epoch"]), float(row[OBJECTIVE.name] or "nan")
            curves.add(trial_id, int(row["execution"]), epoch, value)
            if OBJECTIVE.better(value, best):
                best = value
            if row is trial_rows[-1] or epoch >= epochs:
                continue
            if pruner.check(curves, trial_id, epoch, best):
                stopped[trial_id] = epoch
                curves.mark_pruned(trial_id)
                break
    return stopped


def same_rows(unpruned: Path, pruned: Path, stopped: dict[str, int]) -> list[str]:
    """Problems found comparing a pruned run's epochs.csv with the unpruned run's (empty: each
    trial's rows are the unpruned ones, cut at its pruning epoch when pruned)."""

    def rows_of(path: Path) -> dict[str, list[tuple]]:
        table: dict[str, list[tuple]] = {}
        for row in csv_rows(path / "epochs.csv"):
            kept = tuple(value for key, value in row.items() if key not in TIME_COLUMNS)
            table.setdefault(row["trial_id"], []).append(kept)
        return table

    before, after = rows_of(unpruned), rows_of(pruned)
    problems = []
    for trial_id, rows in after.items():
        expected = before.get(trial_id, [])[: stopped.get(trial_id)]
        if rows != expected:
            problems.append(f"trial {trial_id}: {len(rows)} rows differ from the unpruned run")
    return problems


# ---------------------------------------------------------------- table


def pruner_of(rule: str, sizes: Sizes) -> Pruner:
    if rule == "median":
        return MedianPruner(OBJECTIVE, sizes.warmup, sizes.min_trials)
    return AshaPruner(OBJECTIVE, sizes.warmup, 3)


def render(
    sizes: Sizes, seed: int, outcomes: dict[str, Outcome], checks: list[str], quick: bool
) -> str:
    base = outcomes["none"]
    lines = [
        SECTION,
        "",
        f"Measured {datetime.now(timezone.utc).isoformat(timespec='seconds')} with "
        f"`benchmarks/pruning.py`: random search on digits, {sizes.trials} trials, seed {seed}, "
        f"at most {sizes.epochs} epochs, EarlyStopping(val_loss, patience {sizes.patience}), "
        f"pruning_warmup {sizes.warmup}, pruning_min_trials {sizes.min_trials}, factor 3; "
        f"load average at end {load_average()}.",
        "",
        "| pruning | epochs | epochs vs none | best val_accuracy | best vs none | trials "
        "(completed / pruned / other) | wall s | target | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for rule in RULES:
        o = outcomes[rule]
        ratio = o.epochs / base.epochs if base.epochs else math.nan
        gap = (o.best - base.best) if o.best is not None and base.best is not None else math.nan
        other = sum(o.statuses.values()) - o.statuses.get("completed", 0)
        other -= o.statuses.get("pruned", 0)
        target, verdict = "—", "info"
        if rule == "median":
            target = "≤ 0.6× epochs, best within 0.01"
            verdict = "pass" if ratio <= 0.6 and gap >= -0.01 else "FAIL"
            verdict = "n/a (--quick: checks that it runs)" if quick else verdict
        best = f"{o.best:.4f}" if o.best is not None else "—"
        lines.append(
            f"| {rule} | {o.epochs} | {ratio:.3f} | {best} | {gap:+.4f} | "
            f"{o.statuses.get('completed', 0)} / {o.statuses.get('pruned', 0)} / {other} | "
            f"{o.wall:.0f} | {target} | {verdict} |"
        )
    lines += [
        "",
        "Epoch counts and objectives do not depend on the machine's load; wall seconds do (the "
        "three searches may have run under different loads).",
        "",
        *(f"- {check}" for check in checks),
    ]
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    """Write `section` into a markdown file, replacing its earlier "## Pruning" section."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    start = text.find(SECTION + "\n")
    if start >= 0:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + text[end + 1 :] if end >= 0 else text[:start]
    text = text.rstrip() + "\n\n" + section if text.strip() else section
    path.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------- main


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="6 short trials (a CI check).")
    parser.add_argument("--trials", type=int, default=None, help="Trials per search.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="Markdown file to write to.")
    parser.add_argument("--work", type=Path, default=None, help="Keep (and reuse) runs here.")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.trials:
        sizes = Sizes(args.trials, sizes.epochs, sizes.patience, sizes.warmup, sizes.min_trials)
    work = args.work or Path(tempfile.mkdtemp(prefix="tunenet-pruning-"))
    work.mkdir(parents=True, exist_ok=True)
    log(f"work directory: {work}")
    outcomes: dict[str, Outcome] = {}
    checks: list[str] = []
    try:
        for rule in RULES:
            run = work / f"pruning-{rule}"
            wall = finished_seconds(run)
            if wall is None:
                path = write_yaml(work / f"{rule}.yaml", config(sizes, rule, args.seed))
                command = TUNENET + ["search", str(path), "--runs-dir", str(work), "--quiet"]
                command += ["--overwrite"] if run.exists() else []
                wall = spawn(command).check().wall
            outcomes[rule] = outcome_of(rule, run, wall)
            log(f"  {rule}: {outcomes[rule].epochs} epochs, best {outcomes[rule].best}")
        unpruned = csv_rows(work / "pruning-none" / "epochs.csv")
        for rule in RULES[1:]:
            run, stopped = work / f"pruning-{rule}", outcomes[rule].stopped
            problems = same_rows(work / "pruning-none", run, stopped)
            replayed = simulate(unpruned, pruner_of(rule, sizes), sizes.epochs)
            if replayed != stopped:
                problems.append(f"the replay stops {replayed}, the search stopped {stopped}")
            checks.append(
                f"{rule}: "
                + (
                    "; ".join(problems)
                    if problems
                    else f"{len(stopped)} trials pruned; every other trial's epochs.csv rows "
                    "are the unpruned run's, and replaying the rule on the unpruned run's "
                    "epochs.csv stops the same trials at the same epochs"
                )
            )
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    section = render(sizes, args.seed, outcomes, checks, args.quick)
    print(section)
    if args.out:
        write_section(args.out, section)
        log(f"wrote the {SECTION!r} section of {args.out}")
    return 1 if any(": trial " in check or "replay stops" in check for check in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
