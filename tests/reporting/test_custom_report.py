"""The report of a custom model's run (tests/fixtures/runs/custom, hand-written: an LSTM/GRU
builder whose `units` moved the error far beyond the noise on 2,000 validation rows): the builder
named in every format, its `model.params.*` hyperparameters like any other, and advice that never
names the dense or CNN families' keys."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from tunenet.reporting.context import advice_contexts
from tunenet.reporting.model import _model_size, capacity_curve, resolve_objective
from tunenet.reporting.sections import dynamics_lines
from tunenet.runs import load_run

from .helpers import build, by_id, copy_run, run_report

BUILDER_LINE = (
    "model custom, built by /home/user/project/models/lstm.py:build (sha256 5f2b8c1d9e0a), "
    "which reads regularization.dropout"
)
FAMILY_KEYS = re.compile(
    r"model\.(layers|units|activation|initializer|batch_norm|kind|filters|kernel_size|strides"
    r"|padding|pooling|dense_units|filters_growth)\b"
)


def advice_texts(report) -> list[str]:
    """Every recommendation and every finding's advice, as key and text."""
    texts = []
    for trial in report.trials:
        texts += [f"{r.key} {r.text}" for r in trial.recommendations]
        for finding in trial.findings:
            texts += [f"{a.key} {a.text}" for a in getattr(finding, "advice", ())]
    return texts


def test_no_trial_of_a_custom_run_is_told_a_dense_or_cnn_key(tmp_path: Path) -> None:
    report = build(copy_run("custom", tmp_path))
    texts = advice_texts(report)
    assert texts and [t for t in texts if FAMILY_KEYS.search(t)] == []


def test_high_bias_trials_hear_of_the_units_effect_with_its_test(tmp_path: Path) -> None:
    trials = by_id(build(copy_run("custom", tmp_path)))
    for trial_id in ("00", "01", "04"):  # 16, 16 and 64 units: the worse side of the split
        trial = trials[trial_id]
        assert trial.label == "high bias"
        units = next(r for r in trial.recommendations if r.key == "model.params.units")
        assert units.action == "increase" and units.agrees is True
        assert "made a difference beyond the noise in this search (p = 0.0333)" in units.text
        assert "at 128 against" in units.evidence
        assert not any(r.key.startswith("regularization.") for r in trial.recommendations)


def test_the_overfitting_trial_is_told_the_dropout_its_builder_reads_not_l2(tmp_path) -> None:
    trial = by_id(build(copy_run("custom", tmp_path)))["06"]
    assert trial.label == "high variance"
    regularization = [r.key for r in trial.recommendations if r.key.startswith("regularization.")]
    assert regularization == ["regularization.dropout"]


def test_the_diverged_trial_gets_the_rate_and_clipping_but_no_batch_norm(tmp_path) -> None:
    trial = by_id(build(copy_run("custom", tmp_path)))["05"]
    assert trial.label == "diverged"
    keys = [r.key for r in trial.recommendations]
    assert set(keys) == {"optimizer.learning_rate", "optimizer.clipnorm"}  # inputs normalized


def test_the_best_trials_vanishing_gradient_advice_speaks_of_the_builder(tmp_path) -> None:
    report = build(copy_run("custom", tmp_path))
    finding = next(f for f in report.best.findings if f.kind == "vanishing_gradients")
    assert {a.key for a in finding.advice} == {"model.params"}
    assert all(a.text.startswith("In your builder (lstm.py:build): ") for a in finding.advice)
    lines = dynamics_lines(report)
    assert lines[0].startswith("Trial 03, 2 layers with weights, measured")  # a GRU: not Dense


def test_a_dense_only_layers_file_still_says_dense_layers(tmp_path) -> None:
    run = copy_run("custom", tmp_path)
    layers = (run / "layers.csv").read_text().replace(",gru,gru,", ",dense_0,dense,")
    (run / "layers.csv").write_text(layers)
    assert dynamics_lines(build(run))[0].startswith("Trial 03, 2 Dense/Conv2D layers")


def test_a_builder_of_unknown_reads_names_regularization_with_the_doubt(tmp_path) -> None:
    run = copy_run("custom", tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    del manifest["model"]  # resolved.yaml still says model.kind: custom
    (run / "manifest.json").write_text(json.dumps(manifest))
    report = build(run)
    named = [r for r in by_id(report)["06"].recommendations if r.key.startswith("regularization.")]
    assert [r.key for r in named] == ["regularization.dropout", "regularization.l2"]
    assert all("(if your builder reads it)" in r.text for r in named)
    out, _ = run_report(run, "markdown")
    assert (
        "model custom, built by /home/user/project/models/lstm.py:build (sha256 not recorded)"
        in out
    )


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_every_format_names_the_builder_and_the_model_params(tmp_path, fmt) -> None:
    out, err = run_report(copy_run("custom", tmp_path), fmt)
    out = html.unescape(out) if fmt == "html" else out
    assert BUILDER_LINE in out, err
    assert "model.params.units=128" in out  # the best trial's hyperparameters
    assert "model.params.cell=gru" in out
    if fmt != "table":  # the trials table and the effects table hold the hp columns
        assert re.search(r"model\.params\.units.*model\.params\.cell", out, re.S)
        assert "chi-square test (2 df) on the trials' own errors" in out  # model.params.cell


def test_report_json_holds_the_builder_and_the_model_params(tmp_path: Path) -> None:
    out, _ = run_report(copy_run("custom", tmp_path), "json")
    report = json.loads(out)
    builder = report["run"]["model"]["builder"]
    assert builder["spec"] == "/home/user/project/models/lstm.py:build"
    assert builder["reads"] == ["regularization.dropout"]
    best = report["trials"][0]
    assert best["hyperparameters"]["model.params.units"] == 128
    assert best["hyperparameters"]["model.params.cell"] == "gru"
    effects = {e["hyperparameter"]: e for e in report["effects"]}
    assert effects["model.params.units"]["significant"] is True
    assert effects["model.params.cell"]["significant"] is False
    assert not any(
        FAMILY_KEYS.search(r["key"]) for t in report["trials"] for r in t["recommendations"]
    )


def test_a_custom_models_size_is_its_parameter_count_alone(tmp_path: Path) -> None:
    run = load_run(copy_run("custom", tmp_path))
    for _, row in run.trials.iterrows():
        assert _model_size(row, run) == {"layers": None, "widths": None}
    report = build(run.path)
    contexts = advice_contexts(report.trials, run, 0.05, _model_size)
    size = contexts["03"].size
    assert (size.params, size.layers, size.units, size.label) == (
        54026,
        None,
        None,
        "54,026 parameters",
    )
    # a capacity curve over such a run (not a strategy a custom model searches) labels no layers
    curve = capacity_curve(run, resolve_objective(run))
    assert [step.label for step in curve.steps] == ["?"] * 7
    assert curve.best == "03"
