"""Workers under hostile conditions: a chief that dies, a chief that is slow, a noisy oracle.

stdout carries only tunenet's own output; a remote worker whose chief is gone exits 1 with a clear
message within a minute, while a chief that is alive but slow keeps its workers.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from concurrent import futures

import grpc
import pandas as pd
import pytest
from keras_tuner.src import protos

from conftest import tunenet_command
from tunenet.tuning import workers
from tunenet.tuning.kt_compat import silence_keras_tuner
from tunenet.tuning.workers import ChiefLink, ChiefWatch, free_port, oracle_timeout

CONDITIONAL = """
    name: {name}
    seed: 3
    data: {{source: iris}}
    model: {{layers: [1, 2], units: [4, 8]}}
    optimizer: {{learning_rate: 0.01}}
    training: {{epochs: {epochs}, batch_size: 16, early_stopping: false}}
    search: {{strategy: {strategy}, max_trials: 3}}
"""
BARE_NUMBER = re.compile(r"^\s*-?\d+(\.\d+)?\s*$")


def bare_numbers(text: str) -> list[str]:
    return [line for line in text.splitlines() if BARE_NUMBER.match(line)]


# ---------------------------------------------------------------- stdout stays tunenet's


@pytest.mark.slow
@pytest.mark.e2e
def test_conditional_space_with_two_workers_prints_only_the_summary(write_config, tmp_path):
    config = write_config(CONDITIONAL.format(name="cond", epochs=1, strategy="random"))
    result = subprocess.run(
        tunenet_command("search", config, "--runs-dir", tmp_path, "--workers", "2", "--quiet"),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert bare_numbers(result.stdout) == [], result.stdout
    assert result.stdout.lstrip().startswith("run cond: 3 trial(s)")
    for log in (tmp_path / "cond" / "tuner" / "workers").glob("*.log"):  # the workers' stdout
        assert bare_numbers(log.read_text()) == [], log


def test_conditional_hyperparameters_serialize_silently(capsys):
    import keras_tuner as kt

    silence_keras_tuner()
    hp = kt.HyperParameters()
    hp.Int("model.layers", 1, 2)
    with hp.conditional_scope("model.layers", [2]):
        hp.Choice("model.units.1", [4, 8])
    hp.to_proto()
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------- a chief that is gone


def check_gone(error: BaseException, address: str) -> None:
    assert str(error).startswith(f"the chief at {address} stopped answering"), str(error)


def test_unreachable_chief_gives_up_within_its_budget():
    address = f"127.0.0.1:{free_port()}"
    link = ChiefLink(address, budget=1.0)
    started = time.monotonic()
    with pytest.raises(workers.ChiefGone) as caught:
        link.GetSpace(protos.get_service().GetSpaceRequest())
    assert time.monotonic() - started < 10
    check_gone(caught.value, address)
    assert caught.value.exit_code == 1
    with pytest.raises(workers.ChiefGone):  # once gone, every call fails at once
        link.CreateTrial(None)


def test_watch_interrupts_a_long_trial_when_the_chief_is_gone():
    link = ChiefLink(f"127.0.0.1:{free_port()}", budget=0.5)
    watch = ChiefWatch(link, interval=0.2)
    watch.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # a trial training, not talking to the chief
                time.sleep(0.05)
    finally:
        watch.stop()
    assert link.gone


def test_default_budget_lets_a_worker_leave_within_a_minute(monkeypatch):
    monkeypatch.delenv("TUNENET_ORACLE_TIMEOUT", raising=False)
    budget = oracle_timeout()
    assert 30 <= budget <= 45
    # the watch asks every interval k; a silent connection fails after 2k more, then the budget
    assert 3 * workers.keepalive_seconds(budget) + budget < 60


@pytest.mark.parametrize("value", ["abc", "0", "-3", "nan", "inf"])
def test_bad_oracle_timeout_is_refused(monkeypatch, value):
    monkeypatch.setenv("TUNENET_ORACLE_TIMEOUT", value)
    with pytest.raises(workers.RunDirError, match=f"TUNENET_ORACLE_TIMEOUT: got '{value}'"):
        oracle_timeout()


def test_worker_with_a_bad_oracle_timeout_exits_2(cli, write_config, tmp_path, monkeypatch):
    config = write_config(CONDITIONAL.format(name="bad", epochs=1, strategy="random"))
    monkeypatch.setenv("TUNENET_ORACLE_TIMEOUT", "soon")
    result = cli("worker", config, "--oracle", f"127.0.0.1:{free_port()}", "--runs-dir", tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: TUNENET_ORACLE_TIMEOUT: got 'soon', expected a number")
    assert not (tmp_path / "bad").exists()


# ---------------------------------------------------------------- a chief that is slow


class SlowOracle(protos.get_service_grpc().OracleServicer):
    """Answers GetSpace after `delays` seconds (one per call, then at once)."""

    def __init__(self, delays: list[float]):
        self.delays, self.calls = list(delays), 0

    def GetSpace(self, request, context):
        self.calls += 1
        if self.delays:
            time.sleep(self.delays.pop(0))
        return protos.get_service().GetSpaceResponse()


def serve(servicer) -> tuple[grpc.Server, str]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), options=workers.SERVER_OPTIONS)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    port = free_port()
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server, f"127.0.0.1:{port}"


def test_a_chief_slower_than_the_budget_keeps_its_worker():
    server, address = serve(SlowOracle([3.0]))
    try:
        link = ChiefLink(address, budget=1.0)  # keepalive every second: the call stays alive
        link.GetSpace(protos.get_service().GetSpaceRequest())
        assert not link.gone
    finally:
        server.stop(0)


def test_a_chief_slower_than_one_deadline_keeps_its_worker():
    oracle = SlowOracle([2.0])
    server, address = serve(oracle)
    try:
        link = ChiefLink(address, budget=1.0, deadline=0.5)
        link.GetSpace(protos.get_service().GetSpaceRequest())  # times out once, then answered
        assert not link.gone and oracle.calls == 2
    finally:
        server.stop(0)


def test_a_chief_back_within_the_budget_keeps_its_worker():
    port = free_port()
    link = ChiefLink(f"127.0.0.1:{port}", budget=8.0)
    holder = {}

    def start_late():
        time.sleep(1.0)
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        protos.get_service_grpc().add_OracleServicer_to_server(SlowOracle([]), server)
        server.add_insecure_port(f"127.0.0.1:{port}")
        server.start()
        holder["server"] = server

    thread = threading.Thread(target=start_late)
    thread.start()
    try:
        link.GetSpace(protos.get_service().GetSpaceRequest())
        assert not link.gone
    finally:
        thread.join()
        holder["server"].stop(0)


# ---------------------------------------------------------------- end to end: SIGKILL the chief


@pytest.mark.slow
@pytest.mark.e2e
def test_remote_worker_exits_when_its_chief_is_killed(write_config, tmp_path):
    config = write_config(CONDITIONAL.format(name="orphan", epochs=3000, strategy="random"))
    address = f"127.0.0.1:{free_port()}"
    chief = subprocess.Popen(
        tunenet_command("search", config, "--runs-dir", tmp_path, "--workers", "0",
                        "--serve", address),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    run = tmp_path / "orphan"
    worker = None
    try:
        wait_for(lambda: (run / "manifest.json").exists(), chief)
        env = dict(os.environ, TUNENET_ORACLE_TIMEOUT="3")
        worker = subprocess.Popen(
            tunenet_command("worker", config, "--oracle", address, "--runs-dir", tmp_path,
                            "--id", "laptop"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        epochs = run / "epochs.csv"
        wait_for(lambda: epochs.exists() and len(epochs.read_text().splitlines()) > 3, worker)
    except BaseException:
        if worker is not None:
            worker.kill()
        raise
    finally:
        chief.kill()  # SIGKILL: no goodbye to the worker
        chief.wait()
    try:
        stdout, stderr = worker.communicate(timeout=60)  # docs/reproducibility.md: within a minute
    except subprocess.TimeoutExpired:
        worker.kill()
        pytest.fail(f"the worker outlived its chief by a minute: {worker.communicate()[1]}")
    assert worker.returncode == 1, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert lines and lines[0].startswith(f"error: the chief at {address} stopped answering")
    assert "Traceback" not in stderr and bare_numbers(stdout) == []
    trials = pd.read_csv(run / "trials.csv", dtype={"trial_id": str})
    assert list(trials["status"]) == ["interrupted"]  # runs again when the chief is resumed


def wait_for(condition, process: subprocess.Popen, seconds: float = 200) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
