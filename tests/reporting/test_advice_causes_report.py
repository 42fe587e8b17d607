"""Advice that names the cause, end to end from hand-written run directories (the cases of
issue 28, whose right answer is known by construction): docs/report.md, Per trial:
recommendations."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml

from .helpers import build, by_id

CAPACITY = {"model.layers", "model.units"}


def bigger_network(recs) -> bool:
    return any(r.key in CAPACITY and r.action == "increase" for r in recs)


def regularize_less(recs) -> bool:
    return any(r.key.startswith("regularization.") and r.action == "decrease" for r in recs)


def write_run(
    path: Path,
    trials: list[dict],
    resolved: dict,
    *,
    sizes: tuple[int, int, int] = (200, 67, 67),
    classes: int = 3,
    baselines: dict[str, float] | None = None,
    feature_scales: dict | None = None,
    regression: bool = False,
) -> Path:
    """A finished classification run: trials.csv (val_accuracy the objective), epochs.csv
    (val_loss falling to each trial's best epoch, flat after), manifest.json, resolved.yaml and
    baselines.csv (`baselines`: model → validation error)."""
    path.mkdir(parents=True)
    train_n, val_n, test_n = sizes
    rows, curves = [], []
    for trial in trials:
        last, best = trial["epochs_trained"], trial["best_epoch"]
        row = {"status": "completed", "stopped_early": last < resolved["training"]["epochs"]}
        row.update(trial)
        if regression:  # normalized MSE with its standard error; the objective val_loss
            row.update(objective=trial["val_error"], train_error_se=0.01, val_error_se=0.02)
        else:
            row.update(objective=1 - trial["val_error"], val_accuracy=1 - trial["val_error"])
            row.update(train_n=train_n, val_n=val_n, test_n=test_n)
        rows.append(row)
        for epoch in range(1, last + 1):
            at = min(epoch, best)
            curves.append(
                {"trial_id": trial["trial_id"], "execution": 0, "epoch": epoch,
                 "loss": 1.0 - 0.1 * at, "val_loss": 1.05 - 0.1 * at}
            )  # fmt: skip
    pd.DataFrame(rows).to_csv(path / "trials.csv", index=False)
    pd.DataFrame(curves).to_csv(path / "epochs.csv", index=False)
    data = {
        "source": "csv",
        "task": "multiclass" if classes > 2 else "binary",
        "classes": list(range(classes)),
        "sizes": {"train": train_n, "validation": val_n, "test": test_n},
    }
    if regression:
        data.update(task="regression", classes=None)
    if feature_scales is not None:
        data["feature_scales"] = feature_scales
    manifest = {
        "format_version": 1,
        "name": path.name,
        "status": "completed",
        "objective": {"name": "val_loss", "direction": "min"}
        if regression
        else {"name": "val_accuracy", "direction": "max"},
        "data": data,
    }
    (path / "manifest.json").write_text(json.dumps(manifest))
    (path / "resolved.yaml").write_text(yaml.safe_dump({"name": path.name, **resolved}))
    errors = baselines or {"majority": 0.55, "logistic": 0.015}
    table = pd.DataFrame(
        {"model": list(errors), "train_error": list(errors.values()),
         "val_error": list(errors.values()), "test_error": list(errors.values()), "seconds": 0.1}
    )  # fmt: skip
    table.loc[table["model"] == "majority", "train_error"] = 0.56
    table.to_csv(path / "baselines.csv", index=False)
    return path


def config(**sections: dict) -> dict:
    base = {
        "data": {
            "source": "csv",
            "normalize": "standard",
            "split": {"validation": 0.2, "test": 0.2},
        },
        "model": {"kind": "dense", "layers": 1, "units": 128},
        "regularization": {"dropout": 0.2, "l2": 1.0e-4},
        "optimizer": {"name": "adam", "learning_rate": 0.001},
        "training": {"epochs": 50},
        "search": {"strategy": "grid"},
    }
    for name, values in sections.items():
        base[name] = {**base[name], **values}
    return base


def trial(tid: str, train: float, val: float, last: int = 50, best: int | None = None, **hps):
    row = {"trial_id": tid, "epochs_trained": last, "best_epoch": best or last}
    row.update({f"hp.{k.replace('__', '.')}": v for k, v in hps.items()})
    row.update(train_error=train, val_error=val)
    return row


# ---------------------------------------------------------------- the cases


def test_penguins_sgd_at_128_units_is_told_the_optimizer_not_a_bigger_network(tmp_path):
    """128 units with plain SGD, high bias and still improving at epoch 50, beside a trial of
    the same size with adam that fits: the optimizer is the cause."""
    resolved = config(optimizer={"name": ["sgd", "adam"], "learning_rate": 0.01})
    run = write_run(
        tmp_path / "penguins",
        [
            trial("00", 0.30, 0.31, optimizer__name="sgd"),
            trial("01", 0.005, 0.015, last=30, best=30, optimizer__name="adam"),
        ],
        resolved,
    )
    trials = by_id(build(run))
    sgd = trials["00"]
    assert sgd.label == "high bias"
    assert "still_improving" in {f.kind for f in sgd.findings}
    recs = sgd.recommendations
    assert recs[0].key in ("optimizer.name", "optimizer.learning_rate")
    assert not bigger_network(recs) and not regularize_less(recs)
    assert any("Trial 01, of the same size (1×128), fits" in r.text for r in recs)
    assert trials["01"].label == "good fit"


def test_iris_grid_trials_at_1e_4_are_told_the_learning_rate_with_the_evidence(tmp_path):
    """A grid of 3 learning rates x 2 widths on 30 validation rows: at 1e-4 the trials are high
    bias and still improving; the learning rate is the one significant effect."""
    rows = []
    for i, (rate, units) in enumerate((r, u) for r in (1e-4, 1e-3, 1e-2) for u in (16, 32)):
        low = rate == 1e-4
        train, val = (0.45, 0.47) if low else (0.03, 0.033)
        rows.append(
            trial(f"{i:02d}", train, val, last=50 if low else 20, best=50 if low else 14,
                  optimizer__learning_rate=rate, model__units__0=units)
        )  # fmt: skip
    resolved = config(
        model={"units": [16, 32]},
        optimizer={"name": "adam", "learning_rate": [1.0e-4, 1.0e-3, 1.0e-2]},
    )
    run = write_run(tmp_path / "iris", rows, resolved, sizes=(90, 30, 30),
                    baselines={"majority": 0.6667, "logistic": 0.0333})  # fmt: skip
    report = build(run)
    significant = [e.hyperparameter for e in report.effects if e.significant]
    assert significant == ["optimizer.learning_rate"]
    for tid in ("00", "01"):
        slow = by_id(report)[tid]
        assert slow.label == "high bias"
        first = slow.recommendations[0]
        assert (first.key, first.action) == ("optimizer.learning_rate", "increase")
        assert "made a difference beyond the noise in this search (p " in first.text
        assert "this trial's 0.0001 is on the worse side" in first.text
        assert "higher values did better" in first.text and first.agrees is True
        assert not bigger_network(slow.recommendations)


def test_unscaled_inputs_are_told_to_normalize_first(tmp_path):
    """normalize: none with features 0-4,000 (ratio 4000): high bias and not learning get
    data.normalize first; the same run with scales 50x apart or none recorded does not."""
    rows = [
        trial("00", 0.30, 0.31, last=12, best=6),  # high bias, stopped early
        trial("01", 0.58, 0.60, last=12, best=6),  # at the majority class: not learning
    ]
    resolved = config(data={"normalize": "none"})
    scales = {"ratio": 4000.0, "largest": "income", "smallest": "age"}
    run = write_run(tmp_path / "unscaled", rows, resolved, feature_scales=scales)
    trials = by_id(build(run))
    assert (trials["00"].label, trials["01"].label) == ("high bias", "not learning")
    for tid in ("00", "01"):
        first = trials[tid].recommendations[0]
        assert (first.key, first.value) == ("data.normalize", "standard")
        assert "4000-fold (income against age)" in first.text
    near = write_run(tmp_path / "near", rows, resolved, feature_scales={**scales, "ratio": 50.0})
    assert "data.normalize" not in [r.key for r in by_id(build(near))["00"].recommendations]
    old = write_run(tmp_path / "old", rows, resolved)  # no data.feature_scales: as before
    assert by_id(build(old))["00"].recommendations[0].key == "model.layers"


def test_no_validation_error_with_four_tied_is_not_told_to_train_longer(tmp_path):
    """0 of 67 validation errors for 4 trials still improving at their limit, the target 0:
    nothing to gain on this split."""
    rows = [trial(f"{i:02d}", 0.0, 0.0, units=u) for i, u in enumerate((8, 16, 32, 64))]
    rows = [{k.replace("hp.units", "hp.model.units.0"): v for k, v in r.items()} for r in rows]
    run = write_run(
        tmp_path / "tied", rows, config(), baselines={"majority": 0.55, "logistic": 0.0}
    )
    report = build(run)
    assert report.settings.target_error.value == 0.0
    for tid, found in by_id(report).items():
        assert "still_improving" in {f.kind for f in found.findings}, tid
        keys = [r.key for r in found.recommendations]
        assert "training.epochs" not in keys
        assert keys[0] == "data.split.test"
        assert "Nothing to gain on this split" in found.recommendations[0].text
        assert "4 trials are within the noise of the best" in found.recommendations[0].text


def test_one_trial_at_the_top_is_still_told_to_train_longer(tmp_path):
    rows = [trial("00", 0.0, 0.0), trial("01", 0.20, 0.40, last=20, best=10)]
    run = write_run(tmp_path / "alone", rows, config(), sizes=(2000, 670, 670),
                    baselines={"majority": 0.55, "logistic": 0.0})  # fmt: skip
    assert by_id(build(run))["00"].recommendations[0].key == "training.epochs"


def test_a_bigger_trial_that_fits_leaves_the_bigger_network(tmp_path):
    """Only a no-bigger trial that fits rules a bigger network out; params decide the size."""
    rows = [
        {**trial("00", 0.30, 0.31, last=12, best=6, model__units__0=128), "params": 1000},
        {**trial("01", 0.005, 0.015, last=12, best=6, model__units__0=256), "params": 2000},
    ]
    # the rate changed with the width: the search cannot credit either (no effect is tested)
    rows[0]["hp.optimizer.learning_rate"], rows[1]["hp.optimizer.learning_rate"] = 0.001, 0.01
    run = write_run(tmp_path / "bigger", rows, config(model={"units": [128, 256]}))
    recs = by_id(build(run))["00"].recommendations
    assert bigger_network(recs)
    rows[1]["params"] = 900  # a smaller model by its parameters
    run = write_run(tmp_path / "smaller", rows, config(model={"units": [128, 256]}))
    recs = by_id(build(run))["00"].recommendations
    assert not bigger_network(recs)
    assert any("Trial 01, no bigger" in r.text for r in recs)


def test_housing_a_slow_rate_at_the_low_end_of_a_log_range_is_the_cause(tmp_path):
    """Regression: 1x32 at a learning rate of 1.5e-4 (searched 1e-4 to 1e-1, log), high bias and
    still improving: the rate first, never a bigger network; 3e-3, stopped early, is left alone."""
    rows = [
        trial("00", 0.40, 0.42, optimizer__learning_rate=1.5e-4),
        trial("01", 0.42, 0.45, last=20, best=12, optimizer__learning_rate=3e-3),
    ]
    resolved = config(
        model={"units": 32},
        optimizer={"learning_rate": {"min": 1.0e-4, "max": 1.0e-1, "sampling": "log"}},
    )
    run = write_run(tmp_path / "housing", rows, resolved, regression=True,
                    baselines={"mean": 1.0, "linear": 0.25})  # fmt: skip
    trials = by_id(build(run))
    slow = trials["00"]
    assert slow.label == "high bias"
    first = slow.recommendations[0]
    assert (first.key, first.action) == ("optimizer.learning_rate", "increase")
    assert "low end of the searched 0.0001 to 0.1 (log)" in first.text
    assert not bigger_network(slow.recommendations)
    assert not regularize_less(slow.recommendations)
    assert trials["01"].label == "high bias" and bigger_network(trials["01"].recommendations)
