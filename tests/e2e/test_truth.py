"""Truth tests (issue 14): small searches whose right diagnosis is known by construction.

Each case is a real search (tiny data, 1-2 layers, at most 30 epochs, 1-4 grid points) and each
test asserts what the user sees: report.json's labels, intervals, effects and recommendations,
and the terminal report's text. The searches run once per module (`searched`); each takes a few
seconds on 2 cores.

| case | data | known by construction |
|---|---|---|
| chance | circles, no hidden layer | a linear model on concentric circles is at chance: not learning |
| tiny_validation | diabetes, 100 rows, 16 validation | a gap on 16 rows is inside the noise: uncertain |
| big_network | digits, 120 train rows, 2x256, no regularization | memorizes: high variance; an L2 of 1e-7 does nothing |
| at_threshold | digits, 400 rows, 2x256 | a gap exactly at the threshold is not above it |
| small_network | digits, 1 layer of 1 or 2 units | cannot fit: high bias; units matter; stopped early: never "train longer" |
| divergent | breast cancer, sgd learning rate 50 | diverged |
| divergent, its other trial | breast cancer, sgd 0.01 for 10 epochs | loss falls to the limit: train longer |
| batch_size | breast cancer, batch 32 against 33 | does nothing: not significant |
| learning_rate | digits, sgd 1e-5 against 0.1, 5 epochs | matters a lot: significant; 1e-5 is not learning |
| breast_cancer, wine, diabetes, digits | sensible small searches on real data | intervals, baselines, target auto, honest sentences |
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

import tunenet

pytestmark = pytest.mark.e2e

# docs/report.md: report.json `label`, exactly one per trial
LABELS = {
    "good fit", "high bias", "high variance", "high bias and high variance", "not learning",
    "uncertain", "diverged", "failed", "pruned",
}  # fmt: skip
HIGH_VARIANCE_LABELS = {"high variance", "high bias and high variance"}
HIGH_BIAS_LABELS = {"high bias", "high bias and high variance"}
CAPACITY_KEYS = {"model.layers", "model.units"}
# docs/report.md: advice for `not learning` is about these, never regularization or more data
NOT_LEARNING_KEYS = {
    "optimizer.learning_rate", "optimizer.name", "optimizer.momentum", "data.normalize",
    "model.layers", "model.units", "model.batch_norm", "model.activation", "model.initializer",
}  # fmt: skip
CLASSIFICATION_BASELINES = ["majority", "logistic", "boosting"]
REGRESSION_BASELINES = ["mean", "linear", "boosting"]
BASELINE_COLUMNS = [
    "model", "train_error", "val_error", "test_error", "seconds",
    "train_error_se", "val_error_se", "test_error_se", "train_log_loss", "val_log_loss",
    "val_log_loss_se",
]  # fmt: skip
NO_EARLY_STOPPING = {"early_stopping": False}
NO_REGULARIZATION = {"dropout": 0.0, "l2": 0.0}

CASES: dict[str, dict] = {
    "chance": {
        "data": {"source": "circles"},
        "model": {"layers": 0},
        "optimizer": {"name": "adam", "learning_rate": 0.01},
        "training": {"epochs": 10, "batch_size": 32},
        "search": {"strategy": "grid", "max_trials": 1},
    },
    "tiny_validation": {
        "data": {"source": "diabetes", "limit": 100, "split": {"validation": 0.15, "test": 0.15}},
        "model": {"layers": 1, "units": [4, 16, 64]},
        "regularization": NO_REGULARIZATION,
        "optimizer": {"name": "adam", "learning_rate": 0.01},
        "training": {"epochs": 30, "batch_size": 16, **NO_EARLY_STOPPING},
        "search": {"strategy": "grid", "max_trials": 3},
    },
    "big_network": {
        "data": {"source": "digits", "limit": 300, "split": {"validation": 0.5, "test": 0.1}},
        "model": {"layers": 2, "units": 256},
        "regularization": {"dropout": 0.0, "l2": [0.0, 1.0e-7]},  # 1e-7: does nothing
        "optimizer": {"name": "adam", "learning_rate": 0.001},
        "training": {"epochs": 30, "batch_size": 32, **NO_EARLY_STOPPING},
        "search": {"strategy": "grid", "max_trials": 2},
    },
    "at_threshold": {
        "data": {"source": "digits", "limit": 400},
        "model": {"layers": 2, "units": 256},
        "regularization": NO_REGULARIZATION,
        "optimizer": {"name": "adam", "learning_rate": 0.001},
        "training": {"epochs": 30, "batch_size": 32, **NO_EARLY_STOPPING},
        "search": {"strategy": "grid", "max_trials": 1},
    },
    "small_network": {
        "data": {"source": "digits", "limit": 600},
        "model": {"layers": 1, "units": [1, 2]},
        "regularization": NO_REGULARIZATION,
        "optimizer": {"name": "adam", "learning_rate": 0.01},
        "training": {"epochs": 100, "batch_size": 32, "early_stopping": {"patience": 3}},
        "search": {"strategy": "grid", "max_trials": 2},
    },
    "divergent": {
        "data": {"source": "breast_cancer"},
        "model": {"layers": 1, "units": 16},
        "optimizer": {"name": "sgd", "learning_rate": [0.01, 50.0]},
        "training": {"epochs": 10, "batch_size": 32},
        "search": {"strategy": "grid", "max_trials": 2},
    },
    "batch_size": {
        "data": {"source": "breast_cancer"},
        "model": {"layers": 1, "units": 16},
        "optimizer": {"name": "adam", "learning_rate": 0.01},
        "training": {"epochs": 15, "batch_size": [32, 33]},
        "search": {"strategy": "grid", "max_trials": 2},
    },
    "learning_rate": {
        "data": {"source": "digits", "limit": 800},
        "model": {"layers": 1, "units": 32},
        "optimizer": {"name": "sgd", "learning_rate": [1.0e-5, 0.1]},
        "training": {"epochs": 5, "batch_size": 32},
        "search": {"strategy": "grid", "max_trials": 2},
    },
    # sensible small searches on the real data scikit-learn ships
    "breast_cancer": {
        "data": {"source": "breast_cancer"},
        "model": {"layers": 1, "units": [8, 32]},
        "regularization": {"dropout": [0.0, 0.3]},
        "optimizer": {"name": "adam", "learning_rate": 0.003},
        "training": {"epochs": 20, "batch_size": 32},
        "search": {"strategy": "grid", "max_trials": 4},
    },
    "wine": {
        "data": {"source": "wine"},
        "model": {"layers": 1, "units": [8, 32]},
        "optimizer": {"name": "adam", "learning_rate": [0.003, 0.03]},
        "training": {"epochs": 20, "batch_size": 16},
        "search": {"strategy": "grid", "max_trials": 4},
    },
    "diabetes": {
        "data": {"source": "diabetes"},
        "model": {"layers": 1, "units": [16, 64]},
        "optimizer": {"name": "adam", "learning_rate": 0.01},
        "training": {"epochs": 30, "batch_size": 32},
        "search": {"strategy": "grid", "max_trials": 2},
    },
    "digits": {
        "data": {"source": "digits", "limit": 1000},
        "model": {"layers": 1, "units": [32, 128]},
        "optimizer": {"name": "adam", "learning_rate": 0.003},
        "training": {"epochs": 15, "batch_size": 32},
        "search": {"strategy": "grid", "max_trials": 2},
    },
}
REAL_DATA = ["breast_cancer", "wine", "diabetes", "digits"]
TABLES = {"circles", "breast_cancer", "wine", "diabetes"}  # sources without images


@dataclass
class Case:
    """One finished search and what its user sees."""

    name: str
    run_dir: Path
    trials_csv: pd.DataFrame  # trials.csv (split sizes, standard errors)
    report: dict  # report.json's content
    table: str  # `tunenet report --format table`, whitespace collapsed (lines wrap anywhere)

    def trial(self, trial_id: str) -> dict:
        return next(t for t in self.report["trials"] if t["trial_id"] == trial_id)

    def trial_with(self, **hyperparameters: object) -> dict:
        """The one trial whose hyperparameters include these (dots as `__`)."""
        wanted = {key.replace("__", "."): value for key, value in hyperparameters.items()}
        [found] = [
            t
            for t in self.report["trials"]
            if all(t["hyperparameters"].get(k) == v for k, v in wanted.items())
        ]
        return found

    @property
    def best(self) -> dict:
        return self.trial(self.report["best_trial"])

    @property
    def completed(self) -> list[dict]:
        return [t for t in self.report["trials"] if t["status"] == "completed"]

    def effect(self, hyperparameter: str) -> dict:
        return next(e for e in self.report["effects"] if e["hyperparameter"] == hyperparameter)

    def sizes(self, trial_id: str) -> dict:
        row = self.trials_csv[self.trials_csv["trial_id"] == trial_id].iloc[0]
        return {split: int(row[f"{split}_n"]) for split in ("train", "val", "test")}

    @property
    def source(self) -> str:
        return CASES[self.name]["data"]["source"]


def words(text: str) -> str:
    return " ".join(text.split())


def keys(trial: dict) -> list[str]:
    return [rec["key"] for rec in trial["recommendations"]]


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """`searched(name)`: the case's search, run once per module."""
    runs = tmp_path_factory.mktemp("truth")
    done: dict[str, Case] = {}

    def run(name: str) -> Case:
        if name not in done:
            result = tunenet.search({"name": name, **CASES[name]}, runs_dir=runs, quiet=True)
            report = tunenet.report(result.run_dir)
            done[name] = Case(
                name, result.run_dir, result.trials, report.to_dict(), words(report.render("table"))
            )
        return done[name]

    return run


# ---------------------------------------------------------------------------------------------
# Cases whose answer is known by construction


def test_chance_level_is_not_learning(searched):
    case = searched("chance")
    [trial] = case.report["trials"]
    assert trial["label"] == "not learning"
    assert (trial["high_bias"], trial["high_variance"], trial["uncertain"]) == (False, False, [])
    assert "not clearly below" in trial["reason"] and "majority" in trial["reason"]
    advice = keys(trial)
    assert advice and set(advice) <= NOT_LEARNING_KEYS
    assert CAPACITY_KEYS & set(advice)  # no hidden layer: capacity is the fix
    assert not any(k.startswith(("regularization.", "data.split", "data.limit")) for k in advice)
    assert "not learning" in case.table
    assert "not learning" in case.report["verdict"]


def test_a_gap_on_a_tiny_validation_set_is_uncertain(searched):
    case = searched("tiny_validation")
    threshold = case.report["settings"]["variance_threshold"]["value"]
    above = [t for t in case.completed if t["variance"] > threshold]
    assert above, "the construction needs a trial whose gap is above the threshold"
    for trial in above:
        val_n = case.sizes(trial["trial_id"])["val"]
        assert val_n <= 16
        low, high = trial["variance_ci"]
        assert low <= 0 < high
        assert trial["high_variance"] is False
        assert "variance" in trial["uncertain"]
        assert trial["label"] in {"uncertain", "high bias"}  # the gap part is never asserted
        assert f"validation set of {val_n} examples" in trial["reason"]
        assert {"data.split.validation", "search.executions_per_trial"} & set(keys(trial))
        assert f"validation set of {val_n} examples" in case.table
    assert not {t["label"] for t in case.completed} & HIGH_VARIANCE_LABELS


def test_a_big_network_on_few_rows_has_high_variance(searched):
    case = searched("big_network")
    assert len(case.completed) == 2
    for trial in case.completed:
        assert case.sizes(trial["trial_id"])["train"] == 120
        assert trial["label"] == "high variance"
        assert trial["variance_ci"][0] > 0  # the interval clears zero
        assert trial["variance"] > case.report["settings"]["variance_threshold"]["value"]
        assert "below target" in trial["explanation"]  # train error 0 under the baselines'
        advice = keys(trial)
        assert "data.limit" in advice  # data.limit: 300 is set
        assert {"regularization.dropout", "regularization.l2"} <= set(advice)
        assert "training.epochs" not in advice
    assert "high variance" in case.table


def test_an_l2_of_1e_7_makes_no_difference(searched):
    case = searched("big_network")
    effect = case.effect("regularization.l2")
    assert effect["significant"] is False
    assert effect["p_value"] >= 0.05
    assert "No hyperparameter made a difference larger than the noise" in case.report["verdict"]
    assert "regularization.l2 mattered most" not in case.report["verdict"]


@pytest.mark.slow
def test_a_gap_exactly_at_the_threshold_is_not_above_it(searched):
    """For each classification trial, set --variance-threshold to its gap counted in examples
    (errors / n, exactly): the gap is then at the threshold, not above it."""
    at_threshold = []
    for name in ("at_threshold", "big_network", "small_network", "breast_cancer", "wine"):
        case = searched(name)
        for trial in case.completed:
            n = case.sizes(trial["trial_id"])
            val = round(trial["val_error"] * n["val"]) / n["val"]
            train = round(trial["train_error"] * n["train"]) / n["train"]
            gap = val - train
            if not 0 < gap < 1:
                continue
            again = tunenet.report(case.run_dir, variance_threshold=gap).to_dict()
            [same] = [t for t in again["trials"] if t["trial_id"] == trial["trial_id"]]
            at_threshold.append(
                (name, trial["trial_id"], f"{round(val * n['val'])}/{n['val']}",
                 f"{round(train * n['train'])}/{n['train']}", same["variance"], gap,
                 same["high_variance"], same["uncertain"])
            )  # fmt: skip
    assert at_threshold
    called_above = [row for row in at_threshold if row[-2] or "variance" in row[-1]]
    assert not called_above, f"(case, trial, val, train, variance, threshold, ...): {called_above}"


def test_a_network_too_small_for_its_data_has_high_bias(searched):
    case = searched("small_network")
    target = case.report["settings"]["target_error"]
    best_baseline = min(b["val_error"] for b in case.report["baselines"])
    assert target["value"] == pytest.approx(best_baseline)
    assert target["source"].startswith("auto")
    one_unit = case.trial_with(model__units__0=1)
    assert one_unit["label"] == "high bias"
    assert one_unit["bias_ci"][0] > 0
    for trial in case.completed:
        assert trial["high_bias"] is True
        assert trial["label"] in HIGH_BIAS_LABELS
        assert CAPACITY_KEYS <= set(keys(trial))
    assert case.effect("model.units.0")["significant"] is True
    assert "model.units.0 mattered most" in case.report["verdict"]


def test_no_train_longer_after_an_early_stop_well_before_the_limit(searched):
    case = searched("small_network")
    for trial in case.completed:
        assert trial["stopped_early"] is True
        assert trial["epochs_trained"] < 100 / 2
        assert "training.epochs" not in keys(trial)
        assert "still_improving" not in {f["kind"] for f in trial["findings"]}


def test_a_trial_cut_off_while_still_improving_is_told_to_train_longer(searched):
    """sgd at 0.01 for 10 epochs on breast cancer: the loss falls at every epoch to the limit."""
    case = searched("divergent")
    trial = case.trial_with(optimizer__learning_rate=0.01)
    run = case.run_dir / "epochs.csv"
    curve = pd.read_csv(run, dtype={"trial_id": str})
    curve = curve[curve["trial_id"] == trial["trial_id"]]
    assert len(curve) == CASES["divergent"]["training"]["epochs"]  # hit its limit
    assert curve["val_loss"].is_monotonic_decreasing  # still falling at the last epoch
    assert "still_improving" in {f["kind"] for f in trial["findings"]}
    advice = keys(trial)
    assert "training.epochs" in advice
    if trial["label"] in HIGH_BIAS_LABELS:  # plain SGD still improving: the optimization first
        assert advice[0] in {"optimizer.learning_rate", "optimizer.name", "training.epochs"}
        assert not CAPACITY_KEYS & set(advice)
    else:
        assert advice[0] == "training.epochs"


def test_a_divergent_learning_rate_diverges(searched):
    case = searched("divergent")
    trial = case.trial_with(optimizer__learning_rate=50.0)
    assert trial["status"] == "diverged"
    assert trial["label"] == "diverged"
    assert "diverged" in {f["kind"] for f in trial["findings"]}
    advice = keys(trial)
    assert advice[0] == "optimizer.learning_rate"
    assert "optimizer.clipnorm" in advice
    assert not any(k.startswith(("regularization.", "data.limit", "data.split")) for k in advice)
    assert case.trial_with(optimizer__learning_rate=0.01)["label"] != "diverged"
    assert "diverged" in case.table


def test_batch_size_32_against_33_makes_no_difference(searched):
    case = searched("batch_size")
    effect = case.effect("training.batch_size")
    assert effect["significant"] is False
    assert effect["p_value"] >= 0.05
    for target in ("train_error", "gap"):
        assert effect["by_target"][target]["significant"] is False
    verdict = case.report["verdict"]
    assert "No hyperparameter made a difference larger than the noise" in verdict
    assert "mattered most" not in verdict
    assert "training.batch_size" not in verdict


def test_a_learning_rate_that_matters_is_significant(searched):
    case = searched("learning_rate")
    effect = case.effect("optimizer.learning_rate")
    assert effect["significant"] is True
    assert effect["p_value"] < 0.05
    assert effect["best_value"] == "0.1"
    assert effect["by_target"]["train_error"]["significant"] is True
    assert "optimizer.learning_rate mattered most" in case.report["verdict"]
    assert "optimizer.learning_rate" in case.table


def test_a_learning_rate_too_small_to_move_is_not_learning(searched):
    case = searched("learning_rate")
    stuck = case.trial_with(optimizer__learning_rate=1.0e-5)
    assert stuck["label"] == "not learning"
    advice = keys(stuck)
    assert advice[0] == "optimizer.learning_rate"
    assert set(advice) <= NOT_LEARNING_KEYS
    moving = case.trial_with(optimizer__learning_rate=0.1)
    assert moving["label"] not in {"not learning", "diverged"}
    # 5 epochs of sgd: still improving at the epoch limit, the one case for "train longer"
    assert "still_improving" in {f["kind"] for f in moving["findings"]}
    assert keys(moving)[0] == "training.epochs"


def test_the_cli_report_shows_the_diagnosis(searched, cli):
    case = searched("chance")
    result = cli("report", case.run_dir, "--format", "table", "--no-plots")
    assert result.exit_code == 0
    shown = words(result.stdout)
    assert "not learning" in shown
    assert "Baselines: your network" in shown
    assert "auto: gradient boosting's validation error" in shown


# ---------------------------------------------------------------------------------------------
# Real data: what every report must get right


@pytest.mark.parametrize("name", REAL_DATA)
def test_real_data_labels_intervals_and_baselines(searched, name):
    case = searched(name)
    regression = case.source == "diabetes"
    assert case.completed
    for trial in case.report["trials"]:
        assert trial["label"] in LABELS
    for trial in case.completed:
        n = case.sizes(trial["trial_id"])
        assert min(n.values()) > 0
        for field in ("train_error_ci", "val_error_ci", "bias_ci", "variance_ci"):
            low, high = trial[field]
            assert low <= high, (field, trial[field])
        for error in ("train_error", "val_error"):
            low, high = trial[f"{error}_ci"]
            assert low <= trial[error] + 1e-9 and trial[error] <= high + 1e-9
        assert trial["intervals_source"] == (
            "trials.csv *_error_se" if regression else "trials.csv train_n, val_n, test_n"
        )
        # every part carries its interval: "± 2.7", or "[+0.0, +5.4]" where it is lopsided
        explanation = trial["explanation"]
        assert explanation.count("±") + explanation.count("[") >= 2, explanation
    # baselines: in baselines.csv and in the report, in every format the user reads
    baselines = pd.read_csv(case.run_dir / "baselines.csv")
    assert list(baselines.columns) == BASELINE_COLUMNS
    models = REGRESSION_BASELINES if regression else CLASSIFICATION_BASELINES
    assert sorted(baselines["model"]) == sorted(models)
    assert sorted(b["model"] for b in case.report["baselines"]) == sorted(models)
    assert "Baselines: your network" in case.table
    # target_error: auto is the best baseline's validation error
    target = case.report["settings"]["target_error"]
    assert target["source"].startswith("auto")
    assert target["value"] == pytest.approx(baselines["val_error"].min())
    assert "auto" in case.table


# ---------------------------------------------------------------------------------------------
# Every case: sentences claim only what was tested, advice fits the data and the curve


def _matching(effects: list[dict], key: str) -> list[dict]:
    """The effects of a config key (per-layer `model.units.0` counts for `model.units`)."""
    return [e for e in effects if e["hyperparameter"] == key or e["hyperparameter"].startswith(key + ".")]  # fmt: skip


def _claims(case: Case) -> list[str]:
    """Every sentence of the verdict or the advice that claims an effect the tests did not find."""
    report, verdict = case.report, case.report["verdict"]
    wrong = []
    for effect in report["effects"]:
        name = effect["hyperparameter"]
        if not effect["significant"]:
            for claim in (f"{name} mattered most", f"{name} (or "):
                if claim in verdict:
                    wrong.append(f"verdict: {claim}")
            also = re.search(r"Also larger than the noise: ([^.]*(\.\d[^.]*)*)\.", verdict)
            if also and re.search(rf"\b{re.escape(name)} \(", also.group(1)):
                wrong.append(f"verdict: also larger than the noise: {name}")
        for target, words in (("train_error", "the train error (bias)"), ("gap", "the train-to-validation gap (variance)")):  # fmt: skip
            found = (effect.get("by_target") or {}).get(target)
            moved = re.search(rf"{re.escape(words)} moved with (.*?)(;|\.$| Next:)", verdict)
            if found and not found["significant"] and moved and f"{name} (" in moved.group(1):
                wrong.append(f"verdict: {words} moved with {name}")
    for trial in report["trials"]:
        for rec in trial["recommendations"]:
            if rec["evidence"] is None and rec["agrees"] is None:
                continue
            tested = _matching(report["effects"], rec["key"])
            if not any(e["significant"] for e in tested):
                p = [round(e["p_value"], 3) for e in tested if e["p_value"] is not None]
                wrong.append(
                    f"trial {trial['trial_id']} advice on {rec['key']} (p = {p}): "
                    f"{rec['evidence']} (agrees: {rec['agrees']})"
                )
    return wrong


@pytest.mark.parametrize("name", list(CASES))
def test_no_sentence_claims_an_effect_that_is_not_significant(searched, name):
    case = searched(name)
    for effect in case.report["effects"]:
        assert effect["significant"] == (effect["p_value"] is not None and effect["p_value"] < 0.05)
    assert _claims(case) == []


@pytest.mark.parametrize("name", list(CASES))
def test_advice_fits_the_data_and_the_curve(searched, name):
    case = searched(name)
    limit = case.report["settings"]["epoch_limit"]["value"]
    for trial in case.report["trials"]:
        recs = trial["recommendations"]
        if case.source in TABLES:  # no CNN, no augmentation for tables
            assert not [r for r in recs if r["key"] == "model.kind" and r["value"] == "cnn"]
            assert "data.augmentation" not in keys(trial)
        if trial["stopped_early"] and trial["epochs_trained"] < limit / 2:
            assert "training.epochs" not in keys(trial)
        if trial["label"] == "not learning":
            assert set(keys(trial)) <= NOT_LEARNING_KEYS
