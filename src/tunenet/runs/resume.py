"""Resuming a run: check it before changing anything, then repair what a crash can leave.

trials.csv and epochs.csv are the source of truth: damage there that a crash cannot cause (a
garbage header, a broken inner line) is refused; a damaged manifest is rebuilt; keras-tuner's own
state is checked against trials.csv and discarded when it cannot be reloaded as it is.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Optional

import yaml

from tunenet.config.sections import Config
from tunenet.config.user_code import code_identity
from tunenet.errors import RunDirError
from tunenet.runs.files import REFUSED, read_json, short, text_or_none, write_atomic, write_json
from tunenet.runs.paths import RunDir, new_manifest
from tunenet.runs.resolved import (
    EXTENDABLE,
    config_differences,
    fingerprint,
    recorded_code,
    resolved_dict,
)
from tunenet.runs.status import FINAL_STATUSES
from tunenet.runs.tables import EpochLog, read_trial_rows, trial_number


def reopen(run: RunDir, config: Config) -> RunDir:
    """Check a run for --resume before changing anything, then rebuild what can be rebuilt."""
    manifest, damage = _manifest_or_damage(run)
    run.notes = _check_same_config(run, config, manifest)
    _check_same_code(run, config, manifest)
    rows, _ = read_trial_rows(run.trials_file)  # raises on a damaged header or inner line
    _check_header(run.epochs_file, ("trial_id", "execution", "epoch"))
    _check_header(run.layers_file, ("trial_id", "execution", "epoch"))
    resolved = yaml.safe_dump(resolved_dict(config), sort_keys=False)
    try:
        finished = {row["trial_id"] for row in rows if row.get("status") in FINAL_STATUSES}
        run.notes += _repair_layers(run, finished)
        if damage:
            write_json(run.manifest_file, new_manifest(run))  # the search fills in the rest
            run.notes.append(f"{run.manifest_file}: {damage}; rebuilt from resolved.yaml.")
        if text_or_none(run.resolved_file) != resolved:
            write_atomic(run.resolved_file, resolved)
    except OSError as error:
        raise RunDirError(f"{error.filename or run.path}: cannot be written ({error}).") from None
    return run


def _repair_layers(run: RunDir, finished: set[str]) -> list[str]:
    """layers.csv as epochs.csv is repaired: the rows of the trials that run again go (no
    duplicates), and a last line a crash cut; a finished trial's rows always stay."""
    text = text_or_none(run.layers_file) if run.layers_file.exists() else ""
    if not text or "\n" not in text:
        return []  # absent, or a header cut before any row: the search writes it again
    columns = next(csv.reader([text.split("\n", 1)[0]]))
    if EpochLog(run.layers_file, columns).drop_trials(keep=finished):
        return [f"{run.layers_file}: dropped its last line, cut by a crash."]
    return []


def _manifest_or_damage(run: RunDir) -> tuple[Optional[dict], str]:
    """The manifest, or None and what is wrong with it."""
    try:
        manifest = read_json(run.manifest_file)
    except UnicodeDecodeError:
        return None, "was not UTF-8 text"
    except ValueError as error:
        return None, f"was not JSON ({error})"
    except OSError as error:
        raise RunDirError(f"{run.manifest_file}: cannot be read ({error.strerror}).") from None
    if not isinstance(manifest, dict):
        return None, "was not a JSON object"
    return manifest, ""


def _check_same_config(run: RunDir, config: Config, manifest: Optional[dict]) -> list[str]:
    """`--resume` with a changed config stops and shows the difference.

    Returns notes on the changes a resume allows (more trials or epochs).
    """
    same = manifest is not None and manifest.get("config_fingerprint") == fingerprint(config)
    try:
        recorded = run.read_resolved()
    except RunDirError as error:
        if same:
            return []  # the manifest vouches for the config; resolved.yaml is rewritten
        raise RunDirError(
            f"{error} Without it (and a readable manifest.json) tunenet cannot tell whether "
            "the config changed. Restore the file, or start again with --overwrite."
        ) from None
    changes = config_differences(recorded, resolved_dict(config))
    allowed = [
        f"{key}: {old!r} -> {new!r} (allowed on --resume)"
        for key, old, new in changes
        if key in EXTENDABLE
    ]
    if same:
        return allowed
    differences = [item for item in changes if item[0] not in EXTENDABLE and item[0] != "name"]
    if not differences:
        return allowed
    lines = [f"{run.path}: the config changed since this run started; --resume would mix them:"]
    lines += [f"  {key}: {old!r} -> {new!r}" for key, old, new in differences]
    lines.append(
        "Only search.max_trials and training.epochs may change on --resume. "
        "Start a new run (--name) or replace this one (--overwrite)."
    )
    raise RunDirError("\n".join(lines))


def _check_same_code(run: RunDir, config: Config, manifest: Optional[dict]) -> None:
    """`--resume` with a changed builder or loader file stops, naming the file: trials built by
    two versions of a model would be compared as one search."""
    if manifest is None:
        return  # rebuilt from the config; the run's config check stood for it
    current = code_identity(config)
    for key, recorded in recorded_code(manifest).items():
        now = current.get(key)
        before = recorded.get("sha256")
        if now is None or before is None or now["spec"] != recorded.get("spec"):
            continue  # no longer used, or renamed: the config's difference says so
        if now["sha256"] != before:
            where = now["spec"].rpartition(":")[0]
            raise RunDirError(
                f"{run.path}: {key}'s file {where} changed since this run started (sha256 "
                f"{str(before)[:12]}... -> {str(now['sha256'])[:12]}...); --resume would mix "
                "models built by two versions of it. Restore the file, start a new run "
                "(--name) or replace this one (--overwrite)."
            )


def _check_header(path: Path, first: tuple[str, ...]) -> None:
    """A CSV's first line, when whole, must start with tunenet's columns `first`."""
    text = text_or_none(path) if path.exists() else ""
    if text is None:
        raise RunDirError(f"{path}: cannot be read as UTF-8 text. {REFUSED}")
    if "\n" not in text:
        return  # empty, or a header cut by a crash: nothing follows it, it is written again
    header = next(csv.reader([text.split("\n", 1)[0]]), [])
    if tuple(header[: len(first)]) != first:
        raise RunDirError(
            f"{path}: line 1 is not tunenet's header: got {short(','.join(header))}, expected "
            f"it to start with {','.join(first)}. {REFUSED}"
        )


# ---------------------------------------------------------------- keras-tuner's own state

# keras-tuner trial statuses after which it never runs the trial again.
TUNER_FINISHED = ("COMPLETED", "FAILED", "INVALID")


def tuner_state_problem(run: RunDir, recorded: set[str]) -> str:
    """What keeps keras-tuner's saved state (tuner/*.json, trial_*/trial.json) from being
    reloaded as it is, or "" when nothing does.

    keras-tuner writes these files in place, so a crash or a full disk can leave them empty.
    `recorded` are the trials trials.csv holds as finished: a trial keras-tuner counts as
    finished without a row there (its row was lost) would never run again.
    """
    states: dict[Path, dict] = {}
    for path in sorted(run.tuner_dir.glob("*.json")) + sorted(run.tuner_dir.glob("trial_*/*.json")):
        try:
            states[path] = read_json(path)
        except (OSError, ValueError) as error:
            return f"{path} is damaged ({type(error).__name__}: {error})"
        if not isinstance(states[path], dict):
            return f"{path} is damaged (not a JSON object)"
    known = {trial_number(key) for key in recorded} - {None}
    trials = {str(state.get("trial_id")): state for state in states.values() if "status" in state}
    for trial_id, state in trials.items():
        if state["status"] in TUNER_FINISHED and trial_number(trial_id) not in known:
            return f"trial {trial_id} is finished in {run.tuner_dir} but has no row in trials.csv"
    oracle = states.get(run.tuner_dir / "oracle.json")
    started = {str(trial_id) for trial_id in (oracle or {}).get("start_order", [])}
    if oracle is not None and started != set(trials):  # a crash between the two writes
        odd = sorted(started ^ set(trials))[0]
        return f"{run.tuner_dir}: oracle.json and the trial.json files disagree on trial {odd}"
    return ""


def discard_tuner_state(run: RunDir) -> None:
    """Delete keras-tuner's state files (not the warm-start weights or worker heartbeats)."""
    for path in run.tuner_dir.glob("*.json"):
        path.unlink()
    for folder in run.tuner_dir.glob("trial_*"):
        shutil.rmtree(folder)
