"""Every private keras-tuner API tunenet uses, behind one door (written against keras-tuner 1.4.8).

keras-tuner's public API covers tuners, oracles and their hooks; tunenet also needs its gRPC
service, its trial statuses, its debug flag and a few oracle attributes. Each such use is a small
named function here, so an upgrade of keras-tuner means checking this file only.
"""

from __future__ import annotations

from concurrent import futures
from dataclasses import dataclass
from typing import Any, Callable, Optional

import grpc
import keras_tuner as kt
from keras_tuner.src import config as kt_config
from keras_tuner.src import protos
from keras_tuner.src.distribute.oracle_chief import OracleServicer, exit_chief
from keras_tuner.src.engine import conditions
from keras_tuner.src.engine.trial import Trial, TrialStatus

__all__ = ["Trial"]  # keras-tuner's trial, for type hints

# ---------------------------------------------------------------- trials


def show_trial_tracebacks(show: bool) -> None:
    """keras-tuner prints the traceback of every failed trial; tunenet records the message."""
    kt_config.DEBUG = show


def propose(values: dict) -> dict:
    """What `Oracle.populate_space` returns to start a trial with `values`."""
    return {"status": TrialStatus.RUNNING, "values": values}


def stop_proposing() -> dict:
    """What `Oracle.populate_space` returns when the search has no trial left."""
    return {"status": TrialStatus.STOPPED, "values": None}


def wait_for_running() -> dict:
    """What `Oracle.populate_space` returns when the next trial needs the running ones' scores."""
    return {"status": TrialStatus.IDLE}


def completed_score(trial: Trial) -> Optional[float]:
    """The score of a trial keras-tuner counts as completed; None otherwise."""
    if trial.status != TrialStatus.COMPLETED or trial.score is None:
        return None
    return float(trial.score)


def sample(oracle: kt.Oracle, hp: Any) -> Any:
    """A random value of `hp` from the oracle's own seed sequence, as its random search draws."""
    value = hp.random_sample(oracle._seed_state)
    oracle._seed_state += 1
    return value


# ---------------------------------------------------------------- distributed search


def silence_keras_tuner() -> None:
    """keras-tuner 1.4.8 prints each conditional value when it serializes the search space for
    gRPC (a leftover `print` in `Parent.to_proto`): those bare numbers would land on stdout."""
    conditions.print = lambda *args, **kwargs: None  # shadows the builtin in that module only


@dataclass
class OracleServer:
    """The chief's oracle, served over gRPC by keras-tuner's own servicer."""

    server: Any
    servicer: Any
    oracle: kt.Oracle

    def finished(self) -> bool:
        """No trial left to hand out and none running (keras-tuner checks it every 20 s)."""
        return bool(self.servicer.stop_triggered) and exit_chief(self.oracle)

    def stop(self, grace: float) -> None:
        self.server.stop(grace=grace)


def start_oracle_server(
    oracle: kt.Oracle, host: str, port: int, options: list[tuple[str, int]]
) -> Optional[OracleServer]:
    """Serve `oracle` on host:port with gRPC `options`; None when that address cannot be bound."""
    silence_keras_tuner()
    oracle.verbose = 0  # keras-tuner's own display would print to stdout
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=options)
    servicer = OracleServicer(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    if server.add_insecure_port(f"{host}:{port}") == 0:
        return None
    server.start()
    return OracleServer(server, servicer, oracle)


def oracle_stub(channel: grpc.Channel) -> Any:
    """keras-tuner's client stub of the oracle service, on `channel`."""
    return protos.get_service_grpc().OracleStub(channel)


def ping_request() -> Any:
    """The cheapest request to the oracle service (it asks for the search space)."""
    return protos.get_service().GetSpaceRequest()


def route_oracle_calls(client: Any, stub: Any) -> None:
    """Send a worker's oracle calls through `stub` instead of keras-tuner's own."""
    client.stub = stub


def running_trial_id(oracle: kt.Oracle, tuner_id: str) -> Optional[str]:
    """The id of the trial the oracle gave to worker `tuner_id` and has not seen end."""
    trial = oracle.ongoing_trials.get(tuner_id)
    return None if trial is None else trial.trial_id


def release_workers(
    oracle: kt.Oracle, gone: Callable[[str], bool], keep: set[str]
) -> list[tuple[str, Optional[str]]]:
    """Forget the workers for which `gone(tuner_id)` holds (never those in `keep`); each one's
    running trial goes back to the queue, for another worker.

    Returns:
        (tuner_id, trial_id or None) for each forgotten worker.
    """

    @kt.synchronized
    def release(oracle: kt.Oracle) -> list[tuple[str, Optional[str]]]:
        released = []
        for tuner_id in list(oracle.tuner_ids - keep):
            if not gone(tuner_id):
                continue
            trial = oracle.ongoing_trials.pop(tuner_id, None)
            if trial is not None:
                oracle._retry_queue.append(trial.trial_id)
            oracle.tuner_ids.discard(tuner_id)
            released.append((tuner_id, trial.trial_id if trial else None))
        return released

    return release(oracle)
