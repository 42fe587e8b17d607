"""Advice for a model the user builds (`model.kind: custom`): its builder and its own
`model.params.*` knobs, never the dense or CNN families' keys; `regularization.*` keys only where
the builder reads them."""

from __future__ import annotations

import dataclasses
import re

import pandas as pd

from tunenet.diagnosis.advice import (
    PeerTrial,
    Recommendation,
    RunFacts,
    TrialContext,
    TrialSize,
    image_source,
    recommend,
)
from tunenet.diagnosis.builder import ModelBuilder
from tunenet.diagnosis.curves import Finding
from tunenet.diagnosis.dynamics import dynamics_findings
from tunenet.diagnosis.effects import Evidence, hp_effects, search_evidence
from tunenet.diagnosis.labels import NOT_LEARNING, fit_diagnosis

from .samples import ACCURACY, WORKED, trials_of

LSTM = ModelBuilder("/home/user/project/models/lstm.py:build", ("regularization.dropout",))
# The dense and CNN families' keys: never named for a custom model, as a key or in a text.
FAMILY_KEYS = re.compile(
    r"model\.(layers|units|activation|initializer|batch_norm|kind|filters|kernel_size|strides"
    r"|padding|pooling|dense_units|filters_growth)\b"
)


def custom(values: dict | None = None, builder: ModelBuilder = LSTM, **fields) -> TrialContext:
    return TrialContext({"model.kind": "custom", **(values or {})}, builder=builder, **fields)


def keys(recs: list[Recommendation]) -> list[str]:
    return [r.key for r in recs]


def family_keys(recs: list[Recommendation] | tuple[Recommendation, ...]) -> list[str]:
    """Every dense/CNN key a recommendation names, as its key or in its text."""
    return [m.group(0) for r in recs for m in FAMILY_KEYS.finditer(f"{r.key} {r.text}")]


def units_evidence(p_value: float | None = 0.002) -> Evidence:
    """model.params.units: 128 did better than 16-64 (the search's median split)."""
    trials = trials_of(
        {"model.params.units": [16, 16, 64, 128, 128, 128]},
        [0.30, 0.29, 0.12, 0.06, 0.05, 0.05],
        [0.32, 0.31, 0.14, 0.08, 0.07, 0.07],
    )
    found = search_evidence(trials, ACCURACY)["model.params.units"]
    return dataclasses.replace(found, p_value=p_value)


def test_a_high_bias_custom_trial_is_told_to_grow_its_builder_never_the_dense_keys() -> None:
    fit = fit_diagnosis(0.26, 0.28, WORKED)
    for image in (None, True, False):  # a CNN is never proposed either
        recs = recommend(fit, [], custom(image_data=image, source="python"), {})
        assert family_keys(recs) == []
        assert recs[0].key == "model.params" and recs[0].action == "increase"
        assert "make the model bigger in your builder (lstm.py:build)" in recs[0].text
        assert ("model.params", "change") in {(r.key, r.action) for r in recs}  # architecture


def test_the_generic_size_advice_names_the_numeric_knobs_as_candidates() -> None:
    fit = fit_diagnosis(0.26, 0.28, WORKED)
    context = custom({"model.params.units": 32, "model.params.cell": "lstm"})
    text = recommend(fit, [], context, {})[0].text
    assert "if model.params.units set its size, search higher values" in text
    assert "model.params.cell" not in text


def test_a_significant_units_effect_is_named_with_its_evidence_and_direction() -> None:
    fit = fit_diagnosis(0.26, 0.28, WORKED)
    evidence = {"model.params.units": units_evidence()}
    # on the worse side (16): cause (a) first, with the test
    recs = recommend(fit, [], custom({"model.params.units": 16}), evidence)
    first = recs[0]
    assert (first.key, first.action, first.agrees) == ("model.params.units", "increase", True)
    assert "made a difference beyond the noise in this search (p = 0.002)" in first.text
    assert "higher values did better" in first.evidence
    assert ("model.params", "increase") not in {(r.key, r.action) for r in recs}
    # on the better side already (128): the size advice still names the knob and its direction
    recs = recommend(fit, [], custom({"model.params.units": 128}), evidence)
    size = next(r for r in recs if r.key == "model.params.units")
    assert size.action == "increase" and "raise model.params.units (now 128)" in size.text
    assert "p = 0.002" in size.text and size.agrees is True
    assert family_keys(recs) == []


def test_an_effect_inside_the_noise_is_not_named_as_a_knob() -> None:
    fit = fit_diagnosis(0.26, 0.28, WORKED)
    evidence = {"model.params.units": units_evidence(p_value=None)}
    recs = recommend(fit, [], custom({"model.params.units": 128}), evidence)
    assert "model.params.units" not in keys(recs)
    assert ("model.params", "increase") in {(r.key, r.action) for r in recs}


def test_a_significant_choice_of_the_builder_is_its_architecture_advice() -> None:
    cell = Evidence("model.params.cell", "gru", "in this search gru did best", p_value=0.01)
    fit = fit_diagnosis(0.26, 0.28, WORKED)
    recs = recommend(fit, [], custom({"model.params.cell": "gru"}), {"model.params.cell": cell})
    assert "model.params.cell" not in keys(recs)  # already the better choice
    # high variance: not a cause (a) rule for the better side, so the architecture rule names it
    fit = fit_diagnosis(0.12, 0.25, WORKED)
    recs = recommend(fit, [], custom({"model.params.cell": "lstm"}), {"model.params.cell": cell})
    chosen = next(r for r in recs if r.key == "model.params.cell")
    assert chosen.action == "set" and chosen.value == "gru" and chosen.agrees is True


def test_regularization_is_named_only_where_the_builder_reads_it() -> None:
    values = {"regularization.dropout": 0.3, "regularization.l2": 0.01, "regularization.l1": 0.01}
    bias = fit_diagnosis(0.26, 0.28, WORKED)
    variance = fit_diagnosis(0.12, 0.25, WORKED)
    recs = recommend(bias, [], custom(values), {})
    assert [k for k in keys(recs) if k.startswith("regularization.")] == ["regularization.dropout"]
    recs = recommend(variance, [], custom(values), {})
    assert [k for k in keys(recs) if k.startswith("regularization.")] == ["regularization.dropout"]
    # a builder reading none: no regularization key at all, and the builder itself instead
    silent = ModelBuilder(LSTM.spec, ())
    for fit in (bias, variance):
        recs = recommend(fit, [], custom(values, silent), {})
        assert not any("regularization." in f"{r.key} {r.text}" for r in recs)
    assert "Regularize more in your builder (lstm.py:build)" in " ".join(
        r.text for r in recommend(variance, [], custom(values, silent), {})
    )
    # unknown: named, with the doubt said
    unknown = ModelBuilder(LSTM.spec, None)
    recs = recommend(variance, [], custom(values, unknown), {})
    named = [r for r in recs if r.key.startswith("regularization.")]
    assert keys(named) == ["regularization.dropout", "regularization.l2"]
    assert all("(if your builder reads it)" in r.text for r in named)


def test_a_diverged_custom_trial_gets_rate_clipping_and_scaling_but_no_batch_norm() -> None:
    diverged = [Finding("diverged", 3, "diverged at epoch 3")]
    context = custom({"optimizer.learning_rate": 0.1, "data.normalize": "none"})
    recs = recommend(fit_diagnosis(0.9, 0.9, WORKED), diverged, context, {})
    assert keys(recs) == ["optimizer.learning_rate", "optimizer.clipnorm", "data.normalize"]
    # the same trial of the dense family still gets batch norm: the rule is unchanged there
    dense = recommend(fit_diagnosis(0.9, 0.9, WORKED), diverged, TrialContext(context.values), {})
    assert "model.batch_norm" in keys(dense)


def test_a_custom_trial_not_learning_hears_of_its_rate_optimizer_and_builder() -> None:
    fit = dataclasses.replace(fit_diagnosis(0.9, 0.9, WORKED), label=NOT_LEARNING)
    recs = recommend(fit, [], custom({"optimizer.name": "sgd"}), {})
    assert keys(recs)[:2] == ["optimizer.learning_rate", "optimizer.name"]
    assert ("model.params", "increase") in {(r.key, r.action) for r in recs}
    assert family_keys(recs) == [] and not any(k.startswith("regularization.") for k in keys(recs))
    # a builder knob whose effect cleared the noise counts among how it learns and its size
    evidence = {"model.params.units": units_evidence()}
    recs = recommend(fit, [], custom({"model.params.units": 16}), evidence)
    assert recs[0].key == "model.params.units"


def test_a_slow_optimizer_rules_out_growing_the_builder() -> None:
    fit = fit_diagnosis(0.26, 0.28, WORKED)
    context = custom({"optimizer.name": "sgd"}, best_epoch=20, epochs_trained=20)
    recs = recommend(fit, [], context, {})
    assert keys(recs)[0] == "optimizer.name"
    assert ("model.params", "increase") not in {(r.key, r.action) for r in recs}


def test_a_fitting_custom_trial_with_fewer_parameters_rules_out_growing_the_builder() -> None:
    values = {"optimizer.learning_rate": 0.01, "model.params.cell": "lstm"}
    peer = PeerTrial(
        "03", "good fit", TrialSize(20_000, label="20,000 parameters"),
        {**values, "optimizer.learning_rate": 0.001}, 0.08,
    )  # fmt: skip
    size = TrialSize(54_026, label="54,026 parameters")
    context = custom(values, trial_id="00", size=size, run=RunFacts((peer,)))
    recs = recommend(fit_diagnosis(0.26, 0.28, WORKED), [], context, {})
    assert recs[0].key == "optimizer.learning_rate" and recs[0].value == 0.001
    assert "Trial 03, no bigger (20,000 parameters), fits" in recs[0].text
    assert ("model.params", "increase") not in {(r.key, r.action) for r in recs}
    assert family_keys(recs) == []


def test_layer_dynamics_advice_of_a_custom_model_speaks_of_its_builder() -> None:
    rows = pd.DataFrame(
        {
            "trial_id": "00",
            "execution": 0,
            "epoch": [1, 1],
            "layer": ["lstm", "dense"],
            "kind": ["LSTM", "Dense"],
            "units": [64, 10],
            "grad_norm": [1e-5, 0.5],
            "weight_norm": 1.0,
            "update_ratio": 0.01,
            "dead_fraction": [0.8, 0.0],
            "saturated_fraction": [0.9, 0.0],
        }
    )
    found = dynamics_findings(rows, 1, custom())
    assert {f.kind for f in found} == {"vanishing_gradients", "dead_units", "saturated_units"}
    advice = [a for f in found for a in f.advice]
    assert family_keys(advice) == []
    builder_advice = [a for a in advice if a.key == "model.params"]
    assert builder_advice and all("your builder (lstm.py:build)" in a.text for a in builder_advice)
    dense = [a for f in dynamics_findings(rows, 1, TrialContext()) for a in f.advice]
    assert {"model.activation", "model.batch_norm"} <= set(keys(dense))  # unchanged


def test_model_params_columns_get_effects_with_plain_names_by_their_kind() -> None:
    trials = trials_of(
        {
            "model.params.units": [16, 16, 64, 64, 128, 128],
            "model.params.cell": ["lstm", "gru"] * 3,
            "model.params.bidirectional": [True, False] * 3,
        },
        [0.30, 0.29, 0.12, 0.12, 0.05, 0.05],
        [0.32, 0.31, 0.14, 0.14, 0.07, 0.07],
        val_n=2000,
        train_n=4000,
    )
    effects = {e.hyperparameter: e for e in hp_effects(trials, ACCURACY)}
    assert effects["model.params.units"].kind == "numeric"
    assert effects["model.params.cell"].kind == "categorical"
    assert effects["model.params.bidirectional"].kind == "categorical"
    assert effects["model.params.units"].best_value == "128"
    evidence = search_evidence(trials, ACCURACY)
    assert evidence["model.params.units"].better == "higher"
    assert evidence["model.params.units"].low == (16.0, 64.0)
    assert evidence["model.params.cell"].low is None  # a category: its best value, no spans


def test_a_custom_model_on_images_is_not_told_data_augmentation() -> None:
    # tunenet gives a custom model the images as they are: its augmentation does not reach it
    fit = fit_diagnosis(0.12, 0.25, WORKED)
    images = {"image_data": True, "source": "images"}
    assert "data.augmentation" in keys(recommend(fit, [], TrialContext(**images), {}))
    assert "data.augmentation" not in keys(recommend(fit, [], custom(**images), {}))


def test_python_data_is_images_only_with_three_axes() -> None:
    assert image_source("python", (8, 8, 1)) is True
    assert image_source("python", (8, 8)) is False  # a sequence of 8 steps
    assert image_source("python", (20,)) is False
    assert image_source("python", None) is None
