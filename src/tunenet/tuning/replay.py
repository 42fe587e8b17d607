"""What a search runs before its strategy proposes anything (docs/guide.md, "Run these first" and
"Retry failed trials"): `--retry-failed`'s failed trials, then `search.enqueue`'s configurations,
then the best trials of `search.warm_start`'s earlier run.

Everything but `attach` is plain Python (no TensorFlow), so that `api.search` checks the flags and
the earlier run before TensorFlow loads. `attach` puts the queue in front of the oracle of the
process that owns it (the in-process search, or the chief of a distributed one): which entries
have run is read from the oracle's trials, so a resume runs none of them twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

from tunenet.config.enqueue import OWN_ORDER, Entry, fill, fitted
from tunenet.config.objective import Objective
from tunenet.config.sections import Config
from tunenet.config.space import HyperParameter, build_space, same_value
from tunenet.errors import ConfigError, Problem, RunDirError
from tunenet.runs.cells import number
from tunenet.runs.files import read_json, read_yaml
from tunenet.runs.objective import run_objective
from tunenet.runs.paths import RunDir
from tunenet.runs.status import TrialStatus
from tunenet.runs.tables import read_trial_rows, trial_number

RETRY_KEY = "tuner/retry_of"  # in a retried trial's values; keras-tuner carries it to workers
WARM_KEY = "search.warm_start"
HP = "hp."


def retry_of(trial: Any) -> str:
    """trials.csv's `retry_of` of a keras-tuner trial: the failed trial it repeats, else ""."""
    return str(trial.hyperparameters.values.get(RETRY_KEY) or "")


def is_retry(row: dict) -> bool:
    """Whether a trials.csv row is a retry (it does not count toward search.max_trials)."""
    return bool(row.get("retry_of"))


def check(config: Config, resume: bool, retry_failed: bool) -> None:
    """Before TensorFlow: `--retry-failed` is usable here, and the warm start run is readable.

    Raises:
        ConfigError: naming `--retry-failed` or `search.warm_start`.
    """
    if retry_failed and not resume:
        raise _error("--retry-failed", "needs --resume: it runs a run's failed trials again")
    strategy = config.search.strategy
    if retry_failed and strategy in OWN_ORDER:
        raise _error(
            "--retry-failed",
            f"cannot run trials again with search.strategy {strategy!r}: {OWN_ORDER[strategy]}",
        )
    warm_start(config)


def _error(key: str, message: str) -> ConfigError:
    return ConfigError(f"{key}: {message}.", [Problem(key, message)])


# ---------------------------------------------------------------- warm start


@dataclass
class WarmStart:
    """The earlier run's best trials that fit this space (as entries), and what was skipped."""

    path: Path
    entries: list[Entry] = field(default_factory=list)
    trial_ids: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "trial 3: optimizer.name=rmsprop is ..."


def warm_start(config: Config, space: Optional[list[HyperParameter]] = None) -> Optional[WarmStart]:
    """The best `search.warm_start_top` completed trials of `search.warm_start` (by that run's
    objective) whose values fit this config's space; None without a warm start.

    Raises:
        ConfigError: the run directory is missing or unreadable (naming `search.warm_start`).
    """
    raw = config.search.warm_start
    if not raw:
        return None
    path = Path(raw).expanduser()
    rows = _old_rows(path, raw)
    objective = _old_objective(path, rows)
    space = build_space(config) if space is None else space
    by_name = {hp.name: hp for hp in space}
    found = WarmStart(path)
    completed = [row for row in rows if row.get("status") == TrialStatus.COMPLETED]
    for row in objective.ordered(completed):
        if len(found.entries) >= config.search.warm_start_top:
            break
        entry = {
            name[len(HP) :]: cell_value(by_name.get(name[len(HP) :]), text)
            for name, text in row.items()
            if name.startswith(HP) and text not in ("", None)
        }
        kept, problems = fitted(space, config, entry)
        if problems:
            reasons = "; ".join(f"{name}={value} is {why}" for name, value, why in problems)
            found.skipped.append(f"trial {row['trial_id']}: {reasons}")
            continue
        found.entries.append(kept)
        found.trial_ids.append(row["trial_id"])
    return found


def _old_rows(path: Path, raw: str) -> list[dict]:
    where = f"{raw}: "
    if not path.is_dir():
        raise _error(
            WARM_KEY,
            f"{where}no such run directory (relative paths are relative to the working "
            f"directory, {Path.cwd()}); give the directory of an earlier run, e.g. runs/<name>",
        )
    run = RunDir(path)
    if not run.trials_file.is_file():
        raise _error(WARM_KEY, f"{where}has no trials.csv: not a run that `tunenet search` wrote")
    try:
        return read_trial_rows(run.trials_file)[0]
    except (RunDirError, OSError) as error:
        raise _error(WARM_KEY, f"{where}cannot be read ({error})") from None


def _old_objective(path: Path, rows: list[dict]) -> Objective:
    run = RunDir(path)
    manifest = _quietly(read_json, run.manifest_file)
    resolved = _quietly(read_yaml, run.resolved_file)
    return run_objective(manifest, resolved, rows[0].keys() if rows else ())


def _quietly(read: Callable[[Path], Any], path: Path) -> Any:
    try:
        return read(path)
    except Exception:  # a damaged manifest or resolved.yaml: the objective is guessed
        return None


def cell_value(hp: Optional[HyperParameter], text: str) -> Any:
    """A trials.csv hp cell as the value the space holds (the text itself when none fits)."""
    if hp is not None and hp.kind == "choice":
        return next((value for value in hp.values if same_value(value, text)), text)
    if text in ("True", "False", "true", "false"):
        return text.lower() == "true"
    value = number(text)
    if value is None:
        return text
    return int(value) if value.is_integer() and (hp is None or hp.kind == "int") else value


# ---------------------------------------------------------------- the queue


def failed_to_retry(rows: Iterable[dict], since: Optional[float] = None) -> list[dict]:
    """The failed rows no retry has repeated yet, in trials.csv's order. `since`: when this
    search began (`time.time()`), for a hand-over's successor: a trial that failed after it
    failed in this search, and is not retried in it."""
    rows = list(rows)
    repeated = {_id(row["retry_of"]) for row in rows if is_retry(row)}
    return [
        row
        for row in rows
        if row.get("status") == TrialStatus.FAILED
        and _id(row["trial_id"]) not in repeated
        and not _started_after(row, since)
    ]


def _started_after(row: dict, since: Optional[float]) -> bool:
    if since is None:
        return False
    try:
        return datetime.fromisoformat(str(row.get("started_at"))).timestamp() >= since
    except ValueError:
        return False


def _id(trial_id: str) -> Any:
    """ "3" and "03" are one trial (the padding follows max_trials)."""
    found = trial_number(str(trial_id))
    return str(trial_id) if found is None else found


def _key(values: dict) -> tuple:
    """A configuration's identity: its active values, floats to trials.csv's 8 digits."""
    return tuple(
        sorted(
            (name, float(format(value, ".8g")) if isinstance(value, float) else value)
            for name, value in values.items()
            if not name.startswith("tuner/")
        )
    )


@dataclass
class FirstTrials:
    """The configurations run before the strategy's own, in order.

    Args:
        retries: (failed trial id, its configuration), run first; each gets a trial id after
            the `known` trials the run had, so it never takes the id of a recorded trial.
        entries: whole configurations (`enqueue.fill`), search.enqueue's then the warm start's,
            each once.
        known: trials recorded when the search started.
    """

    retries: list[tuple[str, Entry]] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    known: int = 0

    def next(self, ran: list[dict]) -> Optional[Entry]:
        """The next configuration to run, given the values of every trial the oracle has."""
        if len(ran) >= self.known:
            repeated = {_id(values[RETRY_KEY]) for values in ran if values.get(RETRY_KEY)}
            for failed, values in self.retries:
                if _id(failed) not in repeated:
                    return {**values, RETRY_KEY: failed}
        done = {_key(values) for values in ran if not values.get(RETRY_KEY)}
        return next((dict(entry) for entry in self.entries if _key(entry) not in done), None)

    def is_entry(self, values: dict) -> bool:
        """Whether a strategy's proposal is one of the entries (run already: ask again)."""
        return _key(values) in {_key(entry) for entry in self.entries}


def first_trials(
    config: Config,
    space: list[HyperParameter],
    rows: list[dict],
    retry_failed: bool,
    note: Callable[[str], None],
    since: Optional[float] = None,
) -> FirstTrials:
    """The queue of a search whose run holds `rows`; `note` is told what runs first and what
    the warm start skipped; `since`: as for `failed_to_retry`."""
    plan = FirstTrials(known=len(rows))
    if retry_failed:
        failed = failed_to_retry(rows, since)
        for row in failed:
            entry = {
                name[len(HP) :]: cell_value(None, text)
                for name, text in row.items()
                if name.startswith(HP) and text not in ("", None)
            }
            plan.retries.append((row["trial_id"], fill(space, fitted(space, config, entry)[0])))
        ids = ", ".join(row["trial_id"] for row in failed)
        note(f"--retry-failed: trial(s) {ids} run again" if failed else "--retry-failed: no "
             "failed trial to run again")  # fmt: skip
    seen: set[tuple] = set()
    for entry in config.search.enqueue or []:
        _add(plan, seen, fill(space, fitted(space, config, entry)[0]))
    found = warm_start(config, space)
    if found is not None:
        for reason in found.skipped:
            note(f"{WARM_KEY}: skipped {reason}")
        for entry in found.entries:
            _add(plan, seen, fill(space, entry))
        shown = ", ".join(found.trial_ids)
        note(
            f"{WARM_KEY}: {found.path}: trial(s) {shown} run first (its best that fit this space)"
            if shown
            else f"{WARM_KEY}: {found.path}: no completed trial fits this space"
        )
    return plan


def _add(plan: FirstTrials, seen: set[tuple], entry: Entry) -> None:
    if _key(entry) not in seen:
        seen.add(_key(entry))
        plan.entries.append(entry)


def attach(oracle: Any, context: Any) -> None:
    """Put the queue in front of `oracle` (in the process that owns it) and allow the retries
    beyond search.max_trials: the run's earlier retries and this search's."""
    from tunenet.tuning import handover, kt_compat

    rows = list(context.trials.rows.values())
    began = handover.plan() if handover.inherited() else None  # the search's first process
    plan = first_trials(
        context.config, context.space, rows, context.retry_failed, context.events.on_note,
        since=began.started if began else None,
    )  # fmt: skip
    earlier = {_id(row["retry_of"]) for row in rows if is_retry(row)}
    earlier |= {_id(retry_of(trial)) for trial in oracle.trials.values() if retry_of(trial)}
    extra = len(earlier) + len(plan.retries)
    if extra and oracle.max_trials:
        oracle.max_trials += extra
        context.planned += extra
    if not plan.retries and not plan.entries:
        return
    strategy = oracle.populate_space

    def populate_space(trial_id: str) -> dict:
        values = plan.next([trial.hyperparameters.values for trial in oracle.trials.values()])
        if values is not None:
            return kt_compat.propose(values)
        for _ in range(len(plan.entries) + 1):  # a grid visits an entry's point again: skip it
            response = strategy(trial_id)
            if not response.get("values") or not plan.is_entry(response["values"]):
                break
        return response

    oracle.populate_space = populate_space  # keras-tuner calls it under the oracle's lock
