"""The search in words: the verdict paragraph and the capacity sentence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from tunenet.diagnosis.advice import Recommendation
from tunenet.diagnosis.capacity import CapacityCurve, rounded_gain
from tunenet.diagnosis.curves import Finding
from tunenet.diagnosis.effects import HpEffect
from tunenet.diagnosis.labels import GOOD_FIT, FitDiagnosis
from tunenet.diagnosis.text import finite, format_value, percent, points
from tunenet.runs import TrialStatus


def verdict(
    *,
    counts: Mapping[str, int],
    objective: str,
    best_id: str | None,
    best_objective: float | None,
    best_fit: FitDiagnosis | None,
    best_findings: Sequence[Finding],
    best_test_error: float | None,
    labels: Sequence[str],
    effects: Sequence[HpEffect],
    top_recommendation: Recommendation | None,
    capacity: CapacityCurve | None = None,
) -> str:
    """One plain-language paragraph about the search.

    Args:
        counts: trials per status, plus "trials" for the total.
        labels: the fit labels of the completed trials.
        capacity: the capacity curve of a `search.strategy: capacity` run (one sentence).
    """
    total = counts.get("trials", 0)
    if not total:
        return "No trial has been recorded yet."
    parts = [_counts_sentence(counts)]
    if best_id is None:
        parts.append("No trial completed, so there is no best model to diagnose.")
    else:
        parts.append(_best_sentence(best_id, objective, best_objective, best_fit, best_test_error))
        parts += [f.text[0].upper() + f.text[1:] + "." for f in best_findings]
    if capacity is not None:
        parts.append(capacity_sentence(capacity))
    if labels:
        parts.append(_labels_sentence(labels))
    parts += _effect_sentence(effects, objective)
    if top_recommendation:
        step = top_recommendation.text
        if top_recommendation.evidence:
            step = step.rstrip(".") + f" ({top_recommendation.evidence})."
        parts.append(f"Next: {step}")
    elif best_fit is not None and best_fit.label == GOOD_FIT:
        if finite(best_test_error):
            parts.append("Next: nothing stands out; the test error is the unbiased estimate.")
        else:
            parts.append("Next: nothing stands out; check the best model on the test split.")
    return " ".join(parts)


def _counts_sentence(counts: Mapping[str, int]) -> str:
    total = counts["trials"]
    others = [f"{counts[s]} {s}" for s in TrialStatus if counts.get(s)]
    noun = "trial" if total == 1 else "trials"
    return f"{total} {noun}: {', '.join(others)}." if others else f"{total} {noun}."


def _best_sentence(
    best_id: str,
    objective: str,
    best_objective: float | None,
    fit: FitDiagnosis | None,
    test_error: float | None,
) -> str:
    text = f"The best trial, {best_id}, reached {objective} {format_value(best_objective)}"
    if finite(test_error):
        text += f" (test error {percent(test_error)})"
    if fit is None:
        return text + "."
    gaps = (
        f"avoidable bias {points(fit.avoidable_bias)}, "
        f"train-to-validation gap {points(fit.variance)}"
    )
    if fit.label == GOOD_FIT:
        return text + f" and fits well ({gaps})."
    return text + f"; it has {fit.label} ({gaps})."


def _labels_sentence(labels: Sequence[str]) -> str:
    counts = pd.Series(list(labels)).value_counts()
    parts = [f"{n} {label}" for label, n in counts.items()]
    return f"Of the {len(labels)} completed trials: {', '.join(parts)}."


def _effect_sentence(effects: Sequence[HpEffect], objective: str) -> list[str]:
    """The largest effect whose every value was tried at least twice (one trial per value is
    noise, not an effect)."""
    solid = [e for e in effects if min(r.trials for r in e.rows) >= 2]
    if not solid:
        return (
            ["Too few trials per value to tell which hyperparameter mattered most."]
            if effects
            else []
        )
    effect = solid[0]
    best = next(r for r in effect.rows if r.value == effect.best_value)
    worst = max(effect.rows, key=lambda r: abs(r.mean_objective - best.mean_objective))
    return [
        f"{effect.hyperparameter} mattered most: mean {objective} {best.mean_objective:.4g} "
        f"at {best.value} against {worst.mean_objective:.4g} at {worst.value}."
    ]


def capacity_sentence(curve: CapacityCurve) -> str:
    """Where growth stopped paying, in one sentence (the report's capacity line)."""
    objective = curve.objective.name
    done = [s for s in curve.steps if finite(s.objective)]
    stop, best = curve.step(curve.stopped_after), curve.step(curve.best)
    if stop is None or best is None:
        return f"No completed step: the capacity curve has no {objective} to compare."
    where = f"{stop.label} (trial {stop.trial_id}, {objective} {format_value(stop.objective)})"
    if len(done) == 1:
        return f"Only one completed step, {where}: too few to see where growth stops paying."
    span = f"{len(curve.steps)} steps from {curve.steps[0].label} to {curve.steps[-1].label}"
    if stop is done[-1]:
        return (
            f"Growth was still paying at the last step, {where} ({span}): each step was beaten "
            f"by a later one by more than min_delta {curve.min_delta:g}; widen model.layers or "
            "the widths, or raise search.max_trials, to see where it stops."
        )
    text = (
        f"Growth stopped paying after {where}: no later step beat it by more than "
        f"min_delta {curve.min_delta:g} ({span})"
    )
    if best is not stop:
        gain = rounded_gain(curve.objective, best.objective, stop.objective)
        text += (
            f"; the best, {best.label} (trial {best.trial_id}), is only {format_value(gain)} better"
        )
    return text + "."
