"""What runs before the strategy's own trials: search.enqueue (checked against the space by
validate), search.warm_start's best fitting trials of an earlier run, and --retry-failed."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Optional

import pytest
import yaml

from tunenet.config import load as loader
from tunenet.config import space
from tunenet.config.enqueue import fill
from tunenet.config.objective import Objective
from tunenet.errors import ConfigError
from tunenet.tuning import replay

from .test_oracles import run_trials

SPACE = {
    "data": {"source": "iris"},
    "model": {"layers": {"min": 1, "max": 2}, "units": [4, 8, 16]},
    "optimizer": {
        "name": ["adam", "sgd"],
        "learning_rate": {"min": 1.0e-3, "max": 1.0e-1, "sampling": "log"},
    },
    "training": {"batch_size": {"min": 16, "max": 64, "step": 16}},
}


def config_of(**search: object):
    return loader.validate_dict({**SPACE, "search": {"max_trials": 6, **search}})


def problems_of(entries: Optional[list[dict]], **search: object) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        config_of(**({"enqueue": entries} if entries is not None else {}), **search)
    return {problem.key: problem.message for problem in caught.value.errors}


# ---------------------------------------------------------------- validate


def test_validate_accepts_values_that_fit_and_fills_the_rest_with_defaults():
    config = config_of(enqueue=[{"model.layers": 2, "model.units.1": 16, "optimizer.name": "sgd"}])
    entry = fill(space.build_space(config), config.search.enqueue[0])
    assert entry == {
        "model.layers": 2,
        "model.units.0": 4,  # the list's first value
        "model.units.1": 16,
        "optimizer.name": "sgd",
        "optimizer.learning_rate": 1.0e-3,  # the range's min
        "training.batch_size": 16,
    }


def test_validate_names_each_bad_value_with_what_fits():
    found = problems_of(
        [
            {"model.unit.0": 8},
            {"optimizer.name": "rmsprop"},
            {"optimizer.learning_rate": 0.5},
            {"model.units.2": 8},
            {"training.batch_size": 40},
            {"model.units.0": "8"},
        ]
    )
    assert found == {
        "search.enqueue[0].model.unit.0": (
            "got 8: not a hyperparameter of this config; did you mean model.units.0? (tuned: "
            "model.layers, model.units.0, model.units.1, optimizer.name, "
            "optimizer.learning_rate, training.batch_size)"
        ),
        "search.enqueue[1].optimizer.name": "got 'rmsprop': not in [adam, sgd]",
        "search.enqueue[2].optimizer.learning_rate": "got 0.5: outside 0.001 .. 0.1 (log)",
        "search.enqueue[3].model.units.2": (
            "got 8: beyond the 2 layer(s) model.layers allows: per-layer names go up to "
            "model.units.1"
        ),
        "search.enqueue[4].training.batch_size": "got 40: not on the steps of 16 .. 64 step 16",
        "search.enqueue[5].model.units.0": "got '8': not in [4, 8, 16]",
    }


def test_validate_refuses_a_layer_the_entrys_own_layer_count_does_not_have():
    found = problems_of([{"model.layers": 1, "model.units.1": 8}, {"model.units.1": 8}])
    assert found["search.enqueue[0].model.units.1"].startswith(
        "got 8: not used when model.layers is 1; used with model.layers in [2]"
    )
    assert "(its default; give model.layers)" in found["search.enqueue[1].model.units.1"]


def test_a_fixed_key_may_be_given_its_own_value_only():
    config_of(enqueue=[{"model.activation": "relu", "model.units.0": 8}])
    found = problems_of([{"model.activation": "tanh"}])
    assert found == {
        "search.enqueue[0].model.activation": "got 'tanh': not tuned: this config fixes it at relu"
    }


@pytest.mark.parametrize(
    "key, value", [("enqueue", [{"model.units.0": 8}]), ("warm_start", "runs/old")]
)
def test_hyperband_refuses_runs_first(key, value):
    found = problems_of(None, **{key: value, "strategy": "hyperband"})
    assert "hyperband trains its trials in brackets" in found[f"search.{key}"]


def test_validate_cli_exits_2_naming_the_entry(cli, write_config):
    raw = {**SPACE, "search": {"enqueue": [{"model.units.0": 8}, {"optimizer.name": "nadam"}]}}
    result = cli("validate", write_config(yaml.safe_dump(raw)))
    assert result.exit_code == 2
    assert "search.enqueue[1].optimizer.name: got 'nadam': not in [adam, sgd]" in result.stderr


# ---------------------------------------------------------------- warm start


def write_old_run(folder: Path, rows: list[str], objective: str = "val_accuracy") -> Path:
    folder.mkdir(parents=True)
    header = "trial_id,status,hp.model.units.0,hp.optimizer.name,hp.optimizer.learning_rate,"
    (folder / "trials.csv").write_text(
        header + "train_error,val_error,objective\n" + "".join(f"{row}\n" for row in rows)
    )
    (folder / "manifest.json").write_text(
        f'{{"objective": {{"name": "{objective}", "direction": "max"}}}}'
    )
    return folder


OLD_ROWS = [
    "0,completed,8,adam,0.01,0.1,0.2,0.80",
    "1,completed,16,rmsprop,0.01,0.1,0.1,0.90",  # the best, but rmsprop is not in this space
    "2,failed,4,adam,0.01,,,",
    "3,completed,4,sgd,0.002,0.1,0.15,0.85",
    "4,completed,32,adam,0.01,0.1,0.3,0.70",  # units 32: not in [4, 8, 16]
]


def test_warm_start_takes_the_best_fitting_trials_and_names_the_skipped(tmp_path):
    old = write_old_run(tmp_path / "old", OLD_ROWS)
    config = config_of(warm_start=str(old), warm_start_top=2)
    found = replay.warm_start(config)
    assert found.trial_ids == ["3", "0"]  # by objective, best first; trial 1 left out
    assert found.entries == [
        {"model.units.0": 4, "optimizer.name": "sgd", "optimizer.learning_rate": 0.002},
        {"model.units.0": 8, "optimizer.name": "adam", "optimizer.learning_rate": 0.01},
    ]
    assert found.skipped == ["trial 1: optimizer.name=rmsprop is not in [adam, sgd]"]


def test_warm_start_top_larger_than_the_fitting_trials_takes_them_all(tmp_path):
    old = write_old_run(tmp_path / "old", OLD_ROWS)
    found = replay.warm_start(config_of(warm_start=str(old), warm_start_top=5))
    assert found.trial_ids == ["3", "0"]
    assert found.skipped[1] == "trial 4: model.units.0=32 is not in [4, 8, 16]"


def test_a_missing_warm_start_run_is_a_config_error_naming_the_key(tmp_path):
    config = config_of(warm_start=str(tmp_path / "absent"))
    with pytest.raises(ConfigError) as caught:
        replay.check(config, resume=False, retry_failed=False)
    assert caught.value.errors[0].key == "search.warm_start"
    assert "no such run directory" in str(caught.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="search.warm_start: .*has no trials.csv"):
        replay.check(config_of(warm_start=str(tmp_path / "empty")), False, False)


def test_retry_failed_needs_resume_and_a_strategy_that_can_retry():
    with pytest.raises(ConfigError, match="--retry-failed: needs --resume"):
        replay.check(config_of(), resume=False, retry_failed=True)
    hyperband = config_of(strategy="hyperband")
    with pytest.raises(ConfigError, match="--retry-failed: cannot run trials again"):
        replay.check(hyperband, resume=True, retry_failed=True)


def test_search_cli_refuses_retry_failed_without_resume(cli, write_config):
    result = cli("search", write_config(yaml.safe_dump(SPACE)), "--retry-failed")
    assert result.exit_code == 2
    assert "--retry-failed needs --resume" in result.stderr


# ---------------------------------------------------------------- the queue


def test_failed_rows_already_retried_are_not_retried_again():
    rows = [
        {"trial_id": "0", "status": "failed", "retry_of": ""},
        {"trial_id": "1", "status": "completed", "retry_of": ""},
        {"trial_id": "2", "status": "failed", "retry_of": ""},
        {"trial_id": "3", "status": "failed", "retry_of": "00"},  # "00" is trial "0"
    ]
    assert [row["trial_id"] for row in replay.failed_to_retry(rows)] == ["2", "3"]
    assert [row["trial_id"] for row in replay.failed_to_retry(rows[:3])] == ["0", "2"]


def test_a_hand_overs_successor_retries_no_trial_that_failed_in_the_same_search():
    rows = [
        {"trial_id": "0", "status": "failed", "started_at": "2026-01-01T10:00:00.000+00:00"},
        {"trial_id": "1", "status": "failed", "retry_of": "0",
         "started_at": "2026-01-01T12:00:01.000+00:00"},
    ]  # fmt: skip
    began = datetime.fromisoformat("2026-01-01T12:00:00+00:00").timestamp()
    assert replay.failed_to_retry(rows, since=began) == []
    assert [row["trial_id"] for row in replay.failed_to_retry(rows)] == ["1"]


def test_queue_runs_retries_then_entries_each_once():
    plan = replay.FirstTrials(
        retries=[("2", {"a": 1})], entries=[{"a": 5}, {"a": 0.1 + 0.2}], known=3
    )
    old = [{"a": 1}, {"a": 2}, {"a": 1}]
    assert plan.next(old) == {"a": 1, replay.RETRY_KEY: "2"}
    old.append({"a": 1, replay.RETRY_KEY: "2"})
    assert plan.next(old) == {"a": 5}
    old.append({"a": 5})
    old.append({"a": 0.3})  # trials.csv's 8 digits: the same configuration
    assert plan.next(old) is None
    assert plan.is_entry({"a": 5}) and not plan.is_entry({"a": 6})


def test_retries_wait_for_a_rebuilt_oracle_to_catch_up_with_trials_csv():
    plan = replay.FirstTrials(retries=[("1", {"a": 1})], entries=[{"a": 7}], known=3)
    assert plan.next([]) == {"a": 7}  # an entry keeps its place in a rebuilt oracle
    assert plan.next([{"a": 7}, {"a": 1}, {"a": 2}]) == {"a": 1, replay.RETRY_KEY: "1"}


# ---------------------------------------------------------------- on a keras-tuner oracle


def fake_context(config, rows: list[dict], retry_failed: bool = False) -> SimpleNamespace:
    notes: list[str] = []
    return SimpleNamespace(
        config=config,
        space=space.build_space(config),
        trials=SimpleNamespace(rows={row["trial_id"]: row for row in rows}),
        retry_failed=retry_failed,
        planned=config.search.max_trials,
        events=SimpleNamespace(on_note=notes.append),
        notes=notes,
    )


@pytest.mark.parametrize("strategy", ["random", "bayesian", "grid"])
def test_the_oracle_proposes_the_entries_first_in_order(tmp_path, strategy):
    from tunenet.tuning.oracles import make_oracle

    entries = [
        {"model.layers": 2, "model.units.1": 16, "optimizer.learning_rate": 0.01},
        {"optimizer.name": "sgd", "training.batch_size": 64},
    ]
    grid = {"optimizer": {**SPACE["optimizer"], "learning_rate": [0.001, 0.01]}}
    config = loader.validate_dict(
        {**SPACE, **(grid if strategy == "grid" else {}),
         "search": {"strategy": strategy, "max_trials": 4, "enqueue": entries}}
    )  # fmt: skip
    oracle = make_oracle(config, space.build_space(config), Objective("val_accuracy", "max"))
    oracle._set_project_dir(str(tmp_path), "tuner")
    oracle.max_trials = 4
    replay.attach(oracle, fake_context(config, []))
    seen = run_trials(oracle, 10)
    hps = space.build_space(config)
    assert seen[:2] == [fill(hps, entry) for entry in entries]
    assert len(seen) == 4
    assert all(fill(hps, entry) not in seen[2:] for entry in entries)


def test_retried_trials_carry_retry_of_and_do_not_count_toward_max_trials(tmp_path):
    from tunenet.tuning.oracles import make_oracle

    config = config_of(max_trials=2)
    rows = [
        {"trial_id": "0", "status": "failed", "retry_of": "", "hp.model.layers": "1",
         "hp.model.units.0": "16", "hp.model.units.1": "", "hp.optimizer.name": "sgd",
         "hp.optimizer.learning_rate": "0.05", "hp.training.batch_size": "32"},
    ]  # fmt: skip
    oracle = make_oracle(config, space.build_space(config), Objective("val_accuracy", "max"))
    oracle._set_project_dir(str(tmp_path), "tuner")
    oracle.max_trials = 2
    context = fake_context(config, rows, retry_failed=True)
    run_trials(oracle, 1)  # the failed trial, as the resumed oracle knows it
    replay.attach(oracle, context)
    seen = run_trials(oracle, 10)
    assert seen[0] == {
        "model.layers": 1, "model.units.0": 16, "optimizer.name": "sgd",
        "optimizer.learning_rate": 0.05, "training.batch_size": 32, replay.RETRY_KEY: "0",
    }  # fmt: skip
    assert len(seen) == 2  # the retry, and the one trial max_trials still allows
    retried = oracle.trials[sorted(oracle.trials)[1]]
    assert replay.retry_of(retried) == "0"
    assert context.notes == ["--retry-failed: trial(s) 0 run again"]
    assert context.planned == 3


def test_retry_of_reaches_a_worker_and_a_resumed_oracle():
    """A worker gets its trial over gRPC (keras-tuner's proto), a resumed oracle from its state
    file: both keep the retried trial's `retry_of`, which the trial's row is written from."""
    import keras_tuner as kt
    from keras_tuner.src.engine.trial import Trial

    hps = kt.HyperParameters()
    hps.Choice("model.units.0", [4, 8])
    hps.values = {"model.units.0": 8, replay.RETRY_KEY: "03"}
    trial = Trial(hps, trial_id="05", status="RUNNING")
    assert replay.retry_of(Trial.from_proto(trial.to_proto())) == "03"
    assert replay.retry_of(Trial.from_state(trial.get_state())) == "03"
    assert replay.retry_of(Trial(kt.HyperParameters(), trial_id="06")) == ""


# ---------------------------------------------------------------- end to end

BUILDER = '''
import csv
from pathlib import Path

import keras


def build(params, data):
    """A Dense network `units` wide; units 3 fails while the file `fail` sits beside it."""
    if params["units"] == 3 and (Path(__file__).parent / "fail").exists():
        raise ValueError("units 3 fails while the file 'fail' exists")
    inputs = keras.Input(shape=data.input_shape)
    x = keras.layers.Dense(params["units"], activation="relu")(inputs)
    outputs = keras.layers.Dense(data.output_units, activation=data.output_activation)(x)
    return keras.Model(inputs, outputs)
'''


@pytest.mark.e2e
@pytest.mark.slow
def test_enqueued_trials_run_first_and_a_failed_one_is_retried_on_resume(tmp_path):
    """search.enqueue's configurations are the first trials, in order; --resume
    --retry-failed runs the failed one again as a new trial (retry_of), the failed row kept,
    beyond max_trials."""
    from tunenet import api

    (tmp_path / "builder.py").write_text(BUILDER)
    (tmp_path / "fail").touch()
    config = tmp_path / "replay.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data": {"source": "iris"},
                "model": {"kind": "custom", "build": "builder.py:build",
                          "params": {"units": [3, 4, 8]}},
                "training": {"epochs": 1, "batch_size": 32, "monitor_layers": False},
                "search": {"strategy": "grid", "max_trials": 2,
                           "enqueue": [{"model.params.units": 8}, {"model.params.units": 3}]},
            }
        )
    )  # fmt: skip
    runs = tmp_path / "runs"
    api.search(config, runs)
    trials = runs / "replay" / "trials.csv"
    first = list(csv.DictReader(trials.open()))
    assert [(row["hp.model.params.units"], row["status"]) for row in first] == [
        ("8", "completed"),
        ("3", "failed"),
    ]
    (tmp_path / "fail").unlink()
    api.search(config, runs, resume=True, retry_failed=True)
    rows = list(csv.DictReader(trials.open()))
    assert [(row["trial_id"], row["status"], row["retry_of"]) for row in rows] == [
        ("0", "completed", ""),
        ("1", "failed", ""),  # kept
        ("2", "completed", "1"),
    ]
    assert rows[2]["hp.model.params.units"] == "3"
