"""Advice that names the cause (docs/report.md, Per trial: recommendations): each rule on a
constructed trial whose right answer is known."""

from __future__ import annotations

import dataclasses

from tunenet.diagnosis.advice import (
    PeerTrial,
    RateSpace,
    Recommendation,
    RunFacts,
    TrialContext,
    TrialSize,
    recommend,
)
from tunenet.diagnosis.curves import Finding
from tunenet.diagnosis.effects import search_evidence
from tunenet.diagnosis.labels import HIGH_BIAS, NOT_LEARNING, Chance, fit_diagnosis

from .samples import ACCURACY, WORKED, trials_of

STILL = Finding("still_improving", 50, "still improving at the epoch limit")
CAPACITY = {"model.layers", "model.units"}
HIGH_BIAS_FIT = fit_diagnosis(0.26, 0.28, WORKED)
ONE_BY_128 = TrialSize(layers=1, units=128, label="1×128")


def keys(recs: list[Recommendation]) -> list[str]:
    return [r.key for r in recs]


def bigger_network(recs: list[Recommendation]) -> bool:
    return any(r.key in CAPACITY and r.action == "increase" for r in recs)


def regularize_less(recs: list[Recommendation]) -> bool:
    return any(r.key.startswith("regularization.") and r.action == "decrease" for r in recs)


def context(**values: object) -> dict[str, object]:
    base = {"model.layers": 1, "model.units": [128], "training.epochs": 50}
    base.update({k.replace("__", "."): v for k, v in values.items()})
    return base


# ---------------------------------------------------------------- (a) a significant effect


def iris_grid_evidence() -> dict:
    """A grid where trials at 1e-4 err on 60% and those at 1e-3 and 1e-2 on 3%: the learning
    rate's effect, marked significant as the report marks it (`_tested`)."""
    rates = [1e-4, 1e-4, 1e-3, 1e-3, 1e-2, 1e-2]
    errors = [0.60, 0.62, 0.03, 0.04, 0.03, 0.03]
    trials = trials_of({"optimizer.learning_rate": rates}, errors, errors)
    found = search_evidence(trials, ACCURACY)["optimizer.learning_rate"]
    return {"optimizer.learning_rate": dataclasses.replace(found, p_value=0.0001)}


def test_a_significant_effect_on_its_worse_side_comes_first_with_the_evidence() -> None:
    evidence = iris_grid_evidence()
    ctx = TrialContext(context(optimizer__learning_rate=1e-4, optimizer__name="adam"))
    recs = recommend(HIGH_BIAS_FIT, [], ctx, evidence)
    first = recs[0]
    assert (first.key, first.action) == ("optimizer.learning_rate", "increase")
    assert "p < 0.001" in first.text and "this trial's 0.0001 is on the worse side" in first.text
    assert "higher values did better" in first.text and first.agrees is True
    assert keys(recs).count("optimizer.learning_rate") == 1


def test_the_iris_grid_trial_at_1e_4_is_told_the_learning_rate_not_a_bigger_network() -> None:
    # the case: still improving at its last epoch, 1e-4 the smallest of the grid
    space = RateSpace(1e-4, 1e-2, values=(1e-4, 1e-3, 1e-2))
    ctx = TrialContext(
        context(optimizer__learning_rate=1e-4, optimizer__name="adam"), rate_space=space
    )
    recs = recommend(HIGH_BIAS_FIT, [STILL], ctx, iris_grid_evidence())
    assert recs[0].key == "optimizer.learning_rate" and "p < 0.001" in recs[0].text
    assert not bigger_network(recs) and not regularize_less(recs)
    assert "training.epochs" in keys(recs)


def test_an_effect_without_a_test_or_on_the_better_side_is_no_cause() -> None:
    evidence = iris_grid_evidence()
    untested = {k: dataclasses.replace(e, p_value=None) for k, e in evidence.items()}
    at_1e_4 = TrialContext(context(optimizer__learning_rate=1e-4, optimizer__name="adam"))
    assert keys(recommend(HIGH_BIAS_FIT, [], at_1e_4, untested))[:2] == [
        "model.layers",
        "model.units",
    ]
    at_1e_2 = TrialContext(context(optimizer__learning_rate=1e-2, optimizer__name="adam"))
    recs = recommend(HIGH_BIAS_FIT, [], at_1e_2, evidence)
    assert keys(recs)[:2] == ["model.layers", "model.units"]
    assert "optimizer.learning_rate" not in keys(recs)


def test_a_categorical_effect_names_the_better_value() -> None:
    trials = trials_of({"optimizer.name": ["sgd", "sgd", "adam", "adam"]}, [0.4] * 2 + [0.05] * 2,
                       [0.4] * 2 + [0.05] * 2)  # fmt: skip
    found = search_evidence(trials, ACCURACY)["optimizer.name"]
    evidence = {"optimizer.name": dataclasses.replace(found, p_value=0.003)}
    recs = recommend(HIGH_BIAS_FIT, [], TrialContext(context(optimizer__name="sgd")), evidence)
    assert (recs[0].key, recs[0].action, recs[0].value) == ("optimizer.name", "set", "adam")
    assert "p = 0.003" in recs[0].text


def test_an_effect_the_trial_differing_only_in_that_key_contradicts_is_no_cause() -> None:
    # penguins: one optimizer beat the other across the search (at a high rate), but at this
    # trial's 1e-4 the trial differing only in optimizer.name did worse: not this trial's cause
    trials = trials_of({"optimizer.name": ["sgd", "sgd", "adam", "adam"]}, [0.4] * 2 + [0.05] * 2,
                       [0.4] * 2 + [0.05] * 2)  # fmt: skip
    found = search_evidence(trials, ACCURACY)["optimizer.name"]
    evidence = {"optimizer.name": dataclasses.replace(found, p_value=0.003)}
    # here adam is the better value: this trial is the sgd one, its twin the adam one
    adam = context(optimizer__name="adam", optimizer__learning_rate=1e-4)
    twin = PeerTrial("04", "not learning", ONE_BY_128, adam, 0.66)  # adam, and worse
    mine = {**adam, "optimizer.name": "sgd"}
    ctx = TrialContext(mine, trial_id="06", val_error=0.63, run=RunFacts(completed=(twin,)))
    assert "optimizer.name" not in keys(recommend(HIGH_BIAS_FIT, [], ctx, evidence))
    better_twin = dataclasses.replace(twin, val_error=0.05)
    ctx = dataclasses.replace(ctx, run=RunFacts(completed=(better_twin,)))
    assert keys(recommend(HIGH_BIAS_FIT, [], ctx, evidence))[0] == "optimizer.name"
    other = PeerTrial("05", "good fit", ONE_BY_128, {**adam, "model.units": [32]}, 0.9)
    ctx = dataclasses.replace(ctx, run=RunFacts(completed=(other,)))  # no twin: evidence stands
    assert keys(recommend(HIGH_BIAS_FIT, [], ctx, evidence))[0] == "optimizer.name"


# ---------------------------------------------------------------- (b) a slow optimizer


def test_plain_sgd_still_improving_is_told_the_optimizer_never_a_bigger_network() -> None:
    ctx = TrialContext(context(optimizer__name="sgd", optimizer__learning_rate=0.01))
    recs = recommend(HIGH_BIAS_FIT, [STILL], ctx, {})
    assert (recs[0].key, recs[0].value) == ("optimizer.name", "adam")
    assert set(keys(recs)[:3]) == {"optimizer.name", "optimizer.learning_rate", "training.epochs"}
    assert not bigger_network(recs) and not regularize_less(recs)


def test_a_rate_in_the_lowest_quarter_of_a_log_range_is_the_cause() -> None:
    space = RateSpace(1e-4, 1e-1, log=True)  # the lowest quarter: up to 1e-4 * 1000**0.25
    assert space.at_low_end(1.5e-4) and space.at_low_end(5.6e-4)
    assert not space.at_low_end(5.7e-4) and not space.at_low_end(1e-3)
    housing = TrialContext(
        context(optimizer__name="adam", optimizer__learning_rate=1.5e-4), rate_space=space
    )
    recs = recommend(HIGH_BIAS_FIT, [STILL], housing, {})
    assert (recs[0].key, recs[0].action) == ("optimizer.learning_rate", "increase")
    assert "low end of the searched 0.0001 to 0.1 (log)" in recs[0].text
    assert not bigger_network(recs) and not regularize_less(recs)


def test_the_smallest_choice_is_the_low_end_and_a_linear_range_its_lowest_quarter() -> None:
    choices = RateSpace(1e-4, 1e-2, values=(1e-2, 1e-4, 1e-3))
    assert choices.at_low_end(1e-4) and not choices.at_low_end(1e-3)
    linear = RateSpace(0.0, 0.4)
    assert linear.at_low_end(0.1) and not linear.at_low_end(0.11)


def test_a_sensible_rate_with_adam_still_gets_the_rules_of_thumb() -> None:
    space = RateSpace(1e-4, 1e-1, log=True)
    ctx = TrialContext(
        context(optimizer__name="adam", optimizer__learning_rate=1e-3), rate_space=space
    )
    recs = recommend(HIGH_BIAS_FIT, [STILL], ctx, {})
    assert keys(recs)[:3] == ["training.epochs", "model.layers", "model.units"]
    assert regularize_less(recs)


def test_sgd_whose_curve_stopped_improving_is_no_slow_optimizer() -> None:
    stopped = Finding("stopped_early", 12, "stopped early at epoch 12 (best epoch 7)")
    ctx = TrialContext(context(optimizer__name="sgd"), best_epoch=7, epochs_trained=12)
    recs = recommend(HIGH_BIAS_FIT, [stopped], ctx, {})
    assert bigger_network(recs)
    # best epoch = last epoch counts as still improving even without the finding
    last = dataclasses.replace(ctx, best_epoch=12)
    assert not bigger_network(recommend(HIGH_BIAS_FIT, [], last, {}))


def test_not_learning_with_a_slow_optimizer_gets_no_epochs_and_no_capacity() -> None:
    fit = fit_diagnosis(0.5, 0.52, WORKED, chance=Chance(0.5, "the majority class"))
    assert fit is not None and fit.label == NOT_LEARNING
    ctx = TrialContext(context(optimizer__name="sgd", optimizer__learning_rate=0.01))
    recs = recommend(fit, [STILL], ctx, {})
    assert keys(recs)[0] == "optimizer.name"
    assert "training.epochs" not in keys(recs) and not bigger_network(recs)


# ---------------------------------------------------------------- (c) a peer that fits


def adam_peer(size: TrialSize = ONE_BY_128, **values: object) -> PeerTrial:
    mine = context(optimizer__name="adam", optimizer__learning_rate=0.001)
    mine.update({k.replace("__", "."): v for k, v in values.items()})
    return PeerTrial("07", "good fit", size, mine, 0.006)


def test_a_same_size_trial_that_fits_rules_out_a_bigger_network_and_names_the_difference() -> None:
    ctx = TrialContext(
        context(optimizer__name="momentum", optimizer__learning_rate=0.001),
        trial_id="03",
        size=ONE_BY_128,
        run=RunFacts(fitting=(adam_peer(),)),
    )
    recs = recommend(HIGH_BIAS_FIT, [], ctx, {})
    assert not bigger_network(recs)
    first = recs[0]
    assert (first.key, first.action, first.value) == ("optimizer.name", "set", "adam")
    assert (
        "Trial 07, of the same size (1×128), fits (good fit, validation error 0.6%)" in first.text
    )
    assert "optimizer.name adam (here momentum)" in first.text
    assert regularize_less(recs)  # (c) rules out the bigger network and the architecture only
    assert "model.activation" not in keys(recs)  # the same architecture fits


def test_the_penguins_case_sgd_at_128_units_beside_an_adam_trial_that_fits() -> None:
    ctx = TrialContext(
        context(optimizer__name="sgd", optimizer__learning_rate=0.01),
        trial_id="03",
        size=ONE_BY_128,
        run=RunFacts(fitting=(adam_peer(),)),
    )
    recs = recommend(HIGH_BIAS_FIT, [STILL], ctx, {})
    assert keys(recs)[0] in ("optimizer.name", "optimizer.learning_rate")
    assert not bigger_network(recs) and not regularize_less(recs)
    assert any("Trial 07" in r.text for r in recs)


def test_only_a_bigger_fitting_trial_or_an_unknown_size_leaves_the_bigger_network() -> None:
    bigger = adam_peer(TrialSize(layers=2, units=256, label="2×128"))
    for size, peer in ((ONE_BY_128, bigger), (None, adam_peer())):
        ctx = TrialContext(context(optimizer__name="momentum"), trial_id="03", size=size,
                           run=RunFacts(fitting=(peer,)))  # fmt: skip
        assert keys(recommend(HIGH_BIAS_FIT, [], ctx, {}))[:2] == ["model.layers", "model.units"]


def test_params_decide_the_size_when_both_trials_have_them() -> None:
    assert TrialSize(params=900, layers=2, units=64).at_most(TrialSize(1000, 1, 32)) is True
    assert TrialSize(layers=2, units=64).at_most(TrialSize(layers=1, units=128)) is False
    assert TrialSize(layers=1, units=64).at_most(TrialSize(layers=1, units=128)) is True
    assert TrialSize(layers=1).at_most(TrialSize(layers=1, units=128)) is None


def test_a_peer_equal_in_every_key_points_at_the_seed() -> None:
    same = adam_peer(optimizer__name="momentum", optimizer__learning_rate=0.001)
    ctx = TrialContext(same.values, trial_id="03", size=ONE_BY_128, run=RunFacts(fitting=(same,)))
    recs = recommend(HIGH_BIAS_FIT, [], ctx, {})
    assert recs[0].key == "search.executions_per_trial" and "only in its seed" in recs[0].text
    assert not bigger_network(recs)


# ---------------------------------------------------------------- (d) unscaled inputs


def unscaled(ratio: float) -> TrialContext:
    values = context(optimizer__name="adam", data__normalize="none")
    return TrialContext(values, scale_ratio=ratio, scale_features=("income", "age"))


def test_unscaled_inputs_put_normalization_first_for_high_bias_and_not_learning() -> None:
    not_learning = fit_diagnosis(0.5, 0.52, WORKED, chance=Chance(0.5, "the majority class"))
    for fit in (HIGH_BIAS_FIT, not_learning):
        recs = recommend(fit, [], unscaled(4000), {})
        assert (recs[0].key, recs[0].value) == ("data.normalize", "standard")
        assert "4000-fold (income against age)" in recs[0].text
        assert keys(recs).count("data.normalize") == 1


def test_unscaled_inputs_come_first_among_the_advice_for_diverged_with_their_scales() -> None:
    # features thousands of times apart blow up the first steps (the housing table unscaled)
    diverged = Finding("diverged", 1, "diverged: loss became NaN at epoch 1")
    recs = recommend(None, [diverged], unscaled(4000), {})
    assert keys(recs)[0] == "data.normalize" and "4000-fold" in recs[0].text
    assert "optimizer.learning_rate" in keys(recs) and "optimizer.clipnorm" in keys(recs)
    scaled = TrialContext(context(optimizer__name="adam", data__normalize="standard"))
    assert keys(recommend(None, [diverged], scaled, {}))[0] == "optimizer.learning_rate"


def test_scales_within_100x_are_no_cause() -> None:
    fit = fit_diagnosis(0.26, 0.28, WORKED)
    assert fit is not None and fit.label == HIGH_BIAS
    assert "data.normalize" not in keys(recommend(fit, [], unscaled(100), {}))


# ---------------------------------------------------------------- (e) nothing to gain


def test_no_validation_error_with_four_tied_is_not_told_to_train_longer() -> None:
    good = fit_diagnosis(0.0, 0.0, WORKED)
    tied = TrialContext(
        {"training.epochs": 50, "data.split.test": 0.2},
        target_error=0.0,
        val_error=0.0,
        run=RunFacts(tied_at_top=4),
    )
    recs = recommend(good, [STILL], tied, {})
    assert "training.epochs" not in keys(recs)
    assert recs[0].key == "data.split.test" and recs[0].action == "increase"
    assert "Nothing to gain on this split" in recs[0].text and "4 trials" in recs[0].text
    alone = dataclasses.replace(tied, run=RunFacts(tied_at_top=1))
    assert keys(recommend(good, [STILL], alone, {})) == ["training.epochs"]
    above = dataclasses.replace(tied, val_error=0.02)
    assert keys(recommend(good, [STILL], above, {})) == ["training.epochs"]


def test_a_significant_width_effect_survives_a_slow_optimizer() -> None:
    """The docs' cancer grid: 4 units against 64 mattered (p < 0.001) as did the rate; a trial at
    4 units and 1e-4 with plain SGD still gets "more units" from the search's own evidence."""
    trials = trials_of(
        {"model.units.0": [4, 64, 4, 64], "optimizer.learning_rate": [1e-4, 1e-4, 0.1, 0.1]},
        [0.60, 0.25, 0.03, 0.05],
        [0.62, 0.19, 0.03, 0.05],
    )
    found = search_evidence(trials, ACCURACY)
    p_values = {"optimizer.learning_rate": 0.0001, "model.units": 0.0005}
    evidence = {k: dataclasses.replace(found[k], p_value=p) for k, p in p_values.items()}
    ctx = TrialContext(
        {"model.layers": 1, "model.units": [4], "optimizer.name": "sgd",
         "optimizer.learning_rate": 1e-4, "training.epochs": 30},
        rate_space=RateSpace(1e-4, 0.1, values=(1e-4, 0.1)),
    )  # fmt: skip
    recs = recommend(HIGH_BIAS_FIT, [STILL], ctx, evidence)
    assert keys(recs)[:2] == ["optimizer.learning_rate", "model.units"]
    assert all(r.agrees for r in recs[:2])
    assert "model.layers" not in keys(recs) and not regularize_less(recs)  # no rule of thumb


def test_a_trial_not_learning_hears_of_a_peer_only_for_how_it_learns() -> None:
    not_learning = fit_diagnosis(0.5, 0.52, WORKED, chance=Chance(0.5, "the majority class"))
    mine = context(
        optimizer__name="adam", optimizer__learning_rate=0.001, regularization__dropout=0.5
    )
    dropout_only = adam_peer(regularization__dropout=0.0)
    ctx = TrialContext(mine, trial_id="03", size=ONE_BY_128, run=RunFacts(fitting=(dropout_only,)))
    recs = recommend(not_learning, [], ctx, {})
    assert not any(r.key.startswith("regularization.") for r in recs)  # never for not learning
    assert bigger_network(recs)  # no peer that learns differently: the usual list
    both = adam_peer(regularization__dropout=0.0, optimizer__learning_rate=0.01)
    ctx = dataclasses.replace(ctx, run=RunFacts(fitting=(both,)))
    recs = recommend(not_learning, [], ctx, {})
    assert (recs[0].key, recs[0].value) == ("optimizer.learning_rate", 0.01)
    assert "regularization.dropout 0 (here 0.5)" in recs[0].text and not bigger_network(recs)
    # high bias: any difference counts, how it learns first
    recs = recommend(HIGH_BIAS_FIT, [], dataclasses.replace(ctx, run=RunFacts((dropout_only,))), {})
    assert (recs[0].key, recs[0].value) == ("regularization.dropout", 0.0)


def test_a_trial_not_learning_gets_no_regularization_from_an_effect() -> None:
    trials = trials_of({"regularization.dropout": [0.0, 0.0, 0.5, 0.5]}, [0.1, 0.1, 0.5, 0.5],
                       [0.1, 0.1, 0.5, 0.5])  # fmt: skip
    found = search_evidence(trials, ACCURACY)["regularization.dropout"]
    evidence = {"regularization.dropout": dataclasses.replace(found, p_value=0.001)}
    ctx = TrialContext(context(optimizer__name="adam", regularization__dropout=0.5))
    not_learning = fit_diagnosis(0.5, 0.52, WORKED, chance=Chance(0.5, "the majority class"))
    assert not any(
        r.key.startswith("regularization.") for r in recommend(not_learning, [], ctx, evidence)
    )
    high_bias = recommend(HIGH_BIAS_FIT, [], ctx, evidence)
    assert (high_bias[0].key, high_bias[0].action) == ("regularization.dropout", "decrease")
