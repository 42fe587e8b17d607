"""One search session, in-process or distributed: open or join a run, run the tuner, finish.

`run_search` is the in-process search. `workers.run_distributed` (the chief) and
`workers.run_worker` build the same session from `open_search` / `join_search`, `start_tuner` /
`make_tuner` and `finish`; the trials themselves run in `trial.TrialRunner`. What the user sees
of it is drawn by the listeners the caller gives (`tuning.events`): this module prints nothing.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import keras_tuner as kt
import tensorflow as tf

from tunenet.config import space as space_module
from tunenet.config.objective import Objective
from tunenet.config.sections import Config
from tunenet.data.baselines import fit_baselines
from tunenet.data.dataset import Dataset, load_dataset
from tunenet.errors import Interrupted, RunDirError, SearchError, shell_command
from tunenet.models.saved import load_best_model
from tunenet.models.shapes import check_fits
from tunenet.runs import (
    FINAL_STATUSES,
    FORMAT_VERSION,
    RunDir,
    RunOptions,
    RunStatus,
    TrialStatus,
    discard_tuner_state,
    fingerprint,
    join,
    locate,
    now,
    prepare,
    read_baseline_rows,
    tuner_state_problem,
    versions,
    write_baselines,
)
from tunenet.runs import tables as runs_tables
from tunenet.runs.baselines import has_task_columns
from tunenet.runs.resolved import manifest_code
from tunenet.runs.status import StoppedBy
from tunenet.tuning import handover as handover_module
from tunenet.tuning import kt_compat, replay
from tunenet.tuning import trial as trial_module
from tunenet.tuning.confusion import add_test_confusion
from tunenet.tuning.events import Listeners, SearchListener, SearchStart
from tunenet.tuning.handover import Handover, rss_mb
from tunenet.tuning.keep import keep_model
from tunenet.tuning.oracles import guard, make_oracle
from tunenet.tuning.pipelines import SplitError
from tunenet.tuning.stop_rules import TIME_BUDGET, Stop, StopRules, proposal_cap
from tunenet.tuning.tf_memory import TrialMemory, cheap_collections
from tunenet.tuning.trial import (
    BUDGET_MESSAGE,
    BudgetSpent,
    SearchContext,
    TrialRunner,
    best_row,
    resolve_objective,
    stopped,
    write_failure,
)

logging.getLogger("tensorflow").setLevel(logging.ERROR)
kt_compat.show_trial_tracebacks(os.environ.get("TUNENET_DEBUG") == "1")
# tunenet shuffles its own tf.data pipelines; Keras warns that its shuffle flag is unused.
warnings.filterwarnings("ignore", message=".*shuffle=True.*was passed", category=UserWarning)


@dataclass
class SearchSummary:
    """What `tunenet search` tells the user at the end."""

    run: RunDir
    objective: Objective
    rows: list[dict] = field(default_factory=list)
    best: Optional[dict] = None
    kept: Optional[dict] = None  # the trial whose model best/ holds (search.keep)
    seconds: float = 0.0
    exit_code: int = 0
    message: str = ""
    stopped_by: str = ""  # the stop rule that ended the search: time_budget, no_gain, ...
    stopped: str = ""  # why, in words ("the time budget of 30m is spent (...)")


# ---------------------------------------------------------------- the tuner


class Recycle(Exception):
    """A worker asks to be replaced by a fresh process (trial count or memory budget)."""


class Tuner(TrialRunner, kt.Tuner):
    """A keras-tuner Tuner whose trials tunenet runs and records."""

    max_trials_here: Optional[int] = None
    memory_mb: Optional[int] = None
    trials_here = 0
    handover: Optional[Handover] = None  # a plain search's own memory budget
    memory: Optional[TrialMemory] = None

    def recycle_after(self, max_trials: Optional[int], memory_mb: Optional[int]) -> None:
        """Stop this process (Recycle) after `max_trials` trials or past `memory_mb` of RSS."""
        self.max_trials_here, self.memory_mb = max_trials, memory_mb

    def on_trial_end(self, trial: Any) -> None:
        # a stop keras-tuner swallowed (it records any error as a failed trial and goes on):
        # the search stops here, before keras-tuner records the trial as ended
        trial_module.stop_if_requested()
        super().on_trial_end(trial)
        self.trials_here += 1
        if self.memory is not None:
            self.memory.release()  # what TensorFlow keeps of the trial's graphs (~4 MB each)
        self._check_failures()
        if self.max_trials_here and self.trials_here >= self.max_trials_here:
            raise Recycle(f"{self.trials_here} trial(s) done (--max-trials-per-worker)")
        if self.memory_mb and rss_mb() > self.memory_mb:
            raise Recycle(f"{rss_mb():.0f} MB resident > --worker-memory {self.memory_mb} MB")
        reason = self.handover.due(rss_mb()) if self.handover else None
        # after the last trial, just finish (a worker's oracle client cannot tell: None)
        if reason and getattr(self.oracle, "remaining_trials", None) != 0:
            raise Recycle(reason)

    def _check_failures(self) -> None:
        self.context.trials.reload()
        rows = self.context.trials.ordered()
        limit = self.context.config.search.max_consecutive_failed_trials
        if _consecutive_failures(rows) > limit:
            raise SearchError(
                f"{limit + 1} trials failed in a row (search.max_consecutive_failed_trials is "
                f"{limit}); the search stopped. Last error: {rows[-1].get('message', '')}"
            )


def _consecutive_failures(rows: list[dict]) -> int:
    count = 0
    for row in rows:
        if row.get("status") == TrialStatus.INFEASIBLE:
            continue  # never trained: neither a failure nor a success
        count = count + 1 if row.get("status") == TrialStatus.FAILED else 0
    return count


def start_tuner(context: SearchContext, resume: bool) -> Tuner:
    """The tuner of the process that owns the oracle, allowed the config's max_trials (which a
    resume may raise). A new run's directory is fresh (`prepare`): keras-tuner has nothing to
    overwrite there, and must keep the logs of workers that started before it."""
    tuner = make_tuner(context, overwrite=False)
    search = context.config.search
    tuner.oracle.max_trials = search.max_trials
    replay.attach(tuner.oracle, context)  # runs first: retries, search.enqueue, warm start
    rules = StopRules(
        search, context.dataset.task == "regression", lambda: read_trial_rows(context.run)
    )
    rules.extra = tuner.oracle.max_trials - search.max_trials  # retries, beyond max_trials
    cap = proposal_cap(search)
    if cap is not None:  # infeasible trials do not count: the rules stop at max_trials
        tuner.oracle.max_trials = cap + rules.extra + 1  # trained ones, or at the cap
    rules.on_start = lambda: write_deadline(context)
    context.stop_rules = rules
    guard(tuner.oracle, rules)
    context.deadline_file.unlink(missing_ok=True)  # an earlier session's
    return tuner


def read_trial_rows(run: RunDir) -> list[dict]:
    """trials.csv's rows now (its own read: the oracle's thread asks while trials end)."""
    return runs_tables.read_trial_rows(run.trials_file)[0]


def make_tuner(context: SearchContext, overwrite: bool) -> Tuner:
    """The tuner of a search; on a resume, keras-tuner reloads its own state from tuner/.

    keras-tuner's state is rebuilt when it cannot be reloaded (see `_repair_tuner_state`).
    """
    try:
        return _new_tuner(context, overwrite)
    except Exception as error:  # keras-tuner's state is JSON, but not what it expects
        if overwrite or not context.resumed:
            raise
        context.events.on_note(
            f"{context.run.tuner_dir}: keras-tuner cannot reload its state "
            f"({type(error).__name__}: {str(error)[:200]}); {REBUILT}"
        )
        discard_tuner_state(context.run)
        return _new_tuner(context, overwrite)


REBUILT = (
    "keras-tuner's state is rebuilt from trials.csv "
    "(finished trials are replayed, not trained again)."
)


def _new_tuner(context: SearchContext, overwrite: bool) -> Tuner:
    oracle = make_oracle(context.config, context.space, context.objective)
    with contextlib.redirect_stdout(io.StringIO()):  # keras-tuner prints "Reloading Tuner..."
        tuner = Tuner(
            oracle=oracle,
            directory=str(context.run.tuner_dir.parent),
            project_name=context.run.tuner_dir.name,
            overwrite=overwrite,
        )
    tuner.setup(context)
    tuner.memory = TrialMemory()
    return tuner


# ---------------------------------------------------------------- the search


def open_search(
    config: Config,
    options: RunOptions,
    *,
    events: Listeners,
    on_prepared: Optional[Callable[[RunDir], None]] = None,
    dataset: Optional[Dataset] = None,
) -> SearchContext:
    """Load the data, check what can be checked, then create (or reopen) the run directory.

    `on_prepared(run)` is called as soon as the run directory is there (a chief starts its
    workers then, so that their start-up overlaps its own). `dataset`: the data as the caller
    already loaded and checked it (before TensorFlow), so that it is not read twice."""
    locate(config, options)  # a bad name or run directory: before loading any data
    if dataset is None:  # a keras:* source: read once TensorFlow is there
        events.on_status(f"reading data ({config.data.source})")
        dataset = load_dataset(config)
    check_fits(config, dataset.input_shape)  # a CNN too deep for the image: before any file
    resolve_objective(config, dataset)  # a bad objective is a config error, before any file
    run = None
    try:
        with stops_deferred():  # a stop half-way would leave half a run directory
            run = prepare(config, options)
        if on_prepared is not None:
            on_prepared(run)
        for note in run.notes:
            events.on_note(note)
        context = SearchContext(config, dataset, run, events)
        context.planned, _ = space_module.trial_budget(config, context.space)
        context.tensorboard, context.resumed = options.tensorboard, options.resume
        context.retry_failed = options.retry_failed
        if options.resume:
            for note in _forget_unfinished(context) + _repair_tuner_state(context):
                events.on_note(note)
        _start_manifest(run, config, dataset, context, resume=options.resume)
        _reference_baselines(context, resume=options.resume)
    except BaseException as error:
        if run is None:
            raise
        if stopped(error):  # Ctrl-C while preparing the run or fitting the baselines
            raise interrupted(run, options) from None
        if isinstance(error, OSError):
            raise RunDirError(f"{write_failure(error)} {_free_and_resume(options, run)}") from None
        raise
    return context


def join_search(
    config: Config, options: RunOptions, *, tuner_id: str, events: Listeners
) -> SearchContext:
    """A worker's view of a run the chief created: same config, same data, same files."""
    dataset = load_dataset(config)
    run = join(config, options)
    context = SearchContext(chief_limits(config, run), dataset, run, events)
    context.tensorboard, context.worker = options.tensorboard, tuner_id
    run.workers_dir.mkdir(parents=True, exist_ok=True)
    context.heartbeat_file = run.heartbeat_file(tuner_id)
    context.heartbeat()
    return context


def chief_limits(config: Config, run: RunDir) -> Config:
    """A worker's config with the chief's search.max_params, as the run recorded it in
    resolved.yaml (the chief's --max-params is not among a worker's options)."""
    recorded = run.read_resolved().get("search", {})
    limit = recorded.get("max_params") if isinstance(recorded, dict) else None
    if limit == config.search.max_params:
        return config
    search = config.search.model_copy(update={"max_params": limit})
    return config.model_copy(update={"search": search})


def run_search(
    config: Config,
    options: RunOptions,
    *,
    listeners: Sequence[SearchListener] = (),
    dataset: Optional[Dataset] = None,
) -> SearchSummary:
    """Run the search a config describes and write its run directory.

    Args:
        config: the validated config (command-line overrides applied).
        options: where the run goes, and whether to resume or overwrite.
        listeners: told of the search's notes, trials and epochs, in this order
            (`tuning.events`); default: none, the search shows nothing.
        dataset: the data already loaded and checked; default: loaded here.
    """
    events = Listeners(listeners)
    with stop_on_signals():
        context = open_search(config, options, events=events, dataset=dataset)
        try:
            return finish(context, _run_tuner(context))
        except BaseException as error:
            ended = search_stopped(context, options, error)
            if ended is error:
                raise
            raise ended from None
        finally:
            events.on_search_end()


def _run_tuner(context: SearchContext) -> SearchSummary:
    """Run the trials; a SearchError (too many failures in a row) ends them with exit 1."""
    tuner = start_tuner(context, resume=context.resumed)
    tuner.handover = handover_module.plan()
    # a hand-over's successor counts the search's time from its first process's start
    started = tuner.handover.started if tuner.handover else time.time()
    summary = SearchSummary(run=context.run, objective=context.objective)
    begin_search(context, started, continued=handover_module.inherited())
    try:
        with cheap_collections():
            tuner.search(verbose=0)
        trial_module.stop_if_requested()  # a stop swallowed after the last trial's end
    except BudgetSpent:  # the running trial reached the budget + 10%: recorded interrupted
        trial_module.stop_if_requested()
    except Recycle as reason:  # past its memory budget: a fresh process continues the search
        trial_module.stop_if_requested()
        context.events.on_search_end(handed_over=True)
        tuner.handover.execute_successor(str(reason))
    except SearchError as error:
        trial_module.stop_if_requested()  # a failure the stop caused is not the search's
        summary.exit_code, summary.message = 1, str(error)
    tell_stop(context)
    context.events.on_search_end()
    summary.seconds = round(time.time() - started, 1)
    return summary


# what ends a search because the run directory cannot be written (keras-tuner's files too)
WRITE_ERRORS = (RunDirError, OSError, tf.errors.ResourceExhaustedError)


def search_stopped(
    context: SearchContext, options: RunOptions, error: BaseException
) -> BaseException:
    """The error that ends a search stopped by `error`: Interrupted (exit 130) for Ctrl-C or
    SIGTERM, whatever error the stop came out as; a RunDirError when the run directory cannot
    be written; else `error` itself."""
    if stopped(error):
        return interrupted(context.run, options)
    if isinstance(error, WRITE_ERRORS):
        return stopped_writing(context, options, error)
    return error


def begin_search(context: SearchContext, started: float, continued: bool = False) -> None:
    """Tell the listeners that the trials are about to run; `started`: `time.time()` when the
    search started (a hand-over's successor counts from its first process's start)."""
    start = SearchStart(
        run_dir=context.run.path,
        planned=context.planned,
        done=sum(r.get("status") != TrialStatus.INFEASIBLE for r in context.trials.rows.values()),
        started=started,
        continued=continued,
    )
    context.events.on_search_begin(start)
    if context.stop_rules is not None and continued:  # a hand-over keeps its budget's start
        context.stop_rules.start(started)


def write_deadline(context: SearchContext) -> None:
    """When the budget's clock starts: the time running trials stop, for the workers too."""
    deadline = context.stop_rules.deadline() if context.stop_rules else None
    if deadline is not None:
        context.deadline_file.parent.mkdir(parents=True, exist_ok=True)
        context.deadline_file.write_text(f"{deadline!r}\n", encoding="utf-8")


def tell_stop(context: SearchContext) -> Optional[Stop]:
    """Once the trials ran: the stop rule that ended the search (None: none did), kept in
    `context.stopped` and told to the listeners (`on_search_stopped`)."""
    rules = context.stop_rules
    if rules is None:
        return None
    stop = rules.stop
    cut = [
        row["trial_id"]
        for row in read_trial_rows(context.run)
        if row.get("status") == TrialStatus.INTERRUPTED and row.get("message") == BUDGET_MESSAGE
    ]
    if cut and (stop is None or stop.reason != TIME_BUDGET):
        stop = rules.budget_stop()  # a trial cut at the budget + 10% ended the search
    if stop is not None and stop.reason == TIME_BUDGET and cut:
        trials = ", ".join(cut)
        stop = Stop(
            TIME_BUDGET,
            f"{stop.detail}; trial {trials} stopped at the budget + 10% and runs again on --resume",
        )
    context.stopped = stop
    if stop is not None:
        context.events.on_search_stopped(stop.reason, stop.detail)
    return stop


def resume_hint(options: RunOptions, run: RunDir) -> str:
    return f"interrupted; the run is kept. Continue it with: {resume_command(options, run)}"


def resume_command(options: RunOptions, run: RunDir) -> str:
    return shell_command(
        "tunenet", "search", options.config_path, "--runs-dir", options.runs_dir,
        "--name", run.name, *options.overrides, "--resume",
    )  # fmt: skip


def _free_and_resume(options: RunOptions, run: RunDir) -> str:
    return (
        "The search stopped; the run is kept. Free some space (or fix the permissions), "
        f"then continue it with: {resume_command(options, run)}"
    )


def stopped_writing(
    context: SearchContext, options: RunOptions, error: BaseException
) -> RunDirError:
    """The error that ends a search whose run directory cannot be written (a full disk)."""
    with contextlib.suppress(OSError):
        mark_interrupted(context)  # may fail too while the disk is full; resume does not need it
    return RunDirError(f"{write_failure(error)}\n{_free_and_resume(options, context.run)}")


def limit_threads(threads: int) -> None:
    """Use at most `threads` CPU threads (a worker's share of the machine)."""
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# A second signal this soon after the first is the same stop: Ctrl-C in a terminal reaches a
# worker both from the terminal and from its chief; it must not cut the worker's last writes.
REPEAT_GRACE = 2.0
_first_stop = 0.0
_deferring = False  # in `stops_deferred`


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Ctrl-C (SIGINT) and SIGTERM stop the search exactly: the handler records the stop
    (`trial.stop_requested`) before it raises KeyboardInterrupt, so that the trial running is
    recorded `interrupted` whatever error the KeyboardInterrupt comes out as. A signal the
    process ignores (a background job's SIGINT) stays ignored. Only the main thread may set
    handlers: elsewhere Python's own Ctrl-C handling stays."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    trial_module.stop_requested = False
    for number, handler in previous.items():
        if handler is not signal.SIG_IGN:
            signal.signal(number, _interrupt)
    unraisable = sys.unraisablehook
    sys.unraisablehook = _quiet_lost_stop(unraisable)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
        sys.unraisablehook = unraisable
        trial_module.stop_requested = False


def _quiet_lost_stop(hook: Any) -> Any:
    """A KeyboardInterrupt raised in a finalizer is dropped by Python with an "Exception
    ignored" traceback on the terminal; the stop flag already stops the search, so it goes
    unprinted. Every other unraisable error goes to `hook`."""

    def handle(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            hook(unraisable)

    return handle


@contextlib.contextmanager
def stops_deferred() -> Iterator[None]:
    """A stop (Ctrl-C, SIGTERM) during the block is recorded, and raised once it is done."""
    global _deferring
    _deferring = True
    try:
        yield
    finally:
        _deferring = False
    trial_module.stop_if_requested()


def _interrupt(signum: int, frame: Any) -> None:
    """Ctrl-C or SIGTERM: the search stops, the run is kept and can be resumed. The flag stops
    it at the next check when this KeyboardInterrupt is lost or turned into another error."""
    global _first_stop
    if trial_module.stop_requested and time.monotonic() - _first_stop < REPEAT_GRACE:
        return  # the same stop, already under way
    trial_module.stop_requested = True
    _first_stop = time.monotonic()
    if not _deferring:
        raise KeyboardInterrupt


# ---------------------------------------------------------------- resume, manifest, finish


def _forget_unfinished(context: SearchContext) -> list[str]:
    """Before resuming: the interrupted trial runs again, so its rows go (no duplicates).

    Returns notes on lines a crash cut, which are dropped too."""
    notes = []
    if context.trials.cut:
        notes.append(
            f"{context.trials.path}: dropped its last line, cut by a crash "
            f"({context.trials.cut[:40]!r}...); that trial runs again."
        )
    rows = context.trials.rows
    finished = {key for key, row in rows.items() if row.get("status") in FINAL_STATUSES}
    if context.epoch_log.drop_trials(keep=finished):
        notes.append(f"{context.epoch_log.path}: dropped its last line, cut by a crash.")
    with context.lock:
        context.trials.rows = {key: row for key, row in rows.items() if key in finished}
        context.trials.save()
    return notes


def _repair_tuner_state(context: SearchContext) -> list[str]:
    """keras-tuner writes its state files in place: after a crash or a full disk they may be
    empty, or count as finished a trial whose row trials.csv lost. Then they are deleted and
    rebuilt: the fresh oracle proposes the same trials again (same seed) and `replay` hands
    it the recorded results, so that only the trials without a row are trained."""
    problem = tuner_state_problem(context.run, set(context.trials.rows))
    if not problem:
        return []
    discard_tuner_state(context.run)
    return [f"{problem}; {REBUILT}"]


def _start_manifest(
    run: RunDir, config: Config, dataset: Dataset, context: SearchContext, resume: bool
) -> None:
    manifest = run.read_manifest() if resume else {}
    code = manifest_code(config)  # the user's builder and loader files, by content
    run.update_manifest(
        format_version=FORMAT_VERSION,
        name=run.name,
        versions=versions(),
        seed=config.seed,
        config_fingerprint=fingerprint(config),
        strategy=config.search.strategy,
        data={**dataset.summary(), **code.get("data", {})},
        objective=context.objective.to_dict(),
        status=RunStatus.RUNNING,
        started_at=manifest.get("started_at") or now(),
        finished_at=None,
        **({"model": code["model"]} if "model" in code else {}),
    )


def _reference_baselines(context: SearchContext, *, resume: bool) -> None:
    """Fit the reference baselines (docs/report.md) into baselines.csv; a resume reuses a complete
    file (one written before the log losses and standard errors existed is fitted again). A
    baseline that fails is left out with a warning: it never stops the search. A hand-over's
    successor says nothing of them (its predecessor did)."""
    run, events = context.run, context.events
    tell = not handover_module.inherited()
    recorded = read_baseline_rows(run) if resume else None
    regression = context.dataset.task == "regression"
    if recorded is not None and has_task_columns(recorded, regression):
        if tell:
            events.on_status(f"baselines: reused {run.baselines_file}")
        return
    config = context.config
    try:
        baselines = fit_baselines(
            context.dataset, config.data.normalize, config.seed, context.class_weight,
            status=events.on_status,
        )  # fmt: skip
    except Exception as error:  # references are a help: they never stop the search
        trial_module.stop_if_requested()  # but a stop does, whatever error it came out as
        events.on_note(f"warning: baselines left out ({type(error).__name__}: {error})")
        return
    write_baselines(run, baselines.rows)
    run.update_manifest(baselines=baselines.manifest())
    for reason in baselines.skipped:
        events.on_note(f"baselines: left out {reason}")
    if tell:
        events.on_result(baselines.summary())


def mark_interrupted(context: SearchContext) -> None:
    context.run.update_manifest(status=RunStatus.INTERRUPTED, finished_at=now())


def interrupted(run: RunDir, options: RunOptions) -> Interrupted:
    """The error that ends a search stopped by Ctrl-C or SIGTERM, its run marked interrupted."""
    with contextlib.suppress(OSError):  # a full disk: resume does not need the mark
        run.update_manifest(status=RunStatus.INTERRUPTED, finished_at=now())
    return Interrupted(resume_hint(options, run))


def finish(context: SearchContext, summary: SearchSummary) -> SearchSummary:
    """Record the test error of the model best/ holds (`search.keep`) and the run's final
    status."""
    context.trials.reload()
    rows = context.trials.ordered()
    summary.rows = rows
    completed = [row for row in rows if row.get("status") == TrialStatus.COMPLETED]
    stopped_by = _record_stop(context, summary)
    if not completed:
        first = next((row.get("message") for row in rows if row.get("message")), "")
        summary.exit_code = 1
        summary.message = summary.message or _none_completed(context, rows, first)
        context.run.update_manifest(
            status=RunStatus.FAILED, finished_at=now(), stopped_by=stopped_by
        )
        return summary
    best = best_row(completed, context.objective)
    kept = keep_model(context, rows, best)  # search.keep: the trial whose model best/ holds
    test = _test_error(context, kept["trial_id"])
    with context.lock:
        for row in context.trials.rows.values():
            row["test_error"] = row["test_error_se"] = None  # a resume may find a better trial
        kept["test_error"] = None if test is None else test.error
        kept["test_error_se"] = None if test is None else test.standard_error
        context.trials.save()
    summary.best, summary.kept = best, kept
    status = RunStatus.FAILED if summary.exit_code else RunStatus.COMPLETED
    context.run.update_manifest(
        status=status, finished_at=now(), best_trial=best["trial_id"], stopped_by=stopped_by
    )
    return summary


def _record_stop(context: SearchContext, summary: SearchSummary) -> Optional[str]:
    """The stop rule that ended the search, into the summary; manifest.json's `stopped_by`
    (time_budget or no_gain; None otherwise: the proposal cap is told, not recorded)."""
    stop = context.stopped
    if stop is None:
        return None
    summary.stopped_by, summary.stopped = stop.reason, stop.detail
    return stop.reason if stop.reason in (StoppedBy.TIME_BUDGET, StoppedBy.NO_GAIN) else None


def _none_completed(context: SearchContext, rows: list[dict], first: str) -> str:
    """Why a search ended without a completed trial, and what to do about it."""
    infeasible = [row for row in rows if row.get("status") == TrialStatus.INFEASIBLE]
    if rows and len(infeasible) == len(rows):
        smallest = min(int(row["params"]) for row in infeasible)
        limit = context.config.search.max_params
        return (
            f"no trial completed: all {len(rows)} proposed models exceed search.max_params = "
            f"{limit:,} (the smallest has {smallest:,} trainable parameters). Raise "
            "search.max_params (--max-params), or narrow the space (model.units, model.layers)."
        )
    stop = context.stopped
    if stop is not None and stop.reason == TIME_BUDGET:
        return f"no trial completed before the time budget: {stop.detail}."
    return "no trial completed." + (f" First error: {first}" if first else "")


def _test_error(context: SearchContext, trial_id: str) -> Optional[SplitError]:
    """Test error of the saved best model: the unbiased estimate, never used for choosing.
    Its test confusion matrix joins best/confusion.json (classification)."""
    if len(context.dataset.y_test) == 0 or not context.run.best_model_file.exists():
        return None
    model = load_best_model(context.run.best_model_file)
    add_test_confusion(context.run, trial_id, model, context.pipelines)
    return context.pipelines.split_error(model, "test", raw=True)
