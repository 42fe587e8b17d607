"""`tunenet learning-curve RUN`: the best trial retrained on growing data (docs/guide.md).

Fast tests check the input (fractions, run directory, subset sizes: all refused before
TensorFlow loads) and the subsets; two small searches (module fixtures, e2e) check the curve a
user gets where more data clearly helps (an MLP on digits) and where it clearly does not (a
linear model on circles, which it cannot separate).
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import tunenet_command
from tunenet.cli import app
from tunenet.config import load as loader
from tunenet.runs import RunDir
from tunenet.runs.insight import LEARNING_CURVE_COLUMNS
from tunenet.studies.learning_curve import nested_order, plan_subsets, trial_values


def invoke(*args: object):
    return CliRunner().invoke(app, [str(arg) for arg in args], catch_exceptions=False)


# ---------------------------------------------------------------- input, without training

TRIALS_HEADER = "trial_id,status,hp.model.units.0,objective,train_error,val_error,seed\n"


def hand_made_run(root: Path, trials: str) -> Path:
    """A run directory as a search leaves it, for an MLP on digits (nothing trained)."""
    run = root / "runs" / "digits-mlp"
    run.mkdir(parents=True)
    (run / "resolved.yaml").write_text(
        textwrap.dedent(
            """
            name: digits-mlp
            seed: 3
            data: {source: digits}
            model: {layers: 1, units: [16, 32]}
            training: {epochs: 2}
            """
        )
    )
    (run / "manifest.json").write_text(
        json.dumps({"format_version": 1, "name": "digits-mlp", "best_trial": "0000"})
    )
    (run / "trials.csv").write_text(TRIALS_HEADER + trials)
    return run


@pytest.mark.parametrize(
    ("fractions", "said"),
    [
        ("0.5,0.25,1.0", "expected increasing fractions without duplicates, e.g. --fractions "
         "0.25,0.5,1"),
        ("0.5,0.5", "expected increasing fractions without duplicates"),
        ("0,0.5", "0 is not in (0, 1]"),
        ("0.5,1.5", "1.5 is not in (0, 1]"),
        ("half,1", "expected comma-separated numbers in (0, 1]"),
    ],
)  # fmt: skip
def test_bad_fractions_exit_2_naming_them(tmp_path: Path, fractions: str, said: str) -> None:
    run = hand_made_run(tmp_path, "0000,completed,16,0.9,0.01,0.1,7\n")
    result = invoke("learning-curve", run, "--fractions", fractions)
    assert result.exit_code == 2
    assert f"--fractions {fractions.split(',')[0]}" in result.stderr or fractions in result.stderr
    assert said in result.stderr
    assert "Traceback" not in result.stderr
    assert not (run / "learning_curve.csv").exists()


def test_the_python_api_raises_instead_of_exiting(tmp_path: Path) -> None:
    from tunenet import api
    from tunenet.errors import RunDirError, TunenetError

    run = hand_made_run(tmp_path, "0000,completed,16,0.9,0.01,0.1,7\n")
    with pytest.raises(TunenetError, match=r"--fractions 1,0.5: expected increasing"):
        api.learning_curve(run, fractions=(1.0, 0.5))
    with pytest.raises(RunDirError, match="no such run directory"):
        api.learning_curve(tmp_path / "nowhere")


def test_not_a_run_directory_exits_2(tmp_path: Path) -> None:
    result = invoke("learning-curve", tmp_path / "nowhere")
    assert result.exit_code == 2
    assert "nowhere: no such run directory" in result.stderr
    (tmp_path / "plain").mkdir()
    result = invoke("learning-curve", tmp_path / "plain")
    assert result.exit_code == 2
    assert "is not a tunenet run directory (no manifest.json and no resolved.yaml)" in result.stderr


def test_no_completed_trial_exits_2(tmp_path: Path) -> None:
    run = hand_made_run(tmp_path, "0000,failed,16,,,,7\n")
    result = invoke("learning-curve", run)
    assert result.exit_code == 2
    assert "trials.csv: no completed trial to retrain" in result.stderr
    assert "tunenet search CONFIG --resume" in result.stderr
    assert sorted(p.name for p in run.iterdir()) == ["manifest.json", "resolved.yaml", "trials.csv"]


def test_an_unwritable_run_directory_exits_2_before_training(tmp_path: Path, monkeypatch) -> None:
    from tunenet.studies import learning_curve as module

    run = hand_made_run(tmp_path, "0000,completed,16,0.9,0.01,0.1,7\n")
    monkeypatch.setattr(module, "writable", lambda path: False)  # root may write anywhere
    result = invoke("learning-curve", run)
    assert result.exit_code == 2
    assert f"{run}: not writable; learning_curve.csv goes there." in result.stderr
    assert "fix the permissions" in result.stderr


def test_too_few_examples_exit_2_before_tensorflow(tmp_path: Path, no_tensorflow_env) -> None:
    """digits: 1,077 training examples; 0.005 of them is 5, fewer than its 10 classes."""
    run = hand_made_run(tmp_path, "0000,completed,16,0.9,0.01,0.1,7\n")
    command = tunenet_command("learning-curve", run, "--fractions", "0.005,1.0")
    result = subprocess.run(command, env=no_tensorflow_env, capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    assert "--fractions: 0.005 of the 1,077 training examples is 5" in result.stderr
    assert "fewer than the 10 a fit needs" in result.stderr
    assert "Use fractions of at least 0.01" in result.stderr
    assert "blocked" not in result.stderr  # TensorFlow was never imported
    assert not (run / "learning_curve.csv").exists()


def test_trial_values_are_typed_as_the_search_drew_them(tmp_path: Path) -> None:
    config = loader.validate_dict(
        {
            "data": {"source": "digits"},
            "model": {"layers": [1, 2], "units": [16, 32], "batch_norm": [True, False]},
            "optimizer": {"name": ["adam", "sgd"], "learning_rate": {"min": 1e-4, "max": 1e-1}},
        },
        source="test",
    )
    row = {
        "trial_id": "0003", "hp.model.layers": "1", "hp.model.units.0": "32",
        "hp.model.units.1": "", "hp.model.batch_norm": "False", "hp.optimizer.name": "adam",
        "hp.optimizer.learning_rate": "0.0031",
    }  # fmt: skip
    values = trial_values(config, row, RunDir(tmp_path))
    assert values == {
        "model.layers": 1, "model.units.0": 32, "model.batch_norm": False,
        "optimizer.name": "adam", "optimizer.learning_rate": 0.0031,
    }  # fmt: skip
    assert type(values["model.units.0"]) is int


def test_subsets_are_nested_stratified_and_in_split_order() -> None:
    y = np.array([0] * 900 + [1] * 100)
    subsets = plan_subsets(y, (0.1, 0.5, 1.0), seed=4, classes=["a", "b"])
    assert [len(s) for s in subsets] == [100, 500, 1000]
    for small, large in zip(subsets, subsets[1:], strict=False):
        assert set(small) <= set(large)  # a larger fraction holds every smaller one
    assert [int((y[s] == 1).sum()) for s in subsets] == [10, 50, 100]  # 10% of each class
    assert all((np.diff(s) > 0).all() for s in subsets)  # the split's own order
    assert list(subsets[-1]) == list(range(1000))
    # the same seed gives the same subsets; another seed other ones
    assert (plan_subsets(y, (0.1,), seed=4, classes=["a", "b"])[0] == subsets[0]).all()
    assert set(nested_order(y, 5, True)[:100]) != set(nested_order(y, 4, True)[:100])


# ---------------------------------------------------------------- two small real curves

DIGITS = """\
    name: digits-mlp
    seed: 1
    data: {source: digits}
    model: {layers: 1, units: 64}
    optimizer: {name: adam, learning_rate: 0.003}
    regularization: {l2: 0.0, dropout: 0.0}
    training: {epochs: 20, batch_size: 32, early_stopping: {patience: 5}, monitor_layers: false}
    search: {strategy: grid, max_trials: 1}
"""
CIRCLES = """\
    name: circles-linear
    seed: 1
    data: {source: circles}
    model: {layers: 0}
    optimizer: {name: adam, learning_rate: 0.01}
    regularization: {l2: 0.0, dropout: 0.0}
    training: {epochs: 20, batch_size: 32, early_stopping: {patience: 3}, monitor_layers: false}
    search: {strategy: grid, max_trials: 1}
"""


def searched(root: Path, text: str) -> Path:
    config = root / "config.yaml"
    config.write_text(textwrap.dedent(text))
    result = invoke("search", config, "--runs-dir", root / "runs", "--quiet")
    assert result.exit_code == 0, result.stderr
    return root / "runs" / str(loader.load_config(config).name)


@pytest.fixture(scope="module")
def digits_curve(tmp_path_factory: pytest.TempPathFactory):
    """An MLP on digits, retrained on 0.1, 0.25 and all of its 1,077 training examples."""
    run = searched(tmp_path_factory.mktemp("digits"), DIGITS)
    before = {p.name for p in run.iterdir()}
    result = invoke("learning-curve", run, "--fractions", "0.1,0.25,1.0")
    return run, before, result


@pytest.fixture(scope="module")
def circles_curve(tmp_path_factory: pytest.TempPathFactory):
    """A linear model (model.layers: 0) on circles, on the default fractions."""
    run = searched(tmp_path_factory.mktemp("circles"), CIRCLES)
    return run, invoke("learning-curve", run)


def read_curve(run: Path) -> pd.DataFrame:
    return pd.read_csv(run / "learning_curve.csv")


@pytest.mark.e2e
def test_more_data_helps_an_mlp_on_digits(digits_curve) -> None:
    run, before, result = digits_curve
    assert result.exit_code == 0, result.stderr
    table = read_curve(run)
    assert list(table.columns) == list(LEARNING_CURVE_COLUMNS)
    assert list(table["fraction"]) == [0.1, 0.25, 1.0]
    assert list(table["examples"]) == [108, 269, 1077]
    assert (table["val_error_low"] <= table["val_error"]).all()
    assert (table["val_error"] <= table["val_error_high"]).all()
    assert table["val_error"].iloc[0] > table["val_error"].iloc[-1] + 0.05  # the curve falls
    said = " ".join(result.stdout.split())  # the verdict wraps at words to the width
    assert "More data helps: yes." in said
    assert "(curves apart)" in said and "more data is likely to help" in said
    assert max(len(line) for line in result.stdout.splitlines()) <= 160  # piped: 160 columns
    assert "fraction" in result.stdout and "1,077" in result.stdout
    # only the curve and its plot were added; no temp file is left behind
    added = {p.name for p in run.iterdir()} - before
    assert added == {"learning_curve.csv", "learning_curve.png"}
    assert (run / "learning_curve.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.e2e
def test_the_whole_split_reproduces_the_best_trial(digits_curve) -> None:
    """Fraction 1.0 is the search's fit again: same data, seed, epochs and early stopping."""
    run, _, _ = digits_curve
    trials = pd.read_csv(run / "trials.csv", dtype={"trial_id": str})
    last = read_curve(run).iloc[-1]
    assert last["examples"] == trials["train_n"].iloc[0]
    assert last["val_error"] == pytest.approx(trials["val_error"].iloc[0], abs=1e-6)
    assert last["train_error"] == pytest.approx(trials["train_error"].iloc[0], abs=1e-6)


@pytest.mark.e2e
def test_the_report_shows_the_verdict(digits_curve) -> None:
    run, _, _ = digits_curve
    result = invoke("report", run, "--format", "json", "--no-plots")
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)["learning_curve"]
    assert found["more_data_helps"] is True
    assert [row["examples"] for row in found["rows"]] == [108, 269, 1077]
    result = invoke("report", run, "--no-plots")
    assert "Learning curve (will more data help?)" in result.stdout


@pytest.mark.e2e
def test_interrupting_leaves_the_previous_curve(digits_curve, monkeypatch) -> None:
    """Ctrl-C during the second fit: exit 130, learning_curve.csv as it was, no temp file."""
    from tunenet.studies import learning_curve as module

    run, _, _ = digits_curve
    kept = (run / "learning_curve.csv").read_bytes()
    fit, calls = module._Fitter.fit, []

    def interrupted(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(module._Fitter, "fit", interrupted)
    result = invoke("learning-curve", run, "--fractions", "0.1,0.2")
    assert result.exit_code == 130
    assert "interrupted" in result.stderr
    assert (run / "learning_curve.csv").read_bytes() == kept
    assert not [p for p in run.iterdir() if p.name.startswith(".learning_curve")]


@pytest.mark.e2e
def test_more_data_does_not_help_a_linear_model_on_circles(circles_curve) -> None:
    run, result = circles_curve
    assert result.exit_code == 0, result.stderr
    table = read_curve(run)
    assert list(table["fraction"]) == [0.1, 0.25, 0.5, 1.0]
    assert list(table["examples"]) == [60, 150, 300, 600]
    assert table["val_error"].between(0.35, 0.65).all()  # no line separates two circles
    said = " ".join(result.stdout.split())  # the verdict wraps at words to the width
    assert "More data helps: no." in said
    assert "no sign that the curves are apart" in said
    assert "no sign that more data would help" in said
