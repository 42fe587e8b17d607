"""Searches over a user's own model (docs/custom-models.md): failures stay in their trial,
layers.csv covers recurrent and nested layers, the best model loads without tunenet, and
workers import the builder themselves."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO, tunenet_command

BUILDERS = REPO / "tests" / "fixtures" / "custom" / "builders"
SEQUENCES = f"{BUILDERS / 'sequences.py'}:load"

CONFIG = """
    name: {name}
    seed: 3
    data: {data}
    model:
      kind: custom
      build: {build}
      params: {params}
    optimizer: {{name: adam, learning_rate: 0.01}}
    training: {{epochs: {epochs}, batch_size: 32, early_stopping: false}}
    search: {{strategy: {strategy}, max_trials: {trials}}}
"""


def write(write_config, name, build, params="{units: [3, 5]}", data=None, epochs=1,
          strategy="grid", trials=10):  # fmt: skip
    data = data or f"{{source: python, loader: '{SEQUENCES}'}}"
    text = CONFIG.format(name=name, data=data, build=build, params=params, epochs=epochs,
                         strategy=strategy, trials=trials)  # fmt: skip
    return write_config(text, name=f"{name}.yaml")


def search(*args, timeout=400) -> subprocess.CompletedProcess:
    """A search in its own process, where the process matters (workers); the other tests
    search in this process (the `cli` fixture), without a TensorFlow start-up each."""
    return subprocess.run(tunenet_command("search", *args), capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"trial_id": str})


@pytest.mark.e2e
def test_a_raising_builder_fails_its_trials_and_three_in_a_row_stop_the_search(
    write_config, tmp_path, cli
):
    config = write(write_config, "raising", f"'{BUILDERS / 'broken.py'}:raises'",
                   params="{units: {min: 1, max: 9}}", strategy="random", trials=10)  # fmt: skip
    result = cli("search", config, "--runs-dir", tmp_path)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "failed in a row" in result.output
    trials = read(tmp_path / "raising" / "trials.csv")
    assert set(trials["status"]) == {"failed"}
    assert len(trials) == 4  # more than search.max_consecutive_failed_trials (3)
    for units, message in zip(trials["hp.model.params.units"], trials["message"], strict=True):
        assert message == (
            f"model.build raises raised ValueError: units must be even, got {units} (broken.py:7)"
        )


@pytest.mark.e2e
@pytest.mark.parametrize(
    "function, expected",
    [
        ("not_a_model", "model.build not_a_model returned dict, expected a keras.Model"),
        ("wrong_shape", "output shape is (None, 8, 14); a multiclass task needs (None, 10)"),
    ],
)
def test_a_builder_returning_no_trainable_model_fails_with_a_message(
    write_config, tmp_path, cli, function, expected
):
    config = write(write_config, function, f"'{BUILDERS / 'broken.py'}:{function}'",
                   params="{units: 3}", trials=1)  # fmt: skip
    result = cli("search", config, "--runs-dir", tmp_path)
    assert result.exit_code == 1, result.output  # no trial completed
    assert "Traceback" not in result.output
    trials = read(tmp_path / function / "trials.csv")
    assert list(trials["status"]) == ["failed"]
    assert expected in trials["message"][0]


@pytest.mark.e2e
@pytest.mark.slow
def test_an_lstm_on_sequences_writes_layers_csv_by_keras_layer_name(write_config, tmp_path, cli):
    config = write(write_config, "lstm", f"'{BUILDERS / 'lstm.py'}:build'", epochs=2)
    result = cli("search", config, "--runs-dir", tmp_path)
    assert result.exit_code == 0, result.output
    run = tmp_path / "lstm"
    trials = read(run / "trials.csv")
    assert list(trials["status"]) == ["completed", "completed"]
    assert sorted(trials["hp.model.params.units"]) == [3, 5]
    layers = read(run / "layers.csv")
    assert list(layers.groupby("trial_id").size()) == [6, 6]  # 3 layers x 2 epochs
    first = layers[(layers["trial_id"] == trials["trial_id"][0]) & (layers["epoch"] == 1)]
    assert list(first["layer"]) == ["recurrent", "head", "output"]
    assert list(first["kind"]) == ["lstm", "dense", "dense"]
    units = int(trials["hp.model.params.units"][0])
    assert list(first["units"]) == [units, 8, 10]
    assert (first["grad_norm"] > 0).all() and (first["weight_norm"] > 0).all()
    assert first["dead_fraction"].isna().tolist() == [True, False, True]  # relu head only


@pytest.mark.e2e
@pytest.mark.slow
def test_a_two_branch_model_trains_and_its_best_model_loads_without_tunenet(
    write_config, tmp_path, cli, no_tensorflow_env
):
    config = write(write_config, "branches", f"'{BUILDERS / 'two_branch.py'}:build'",
                   data="{source: breast_cancer, limit: 200}", epochs=2)  # fmt: skip
    result = cli("search", config, "--runs-dir", tmp_path)
    assert result.exit_code == 0, result.output
    run = tmp_path / "branches"
    layers = read(run / "layers.csv")
    assert {"deep_1", "deep_2", "wide", "output"} <= set(layers["layer"])
    code = (
        "import sys, json, numpy as np, keras\n"
        "model = keras.models.load_model(sys.argv[1], safe_mode=True)\n"
        "raw = np.full((3, 30), 100.0, dtype='float32')\n"
        "print(json.dumps({'shape': list(model.predict(raw, verbose=0).shape),\n"
        "                  'tunenet': 'tunenet' in sys.modules,\n"
        "                  'layers': [type(layer).__name__ for layer in model.layers]}))\n"
    )
    env = {key: value for key, value in no_tensorflow_env.items() if key != "PYTHONPATH"}
    loaded = subprocess.run([sys.executable, "-c", code, run / "best" / "model.keras"],
                            capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    found = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert found == {"shape": [3, 1], "tunenet": False,
                     "layers": ["InputLayer", "Normalization", "Functional"]}  # fmt: skip


@pytest.mark.e2e
@pytest.mark.slow
def test_two_workers_each_import_the_builder(write_config, tmp_path):
    config = write(write_config, "workers", f"'{BUILDERS / 'lstm.py'}:build'",
                   params="{units: [2, 3, 4, 5]}")  # fmt: skip
    result = search(config, "--runs-dir", tmp_path, "--workers", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    run = tmp_path / "workers"
    trials = read(run / "trials.csv")
    assert list(trials["status"]) == ["completed"] * 4
    assert sorted(trials["hp.model.params.units"]) == [2, 3, 4, 5]
    logs = sorted((run / "tuner" / "workers").glob("*.log"))
    assert [log.name for log in logs] == ["tuner0.log", "tuner1.log"]
    assert set(read(run / "layers.csv")["layer"]) == {"recurrent", "head", "output"}
