"""The training-dynamics findings on hand-written layers.csv tables, and in the report."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from reporting.helpers import copy_run, run_report
from tunenet import diagnosis as dx
from tunenet.diagnosis.advice import TrialContext
from tunenet.runs.insight import LAYER_COLUMNS

RELU = {"dead_fraction": 0.0, "saturated_fraction": None}
TANH = {"dead_fraction": None, "saturated_fraction": 0.0}


def layers_table(epochs: list[list[dict]], trial_id: str = "01") -> pd.DataFrame:
    """Rows of layers.csv: epochs[e] lists the layers of epoch e + 1, each a dict of values
    over a healthy ReLU default (the last is the output layer)."""
    rows = []
    for index, layers in enumerate(epochs):
        for number, values in enumerate(layers):
            last = number == len(layers) - 1
            row = {
                "trial_id": trial_id, "execution": 0, "epoch": index + 1,
                "layer": "output" if last else f"dense_{number}", "kind": "dense",
                "units": 10 if last else 64, "grad_norm": 0.5, "weight_norm": 10.0,
                "update_ratio": 0.03, **({} if last else RELU),
            }  # fmt: skip
            if last:
                row.update(dead_fraction=None, saturated_fraction=None)
            row.update(values)
            rows.append(row)
    return pd.DataFrame(rows, columns=list(LAYER_COLUMNS))


def kinds(findings: list) -> list[str]:
    return [finding.kind for finding in findings]


def test_healthy_layers_give_no_finding_and_a_summary():
    table = layers_table([[{}, {}, {}]] * 3)
    assert dx.dynamics_findings(table, best_epoch=2) == []
    measured = dx.dynamics_summary(table, best_epoch=2)
    assert (measured.epoch, measured.layers, measured.gradient_ratio) == (2, 3, 1.0)
    assert (measured.dead, measured.saturated) == (0.0, None)


@pytest.mark.parametrize(("first", "found"), [(0.004, True), (0.0099, True), (0.01, False)])
def test_vanishing_gradients_below_the_ratio_threshold(first, found):
    table = layers_table([[{"grad_norm": first}, {"grad_norm": 0.05}, {"grad_norm": 1.0}]])
    findings = dx.dynamics_findings(table)
    assert kinds(findings) == (["vanishing_gradients"] if found else [])
    if found:
        finding = findings[0]
        assert (finding.layer, finding.epoch, finding.threshold) == ("dense_0", 1, 0.01)
        assert finding.value == pytest.approx(first)
        assert f"{first:.2g} times the output layer output's (threshold 0.01)" in finding.text


def test_vanishing_is_read_at_the_best_epoch():
    table = layers_table([[{"grad_norm": 1e-5}, {}, {}], [{}, {}, {}]])
    assert kinds(dx.dynamics_findings(table, best_epoch=1)) == ["vanishing_gradients"]
    assert dx.dynamics_findings(table, best_epoch=2) == []


def test_no_vanishing_finding_without_a_hidden_layer_or_an_output_gradient():
    assert dx.dynamics_findings(layers_table([[{"grad_norm": 1e-9}]])) == []  # logistic
    table = layers_table([[{"grad_norm": 0.0}, {"grad_norm": 0.0}]])
    assert dx.dynamics_findings(table) == []  # 0 / 0 says nothing


def test_exploding_gradients_two_orders_of_magnitude_over_the_first_epoch():
    # the network's largest gradient norm: 0.5 (output) at epoch 1, 75 (dense_0) at epoch 2
    grown = layers_table([[{"grad_norm": 0.2}, {}], [{"grad_norm": 75.0}, {}]])
    finding = dx.dynamics_findings(grown, best_epoch=1)[0]
    assert (finding.kind, finding.layer, finding.epoch) == ("exploding_gradients", "dense_0", 2)
    assert finding.value == pytest.approx(150.0)
    assert "grew 150-fold, from 0.5 at the first epoch to 75 (layer dense_0)" in finding.text
    assert "threshold 100-fold" in finding.text
    calm = layers_table([[{"grad_norm": 0.2}, {}], [{"grad_norm": 49.0}, {}]])
    assert dx.dynamics_findings(calm, best_epoch=1) == []


def test_a_layer_recovering_from_a_vanishing_gradient_is_not_exploding():
    table = layers_table([[{"grad_norm": 1e-5}, {}, {}], [{"grad_norm": 0.3}, {}, {}]])
    assert "exploding_gradients" not in kinds(dx.dynamics_findings(table))


def test_a_gradient_norm_that_becomes_nan_is_a_blow_up():
    table = layers_table([[{"grad_norm": 2.0}, {}], [{"grad_norm": math.nan}, {}]])
    finding = dx.dynamics_findings(table, best_epoch=1)[0]
    assert finding.kind == "exploding_gradients" and finding.epoch == 2
    assert "became NaN at epoch 2 (it was 2 at epoch 1)" in finding.text
    keys = [advice.key for advice in finding.advice]
    assert keys[:2] == ["optimizer.learning_rate", "optimizer.clipnorm"]


@pytest.mark.parametrize(("fraction", "found"), [(0.5, True), (0.9, True), (0.49, False)])
def test_dead_units_at_half_of_a_layer(fraction, found):
    table = layers_table([[{}, {"dead_fraction": fraction}, {}]])
    findings = dx.dynamics_findings(table)
    assert kinds(findings) == (["dead_units"] if found else [])
    if found:
        assert findings[0].layer == "dense_1" and findings[0].value == fraction
        assert f"{fraction:.0%} of layer dense_1's 64 units are dead" in findings[0].text
        assert ("uncertain" in findings[0].text) == (fraction < 0.6)


def test_dead_units_name_every_layer_over_the_threshold_once():
    table = layers_table([[{"dead_fraction": 0.7}, {"dead_fraction": 0.95}, {}]])
    (finding,) = dx.dynamics_findings(table)
    assert finding.layer == "dense_1" and "also dense_0" in finding.text


def test_saturated_units():
    table = layers_table([[{**TANH, "saturated_fraction": 0.88}, TANH, {}]])
    (finding,) = dx.dynamics_findings(table)
    assert (finding.kind, finding.layer, finding.threshold) == ("saturated_units", "dense_0", 0.5)
    assert "88% of layer dense_0's 64 units are saturated" in finding.text


def test_advice_names_only_keys_that_would_change():
    table = layers_table([[{"dead_fraction": 0.8}, {}]])
    plain = [a.key for a in dx.dynamics_findings(table)[0].advice]
    assert plain == [
        "model.activation", "optimizer.learning_rate", "model.initializer", "model.batch_norm",
    ]  # fmt: skip
    context = TrialContext(
        {
            "model.activation": "leaky_relu",
            "model.initializer": "he_normal",
            "model.batch_norm": True,
        }
    )
    tuned = [a.key for a in dx.dynamics_findings(table, context=context)[0].advice]
    assert tuned == ["optimizer.learning_rate"]


def test_saturation_advises_normalizing_only_unnormalized_inputs():
    table = layers_table([[{**TANH, "saturated_fraction": 0.9}, {}]])
    raw = TrialContext({"data.normalize": "none", "model.activation": "tanh"})
    advice = dx.dynamics_findings(table, context=raw)[0].advice
    assert [(a.key, a.value) for a in advice][:2] == [
        ("data.normalize", "standard"),
        ("model.activation", "relu"),
    ]
    normalized = TrialContext({"data.normalize": "standard", "model.activation": "tanh"})
    keys = [a.key for a in dx.dynamics_findings(table, context=normalized)[0].advice]
    assert "data.normalize" not in keys


# ---------------------------------------------------------------- in the report


@pytest.fixture
def curves_with_layers(tmp_path):
    """The `curves` fixture run (best trial 01, best epoch 10) with a layers.csv: trial 01
    healthy, trial 02 with a dead layer at its best epoch (5)."""
    run = copy_run("curves", tmp_path)
    healthy = layers_table([[{}, {"dead_fraction": 0.03}, {}]] * 10, "01")
    dead = layers_table([[{}, {"dead_fraction": 0.75}, {}]] * 5, "02")
    pd.concat([healthy, dead]).to_csv(run / "layers.csv", index=False)
    return run


def test_report_json_carries_the_evidence_and_advice(curves_with_layers):
    out, _ = run_report(curves_with_layers, "json")
    trials = {t["trial_id"]: t for t in json.loads(out)["trials"]}
    (finding,) = [f for f in trials["02"]["findings"] if f["kind"] == "dead_units"]
    assert finding["layer"] == "dense_1" and finding["epoch"] == 5
    assert finding["value"] == 0.75 and finding["threshold"] == 0.5
    assert finding["measure"] == "fraction"
    assert finding["advice"][0]["key"] == "model.activation"
    assert not [f for f in trials["01"]["findings"] if f["kind"] in dx.DYNAMICS_KINDS]


def test_report_shows_the_best_trials_dynamics_and_the_findings_column(curves_with_layers):
    out, _ = run_report(curves_with_layers, "markdown")
    assert "Training dynamics" in out
    assert "Layers looked healthy at epoch 10 (no threshold crossed)" in out
    assert "at most 3% of a layer's units dead (threshold 50%)" in out
    assert "dead units at epoch 5" in out  # trial 02's cell in the trials table


def test_report_without_layers_csv_has_no_dynamics_section(tmp_path):
    out, _ = run_report(copy_run("curves", tmp_path), "markdown")
    assert "Training dynamics" not in out
