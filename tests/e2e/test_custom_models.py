"""A user's own model end to end (docs/custom-models.md): the Python API with the builder as a
function, then `report` in every format and `refine` on that one run; SIGKILL mid-search and
`--resume` finishing every trial once. Tiny data (200 rows), 2 epochs, 2-3 trials."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

import tunenet
from conftest import REPO
from tunenet.config import load as loader

from .test_reliability import check_consistent, read, start, wait_for_rows

pytestmark = pytest.mark.e2e

FIXTURES = REPO / "tests" / "fixtures" / "custom"
# the dense and CNN families' keys: never named for a custom model (docs/custom-models.md)
FAMILY_KEYS = ("model.layers", "model.units", "model.activation", "model.initializer",
               "model.batch_norm", "model.filters", "model.kernel_size", "model.dense_units")  # fmt: skip


def builder_function():
    """The fixture builder's `build`, imported from its file as a user's script would."""
    spec = importlib.util.spec_from_file_location("g5_custom_builder", FIXTURES / "builder.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build


@pytest.fixture(scope="module")
def api_run(tmp_path_factory: pytest.TempPathFactory) -> tunenet.SearchResult:
    """One tiny search through the Python API, `model.build` a function (shared by the tests)."""
    runs = tmp_path_factory.mktemp("custom-api") / "runs"
    config = {
        "name": "api-custom",
        "seed": 5,
        "data": {"source": "python", "loader": f"{FIXTURES / 'loader.py'}:load"},
        "model": {
            "kind": "custom",
            "build": builder_function(),
            "params": {"units": [4, 8], "depth": {"min": 1, "max": 2}},
        },  # fmt: skip
        "regularization": {"dropout": [0.0, 0.2]},
        "optimizer": {"name": "adam", "learning_rate": 0.01},
        "training": {"epochs": 2, "batch_size": 32, "early_stopping": False},
        "search": {"strategy": "random", "max_trials": 2},
    }
    return tunenet.search(config, runs_dir=runs)


@pytest.mark.slow
def test_api_search_with_a_builder_function_writes_a_custom_run(api_run) -> None:
    trials = api_run.trials
    assert list(trials["status"]) == ["completed", "completed"]
    assert {"hp.model.params.units", "hp.model.params.depth"} <= set(trials.columns)
    assert set(trials["hp.model.params.units"]) <= {4, 8}
    manifest = json.loads((api_run.run_dir / "manifest.json").read_text())
    builder = manifest["model"]["builder"]
    assert builder["spec"].endswith(":build") and len(builder["sha256"]) == 64
    assert "regularization.dropout" in builder["reads"]  # the fixture builder's source names it
    # the run's config names the builder so that it can be imported again (resume, refine)
    written = yaml.safe_load((api_run.run_dir / "config.yaml").read_text())
    assert written["model"]["build"] == builder["spec"]
    layers = pd.read_csv(api_run.run_dir / "layers.csv")
    assert {"hidden_0", "output"} <= set(layers["layer"])  # the builder's Keras layer names


@pytest.mark.slow
@pytest.mark.parametrize("form", ["table", "markdown", "csv", "json", "html"])
def test_report_of_a_custom_run_in_every_format(api_run, form: str, tmp_path: Path, cli) -> None:
    out = tmp_path / f"report.{form}"
    result = cli("report", api_run.run_dir, "--format", form, "--out", out, "--no-plots")
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert "model.params.units" in text  # the builder's knob, as the effects and trials name it
    assert not [key for key in FAMILY_KEYS if key in text]
    if form == "json":
        report = json.loads(text)
        assert report["run"]["model"]["builder"]["spec"].endswith("builder.py:build")
        assert len(report["trials"]) == 2
    if form in ("markdown", "html"):  # (a terminal table may wrap a long path)
        assert "custom" in text and "builder.py:build" in text


@pytest.mark.slow
def test_refine_of_a_custom_run_keeps_the_builder_and_its_params(
    api_run, tmp_path: Path, cli
) -> None:
    out = tmp_path / "refined.yaml"
    result = cli("refine", api_run.run_dir, "--out", out)
    assert result.exit_code == 0, result.stderr
    refined = yaml.safe_load(out.read_text())
    model = refined["model"]
    assert model["kind"] == "custom"
    assert model["build"].endswith("builder.py:build")
    assert set(model["params"]) == {"units", "depth"}  # each knob kept, narrowed or fixed
    units = model["params"]["units"]  # a choice stays among the searched values
    assert set(units if isinstance(units, list) else [units]) <= {4, 8}
    assert not {"layers", "units", "activation"} & set(model)
    config = loader.load_config(out)  # the refined config validates as it is
    assert config.model.kind == "custom"
    checked = cli("validate", out)
    assert checked.exit_code == 0, checked.stderr
    assert "runs build() from" in checked.stdout


KILLED = """
    name: killed
    seed: 7
    data: {{source: python, loader: '{loader}:load'}}
    model:
      kind: custom
      build: '{builder}:build'
      params: {{units: [4, 8, 16], depth: [1, 2]}}
    optimizer: {{name: adam, learning_rate: 0.01}}
    training: {{epochs: 2, batch_size: 32, early_stopping: false}}
    search: {{strategy: random, max_trials: 3}}
"""


@pytest.mark.slow
def test_sigkill_then_resume_finishes_a_custom_search(write_config, tmp_path: Path, cli) -> None:
    text = KILLED.format(loader=FIXTURES / "loader.py", builder=FIXTURES / "builder.py")
    config = write_config(text, name="killed.yaml")
    runs, run = tmp_path / "runs", tmp_path / "runs" / "killed"
    process = start(config, runs)
    wait_for_rows(run / "epochs.csv", 3, process)  # in the second trial
    process.kill()
    process.wait()
    before = read(run / "epochs.csv")
    done = read(run / "trials.csv") if (run / "trials.csv").exists() else before[:0]
    completed = set(done.loc[done["status"] == "completed", "trial_id"])
    assert completed, "the kill point should come after at least one completed trial"

    resumed = cli("search", config, "--runs-dir", runs, "--resume")  # in this process: no start-up
    assert resumed.exit_code == 0, resumed.output
    after = check_consistent(run, 3)  # every trial once, every epoch row once
    trials = read(run / "trials.csv")
    assert not trials["trial_id"].duplicated().any()
    assert set(trials["hp.model.params.units"]) <= {4, 8, 16}
    # the trials completed before the kill were not trained again
    same = before[before["trial_id"].isin(completed)].reset_index(drop=True)
    kept = after[after["trial_id"].isin(completed)].reset_index(drop=True)
    pd.testing.assert_frame_equal(same, kept)
