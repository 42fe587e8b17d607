"""The search in words: the verdict paragraph and the capacity sentence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from tunenet.diagnosis.advice import Recommendation
from tunenet.diagnosis.capacity import CapacityCurve, rounded_gain
from tunenet.diagnosis.curves import Finding
from tunenet.diagnosis.effects import EffectTest, HpEffect
from tunenet.diagnosis.imbalance import (
    IMBALANCE_KEYS,
    BalancedTest,
    ClassBalance,
    ClassRecall,
    MajorityTest,
    imbalance_step,
)
from tunenet.diagnosis.labels import GOOD_FIT, NOT_LEARNING, UNCERTAIN, FitDiagnosis
from tunenet.diagnosis.text import finite, format_value, p_text, percent
from tunenet.runs.status import TrialStatus


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
    balance: ClassBalance | None = None,
    tied_with: Sequence[str] = (),
    tie_choice: str | None = None,
) -> str:
    """One plain-language paragraph about the search.

    Args:
        counts: trials per status, plus "trials" for the total.
        labels: the fit labels of the completed trials.
        capacity: the capacity curve of a `search.strategy: capacity` run (one sentence).
        balance: the best model's classes (its confusion matrix): per-class recall where they
            are imbalanced, and whether it beats always answering the majority class.
        tied_with: the other trials with the best objective; `tie_choice` says how the best
            one shown was picked among them.
    """
    total = counts.get("trials", 0)
    if not total:
        return "No trial has been recorded yet."
    parts = [_counts_sentence(counts)]
    if best_id is None:
        parts.append("No trial completed, so there is no best model to diagnose.")
    else:
        name = f"{best_id} ({tie_text(tied_with, tie_choice)})" if tied_with else best_id
        parts.append(
            _best_sentence(
                name, objective, best_objective, best_fit, best_test_error, majority_like(balance)
            )
        )
        if balance is not None:
            parts += balance_sentences(balance)
        parts += [f.text[0].upper() + f.text[1:] + "." for f in best_findings]
    if capacity is not None:
        parts.append(capacity_sentence(capacity))
    if labels:
        parts.append(_labels_sentence(labels))
    parts += _effect_sentences(effects, objective)
    if top_recommendation:
        step = top_recommendation.text
        if top_recommendation.evidence:
            step = step.rstrip(".") + f" ({top_recommendation.evidence})."
        parts.append(f"Next: {step}")
        later = _later_imbalance_step(balance, top_recommendation)
        if later:
            parts.append(later)
    elif beats_target(best_fit):
        parts.append(BEATS_TARGET)
    elif best_fit is not None and best_fit.label == GOOD_FIT and not majority_like(balance):
        if finite(best_test_error):
            parts.append("Next: nothing stands out; the test error is the unbiased estimate.")
        else:
            parts.append("Next: nothing stands out; check the best model on the test split.")
    return " ".join(parts)


# the fit's explanation already says it; with no other step, this is the next one
BEATS_TARGET = (
    "Next: set diagnosis.target_error (or --target-error) to the error you believe reachable: "
    "the best trial beats the target beyond the noise, so the target is not a floor and its "
    "bias is judged against too high a mark."
)


def beats_target(fit: FitDiagnosis | None) -> bool:
    """The train error is below the target beyond the noise (the bias interval below zero)."""
    return bool(getattr(fit, "beats_target", False))


def _later_imbalance_step(balance: ClassBalance | None, top: Recommendation) -> str | None:
    """The imbalance advice when the trial's own cause came first (not learning, diverged)."""
    if balance is None or top.key in IMBALANCE_KEYS:
        return None
    step = imbalance_step(balance)
    return f"Then, as the classes are imbalanced: {step}." if step else None


def majority_like(balance: ClassBalance | None) -> bool:
    """The best model is no better than always answering the majority class."""
    return balance is not None and balance.majority_like


def tie_text(tied_with: Sequence[str], choice: str | None) -> str:
    """ "tied for best with 05 and 07; shown: the first by trial id"."""
    others = list(tied_with)
    names = others[0] if len(others) == 1 else ", ".join(others[:-1]) + f" and {others[-1]}"
    return f"tied for best with {names}" + (f"; shown: {choice}" if choice else "")


def balance_sentences(balance: ClassBalance) -> list[str]:
    """The best model against the majority class when it is not clearly better, and the recall
    of each class when classes are imbalanced."""
    parts = []
    said = balance_majority_sentence(balance)
    if said:
        parts.append(said)
    if balance.imbalanced:
        parts.append(
            f"Classes are imbalanced ({ratio_text(balance)}): accuracy alone hides a small "
            f"class's errors; {recall_text(balance)}."
        )
    return parts


def balance_majority_sentence(balance: ClassBalance) -> str | None:
    """The best model against always answering the majority class, when there is something to
    say: not clearly better by accuracy (`majority_sentence`); for a class-weighted run, by its
    balanced error whenever its accuracy is below the majority answer's or it is not clearly
    better (`weighted_sentence`). None otherwise."""
    test, balanced = balance.majority, balance.balanced
    if balance.weighted and balanced is not None:
        paid = test is not None and test.error > test.majority_error
        return weighted_sentence(balanced, test) if paid or not balanced.better else None
    if test is not None and balance.majority_like:
        return majority_sentence(test)
    return None


def weighted_sentence(balanced: BalancedTest, test: MajorityTest | None) -> str:
    """ "With training.class_weight the best model trades accuracy for the small classes (15.0%
    of the 2,000 test rows wrong, against 3.35% for always answering "No"); its balanced error,
    the mean of the classes' errors, is 13.5% ± 4.0 against 50.0% for that answer: better
    beyond the noise." """
    majority = f' "{test.majority}"' if test is not None else ""
    rows = f"the {balanced.n:,} {'test' if balanced.split == 'test' else 'validation'} rows"
    paid = ""
    if test is not None and test.error > test.majority_error:
        paid = (
            f" ({_share(test.error)} of {rows} wrong, against {_share(test.majority_error)} for "
            f"always answering{majority})"
        )
    if balanced.better:
        how = "better beyond the noise"
    elif balanced.worse:
        how = "worse beyond the noise"
    else:
        how = "not distinguishable from it"
    return (
        f"With training.class_weight the best model trades accuracy for the small classes{paid}; "
        f"its balanced error, the mean of the classes' errors, is {percent(balanced.error)} ± "
        f"{balanced.half_width * 100:.1f} against {percent(balanced.majority_error)} for always "
        f"answering the majority class{majority}: {how}."
    )


def majority_sentence(test: MajorityTest) -> str:
    """ "On the 2,000 test rows, the best model is not distinguishable from always answering
    the majority class "no": 62 wrong (3.10%) against 67 (3.35%); exact McNemar test,
    p = 0.55." """
    how = "is worse than" if test.worse else "is not distinguishable from"
    return (
        f"On {majority_rows(test)}, the best model {how} always answering the majority class "
        f'"{test.majority}": {majority_counts(test)}.'
    )


def majority_rows(test: MajorityTest) -> str:
    """ "the 2,000 test rows"; the validation split says that it chose the model."""
    if test.split == "test":
        return f"the {test.n:,} test rows"
    return (
        f"the {test.n:,} validation rows (no test split; the validation split chose this model, "
        "which favours it)"
    )


def majority_counts(test: MajorityTest) -> str:
    """ "62 wrong (3.10%) against 67 (3.35%); exact McNemar test, p = 0.55"."""
    return (
        f"{test.wrong:,} wrong ({_share(test.error)}) against {test.majority_wrong:,} "
        f"({_share(test.majority_error)}); exact McNemar test, {p_text(test.p_value)}"
    )


def _share(error: float) -> str:
    """Two decimals below 10% (3.35%, not 3.4%: close errors are told apart)."""
    return f"{error * 100:.2f}%" if error < 0.1 else percent(error)


def ratio_text(balance: ClassBalance) -> str:
    """ "the largest class has 28.9× the validation examples of the smallest"."""
    split = {"val": "validation"}.get(balance.ratio_split, balance.ratio_split)
    if balance.ratio == float("inf"):
        return f"a class has no {split} example"
    return f"the largest class has {balance.ratio:.1f}× the {split} examples of the smallest"


def recall_text(balance: ClassBalance) -> str:
    """ "recall per class on the test split (95% interval): no 99.0% [98.4%, 99.3%] of 1,933,
    yes 37.3% [26.7%, 49.4%] of 67"."""
    split = {"val": "validation"}.get(balance.split, balance.split)
    cells = ", ".join(_recall_cell(r) for r in balance.recalls)
    return f"recall per class on the {split} split (95% interval): {cells}"


def _recall_cell(r: ClassRecall) -> str:
    if r.recall is None:
        return f"{r.label} no example"
    low, high = r.recall_ci or (r.recall, r.recall)
    return f"{r.label} {percent(r.recall)} [{percent(low)}, {percent(high)}] of {r.n:,}"


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
    no_better: bool = False,
) -> str:
    """`no_better`: the model is no better than the majority class, so a good fit by its
    errors is not called fitting well."""
    text = f"The best trial, {best_id}, reached {objective} {format_value(best_objective)}"
    if finite(test_error):
        text += f" (test error {percent(test_error)})"
    if fit is None:
        return text + "."
    gaps = fit.explanation  # in words ("below target"), with the ± of each part
    if fit.label == GOOD_FIT:
        if no_better:
            return text + f"; its errors look like a good fit ({gaps})."
        return text + f" and fits well ({gaps})."
    if fit.label == NOT_LEARNING:
        return text + f" but is not learning: {fit.reason}."
    if fit.label == UNCERTAIN:
        return text + f"; its diagnosis is uncertain ({gaps}): {fit.reason}."
    return text + f"; it has {fit.label} ({gaps})."


def _labels_sentence(labels: Sequence[str]) -> str:
    counts = pd.Series(list(labels)).value_counts()
    parts = [f"{n} {label}" for label, n in counts.items()]
    return f"Of the {len(labels)} completed trials: {', '.join(parts)}."


def _effect_sentences(effects: Sequence[HpEffect], objective: str) -> list[str]:
    """What the hyperparameters did, claimed only where a test found it larger than the noise:
    what mattered most for the objective, then what moved the train error and the gap."""
    tested = [e for e in effects if "objective" in e.tests]
    if not tested:
        return []
    mattered = [e for e in tested if e.significant]
    if mattered:
        sentences = [_mattered_sentence(mattered[0], objective)]
        rest = [e for e in mattered[1:] if e.hyperparameter not in mattered[0].aliases]
        if rest:
            others = ", ".join(f"{e.hyperparameter} ({p_text(e.p_value)})" for e in rest)
            sentences.append(f"Also larger than the noise: {others}.")
    else:
        sentences = [_no_effect_sentence(tested, objective)]
    moved = _moved_sentence(effects)
    return sentences + ([moved] if moved else [])


def _mattered_sentence(effect: HpEffect, objective: str) -> str:
    test = effect.tests["objective"]
    best = next(r for r in effect.rows if r.value == effect.best_value)
    worst = max(effect.rows, key=lambda r: abs(r.mean_objective - best.mean_objective))
    name = effect.hyperparameter
    if effect.aliases:  # the search changed them together: it cannot tell which one it was
        name += f" (or {' or '.join(effect.aliases)}, changed with it in every trial)"
    return (
        f"{name} mattered most: mean {objective} {best.mean_objective:.4g} "
        f"at {best.value} against {worst.mean_objective:.4g} at {worst.value} "
        f"({p_text(test.p_value)}, {test.correction})."
    )


def _no_effect_sentence(tested: Sequence[HpEffect], objective: str) -> str:
    """No significant effect: plainly so when some hyperparameter could be tested, else why none
    could."""
    tests = [e.tests["objective"] for e in tested]
    untested = [e.hyperparameter for e, t in zip(tested, tests, strict=True) if t.p_value is None]
    if len(untested) == len(tested):
        why = tests[0].test.removeprefix("none (").removesuffix(")")
        return (
            "Too few trials to tell whether any hyperparameter made a difference larger than "
            f"the noise ({why})."
        )
    trials = max(t.trials for t in tests)
    text = (
        f"No hyperparameter made a difference larger than the noise across these {trials} "
        f"trials ({objective}; {tests[0].correction})"
    )
    if untested:
        text += f"; {', '.join(untested)} could not be tested"
    return text + "."


def _moved_sentence(effects: Sequence[HpEffect]) -> str | None:
    """Which hyperparameters moved the train error (bias) and the gap (variance) beyond the
    noise, with the value where each was lowest."""
    parts = []
    for target, words, lowest in (
        ("train_error", "the train error (bias)", "lowest"),
        ("gap", "the train-to-validation gap (variance)", "smallest"),
    ):
        found = [e for e in effects if target in e.tests and e.tests[target].significant]
        found.sort(key=lambda e: -(e.tests[target].importance or 0))
        if found:
            names = ", ".join(
                f"{e.hyperparameter} ({_where_best(e.tests[target], lowest)}, "
                f"{p_text(e.tests[target].p_value)})"
                for e in found
            )
            parts.append(f"{words} moved with {names}")
    if not parts:
        return None
    return "Beyond the noise, " + "; ".join(parts) + "."


def _where_best(test: EffectTest, lowest: str) -> str:
    """ "lowest at 0.01"; where trials differing in this key alone disagree on its best value,
    "the best value depends on the other hyperparameters" (an average would mislead)."""
    if test.consistent is False:
        return "its best value depends on the other hyperparameters"
    return f"{lowest} at {test.best_value}"


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
