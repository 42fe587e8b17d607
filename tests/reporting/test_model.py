"""The report model: the diagnosis of the fixture runs, the settings, the capacity curve."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tunenet.errors import TunenetError
from tunenet.reporting import model
from tunenet.runs import Run, load_run

from .helpers import FIXTURES, build, by_id, copy_run


def test_worked_example_is_reproduced_exactly() -> None:
    result = build(FIXTURES / "worked-example")
    labels = {tid: t.label for tid, t in by_id(result).items()}
    assert labels == {
        "00": "high variance",
        "01": "high bias",
        "02": "high bias and high variance",
        "03": "good fit",
    }
    assert result.settings.target_error.value == 0.13
    assert result.settings.target_error.source == "resolved.yaml"
    assert result.best is not None and result.best.trial_id == "03"
    assert result.best.test_error == pytest.approx(0.14)
    assert [t.trial_id for t in result.trials] == ["03", "00", "01", "02"]  # ranked


def test_options_override_the_run_thresholds() -> None:
    result = build(FIXTURES / "worked-example", target_error=0.0, variance_threshold=0.2)
    assert result.settings.target_error.source == "--target-error"
    assert result.settings.variance_threshold.value == 0.2
    assert result.settings.bias_threshold.source == "resolved.yaml"
    assert by_id(result)["00"].label == "high bias"  # 12 % train error, target 0


def test_out_of_range_threshold_option_is_a_user_error() -> None:
    with pytest.raises(TunenetError, match="--target-error 13"):
        build(FIXTURES / "worked-example", target_error=13)


def test_curve_findings_of_the_fixture() -> None:
    trials = by_id(build(FIXTURES / "curves"))
    assert [(f.kind, f.epoch) for f in trials["00"].findings] == [("diverged", 4)]
    assert trials["00"].status == "diverged" and trials["00"].rank is None
    assert [(f.kind, f.epoch) for f in trials["03"].findings] == [("diverged", 4)]  # blew up
    assert [f.kind for f in trials["01"].findings] == ["still_improving"]
    assert trials["01"].recommendations[0].key == "training.epochs"
    assert [(f.kind, f.epoch) for f in trials["02"].findings] == [
        ("overfitting", 5),
        ("stopped_early", 10),
    ]
    assert trials["02"].findings[0].text.startswith("overfitting began at epoch 5")
    assert trials["00"].recommendations[0].key == "optimizer.learning_rate"


def test_a_run_with_only_the_two_minimal_csv_files() -> None:
    result = build(FIXTURES / "minimal")
    assert sorted(p.name for p in (FIXTURES / "minimal").iterdir()) == ["epochs.csv", "trials.csv"]
    assert result.objective.name == "val_error" and result.objective.direction == "min"
    assert result.settings.target_error.source == "auto, but no baselines.csv: 0"
    trials = by_id(result)
    assert trials["0000"].label == "good fit" and trials["0000"].rank == 1
    assert trials["0001"].label == "high bias and high variance"
    assert trials["0002"].status == "failed" and trials["0002"].label == "failed"
    assert [f.kind for f in trials["0001"].findings] == ["overfitting"]


def test_last_execution_is_used_and_duplicate_epochs_keep_the_last_row(tmp_path: Path) -> None:
    # trials.csv's best_epoch/epochs_trained/stopped_early describe a trial's last execution
    run = copy_run("minimal", tmp_path)
    (run / "epochs.csv").write_text(
        "trial_id,execution,epoch,loss,val_loss\n"
        "0000,0,1,nan,nan\n0000,1,1,0.9,0.95\n0000,1,2,0.5,0.6\n0000,1,2,0.5,0.55\n"
        "0001,0,1,0.9,0.9\n0001,0,2,0.4,0.7\n"
    )
    loaded = load_run(run)
    assert len(loaded.epochs) == 4  # execution 0 of 0000 dropped, its epoch 2 kept once
    assert loaded.epochs.query("trial_id == '0000' and epoch == 2")["val_loss"].item() == 0.55
    result = build(run)
    assert not any(f.kind == "diverged" for f in by_id(result)["0000"].findings)


def test_capacity_is_recognized_from_resolved_yaml_alone(tmp_path: Path) -> None:
    run = copy_run("capacity", tmp_path)
    (run / "manifest.json").unlink()
    curve = build(run).capacity
    assert curve is not None and curve.stopped_after == "03"
    resolved = (run / "resolved.yaml").read_text().replace("strategy: capacity", "strategy: random")
    (run / "resolved.yaml").write_text(resolved.replace("  min_delta: 0.01\n", ""))
    assert build(run).capacity is None


def test_capacity_fixed_widths_come_from_resolved_yaml(tmp_path: Path) -> None:
    run = copy_run("capacity", tmp_path)
    trials = pd.read_csv(run / "trials.csv", dtype=str, keep_default_na=False)
    trials.drop(columns=[c for c in trials.columns if c.startswith("hp.model.units")]).to_csv(
        run / "trials.csv", index=False
    )
    resolved = (run / "resolved.yaml").read_text().replace("units: [4, 8, 16, 32]", "units: 16")
    (run / "resolved.yaml").write_text(resolved.replace("  min_delta: 0.01\n", ""))
    curve = build(run).capacity
    assert curve is not None
    assert [s.label for s in curve.steps] == ["1×16"] * 4 + ["2×16", "3×16"]
    assert curve.min_delta == model.DEFAULT_MIN_DELTA  # no search.min_delta: the default


def test_capacity_sizes_of_a_cnn_with_filters_growth() -> None:
    trials = pd.DataFrame({"trial_id": ["0"], "status": ["completed"], "hp.model.filters.0": [8.0]})
    resolved = {"model": {"kind": "cnn", "layers": 3, "filters_growth": 2}}
    run = Run(Path("x"), "x", trials, trials.iloc[0:0], None, resolved)
    assert model._model_size(trials.iloc[0], run) == {"layers": 3, "widths": (8, 16, 32)}


def test_advice_cites_the_search_only_where_its_effect_cleared_the_noise(tmp_path):
    from tunenet.diagnosis.effects import search_evidence
    from tunenet.reporting.model import _tested

    for name in ("worked-example", "curves", "small-split", "minimal"):
        report = build(copy_run(name, tmp_path))
        significant = [e.hyperparameter for e in report.effects if e.significant]
        for trial in report.trials:
            for rec in trial.recommendations:
                if rec.evidence is not None:
                    assert any(h == rec.key or h.startswith(rec.key + ".") for h in significant)
        everything = search_evidence(report.run.trials, report.objective, report.objective.column)
        kept = _tested(everything, report.effects)
        assert set(kept) <= set(everything)
        if not significant:
            assert kept == {}
