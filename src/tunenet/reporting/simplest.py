"""The simplest tied trial in the report (docs/report.md, "The simplest tied trial"): the trial
with the fewest parameters whose validation error is tied with the best's, named beside the best
trial in every format, and which trial's model `best/` holds (manifest.json `kept`, written by
the search under `search.keep`).

The rule itself is `runs.simplest`, shared with the search that keeps the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tunenet import diagnosis as dx
from tunenet.reporting.noise import is_regression
from tunenet.runs.simplest import SimplestTied, simplest_tied

if TYPE_CHECKING:
    from tunenet.reporting.model import RunObjective, RunReport, TrialReport
    from tunenet.runs import Run


def keeping(run: Run, best: TrialReport | None, objective: RunObjective) -> dict[str, Any]:
    """The RunReport fields `simplest_tied`, `kept` and `kept_trial` of a run."""
    found = None
    if best is not None and "params" in run.trials.columns:
        rows = [row for _, row in run.trials.iterrows()]
        found = simplest_tied(rows, best.trial_id, objective, is_regression(run), objective.column)
    rule, held = kept_in_manifest(run.manifest)
    if held is None:
        held = best.trial_id if best is not None else None
    kept = "simplest_tied" if rule == "simplest_tied" and best and held != best.trial_id else "best"
    return {"simplest_tied": found, "kept": kept, "kept_trial": held}


def kept_in_manifest(manifest: Any) -> tuple[str, str | None]:
    """manifest.json's `kept`: the rule (`best` when absent, as in runs before search.keep) and
    the trial whose model best/ holds (None when not said)."""
    kept = manifest.get("kept") if isinstance(manifest, dict) else None
    if not isinstance(kept, dict):
        return "best", None
    rule = kept.get("rule") if kept.get("rule") in ("best", "simplest_tied") else "best"
    held = kept.get("trial_id")
    return rule, str(held) if held not in (None, "") else None


def simplest_text(found: SimplestTied, best_val: float | None, val: float | None) -> str:
    """ "trial 7: 12,416 parameters (9.2× fewer than the best), validation error 4.1% vs 3.8%
    (+0.3 pts ± 2.0: tied)"."""
    difference = dx.points_ci(found.difference, found.difference_ci)
    return (
        f"trial {found.trial_id}: {found.params:,} parameters ({found.ratio:.1f}× fewer than "
        f"the best), validation error {dx.percent(val)} vs {dx.percent(best_val)} "
        f"({difference}: tied)"
    )


def simplest_lines(report: RunReport) -> list[str]:
    """Beside the best trial: the simplest tied trial, and the model best/ holds when it is not
    the best's. Empty when the best is itself the simplest or trials.csv has no `params`."""
    found, best = report.simplest_tied, report.best
    lines = []
    if found is not None and best is not None and best.val_error is not None:
        val = best.val_error + found.difference
        lines.append(f"Simplest tied: {simplest_text(found, best.val_error, val)}.")
    if report.kept == "simplest_tied":
        held = report.kept_trial
        if found is not None and held == found.trial_id:
            lines.append(f"best/ holds trial {held}, the simplest tied (search.keep).")
        else:  # the report's best differs from the search's (a trials.csv edited since)
            lines.append(f"best/ holds trial {held} (search.keep: simplest_tied).")
    return lines
