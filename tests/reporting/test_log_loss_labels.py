"""The per-trial labels of issue 28 on hand-written run directories with the new columns
(docs/report.md): `not learning` judged on validation log loss against the class prior, a
first-epoch loss far above chance is `diverged`, the regression auto target's noise and a
network that beats it, and intervals near 0 printed as [low, high]."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .helpers import build, by_id, run_report

BASELINE_HEADER = (
    "model,train_error,val_error,test_error,seconds,train_error_se,val_error_se,test_error_se,"
    "train_log_loss,val_log_loss,val_log_loss_se"
)
TRIAL_HEADER = (
    "trial_id,status,hp.optimizer.learning_rate,epochs_trained,best_epoch,stopped_early,"
    "train_error,val_error,test_error,objective,train_n,val_n,test_n,"
    "train_log_loss,val_log_loss,val_log_loss_se"
)


def _manifest(task: str, sizes: dict, classes: list | None = None) -> dict:
    data = {"source": "csv", "task": task, "sizes": sizes}
    if classes is not None:
        data["classes"] = classes
    objective = {"name": "val_loss", "direction": "min"}
    return {"format_version": 1, "name": "run", "status": "completed", "objective": objective,
            "data": data}  # fmt: skip


def _write(path: Path, manifest: dict, trials: str, epochs: str, baselines: str) -> Path:
    path.mkdir()
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (path / "resolved.yaml").write_text(
        "training:\n  epochs: 3\ndiagnosis:\n  target_error: auto\n", encoding="utf-8"
    )
    (path / "trials.csv").write_text(trials, encoding="utf-8")
    (path / "epochs.csv").write_text(epochs, encoding="utf-8")
    (path / "baselines.csv").write_text(baselines, encoding="utf-8")
    return path


def _epochs(losses: dict[str, list[float]]) -> str:
    """One execution per trial; val_loss a little above loss; accuracy filled in."""
    lines = ["trial_id,execution,epoch,loss,accuracy,val_loss,val_accuracy"]
    for trial_id, values in losses.items():
        for epoch, loss in enumerate(values, start=1):
            lines.append(f"{trial_id},0,{epoch},{loss},0.9,{loss * 1.05},0.9")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- 3.3% positives (the issue)


@pytest.fixture
def credit(tmp_path: Path) -> Path:
    """10,000 rows, 3.3% positives: 6,000 train, 2,000 validation, 2,000 test. The class prior
    (3.3% Yes for every row) has a validation log loss of 0.146; trials 00-02 reach 0.083-0.087
    at train errors 2.8-3.0%; trial 03 learned nothing (log loss at the prior's)."""
    trials = "\n".join(
        [
            TRIAL_HEADER,
            "00,completed,0.001,3,3,False,0.028,0.029,0.031,0.083,6000,2000,2000,0.081,0.083,0.002",
            "01,completed,0.001,3,3,False,0.029,0.030,0.031,0.085,6000,2000,2000,0.082,0.085,0.002",
            "02,completed,0.001,3,3,False,0.030,0.031,0.032,0.087,6000,2000,2000,0.084,0.087,0.002",
            "03,completed,0.00001,3,3,False,0.033,0.0335,0.0335,0.146,6000,2000,2000,0.145,0.146,"
            "0.006",
        ]
    )
    baselines = "\n".join(
        [
            BASELINE_HEADER,
            "majority,0.033,0.0335,0.0335,0.01,,,,0.145,0.146,0.006",
            "logistic,0.030,0.031,0.031,0.2,,,,0.090,0.092,0.003",
            "boosting,0.027,0.029,0.030,1.0,,,,0.080,0.084,0.003",
        ]
    )
    epochs = _epochs({t: [0.3, 0.12, 0.09] for t in ("00", "01", "02")} | {"03": [0.7, 0.5, 0.3]})
    sizes = {"train": 6000, "validation": 2000, "test": 2000}
    manifest = _manifest("binary", sizes, ["No", "Yes"])
    return _write(tmp_path / "credit", manifest, trials + "\n", epochs, baselines + "\n")


def test_imbalanced_trials_far_below_the_class_prior_are_learning(credit: Path) -> None:
    trials = by_id(build(credit))
    for trial_id in ("00", "01", "02"):
        assert trials[trial_id].label != "not learning", trial_id
        assert trials[trial_id].label == "good fit", trial_id  # no flip between 2.8% and 3.0%
    reason = trials["02"].fit.reason  # type: ignore[union-attr]
    assert reason is not None
    assert "train error 3.0% ± 0.4 is not clearly below 3.3%" in reason
    assert "validation log loss 0.087 ± 0.0039 is clearly below the class prior's 0.146" in reason
    assert trials["03"].label == "not learning"
    assert "is not clearly below the class prior's 0.146" in trials["03"].fit.reason  # type: ignore[union-attr, operator]


def test_report_json_carries_the_labels_and_the_reason(credit: Path) -> None:
    out, _ = run_report(credit, "json")
    report = json.loads(out)
    labels = {t["trial_id"]: t["label"] for t in report["trials"]}
    assert labels == {"00": "good fit", "01": "good fit", "02": "good fit", "03": "not learning"}
    reasons = {t["trial_id"]: t["reason"] for t in report["trials"]}
    assert reasons["01"].endswith(": learning")


def test_the_same_run_without_log_losses_reports_as_before(credit: Path) -> None:
    # an older run: baselines.csv with its first five columns, trials.csv without log losses
    baselines = (credit / "baselines.csv").read_text().splitlines()
    cut = [",".join(line.split(",")[:5]) for line in baselines]
    (credit / "baselines.csv").write_text("\n".join(cut) + "\n")
    trials = (credit / "trials.csv").read_text().splitlines()
    (credit / "trials.csv").write_text("\n".join(",".join(t.split(",")[:13]) for t in trials))
    labels = {t.trial_id: t.label for t in build(credit).trials}
    assert labels == {"00": "good fit", "01": "not learning", "02": "not learning",
                      "03": "not learning"}  # fmt: skip


# ---------------------------------------------------------------- diverged at the first epoch


@pytest.fixture
def blew_up(tmp_path: Path) -> Path:
    """Trial 00's loss was 1.66e6 at epoch 1 and flat after (completed, not NaN); trial 01
    trained. 67 validation rows: trial 01 got none wrong."""
    trials = "\n".join(
        [
            TRIAL_HEADER,
            "00,completed,10.0,3,1,False,0.37,0.373,0.37,1.7e6,300,67,67,,,",
            "01,completed,0.001,3,3,False,0.02,0.0,0.03,0.05,300,67,67,,,",
        ]
    )
    baselines = "\n".join(
        [BASELINE_HEADER, "majority,0.37,0.373,0.37,0.01,,,,0.66,0.66,0.02",
         "logistic,0.05,0.06,0.06,0.1,,,,0.2,0.22,0.03"]
    )  # fmt: skip
    epochs = _epochs({"00": [1.66e6, 1.66e6, 1.66e6], "01": [0.6, 0.2, 0.05]})
    sizes = {"train": 300, "validation": 67, "test": 67}
    manifest = _manifest("binary", sizes, [0, 1])
    return _write(tmp_path / "blew-up", manifest, trials + "\n", epochs, baselines + "\n")


def test_a_first_epoch_loss_far_above_chance_is_diverged_everywhere(blew_up: Path) -> None:
    out, _ = run_report(blew_up, "json")
    report = json.loads(out)
    trial = next(t for t in report["trials"] if t["trial_id"] == "00")
    assert trial["status"] == "completed" and trial["label"] == "diverged"
    assert [f["kind"] for f in trial["findings"]][:1] == ["diverged"]
    text = trial["findings"][0]["text"]
    assert "1.66e+06" in text and "10 × 0.693" in text  # both numbers (ln 2 floors 0.66)
    assert trial["reason"] == text and trial["high_bias"] is False
    assert trial["recommendations"][0]["key"] == "optimizer.learning_rate"
    assert trial["recommendations"][0]["action"] == "decrease"
    assert "1 diverged" in report["verdict"]  # the completed trials' labels
    assert report["counts"]["completed"] == 2  # the counts stay by status


def test_a_zero_error_prints_its_interval_with_brackets(blew_up: Path) -> None:
    out, _ = run_report(blew_up, "markdown")
    assert "0.0% [0.0, 5.4]" in out and "0.0% ± 2.7" not in out
    table, _ = run_report(blew_up, "table")
    assert "0.0% [0.0, 5.4]" in table


# ---------------------------------------------------------------- regression: a noisy target


@pytest.fixture
def housing(tmp_path: Path) -> Path:
    """506 rows: 304 train, 101 validation. Boosting's validation error 0.15 has a standard
    error of 0.04 (bootstrap 7% to 24%); the network's train error is 0.04 ± 0.01."""
    header = (
        "trial_id,status,hp.optimizer.learning_rate,epochs_trained,best_epoch,stopped_early,"
        "train_error,val_error,test_error,objective,train_error_se,val_error_se,test_error_se"
    )
    trials = "\n".join(
        [header, "00,completed,0.001,3,3,False,0.04,0.10,0.11,0.10,0.005,0.03,0.03",
         "01,completed,0.0001,3,3,False,0.30,0.33,0.35,0.33,0.03,0.06,0.06"]
    )  # fmt: skip
    baselines = "\n".join(
        [BASELINE_HEADER, "mean,1.0,1.02,1.01,0.01,0.1,0.2,0.2,,,",
         "linear,0.25,0.29,0.28,0.01,0.03,0.07,0.07,,,",
         "boosting,0.05,0.15,0.16,0.5,0.01,0.04,0.05,,,"]
    )  # fmt: skip
    epochs = _epochs({"00": [0.5, 0.1, 0.05], "01": [0.9, 0.6, 0.35]})
    manifest = _manifest("regression", {"train": 304, "validation": 101, "test": 101})
    return _write(tmp_path / "housing", manifest, trials + "\n", epochs, baselines + "\n")


def test_a_regression_auto_target_carries_its_standard_error(housing: Path) -> None:
    report = build(housing)
    target = report.settings.target_error
    assert target.value == pytest.approx(0.15)
    assert target.interval == pytest.approx((0.15 - 1.96 * 0.04, 0.15 + 1.96 * 0.04), abs=1e-3)
    assert "± 7.8 pts from its standard error (baselines.csv val_error_se)" in target.source
    fit = by_id(report)["00"].fit
    assert fit is not None and fit.bias_ci is not None
    # the bias interval carries both: ± 1.96 * sqrt(0.005² + 0.04²) = ± 0.079
    assert fit.bias_ci == pytest.approx((-0.11 - 0.079, -0.11 + 0.079), abs=1e-3)
    assert fit.beats_target
    assert "below target beyond the noise: the target is not a floor" in fit.explanation


def test_beating_the_target_is_said_in_the_report(housing: Path) -> None:
    out, _ = run_report(housing, "json")
    trial = next(t for t in json.loads(out)["trials"] if t["trial_id"] == "00")
    assert "revisit diagnosis.target_error" in trial["explanation"]
    other = next(t for t in json.loads(out)["trials"] if t["trial_id"] == "01")
    assert "not a floor" not in other["explanation"]


def test_the_search_line_labels_by_the_same_rule(credit: Path) -> None:
    import csv

    from tunenet.reporting.live import live_labeler

    label = live_labeler(credit)
    with open(credit / "trials.csv", encoding="utf-8") as file:
        rows = {row["trial_id"]: row for row in csv.DictReader(file)}
    assert label(rows["02"]) == "good fit" and label(rows["03"]) == "not learning"


# ---------------------------------------------------------------- class weights


def test_a_class_weighted_model_is_judged_against_what_weighting_learns_from_nothing():
    from tunenet.reporting.noise import weighted_prior

    # balanced: a model that learned nothing is pulled to 1/k for every class, ln k per row
    balanced = weighted_prior("balanced", 2)
    assert balanced is not None and balanced.value == pytest.approx(0.693147, abs=1e-6)
    # with the rows per class the same holds whatever the shares
    assert weighted_prior("balanced", 2, ["No", "Yes"], [1933, 67]).value == pytest.approx(  # type: ignore[union-attr]
        0.693147, abs=1e-6
    )
    # {Yes: 9}: p(Yes) = 9 * 0.1 / (0.9 + 9 * 0.1) = 0.5 on a 90/10 split: ln 2 again
    weighted = weighted_prior({"Yes": 9}, 2, ["No", "Yes"], [900, 100])
    assert weighted is not None and weighted.value == pytest.approx(0.693147, abs=1e-6)
    # {Yes: 1}: the class prior itself, -(0.9 ln 0.9 + 0.1 ln 0.1)
    plain = weighted_prior({"Yes": 1}, 2, ["No", "Yes"], [900, 100])
    assert plain is not None and plain.value == pytest.approx(0.325083, abs=1e-6)
    assert weighted_prior({"Yes": 9}, 2) is None  # a mapping needs the rows per class


def test_a_balanced_run_paying_accuracy_for_the_small_class_is_learning(credit: Path) -> None:
    # the same run trained with training.class_weight: balanced: trial 04 errs on 14% of the
    # rows (more than always answering No) and its unweighted log loss, 0.295, is above the
    # class prior's, as weighting does on purpose; a model that learned nothing under these
    # weights has ln 2 = 0.693
    (credit / "resolved.yaml").write_text(
        "training:\n  epochs: 3\n  class_weight: balanced\ndiagnosis:\n  target_error: auto\n"
    )
    with (credit / "trials.csv").open("a") as file:
        file.write(
            "04,completed,0.001,3,3,False,0.142,0.140,0.15,0.29,6000,2000,2000,0.28,0.295,0.013\n"
        )
        file.write(
            "05,completed,0.001,3,3,False,0.50,0.50,0.5,0.69,6000,2000,2000,0.69,0.693,0.001\n"
        )
    trials = by_id(build(credit))
    assert trials["04"].label != "not learning"
    reason = trials["04"].fit.reason  # type: ignore[union-attr]
    assert reason is not None
    assert "is clearly below the log loss of a model that learned nothing under " in reason
    assert "training.class_weight, 0.693: learning" in reason
    assert trials["05"].label == "not learning"


def test_a_weighted_runs_auto_target_is_a_weighted_baselines_not_the_majority(
    credit: Path,
) -> None:
    (credit / "resolved.yaml").write_text(
        "training:\n  epochs: 3\n  class_weight: balanced\ndiagnosis:\n  target_error: auto\n"
    )
    baselines = "\n".join(
        [
            BASELINE_HEADER,
            "majority,0.033,0.0335,0.0335,0.01,,,,0.145,0.146,0.006",
            "logistic,0.13,0.131,0.131,0.2,,,,0.30,0.31,0.01",
            "boosting,0.05,0.061,0.06,1.0,,,,0.20,0.21,0.01",
        ]
    )
    (credit / "baselines.csv").write_text(baselines + "\n")
    target = build(credit).settings.target_error
    assert target.value == pytest.approx(0.061)
    assert "gradient boosting's validation error, weighted by training.class_weight" in (
        target.source
    )
