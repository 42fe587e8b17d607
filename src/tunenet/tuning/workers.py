"""Distributed search on keras-tuner's own chief/worker mode.

The chief (this process) holds the oracle and serves it over gRPC; each worker is a
`tunenet worker` process that asks the oracle for trials, trains them and writes into the shared
run directory under the run lock. keras-tuner selects the roles from `KERASTUNER_TUNER_ID`,
`KERASTUNER_ORACLE_IP` and `KERASTUNER_ORACLE_PORT`.
"""

from __future__ import annotations

import _thread
import functools
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from tunenet.config.sections import Config
from tunenet.errors import Interrupted, RunDirError, SearchError, shell_command
from tunenet.runs import RunDir, RunOptions, TrialStatus
from tunenet.tuning.events import Listeners, SearchListener

RECYCLE_EXIT = 75  # a worker that asks to be replaced by a fresh process (memory, trial count)
LOCAL_ENV = "TUNENET_LOCAL_WORKER"  # "1": a worker its chief started on this machine
LOCAL_CONNECT_TIMEOUT = 600.0  # such a worker starts before its chief serves (it dies with it)
MAX_RESTARTS = 3  # restarts of one worker slot after it died, before the search gives up
ORACLE_TIMEOUT = 35.0  # seconds a worker retries an unreachable chief before it leaves
CALL_DEADLINE = 300.0  # one oracle call; then a chief that still accepts connections is asked again
# The chief accepts the workers' keepalive pings even during a long call (gRPC's default would
# close the connection after two pings without data, and the worker would take it for a death).
SERVER_OPTIONS = [
    ("grpc.http2.min_ping_interval_without_data_ms", 500),
    ("grpc.http2.max_ping_strikes", 0),
    ("grpc.keepalive_permit_without_calls", 1),
]


@dataclass(frozen=True)
class WorkerOptions:
    """How the chief runs its local workers."""

    count: int = 1
    serve: Optional[str] = None  # HOST:PORT for remote workers; default: a free loopback port
    max_trials_per_worker: Optional[int] = None
    worker_memory_mb: Optional[int] = None
    gpus: Optional[list[str]] = None
    overrides: tuple[str, ...] = ()  # --max-trials/--epochs/--seed/--smoke, for each worker
    timeout: float = 600.0  # a remote worker silent this long has its trial given to another
    tensorboard: bool = False


def oracle_environment(tuner_id: str, host: str, port: int) -> dict[str, str]:
    """The variables that make a process keras-tuner's chief or one of its workers."""
    return {
        "KERASTUNER_TUNER_ID": tuner_id,
        "KERASTUNER_ORACLE_IP": host,
        "KERASTUNER_ORACLE_PORT": str(port),
    }


def parse_address(text: str) -> tuple[str, int]:
    """HOST:PORT -> (host, port), with a usage error that shows the expected form."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise RunDirError(f"--oracle/--serve: got {text!r}, expected HOST:PORT (127.0.0.1:8000).")
    return host, int(port)


def gpu_list(text: Optional[str]) -> Optional[list[str]]:
    """`--gpus 0,1` -> ["0", "1"]; None: the GPUs TensorFlow sees, one per worker, if any."""
    if text is not None:
        return [part.strip() for part in text.split(",") if part.strip()]
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [part for part in visible.split(",") if part]
    from tensorflow.config import list_physical_devices

    found = list_physical_devices("GPU")
    return [str(index) for index in range(len(found))] or None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def available_cpus() -> list[int]:
    """The CPUs this process may run on (its affinity: a container's share, not the host's)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return list(range(os.cpu_count() or 1))


def thread_share(workers: int) -> int:
    """CPU threads per worker: the machine's cores split between the workers."""
    return max(1, len(available_cpus()) // max(1, workers))


def worker_cpus(index: int, workers: int) -> Optional[list[int]]:
    """The CPUs local worker `index` is pinned to: its own share of the cores, so that its
    threads do not compete with the other workers'; None (not pinned) when the workers
    outnumber the cores."""
    cpus = available_cpus()
    share = len(cpus) // max(1, workers)
    if share < 1:
        return None
    return cpus[index * share : (index + 1) * share]


def worker_environment(
    index: int, host: str, port: int, threads: int, gpus: Optional[list[str]]
) -> dict[str, str]:
    """The environment of local worker `index`: its oracle, its threads, its GPU.

    The thread counts are set before the worker imports TensorFlow or NumPy (their pools are
    sized when they load). `LOCAL_ENV` tells the worker that its chief started it: it waits for
    the chief to serve, and has the default memory budget of a plain search (handover.py)."""
    env = dict(os.environ)
    env.update(oracle_environment(f"tuner{index}", host, port))
    env.update(
        TF_NUM_INTRAOP_THREADS=str(threads),
        TF_NUM_INTEROP_THREADS="1",
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
        OPENBLAS_NUM_THREADS=str(threads),
        PYTHONUNBUFFERED="1",
        **{LOCAL_ENV: "1"},
    )
    if gpus is not None:
        env["CUDA_VISIBLE_DEVICES"] = gpus[index % len(gpus)] if gpus else ""
    return env


@dataclass
class Slot:
    """One local worker: its process, its log, how often it was restarted."""

    index: int
    process: Optional[subprocess.Popen] = None
    restarts: int = 0
    finished: bool = False
    log: Any = None


@dataclass
class WorkerPool:
    """The chief's local worker processes: start, watch, restart, stop."""

    config_path: Path
    run: RunDir
    options: WorkerOptions
    host: str
    port: int
    slots: list[Slot] = field(default_factory=list)

    def command(self, slot: Slot) -> list[str]:
        args = [
            sys.executable, "-m", "tunenet.cli", "worker", str(self.config_path),
            "--oracle", f"{self.host}:{self.port}", "--runs-dir", str(self.run.path.parent),
            "--name", self.run.name, "--id", f"tuner{slot.index}",
            "--threads", str(thread_share(self.options.count)), *self.options.overrides,
        ]  # fmt: skip
        if self.options.max_trials_per_worker:
            args += ["--max-trials-per-worker", str(self.options.max_trials_per_worker)]
        if self.options.worker_memory_mb:
            args += ["--worker-memory", str(self.options.worker_memory_mb)]
        if self.options.tensorboard:
            args.append("--tensorboard")
        return args

    def start(self) -> None:
        self.slots = [Slot(index) for index in range(self.options.count)]
        for slot in self.slots:
            self.spawn(slot)

    def spawn(self, slot: Slot) -> None:
        self.run.workers_dir.mkdir(parents=True, exist_ok=True)
        slot.log = open(self.run.worker_log(slot.index), "a", encoding="utf-8")
        env = worker_environment(
            slot.index, self.host, self.port, thread_share(self.options.count), self.options.gpus
        )
        cpus = worker_cpus(slot.index, self.options.count)
        slot.process = subprocess.Popen(
            self.command(slot),
            env=env,
            stdout=slot.log,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: _start_worker(cpus),
        )
        self.run.worker_pid_file(slot.index).write_text(f"{slot.process.pid}\n")

    def poll(self, on_death: Any) -> None:
        """Restart recycled or dead workers; raise SearchError when one failed for good."""
        for slot in self.slots:
            if slot.finished or slot.process is None or slot.process.poll() is None:
                continue
            code = slot.process.returncode
            slot.log.close()
            if code == 0:
                slot.finished = True
            elif code == RECYCLE_EXIT:
                self.spawn(slot)
            elif code in (1, 2):
                raise SearchError(self._failure(slot, code))
            elif slot.restarts < MAX_RESTARTS:
                slot.restarts += 1
                on_death(f"tuner{slot.index}", code)
                self.spawn(slot)
            else:
                raise SearchError(self._failure(slot, code))

    def _failure(self, slot: Slot, code: int) -> str:
        log = self.run.worker_log(slot.index)
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        return f"worker tuner{slot.index} stopped with exit code {code}: " + " | ".join(tail)

    @property
    def done(self) -> bool:
        return all(slot.finished for slot in self.slots)

    def stop(self, timeout: float = 15.0) -> None:
        """Ask every worker to stop (they record their trial as interrupted), then kill."""
        alive = [s.process for s in self.slots if s.process and s.process.poll() is None]
        for process in alive:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in alive:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _start_worker(cpus: Optional[list[int]]) -> None:
    """In a new worker process, before it runs: pinned to its CPUs, and told of its chief's
    death."""
    if cpus:
        try:
            os.sched_setaffinity(0, cpus)
        except (AttributeError, OSError):
            pass
    _die_with_parent()


def _die_with_parent() -> None:
    """In a worker (Linux): get SIGTERM when the chief dies, instead of waiting on its oracle."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def stops_on_signals(function: Callable) -> Callable:
    """Run `function` with Ctrl-C and SIGTERM stopping it exactly (`tuner.stop_on_signals`);
    TensorFlow is imported only when it runs."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from tunenet.tuning.tuner import stop_on_signals

        with stop_on_signals():
            return function(*args, **kwargs)

    return wrapper


@stops_on_signals
def run_distributed(
    config: Config,
    options: RunOptions,
    workers: WorkerOptions,
    *,
    listeners: Sequence[SearchListener] = (),
    dataset: Any = None,
) -> Any:
    """The chief of a distributed search: serve the oracle, run local workers, finish the run.
    `listeners`: told of its notes and trials, as `tuner.run_search`'s; `dataset`: the data
    already loaded and checked (default: loaded here)."""
    from tunenet.tuning import kt_compat
    from tunenet.tuning.trial import stop_if_requested, stopped
    from tunenet.tuning.tuner import (
        SearchSummary,
        begin_search,
        finish,
        interrupted,
        open_search,
        start_tuner,
        tell_stop,
    )

    events = Listeners(listeners)
    host, port = parse_address(workers.serve) if workers.serve else ("127.0.0.1", free_port())
    pools: list[WorkerPool] = []

    def start_workers(run: RunDir) -> None:
        """As soon as the run directory exists: the workers load TensorFlow and the data while
        the chief fits the baselines and starts its oracle; they join once it serves."""
        pools.append(WorkerPool(options.config_path, run, workers, host, port))
        pools[0].start()

    try:
        context = open_search(
            config, options, events=events, on_prepared=start_workers, dataset=dataset,
        )  # fmt: skip
        os.environ.update(oracle_environment("chief", host, port))
        tuner = start_tuner(context, resume=options.resume)
        server = kt_compat.start_oracle_server(tuner.oracle, host, port, SERVER_OPTIONS)
        if server is None:
            raise RunDirError(f"--serve: cannot listen on {host}:{port}. Choose another address.")
    except BaseException as error:
        for pool in pools:
            pool.stop()  # no worker outlives a chief that could not start
        if pools and stopped(error) and not isinstance(error, Interrupted):
            raise interrupted(pools[0].run, options) from None
        raise
    pool = pools[0]
    summary = SearchSummary(run=context.run, objective=context.objective)
    started = time.perf_counter()
    if workers.serve:
        join_command = shell_command(
            "tunenet", "worker", options.config_path, "--oracle",
            f"{socket.gethostname()}:{port}", "--runs-dir", options.runs_dir,
            "--name", context.run.name, *workers.overrides,
        )  # fmt: skip
        events.on_note(
            f"oracle serving on {host}:{port}; join from another machine with: {join_command}"
        )
    begin_search(context, time.time())
    seen = set(context.trials.rows)

    def lost(tuner_id: str, code: int) -> None:
        events.on_note(f"worker {tuner_id} died (exit code {code}); a fresh one reruns its trial")
        _forget_lost_trial(context, tuner.oracle, tuner_id)

    local = {f"tuner{index}" for index in range(workers.count)}
    try:
        while not _finished(pool, workers, server):
            time.sleep(0.5)
            pool.poll(on_death=lost)
            for note in reclaim_silent(tuner.oracle, context, local, workers.timeout):
                events.on_note(note)
            seen = _report_new_trials(context, seen)
        stop_if_requested()
        seen = _report_new_trials(context, seen)
        tell_stop(context)  # before the end: a stop rule the chief's oracle applied
    except BaseException as error:
        if stopped(error):  # Ctrl-C or SIGTERM, whatever error it came out as
            pool.stop()  # the workers record their trials as interrupted first
            raise interrupted(context.run, options) from None
        if not isinstance(error, SearchError):
            raise
        summary.exit_code, summary.message = 1, str(error)
    finally:
        pool.stop()  # whatever happened, no worker outlives its chief
        events.on_search_end()
        server.stop(grace=1)
    _report_new_trials(context, seen)
    summary.seconds = round(time.perf_counter() - started, 1)
    try:
        return finish(context, summary)
    except BaseException as error:
        if stopped(error):  # during the test evaluation of the best model
            raise interrupted(context.run, options) from None
        raise


def _finished(pool: WorkerPool, workers: WorkerOptions, server: Any) -> bool:
    if workers.count and not pool.done:
        return False
    return server.finished() or (workers.count > 0 and not workers.serve)


def _forget_lost_trial(context: Any, oracle: Any, tuner_id: str) -> None:
    """A worker died: drop the rows of its trial, which its replacement runs again."""
    from tunenet.tuning import kt_compat

    trial_id = kt_compat.running_trial_id(oracle, tuner_id)
    if trial_id is not None:
        context.epoch_log.drop_trials(drop={trial_id})


def reclaim_silent(oracle: Any, context: Any, local: set[str], timeout: float) -> list[str]:
    """Give the trial of a remote worker silent for `timeout` seconds to another worker.

    Workers touch `tuner/workers/<id>.heartbeat` at every epoch; local workers are watched as
    processes instead. A silent worker is also forgotten, so the search can end without it.
    """
    from tunenet.tuning import kt_compat

    now = time.time()

    def silent(tuner_id: str) -> bool:
        beat = context.run.heartbeat_file(tuner_id)
        return not (beat.exists() and now - beat.stat().st_mtime < timeout)

    notes = []
    for tuner_id, trial_id in kt_compat.release_workers(oracle, silent, keep=local):
        if trial_id is not None:
            context.epoch_log.drop_trials(drop={trial_id})
        again = f"; trial {trial_id} runs again on another worker" if trial_id else ""
        notes.append(f"worker {tuner_id} silent for {timeout:.0f}s{again}")
    return notes


def _report_new_trials(context: Any, seen: set[str]) -> set[str]:
    context.trials.reload()
    for trial_id, row in context.trials.rows.items():
        if trial_id not in seen and row.get("status") != TrialStatus.INTERRUPTED:
            context.events.on_trial_end(row, context.objective.name, context.best_objective)
            seen = seen | {trial_id}
    return seen


class ChiefGone(SearchError):
    """The chief stopped answering a worker for longer than the retry budget."""


def oracle_timeout() -> float:
    """Seconds a worker retries an unreachable chief: TUNENET_ORACLE_TIMEOUT, default 35."""
    text = os.environ.get("TUNENET_ORACLE_TIMEOUT")
    if text is None:
        return ORACLE_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise RunDirError(
            f"TUNENET_ORACLE_TIMEOUT: got {text!r}, expected a number of seconds above 0 "
            f"(default {ORACLE_TIMEOUT:.0f})."
        )
    return value


def keepalive_seconds(budget: float) -> float:
    """How often a worker checks that its chief is there: a fifth of the budget, 1 to 10 s."""
    return min(10.0, max(1.0, budget / 5))


class ChiefLink:
    """A worker's calls to the chief's oracle, in place of keras-tuner's stub.

    keras-tuner waits up to an hour per call, so a worker of a dead chief waits for an hour.
    Here a call that finds the chief unreachable (connection refused, or keepalive pings
    unanswered) is retried for `budget` seconds, then raises ChiefGone, as does every later
    call. A chief that is slow but alive answers the pings and keeps its workers; a call past
    its `deadline` is asked again while the chief still accepts connections.

    Args:
        address: HOST:PORT of the chief.
        budget: seconds of unreachable chief before the worker gives up.
        deadline: seconds of one call.
    """

    def __init__(self, address: str, budget: float, deadline: float = CALL_DEADLINE):
        import grpc

        from tunenet.tuning import kt_compat

        self.address, self.budget, self.deadline = address, budget, deadline
        self.gone = False
        keepalive_ms = int(keepalive_seconds(budget) * 1000)
        self.channel = grpc.insecure_channel(
            address,
            options=[
                ("grpc.keepalive_time_ms", keepalive_ms),
                ("grpc.keepalive_timeout_ms", keepalive_ms),
                ("grpc.http2.max_pings_without_data", 0),
                ("grpc.max_reconnect_backoff_ms", 1000),
            ],
        )
        self.stub = kt_compat.oracle_stub(self.channel)

    def __getattr__(self, name: str) -> Any:
        """The stub's methods (GetSpace, CreateTrial, ...), with this link's retries."""
        method = getattr(self.stub, name)
        return lambda request, **_keras_tuner_options: self.call(method, request)

    def error(self) -> ChiefGone:
        return ChiefGone(
            f"the chief at {self.address} stopped answering (unreachable for {self.budget:.0f}s); "
            "this worker stops. Its trial runs again when the search is resumed "
            f"(tunenet search CONFIG --resume --serve {self.address}) and the worker joins again."
        )

    def call(self, method: Any, request: Any) -> Any:
        import grpc

        failing_since = None
        while not self.gone:
            try:
                return method(request, timeout=self.deadline)
            except grpc.RpcError as error:
                code = error.code()
                if code not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                    raise
                if code is grpc.StatusCode.DEADLINE_EXCEEDED and self._reachable(self.budget):
                    failing_since = None  # slow, not gone: ask again
                    continue
                failing_since = failing_since or time.monotonic()
                left = self.budget - (time.monotonic() - failing_since)
                self.gone = left <= 0 or not self._reachable(left)
        raise self.error()

    def _reachable(self, seconds: float) -> bool:
        """Whether the chief accepts a connection within `seconds`."""
        import grpc

        time.sleep(min(0.5, seconds / 4))  # a chief shutting down refuses at once: no busy loop
        try:
            grpc.channel_ready_future(self.channel).result(timeout=seconds)
        except grpc.FutureTimeoutError:
            return False
        return True


class ChiefWatch:
    """Asks the chief every `interval` seconds whether it is there, while the worker trains.

    A worker talks to the chief only between trials; without this, a worker deep in a long
    trial would notice a dead chief only at the trial's end. When the link gives up, the main
    thread gets a KeyboardInterrupt (through SIGUSR1), so the trial is recorded as interrupted.
    """

    def __init__(self, link: ChiefLink, interval: float):
        self.link, self.interval = link, interval
        self.stopped = threading.Event()
        self.previous: Any = None
        self.thread = threading.Thread(target=self._run, name="chief-watch", daemon=True)

    def start(self) -> None:
        self.previous = signal.signal(signal.SIGUSR1, _interrupt)
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=1)
        signal.signal(signal.SIGUSR1, self.previous or signal.SIG_DFL)

    def _run(self) -> None:
        import grpc

        from tunenet.tuning import kt_compat

        while not self.stopped.wait(self.interval):
            try:
                self.link.GetSpace(kt_compat.ping_request())
            except ChiefGone:
                if not self.stopped.is_set():
                    _thread.interrupt_main(signal.SIGUSR1)
                return
            except grpc.RpcError:
                continue  # an answer, even an error, means the chief is there


def _interrupt(signum: int, frame: Any) -> None:
    """The chief is gone: the trial stops as for Ctrl-C (recorded interrupted, whatever error
    its KeyboardInterrupt comes out as)."""
    from tunenet.tuning import trial

    trial.stop_requested = True
    raise KeyboardInterrupt


@stops_on_signals
def run_worker(
    config: Config,
    options: RunOptions,
    *,
    oracle: str,
    tuner_id: str,
    threads: Optional[int],
    max_trials: Optional[int],
    memory_mb: Optional[int],
    listeners: Sequence[SearchListener] = (),
    connect_timeout: float = 60.0,
) -> int:
    """One worker: fetch trials from the chief until it has none left. Returns the exit code.
    `listeners`: told of its notes and of the trials it trains (`tuning.events`)."""
    host, port = parse_address(oracle)
    budget = oracle_timeout()
    os.environ.update(oracle_environment(tuner_id, host, port))
    from tunenet.tuning import kt_compat
    from tunenet.tuning.handover import Handover
    from tunenet.tuning.tf_memory import cheap_collections
    from tunenet.tuning.trial import BudgetSpent, stop_if_requested
    from tunenet.tuning.tuner import Recycle, join_search, limit_threads, make_tuner

    kt_compat.silence_keras_tuner()
    if threads:
        limit_threads(threads)
    # A local worker starts while its chief prepares the run: the run is there once it answers.
    # A remote one joins a run that exists: without one, it says so at once.
    local = os.environ.get(LOCAL_ENV) == "1"
    if local:
        wait_for_chief(host, port, LOCAL_CONNECT_TIMEOUT)
    events = Listeners(listeners)
    context = join_search(config, options, tuner_id=tuner_id, events=events)
    if not local:
        wait_for_chief(host, port, connect_timeout)
    tuner = make_tuner(context, overwrite=False)
    tuner.recycle_after(max_trials, memory_mb)
    if local and not (max_trials or memory_mb):
        tuner.handover = Handover(started=time.time())  # a plain search's memory budget
    link = ChiefLink(f"{host}:{port}", budget)
    kt_compat.route_oracle_calls(tuner.oracle, link)  # keras-tuner's OracleClient
    watch = ChiefWatch(link, keepalive_seconds(budget))
    import grpc

    watch.start()
    try:
        with cheap_collections():
            tuner.search(verbose=0)
    except Recycle as reason:
        events.on_note(f"worker {tuner_id}: {reason}; a fresh process takes over")
        code = RECYCLE_EXIT
    except BudgetSpent:  # its trial ran past the chief's time budget + 10%: recorded, done
        code = 0
    except KeyboardInterrupt:
        if not link.gone:
            raise
        raise link.error() from None  # the watch stopped the trial
    except grpc.RpcError as error:
        stop_if_requested()  # Ctrl-C or SIGTERM: the chief stops too
        raise SearchError(
            f"worker {tuner_id} lost the chief at {host}:{port} ({error.code().name}); "
            "its current trial runs again when the chief is resumed."
        ) from None
    else:
        code = 0
    finally:
        watch.stop()
    if local:
        exit_at_once(code)
    return code


def exit_at_once(code: int) -> None:
    """End a local worker now: its files are written and its chief waits for it, so
    TensorFlow's teardown (1-2 s) is skipped."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def wait_for_chief(host: str, port: int, timeout: float) -> None:
    """Fail with a clear message when no chief answers, instead of waiting for an hour."""
    import grpc

    channel = grpc.insecure_channel(f"{host}:{port}")
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
    except grpc.FutureTimeoutError:
        raise RunDirError(
            f"--oracle: no chief answers at {host}:{port} after {timeout:.0f}s. Start it with "
            "tunenet search CONFIG --serve HOST:PORT, and check the address and firewall."
        ) from None
    finally:
        channel.close()
