"""`search.keep` (docs/guide.md, "When to stop, what it costs, what to keep"): which trial's
model best/ holds once the search ends.

Under `search.keep: simplest_tied` every completed trial's model is saved when it ends
(`tuner/models/trial_<id>.keras`, exactly as best/model.keras would hold it: the same export,
the regression target in its own units), because keras-tuner keeps no per-trial model of a
tuner whose trials tunenet runs itself. When the search ends (a resumed one too) the simplest
trial tied with the best (`runs.simplest`, the rule the report names) has its file copied into
best/, and best/confusion.json is made for it. manifest.json `kept` says which trial best/
holds: `{"rule": "best" | "simplest_tied", "trial_id": ...}`.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import keras

from tunenet.models.build import plain_metrics
from tunenet.models.saved import export_model, load_best_model
from tunenet.runs.files import replace_atomic
from tunenet.runs.insight import read_confusion, write_confusion
from tunenet.runs.simplest import simplest_tied
from tunenet.tuning.confusion import split_matrix

if TYPE_CHECKING:
    from tunenet.tuning.trial import SearchContext

SIMPLEST_TIED = "simplest_tied"


def save_trial_model(context: SearchContext, trial_id: str, model: keras.Model) -> None:
    """A completed trial's model as best/ would hold it, kept for the end of the search; only
    under `search.keep: simplest_tied` (otherwise nothing is written)."""
    if context.config.search.keep != SIMPLEST_TIED:
        return
    saved = export_model(
        plain_metrics(model, context.config, context.dataset), context.pipelines.scale
    )
    replace_atomic(context.run.trial_model_file(trial_id), saved.save, suffix=".keras")


def kept_entry(context: SearchContext, trial_id: str) -> dict[str, str]:
    """manifest.json's `kept`: the rule, and the trial whose model best/ holds."""
    return {"rule": context.config.search.keep, "trial_id": str(trial_id)}


def keep_model(context: SearchContext, rows: list[dict], best: dict) -> dict:
    """When the search ends: put the model `search.keep` chooses into best/ and say so in
    manifest.json; returns the row of the trial best/ holds (`best`, or the simplest tied)."""
    chosen = best
    if context.config.search.keep == SIMPLEST_TIED:
        regression = context.dataset.task == "regression"
        found = simplest_tied(rows, best["trial_id"], context.objective, regression)
        if found is not None and context.run.trial_model_file(found.trial_id).exists():
            chosen = next(row for row in rows if str(row["trial_id"]) == found.trial_id)
        elif found is not None:
            context.events.on_note(
                f"search.keep: trial {found.trial_id} is the simplest tied, but its model was "
                f"not saved ({context.run.trial_model_file(found.trial_id)}); best/ holds the "
                f"best trial, {best['trial_id']}."
            )
        source = context.run.trial_model_file(chosen["trial_id"])
        if source.exists():  # best/ may hold another trial's model (an earlier session's)
            _install(context, str(chosen["trial_id"]), source)
    context.run.update_manifest(kept=kept_entry(context, chosen["trial_id"]))
    return chosen


def _install(context: SearchContext, trial_id: str, source: Path) -> None:
    """`source` becomes best/model.keras; best/confusion.json (classification) is made for it
    unless it already describes that trial."""
    run = context.run
    replace_atomic(run.best_model_file, lambda temp: shutil.copyfile(source, temp), ".keras")
    dataset = context.dataset
    if dataset.task == "regression":
        return
    found = read_confusion(run, [])
    if found and found.get("trial_id") == trial_id:
        return
    model = load_best_model(run.best_model_file, compile=False)
    matrices = {"val": split_matrix(model, context.pipelines, "val", raw=True)}
    write_confusion(run, trial_id, dataset.classes, matrices)
