"""search.keep: simplest_tied (docs/guide.md, "When to stop, what it costs, what to keep"): best/
holds the model of the simplest trial tied with the best, as trials.csv and the report name it."""

from __future__ import annotations

import json
import zipfile

import pandas as pd
import pytest

from tunenet.config.objective import Objective
from tunenet.runs.simplest import kept_trial

# Three widths on iris, two epochs: 2 units learn little (far worse than the best), 16 and 128
# units are close, and 45 validation rows cannot tell them apart: the 16-unit network is tied.
CONFIG = """\
name: keep
seed: 3
data: {source: iris, split: {validation: 0.3, test: 0.2}}
model: {layers: 1, units: [2, 16, 128]}
optimizer: {name: adam, learning_rate: 0.02}
training: {epochs: 2, batch_size: 16, early_stopping: false, monitor_layers: false}
search: {strategy: grid, max_trials: 3, keep: simplest_tied}
"""


def dense_units(model_file) -> list[int]:
    """The units of each Dense layer of a saved .keras model, read without TensorFlow."""
    with zipfile.ZipFile(model_file) as archive:
        config = json.loads(archive.read("config.json"))
    layers = config["config"]["layers"]
    return [layer["config"]["units"] for layer in layers if layer["class_name"] == "Dense"]


@pytest.mark.e2e
@pytest.mark.slow
def test_best_holds_the_simplest_tied_trial(tmp_path, cli):
    config = tmp_path / "keep.yaml"
    config.write_text(CONFIG)
    result = cli("search", config, "--runs-dir", tmp_path / "runs")
    assert result.exit_code == 0, result.stderr
    run = tmp_path / "runs" / "keep"
    trials = pd.read_csv(run / "trials.csv", dtype={"trial_id": str})
    rows = trials.to_dict("records")
    manifest = json.loads((run / "manifest.json").read_text())
    chosen = kept_trial(rows, "simplest_tied", Objective("val_accuracy", "max"), False)
    assert manifest["kept"] == {"rule": "simplest_tied", "trial_id": chosen}
    assert chosen != manifest["best_trial"]  # a smaller network tied with the best
    row = trials.set_index("trial_id").loc[chosen]
    assert row["params"] < trials.set_index("trial_id").loc[manifest["best_trial"], "params"]
    # best/ holds that trial's own trained model: its width, byte for byte its saved file
    model = run / "best" / "model.keras"
    assert dense_units(model)[0] == row["hp.model.units.0"]
    assert model.read_bytes() == (run / "tuner" / "models" / f"trial_{chosen}.keras").read_bytes()
    # its confusion matrix and test error, the model's own
    confusion = json.loads((run / "best" / "confusion.json").read_text())
    assert confusion["trial_id"] == chosen
    matrix = confusion["splits"]["val"]
    accuracy = sum(matrix[i][i] for i in range(3)) / sum(map(sum, matrix))
    assert accuracy == pytest.approx(1 - row["val_error"], abs=1e-6)
    assert trials.loc[trials["test_error"].notna(), "trial_id"].tolist() == [chosen]
    # the search's end and the report say so
    assert f"kept trial {chosen}, the simplest tied" in " ".join(result.stdout.split())
    report = cli("report", run, "--no-plots", "--format", "json")
    document = json.loads(report.stdout)
    assert document["kept"] == {"rule": "simplest_tied", "trial_id": chosen}
    assert document["simplest_tied"]["trial_id"] == chosen
