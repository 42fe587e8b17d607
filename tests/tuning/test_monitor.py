"""Per-layer training dynamics (docs/dynamics.md): layers.csv as a search writes it, and the findings
the report draws from it on constructed networks that are broken in known ways."""

from __future__ import annotations

import shutil

import keras
import numpy as np
import pandas as pd
import pytest

import tunenet
from tunenet.runs.insight import LAYER_COLUMNS
from tunenet.tuning.monitor import LayerMonitor, Probe

TRAINING = {"epochs": 3, "batch_size": 32, "early_stopping": False}
DIGITS = {"source": "digits", "limit": 600}
# The truth cases: (data, model, optimizer, the finding expected on the best trial or None).
CASES = {
    "deep-sigmoid": (
        DIGITS,
        {"layers": 8, "units": 32, "activation": "sigmoid", "initializer": "glorot_uniform"},
        {"name": "adam", "learning_rate": 1.0e-3},
        "vanishing_gradients",
    ),
    "relu-huge-lr": (
        DIGITS,
        {"layers": 3, "units": 64, "activation": "relu"},
        {"name": "adam", "learning_rate": 0.5},
        "dead_units",
    ),
    "tanh-raw-inputs": (  # breast_cancer's features reach ~4000 when not normalized
        {"source": "breast_cancer", "limit": 300, "normalize": "none"},
        {"layers": 2, "units": 32, "activation": "tanh"},
        {"name": "adam", "learning_rate": 1.0e-3},
        "saturated_units",
    ),
    "healthy-relu": (
        DIGITS,
        {"layers": 3, "units": 64, "activation": "relu", "initializer": "he_normal"},
        {"name": "adam", "learning_rate": [1.0e-3, 3.0e-3]},  # two trials: resume reruns one
        None,
    ),
}


def case_config(name: str, monitor: bool = True) -> dict:
    data, model, optimizer, _ = CASES[name]
    return {
        "name": name,
        "seed": 5,
        "data": data,
        "model": model,
        "optimizer": optimizer,
        "training": {**TRAINING, "monitor_layers": monitor},
        "search": {"strategy": "grid", "max_trials": 2},
    }


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"trial_id": str})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One search per truth case, and their reports (trained once for the module)."""
    root = tmp_path_factory.mktemp("dynamics")
    found = {}
    for name in CASES:
        result = tunenet.search(case_config(name), runs_dir=root, quiet=True)
        found[name] = (result.run_dir, tunenet.report(result.run_dir).to_dict())
    return found


def dynamics_kinds(report: dict, trial_id: str) -> list[str]:
    trial = next(t for t in report["trials"] if t["trial_id"] == trial_id)
    kinds = ("vanishing_gradients", "exploding_gradients", "dead_units", "saturated_units")
    return [f["kind"] for f in trial["findings"] if f["kind"] in kinds]


@pytest.mark.e2e
@pytest.mark.parametrize("name", list(CASES))
def test_each_constructed_network_gets_its_finding(runs, name):
    _, report = runs[name]
    expected = CASES[name][3]
    for trial in report["trials"]:
        assert dynamics_kinds(report, trial["trial_id"]) == ([expected] if expected else [])


@pytest.mark.e2e
def test_findings_carry_evidence_threshold_and_advice(runs):
    _, report = runs["deep-sigmoid"]
    (finding,) = [f for f in report["trials"][0]["findings"] if f["kind"] == "vanishing_gradients"]
    assert finding["layer"] == "dense_0" and finding["threshold"] == 0.01
    assert finding["value"] < 0.001  # measured ~7e-5 (docs/dynamics.md)
    assert "(threshold 0.01)" in finding["text"]
    advice = {a["key"]: a["value"] for a in finding["advice"]}
    assert advice["model.activation"] == "relu" and advice["model.initializer"] == "he_normal"
    _, report = runs["tanh-raw-inputs"]
    (finding,) = [f for f in report["trials"][0]["findings"] if f["kind"] == "saturated_units"]
    assert finding["advice"][0] == {
        "key": "data.normalize",
        "action": "set",
        "value": "standard",
        "text": "Normalize the inputs (large inputs saturate): set data.normalize to standard.",
    }


@pytest.mark.e2e
def test_layers_csv_rows_columns_and_empty_cells(runs):
    run_dir, _ = runs["healthy-relu"]
    layers = read(run_dir / "layers.csv")
    assert tuple(layers.columns) == LAYER_COLUMNS
    # 3 hidden Dense layers + the output layer (the normalization layer has no kernel)
    per_epoch = layers[(layers["trial_id"] == "0") & (layers["epoch"] == 1)]
    assert list(per_epoch["layer"]) == ["dense_0", "dense_1", "dense_2", "output"]
    assert list(per_epoch["units"]) == [64, 64, 64, 10]
    assert len(layers) == 2 * 3 * 4  # trials × epochs × layers
    assert per_epoch["dead_fraction"].iloc[:3].notna().all()  # ReLU units can die
    assert per_epoch["dead_fraction"].iloc[3:].isna().all()  # the output's softmax cannot
    assert layers["saturated_fraction"].isna().all()  # no sigmoid / tanh unit
    assert (layers["grad_norm"] > 0).all() and (layers["update_ratio"] > 0).all()
    _, report = runs["tanh-raw-inputs"]
    tanh = read(runs["tanh-raw-inputs"][0] / "layers.csv")
    assert tanh["dead_fraction"].isna().all()
    assert tanh.loc[tanh["layer"] != "output", "saturated_fraction"].notna().all()


@pytest.mark.e2e
def test_monitoring_does_not_change_training_and_off_writes_no_layers_csv(runs, tmp_path):
    run_dir, _ = runs["healthy-relu"]
    off = tunenet.search(case_config("healthy-relu", monitor=False), runs_dir=tmp_path, quiet=True)
    assert not (off.run_dir / "layers.csv").exists()
    with_monitor = read(run_dir / "epochs.csv").drop(columns="seconds")
    without = read(off.run_dir / "epochs.csv").drop(columns="seconds")
    pd.testing.assert_frame_equal(with_monitor, without)
    report = tunenet.report(off.run_dir).render("markdown")
    assert "Training dynamics" not in report


@pytest.mark.e2e
def test_resume_keeps_finished_rows_and_reruns_the_interrupted_trial_once(runs, tmp_path, capsys):
    source, _ = runs["healthy-relu"]
    run_dir = tmp_path / source.name
    shutil.copytree(source, run_dir)
    before = read(run_dir / "layers.csv")
    trials = read(run_dir / "trials.csv")
    trials.loc[trials["trial_id"] == "1", "status"] = "interrupted"  # killed during trial 1
    trials.to_csv(run_dir / "trials.csv", index=False)
    with open(run_dir / "layers.csv", "a", encoding="utf-8") as file:
        file.write("1,0,3,dense_0,de")  # a line cut by the kill
    tunenet.search(case_config("healthy-relu"), runs_dir=tmp_path, resume=True, quiet=True)
    assert "layers.csv: dropped its last line, cut by a crash." in capsys.readouterr().err
    after = read(run_dir / "layers.csv")
    assert not after.duplicated(["trial_id", "execution", "epoch", "layer"]).any()
    assert len(after) == len(before)
    kept = before[before["trial_id"] == "0"].reset_index(drop=True)
    pd.testing.assert_frame_equal(after[after["trial_id"] == "0"].reset_index(drop=True), kept)


# ---------------------------------------------------------------- the callback on its own


class Rows:
    """A stand-in for layers.csv that keeps the appended rows."""

    def __init__(self):
        self.rows: list[dict] = []

    def append(self, row: dict) -> None:
        self.rows.append(row)


def test_a_conv_filter_dead_at_every_position_counts_as_dead():
    """Filter 0 is negative everywhere (dead), filter 1 positive: one of two filters dead."""
    inputs = keras.Input((6, 6, 1))
    conv = keras.layers.Conv2D(2, 3, padding="same", name="conv_0")
    x = keras.layers.Activation("relu", name="conv_activation_0")(conv(inputs))
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="output")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    kernel = np.zeros((3, 3, 1, 2), "float32")
    kernel[..., 1] = 1.0
    conv.set_weights([kernel, np.array([-1.0, 0.5], "float32")])
    images = np.random.default_rng(0).uniform(0, 1, (16, 6, 6, 1)).astype("float32")
    log = Rows()
    monitor = LayerMonitor(log, "7", 0, Probe(images, np.ones(16, "float32")))
    monitor.set_model(model)
    monitor.on_epoch_begin(0)
    monitor.on_epoch_end(0)
    conv_row, output_row = log.rows
    assert (conv_row["layer"], conv_row["kind"], conv_row["units"]) == ("conv_0", "conv2d", 2)
    assert conv_row["dead_fraction"] == 0.5 and conv_row["saturated_fraction"] is None
    assert conv_row["update_ratio"] == 0.0  # no training between begin and end
    assert output_row["dead_fraction"] is None and output_row["saturated_fraction"] is None
    assert set(conv_row) == set(LAYER_COLUMNS)
