"""Pruning (search.pruning): the median and asha rules on hand-written epochs tables, the
incremental reader of epochs.csv, the refusal for other strategies, and small searches."""

from __future__ import annotations

import json
import math
import re
import subprocess
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import tunenet_command
from tunenet.config.objective import Objective
from tunenet.runs import csv_line
from tunenet.tuning.pruning import AshaPruner, EpochCurves, MedianPruner

ACCURACY = Objective.named("val_accuracy")  # max
LOSS = Objective.named("val_loss")  # min


def curves_of(table: dict[str, list[float]], name: str = "val_accuracy") -> EpochCurves:
    """Curves from {trial_id: [value at epoch 1, 2, ...]} (execution 0)."""
    curves = EpochCurves(None, name)
    for trial_id, values in table.items():
        for epoch, value in enumerate(values, start=1):
            curves.add(trial_id, 0, epoch, value)
    return curves


# ---------------------------------------------------------------- median


def test_median_prunes_a_trial_below_the_median_and_says_so():
    curves = curves_of({"00": [0.5, 0.8], "01": [0.6, 0.9], "02": [0.4, 0.7]})
    pruner = MedianPruner(ACCURACY, warmup=2, min_trials=3)
    message = pruner.check(curves, "03", epoch=2, best=0.6)
    assert message == "val_accuracy 0.6 below the median 0.8 of 3 trials"
    assert pruner.check(curves, "03", epoch=2, best=0.85) is None


def test_median_compares_best_so_far_of_the_others():
    # trial 01 peaked at epoch 1: its value by epoch 2 is 0.9, not 0.3
    curves = curves_of({"00": [0.5, 0.8], "01": [0.9, 0.3], "02": [0.4, 0.7]})
    pruner = MedianPruner(ACCURACY, warmup=1, min_trials=3)
    assert "median 0.8 " in pruner.check(curves, "03", epoch=2, best=0.75)


def test_a_tie_with_the_median_is_not_pruned():
    curves = curves_of({"00": [0.5], "01": [0.7], "02": [0.9]})
    pruner = MedianPruner(ACCURACY, warmup=1, min_trials=3)
    assert pruner.check(curves, "03", epoch=1, best=0.7) is None
    assert pruner.check(curves, "03", epoch=1, best=0.69) is not None


def test_median_with_direction_min():
    curves = curves_of({"00": [1.0, 0.5], "01": [1.2, 0.6], "02": [0.9, 0.4]}, "val_loss")
    pruner = MedianPruner(LOSS, warmup=1, min_trials=3)
    assert pruner.check(curves, "03", epoch=2, best=0.7) == (
        "val_loss 0.7 above the median 0.5 of 3 trials"
    )
    assert pruner.check(curves, "03", epoch=2, best=0.45) is None


def test_median_waits_for_min_trials_and_warmup():
    curves = curves_of({"00": [0.9, 0.9, 0.9], "01": [0.9, 0.9, 0.9]})
    assert MedianPruner(ACCURACY, warmup=1, min_trials=3).check(curves, "02", 2, 0.1) is None
    assert MedianPruner(ACCURACY, warmup=1, min_trials=2).check(curves, "02", 2, 0.1)
    assert MedianPruner(ACCURACY, warmup=3, min_trials=2).check(curves, "02", 2, 0.1) is None
    assert MedianPruner(ACCURACY, warmup=3, min_trials=2).check(curves, "02", 3, 0.1)


def test_only_trials_that_reached_the_epoch_count():
    curves = curves_of({"00": [0.9, 0.9, 0.9], "01": [0.9], "02": [0.9]})  # 01, 02 stopped
    pruner = MedianPruner(ACCURACY, warmup=1, min_trials=2)
    assert pruner.check(curves, "03", epoch=1, best=0.5) is not None
    assert pruner.check(curves, "03", epoch=3, best=0.5) is None  # only 00 reached epoch 3


def test_nan_values_are_no_evidence():
    nan = math.nan
    curves = curves_of({"00": [nan, nan], "01": [0.9, 0.9], "02": [nan, 0.8]})
    pruner = MedianPruner(ACCURACY, warmup=1, min_trials=2)
    assert pruner.check(curves, "03", epoch=1, best=0.1) is None  # one finite value at 1
    assert "median 0.85 of 2 trials" in pruner.check(curves, "03", epoch=2, best=0.1)
    # a trial without any finite value is worse than any median
    assert "val_accuracy no finite value below" in pruner.check(curves, "03", 2, None)


def test_the_trials_own_rows_are_excluded_whatever_the_padding():
    curves = curves_of({"3": [0.1, 0.1], "00": [0.9, 0.9], "01": [0.9, 0.9]})
    pruner = MedianPruner(ACCURACY, warmup=1, min_trials=3)
    assert pruner.check(curves, "03", epoch=2, best=0.5) is None  # only 2 others
    assert pruner.check(curves, "04", epoch=2, best=0.5) is not None


def test_the_last_execution_that_reached_the_epoch_counts():
    curves = EpochCurves(None, "val_accuracy")
    for epoch in (1, 2, 3):
        curves.add("00", 0, epoch, 0.9)
    curves.add("00", 1, 1, 0.2)  # the second execution is only at epoch 1
    assert curves.values_at(1, ACCURACY, exclude="09") == [0.2]
    assert curves.values_at(3, ACCURACY, exclude="09") == [0.9]


def test_median_leaves_out_pruned_trials_and_asha_counts_them():
    curves = curves_of({"00": [0.9], "01": [0.8], "02": [0.1], "03": [0.1]})
    curves.mark_pruned("2")
    curves.mark_pruned("03")
    median = MedianPruner(ACCURACY, warmup=1, min_trials=2)
    assert "median 0.85 of 2 trials" in median.check(curves, "04", epoch=1, best=0.5)
    assert MedianPruner(ACCURACY, 1, 3).check(curves, "04", 1, 0.5) is None  # 2 < 3
    asha = AshaPruner(ACCURACY, warmup=1, factor=3)
    assert asha.check(curves, "04", epoch=1, best=0.95) is None  # 1st of 5: the top 1 goes on
    assert "top 1/3 of 5 trials" in asha.check(curves, "04", epoch=1, best=0.85)  # 2nd of 5


# ---------------------------------------------------------------- asha


def test_asha_rungs_follow_warmup_and_factor():
    pruner = AshaPruner(ACCURACY, warmup=2, factor=3)
    assert [epoch for epoch in range(1, 60) if pruner.rung(epoch) is not None] == [2, 6, 18, 54]
    assert pruner.rung(6) == 1


def test_asha_keeps_the_top_third_of_a_rung():
    # six others reached rung 0 (epoch 1): with the trial, 7 trials, 7 // 3 = 2 continue
    curves = curves_of({f"0{i}": [v] for i, v in enumerate([0.1, 0.2, 0.3, 0.4, 0.8, 0.9])})
    pruner = AshaPruner(ACCURACY, warmup=1, factor=3)
    assert pruner.check(curves, "07", epoch=1, best=0.85) is None  # 2nd of 7
    assert pruner.check(curves, "07", epoch=1, best=0.8) is None  # tied 2nd: ties go its way
    assert pruner.check(curves, "07", epoch=1, best=0.5) == (
        "val_accuracy 0.5 not in the top 1/3 of 7 trials at rung 0 (the top 2 reach 0.8)"
    )
    assert pruner.check(curves, "07", epoch=2, best=0.0) is None  # epoch 2 is not a rung


def test_asha_lets_a_trial_go_on_while_fewer_than_factor_reached_the_rung():
    curves = curves_of({"00": [0.9, 0.9, 0.9]})
    pruner = AshaPruner(ACCURACY, warmup=1, factor=3)
    assert pruner.check(curves, "01", epoch=1, best=0.1) is None  # 2 trials < 3
    curves.add("01", 0, 1, 0.1)
    assert pruner.check(curves, "02", epoch=1, best=0.5) is not None  # 3 trials: top 1 goes on


def test_asha_with_direction_min():
    curves = curves_of({"00": [0.3], "01": [0.5]}, "val_loss")
    pruner = AshaPruner(LOSS, warmup=1, factor=3)
    assert pruner.check(curves, "02", epoch=1, best=0.2) is None
    assert "the top 1 reach 0.3" in pruner.check(curves, "02", epoch=1, best=0.4)


# ---------------------------------------------------------------- reading epochs.csv


def write_lines(path: Path, rows: list[list], mode: str = "a") -> None:
    with open(path, mode, encoding="utf-8") as file:
        file.writelines(csv_line(row) for row in rows)


def test_epoch_curves_read_only_new_whole_lines(tmp_path):
    path = tmp_path / "epochs.csv"
    write_lines(path, [["trial_id", "execution", "epoch", "loss", "val_accuracy"]], "w")
    write_lines(path, [["00", 0, 1, 0.5, 0.7], ["00", 0, 2, 0.4, "nan"]])
    curves = EpochCurves(path, "val_accuracy").refresh()
    assert curves.curves["0"][0][1] == 0.7 and math.isnan(curves.curves["0"][0][2])
    with open(path, "a", encoding="utf-8") as file:
        file.write("01,0,1,0.5,0.")  # a line another process is still writing
    assert "1" not in curves.refresh().curves
    with open(path, "a", encoding="utf-8") as file:
        file.write("9\n")
    assert curves.refresh().curves["1"][0][1] == pytest.approx(0.9)


def test_epoch_curves_read_a_rewritten_file_again(tmp_path):
    path = tmp_path / "epochs.csv"
    header = [["trial_id", "execution", "epoch", "val_accuracy"]]
    write_lines(path, header + [["00", 0, 1, 0.7], ["01", 0, 1, 0.8]], "w")
    curves = EpochCurves(path, "val_accuracy").refresh()
    rewritten = tmp_path / "new.csv"
    write_lines(rewritten, header + [["00", 0, 1, 0.7]], "w")
    rewritten.replace(path)  # what EpochLog.drop_trials does: a new file, renamed over
    assert set(curves.refresh().curves) == {"0"}


def test_pruning_marks_the_trials_that_trials_csv_records_as_pruned(tmp_path):
    from tunenet.config.sections import SearchConfig
    from tunenet.tuning.pruning import Pruning

    epochs, trials = tmp_path / "epochs.csv", tmp_path / "trials.csv"
    write_lines(epochs, [["trial_id", "execution", "epoch", "val_accuracy"]], "w")
    write_lines(trials, [["trial_id", "status", "message"], ["00", "completed", ""]], "w")
    search = SearchConfig(pruning="median")
    pruning = Pruning.of(search, ACCURACY, epochs, trials)
    assert pruning.refresh().pruned == set()
    write_lines(trials, [["01", "pruned", "pruned at epoch 3: ..."], ["02", "failed", "x"]])
    assert pruning.refresh().pruned == {"1"}
    assert Pruning.of(SearchConfig(), ACCURACY, epochs, trials) is None  # pruning: none


class FakeModel:
    stop_training = False


@pytest.mark.parametrize(
    ("epoch", "already_stopping", "pruned"),
    [(1, False, True), (1, True, False), (3, False, False)],
    ids=["behind", "early-stopping-ended-it", "last-epoch"],
)
def test_the_callback_stops_a_trial_behind_but_not_at_its_end(
    tmp_path, epoch, already_stopping, pruned
):
    from tunenet.config.sections import SearchConfig
    from tunenet.tuning.pruning import Pruning

    epochs, trials = tmp_path / "epochs.csv", tmp_path / "trials.csv"
    header = [["trial_id", "execution", "epoch", "val_accuracy"]]
    write_lines(epochs, header + [[f"0{i}", 0, e, 0.9] for i in (0, 1) for e in (1, 2, 3)], "w")
    search = SearchConfig(pruning="median", pruning_warmup=1, pruning_min_trials=2)
    callback = Pruning.of(search, ACCURACY, epochs, trials).callback("02", last_epoch=3)
    model = FakeModel()
    model.stop_training = already_stopping
    callback.set_model(model)
    callback.on_epoch_end(epoch - 1, {"val_accuracy": 0.2, "loss": 1.0})  # Keras: 0-based
    assert model.stop_training is (pruned or already_stopping)
    expected = f"pruned at epoch {epoch}: val_accuracy 0.2 below the median 0.9 of 2 trials"
    assert callback.message == (expected if pruned else "")


def test_the_callback_sees_a_tie_as_epochs_csv_records_it(tmp_path):
    """Keras logs float32 values; epochs.csv keeps 8 digits (0.97222221 for 350/360). A trial
    tied with the median is not pruned because of that rounding."""
    from tunenet.config.sections import SearchConfig
    from tunenet.tuning.pruning import Pruning

    epochs, trials = tmp_path / "epochs.csv", tmp_path / "trials.csv"
    header = [["trial_id", "execution", "epoch", "val_accuracy"]]
    logged = float(np.float32(350 / 360))  # 0.9722222089767456
    write_lines(epochs, header + [["00", 0, 1, logged], ["01", 0, 1, logged]], "w")
    assert "0.97222221" in epochs.read_text()
    search = SearchConfig(pruning="median", pruning_warmup=1, pruning_min_trials=2)
    callback = Pruning.of(search, ACCURACY, epochs, trials).callback("02", last_epoch=3)
    callback.set_model(FakeModel())
    callback.on_epoch_end(0, {"val_accuracy": logged})
    assert callback.message == ""


# ---------------------------------------------------------------- refusal


@pytest.mark.parametrize("strategy", ["grid", "hyperband", "capacity"])
def test_pruning_is_refused_for_other_strategies(cli, write_config, strategy):
    config = write_config(
        f"""
        data: {{source: iris}}
        model: {{units: [4, 8]}}
        search: {{strategy: {strategy}, pruning: median}}
        """
    )
    result = cli("validate", config)
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "search.pruning" in message and "'median'" in message
    assert f"not '{strategy}'" in message
    assert "set search.pruning: none or change the strategy" in message


# ---------------------------------------------------------------- searches (e2e)

SMALL = """
    name: {name}
    seed: 3
    data: {{source: digits, limit: 400}}
    model: {{layers: 1, units: [16, 32]}}
    optimizer: {{name: adam, learning_rate: {{min: 1.0e-5, max: 1.0e-1, sampling: log}}}}
    training: {{epochs: 6, batch_size: 32, early_stopping: {{patience: 2}}, monitor_layers: false}}
    search: {{strategy: {strategy}, max_trials: {trials}, pruning: {pruning},
              pruning_warmup: 1, pruning_min_trials: 2}}
"""
PRUNED_MESSAGE = re.compile(
    r"^pruned at epoch (\d+): val_accuracy [\d.e-]+ below the median [\d.e-]+ of \d+ trials$"
)


def small_config(root: Path, name: str, pruning: str = "median", **fields) -> Path:
    values = {"strategy": "random", "trials": 8, **fields}
    path = root / f"{name}.yaml"
    path.write_text(textwrap.dedent(SMALL.format(name=name, pruning=pruning, **values)))
    return path


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"trial_id": str}, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def searches(tmp_path_factory):
    """The same random search with median pruning and without, in-process."""
    from typer.testing import CliRunner

    from tunenet.cli import app

    root = tmp_path_factory.mktemp("pruning")
    results = {}
    for pruning in ("median", "none"):
        config = small_config(root, pruning, pruning)
        args = ["search", str(config), "--runs-dir", str(root / "runs"), "--quiet"]
        results[pruning] = CliRunner().invoke(app, args)
    return root / "runs", results


def check_pruned_rows(run: Path) -> pd.DataFrame:
    """Pruned trials: the message, their epochs.csv rows stop at the pruning epoch, their
    errors were evaluated; the best model is a completed trial's."""
    trials, epochs = read(run / "trials.csv"), read(run / "epochs.csv")
    assert not epochs.duplicated(["trial_id", "execution", "epoch"]).any()
    last = epochs.groupby("trial_id")["epoch"].max()
    for _, row in trials[trials["status"] == "pruned"].iterrows():
        found = PRUNED_MESSAGE.match(row["message"])
        assert found, row["message"]
        assert int(found.group(1)) == row["epochs_trained"] == last[row["trial_id"]]
        assert 1 <= row["best_epoch"] <= row["epochs_trained"]
        assert 0 <= row["train_error"] <= 1 and 0 <= row["val_error"] <= 1
        assert row["stopped_early"] in (False, "False")
        # BestEpoch restored the best epoch's weights: the errors and metrics describe it
        at_best = epochs[(epochs["trial_id"] == row["trial_id"])]
        at_best = at_best[at_best["epoch"] == row["best_epoch"]].iloc[0]
        assert row["val_accuracy"] == pytest.approx(at_best["val_accuracy"], abs=1e-6)
        assert row["val_error"] == pytest.approx(1 - row["val_accuracy"], abs=1e-4)
    manifest = json.loads((run / "manifest.json").read_text())
    best = trials.set_index("trial_id").loc[manifest["best_trial"]]
    assert best["status"] == "completed"
    assert not pd.isna(best["test_error"])
    completed = trials[trials["status"] == "completed"]
    assert best["objective"] == completed["objective"].max()
    return trials


@pytest.mark.slow
@pytest.mark.e2e
def test_median_pruning_stops_trials_and_records_them(searches):
    runs, results = searches
    assert results["median"].exit_code == 0, results["median"].output
    trials = check_pruned_rows(runs / "median")
    assert set(trials["status"]) == {"completed", "pruned"}


@pytest.mark.slow
@pytest.mark.e2e
def test_pruning_does_not_change_the_trials_it_does_not_stop(searches):
    runs, results = searches
    assert results["none"].exit_code == 0, results["none"].output
    pruned, plain = read(runs / "median" / "trials.csv"), read(runs / "none" / "trials.csv")
    assert set(plain["status"]) == {"completed"}
    epochs = {
        name: read(runs / name / "epochs.csv").drop(columns="seconds")
        for name in ("median", "none")
    }
    stopped = pruned.set_index("trial_id")["epochs_trained"]
    for trial_id, rows in epochs["median"].groupby("trial_id"):
        unpruned = epochs["none"][epochs["none"]["trial_id"] == trial_id]
        expected = unpruned[unpruned["epoch"] <= stopped[trial_id]]
        pd.testing.assert_frame_equal(rows.reset_index(drop=True), expected.reset_index(drop=True))
    kept = pruned[pruned["status"] == "completed"]
    same = plain.set_index("trial_id").loc[kept["trial_id"]]
    assert list(same["objective"]) == list(kept["objective"])
    assert pruned["epochs_trained"].sum() < plain["epochs_trained"].sum()


@pytest.mark.slow
@pytest.mark.e2e
def test_the_report_shows_pruned_trials_without_a_verdict(searches, cli):
    runs, _ = searches
    result = cli("report", runs / "median", "--format", "json", "--no-plots")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    pruned = [t for t in report["trials"] if t["status"] == "pruned"]
    assert pruned and all(t["label"] == "pruned" for t in pruned)
    for trial in pruned:
        assert trial["high_bias"] is None and trial["high_variance"] is None
        assert trial["recommendations"] == []
        assert trial["message"].startswith("pruned at epoch")
        assert trial["val_error"] is not None
    assert report["counts"]["pruned"] == len(pruned)
    assert f"{len(pruned)} pruned" in report["verdict"]
    table = cli("report", runs / "median", "--no-plots")
    assert "pruned at epoch" in table.stdout


@pytest.mark.slow
@pytest.mark.e2e
def test_resume_after_a_kill_keeps_pruning(tmp_path, cli):
    config = small_config(tmp_path, "killed", trials=10)
    runs, run = tmp_path / "runs", tmp_path / "runs" / "killed"
    process = subprocess.Popen(
        tunenet_command("search", config, "--runs-dir", runs, "--quiet"),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 180
    while not _finished(run, 4):
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the search did not reach the kill point in time"
        time.sleep(0.05)
    process.kill()
    process.wait()
    before_trials = read(run / "trials.csv")
    before_epochs = read(run / "epochs.csv")
    resumed = cli("search", config, "--runs-dir", runs, "--resume", "--quiet")  # no start-up
    assert resumed.exit_code == 0, resumed.output
    trials = check_pruned_rows(run)
    assert len(trials) == 10 and set(trials["status"]) <= {"completed", "pruned"}
    assert "pruned" in set(trials["status"])
    # trials finished before the kill (pruned ones too) were not run again
    done = before_trials[before_trials["status"].isin(["completed", "pruned"])]
    again = trials.set_index("trial_id").loc[done["trial_id"]]
    assert list(again["status"]) == list(done["status"])
    assert list(again["message"].fillna("")) == list(done["message"].fillna(""))
    epochs = read(run / "epochs.csv").drop(columns="seconds")
    kept = epochs[epochs["trial_id"].isin(done["trial_id"])].reset_index(drop=True)
    same = before_epochs.drop(columns="seconds")
    same = same[same["trial_id"].isin(done["trial_id"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, same)
    assert json.loads((run / "manifest.json").read_text())["status"] == "completed"


def _finished(run: Path, count: int) -> bool:
    """Whether trials.csv records `count` finished trials (at least one pruned)."""
    try:
        trials = read(run / "trials.csv")
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return False
    statuses = trials["status"]
    return statuses.isin(["completed", "pruned"]).sum() >= count and (statuses == "pruned").any()


@pytest.mark.slow
@pytest.mark.e2e
def test_two_workers_prune_from_the_shared_epochs_file(tmp_path):
    config = small_config(tmp_path, "workers", trials=8)
    text = config.read_text()  # with the layer monitor on: workers append layers.csv too
    config.write_text(text.replace("monitor_layers: false", "monitor_layers: true"))
    result = subprocess.run(
        tunenet_command("search", config, "--runs-dir", tmp_path / "runs", "--workers", "2",
                        "--quiet"),
        capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    trials = check_pruned_rows(tmp_path / "runs" / "workers")
    assert len(trials) == 8 and set(trials["status"]) <= {"completed", "pruned"}
    assert "pruned" in set(trials["status"])
    # the workers' layer monitors append to the same layers.csv (docs/dynamics.md), one set per epoch
    layers = pd.read_csv(tmp_path / "runs" / "workers" / "layers.csv", dtype={"trial_id": str})
    epochs = pd.read_csv(tmp_path / "runs" / "workers" / "epochs.csv", dtype={"trial_id": str})
    assert set(layers["trial_id"]) == set(epochs["trial_id"])
    per_epoch = layers.groupby(["trial_id", "epoch"]).size()
    assert len(per_epoch) == len(epochs) and per_epoch.min() >= 2  # a hidden and the output
