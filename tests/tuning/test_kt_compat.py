"""The door to keras-tuner's private API: each function still does what tunenet relies on."""

from __future__ import annotations

import socket
from pathlib import Path

import grpc
import keras_tuner as kt

from tunenet.tuning import kt_compat


def oracle(directory: Path) -> kt.Oracle:
    hps = kt.HyperParameters()
    hps.Choice("units", [4, 8, 16])
    made = kt.oracles.RandomSearchOracle(
        objective=kt.Objective("val_loss", "min"), max_trials=5, hyperparameters=hps, seed=1
    )
    made._set_project_dir(str(directory), "tuner")
    made.verbose = 0
    return made


def test_a_silent_workers_trial_goes_to_another_worker(tmp_path: Path) -> None:
    chief = oracle(tmp_path)
    trial = chief.create_trial("remote")
    assert kt_compat.running_trial_id(chief, "remote") == trial.trial_id
    assert kt_compat.running_trial_id(chief, "other") is None
    kept = kt_compat.release_workers(chief, gone=lambda tuner_id: True, keep={"remote"})
    assert kept == []
    released = kt_compat.release_workers(chief, gone=lambda tuner_id: True, keep=set())
    assert released == [("remote", trial.trial_id)]
    assert kt_compat.running_trial_id(chief, "remote") is None
    assert chief.create_trial("tuner0").trial_id == trial.trial_id  # retried first


def test_completed_score_only_for_completed_trials(tmp_path: Path) -> None:
    chief = oracle(tmp_path)
    trial = chief.create_trial("tuner0")
    chief.update_trial(trial.trial_id, {"val_loss": 0.25})
    assert kt_compat.completed_score(trial) is None  # still running
    trial.status = "COMPLETED"
    chief.end_trial(trial)
    assert kt_compat.completed_score(chief.trials[trial.trial_id]) == 0.25


def test_oracle_server_serves_until_stopped(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = kt_compat.start_oracle_server(oracle(tmp_path), "127.0.0.1", port, options=[])
    try:
        assert server is not None and not server.finished()  # no worker asked yet
        stub = kt_compat.oracle_stub(grpc.insecure_channel(f"127.0.0.1:{port}"))
        assert stub.GetSpace(kt_compat.ping_request(), timeout=10).hyperparameters
    finally:
        server.stop(grace=0)
