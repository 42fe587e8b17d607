"""The Python API (docs/api.md): `search`, `report` and `validate`, as a notebook calls them.

The CLI is a thin layer over these functions. They raise `tunenet.errors` exceptions and never
exit or print results; TensorFlow is imported only when `search` trains.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import cached_property
from numbers import Integral, Real
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

import yaml

from tunenet.config import load as loader
from tunenet.config.sections import Config
from tunenet.config.user_code import with_code
from tunenet.errors import ConfigError, OptionError, Problem, SearchError
from tunenet.models.checks import MODEL_CHECKS
from tunenet.runs import RunDir, RunOptions, locate, release_lock, resolved_dict
from tunenet.runs import run_name as run_name_of
from tunenet.tuning.events import Listeners, SearchListener

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd
    from rich.console import Console

    from tunenet.config.space import HyperParameter
    from tunenet.data.dataset import Dataset
    from tunenet.reporting import RunReport

ConfigLike = Union[str, Path, dict, Config]


# ---------------------------------------------------------------- validate


@dataclass(frozen=True)
class Validation:
    """What `validate` found: the config, its search space and its data.

    Attributes:
        config: the validated `Config` (defaults filled in); `search` accepts it.
        hyperparameters: the search space, one `HyperParameter` per tuned key.
        summary: one line: grid size, trials, epoch budget.
        data: what the data check found in a csv/npz file or images folder; None otherwise.
    """

    config: Config = field(repr=False)
    hyperparameters: list[HyperParameter] = field(repr=False)
    summary: str
    data: Optional[str] = None

    def __str__(self) -> str:
        return "\n".join(line for line in (self.summary, self.data) if line)


def validate(config: ConfigLike) -> Validation:
    """Check a config and its data without training: schema, search space, grid, data file.

    Args:
        config: a YAML file's path, a dict (the YAML's content) or a `Config`.

    Returns:
        A `Validation`: the `Config`, its hyperparameters and a summary line.

    Raises:
        ConfigError: the config is invalid; `.errors` lists every problem (key, message, line).
        DataError: the data file cannot be read as the config says.
    """
    from tunenet.config import space
    from tunenet.data.dataset import check_data
    from tunenet.models import size

    cfg = _load(config)  # refuses a space whose largest model exceeds search.max_model_params
    found = check_data(cfg)
    hps = space.build_space(cfg)
    lines = [space.summary_line(cfg, hps), size.describe(cfg)]
    return Validation(cfg, hps, "\n".join(line for line in lines if line), found)


def _load(config: ConfigLike, **overrides: Any) -> Config:
    """A validated Config from a path, a dict or a Config; the overrides apply first."""
    if isinstance(config, (str, Path)):
        return loader.load_config(Path(config), checks=MODEL_CHECKS, **overrides)
    if isinstance(config, Config):
        if all(value is None or value is False for value in overrides.values()):
            return config
        raw = with_code(resolved_dict(config), config, callables=True)  # a builder function
        return loader.load_mapping(raw, checks=MODEL_CHECKS, **overrides)
    if isinstance(config, dict):
        return loader.load_mapping(config, checks=MODEL_CHECKS, **overrides)
    raise TypeError(
        f"config: expected a path, a dict or a tunenet Config, got {type(config).__name__}."
    )


# ---------------------------------------------------------------- search


@dataclass
class SearchResult:
    """A finished search: its run directory and, read from it, its trials and epochs.

    Attributes:
        run_dir: the run directory (`pathlib.Path`).
        summary: what the CLI prints at the end: rows, best row, objective, seconds.
    """

    run_dir: Path
    summary: Any = field(repr=False, default=None)

    @cached_property
    def trials(self) -> pd.DataFrame:
        """trials.csv: one row per trial, columns as in docs/run-format.md."""
        from tunenet.runs import read_trials_frame  # pandas: only when asked

        return read_trials_frame(RunDir(self.run_dir))

    @cached_property
    def epochs(self) -> pd.DataFrame:
        """epochs.csv: one row per trial, execution and epoch."""
        from tunenet.runs import read_epochs_frame

        return read_epochs_frame(RunDir(self.run_dir))

    @property
    def best(self) -> Optional[dict]:
        """The best trial's row of `trials` as a dict (missing values as None), or None."""
        best = getattr(self.summary, "best", None)
        if best is None:
            return None
        rows = self.trials[self.trials["trial_id"] == best["trial_id"]]
        rows = rows.astype(object).where(rows.notna(), None)
        return rows.to_dict("records")[0] if len(rows) else None


def search(
    config: ConfigLike,
    runs_dir: Union[str, Path] = "runs",
    name: Optional[str] = None,
    resume: bool = False,
    overwrite: bool = False,
    quiet: bool = True,
    *,
    max_trials: Optional[int] = None,
    epochs: Optional[int] = None,
    seed: Optional[int] = None,
    smoke: bool = False,
    workers: int = 0,
    serve: Optional[str] = None,
    max_trials_per_worker: Optional[int] = None,
    worker_memory: Optional[int] = None,
    gpus: Union[str, Sequence[Union[int, str]], None] = None,
    worker_timeout: float = 600.0,
    tensorboard: bool = False,
    retry_failed: bool = False,
    time_budget: Union[str, float, None] = None,
    max_params: Optional[int] = None,
    console: Optional[Console] = None,
    listeners: Optional[Sequence[SearchListener]] = None,
) -> SearchResult:
    """Run the search a config describes and write its run directory.

    The keywords are the options of `tunenet search` (docs/cli.md), under the same names.

    Args:
        config: a YAML file's path, a dict (the YAML's content) or a `Config`.
        runs_dir: directory that holds the run directories (`--runs-dir`). Default: "runs".
        name: the run's name (`--name`). Default: the config's `name`, else the file's stem; a
            dict or a `Config` without `name` needs it.
        resume: continue an existing run (`--resume`). Default: False.
        overwrite: replace an existing run (`--overwrite`). Default: False.
        quiet: no progress display (`--quiet`). Default: True, unlike the CLI.
        max_trials: override `search.max_trials` (`--max-trials`). Default: the config's.
        epochs: override `training.epochs` (`--epochs`). Default: the config's.
        seed: override the config's `seed` (`--seed`). Default: the config's.
        smoke: a smoke run: at most 2 trials, 2 epochs, 512 examples (`--smoke`). Default: False.
        workers: worker processes on keras-tuner's distributed mode, 0: train in this process
            (`--workers`). Default: 0.
        serve: HOST:PORT where the oracle waits for remote `tunenet worker`s (`--serve`).
            Default: None (no remote workers).
        max_trials_per_worker: replace a worker by a fresh process after this many trials
            (`--max-trials-per-worker`). Default: None (never).
        worker_memory: replace a worker by a fresh process past this RSS, in MB
            (`--worker-memory`). Default: None (never).
        gpus: the workers' GPUs, "0,1" or a list such as [0, 1] (`--gpus`). Default: None (all
            visible, one per worker).
        worker_timeout: seconds a remote worker may stay silent before its trial is given to
            another worker (`--worker-timeout`). Default: 600.
        tensorboard: TensorBoard logs per trial, with HParams (`--tensorboard`). Default: False.
        retry_failed: with `resume`, each failed trial's hyperparameters run again as a new
            trial (`--retry-failed`). Default: False.
        time_budget: override `search.time_budget`: seconds, or "90s", "30m", "2h"
            (`--time-budget`). Default: the config's.
        max_params: override `search.max_params`, the most trainable parameters a trial's
            model may have (`--max-params`). Default: the config's.
        console: where progress and notes go. Default: a stderr console.
        listeners: told of the search's events (`tunenet.tuning.events.SearchListener`: its
            status, notes, trials, epochs) instead of the display on `console`. Default: None
            (the progress display, each trial's line labeled as `report` labels it).

    Returns:
        A `SearchResult`.

    Raises:
        ConfigError, DataError: bad config or data, before anything is written and before
            TensorFlow loads (the checks of `validate`, as fast).
        RunDirError: the run directory exists (without `resume`/`overwrite`), cannot be
            resumed or written.
        SearchError: the search ran but failed (no trial completed); `.summary` and
            `.run_dir` tell what happened.
    """
    if resume and overwrite:
        raise ValueError("resume and overwrite cannot both be True.")
    edits = dict(max_trials=max_trials, epochs=epochs, seed=seed, smoke=smoke)  # change the config
    distributed = dict(
        workers=workers, serve=serve, max_trials_per_worker=max_trials_per_worker,
        worker_memory=worker_memory, gpus=gpus, worker_timeout=worker_timeout,
    )  # fmt: skip
    if listeners is None:
        listeners = _search_listeners(console or _stderr_console(), quiet)
    events = Listeners(listeners)
    try:  # the status line goes away on every way out
        cfg = _with_limits(_load(config, **edits), time_budget, max_params)
        options = _run_options(
            config, cfg, Path(runs_dir), name, resume, overwrite, edits, tensorboard
        )
        locate(cfg, options)  # a bad name or run directory: said before TensorFlow loads
        options = _retrying(cfg, options, retry_failed)
        dataset = _checked_data(cfg, events)  # bad data: said as fast as `validate` says it
        try:
            summary = _run(cfg, options, listeners, distributed, dataset)
        finally:  # the run's search lock: another process may search it now
            release_lock(options.runs_dir / run_name_of(cfg, options))
    finally:
        events.on_status("")
    if summary.exit_code:
        message = summary.message or "the search failed."
        raise SearchError(message, summary=summary, run_dir=summary.run.path)
    return SearchResult(summary.run.path, summary)


def _run_options(
    config: ConfigLike,
    cfg: Config,
    runs_dir: Path,
    name: Optional[str],
    resume: bool,
    overwrite: bool,
    edits: dict,
    tensorboard: bool,
) -> RunOptions:
    """Where the run goes. A dict or Config has no file: config.yaml is written from it."""
    flags = _override_flags(edits)
    common = dict(
        runs_dir=runs_dir, name=name, resume=resume, overwrite=overwrite,
        tensorboard=bool(tensorboard), overrides=flags,
    )  # fmt: skip
    if isinstance(config, (str, Path)):
        return RunOptions(config_path=Path(config), **common)
    run_name = name if name is not None else cfg.name
    if run_name is None:
        message = (
            "a config given as a dict or Config has no file name to name its run after; "
            "give name=... (or a `name` key in the config)."
        )
        raise ConfigError(f"config: {message}", [Problem("name", message)])
    # the run's own config.yaml: what resume hints and worker processes read back
    return RunOptions(
        config_path=runs_dir / run_name / "config.yaml",
        config_text=_yaml_text(config, cfg),
        **common,
    )


def _yaml_text(config: Union[dict, Config], cfg: Config) -> str:
    # a builder or loader as an absolute path (or a function's module:name), never relative
    content = (
        resolved_dict(config)
        if isinstance(config, Config)
        else with_code(config, cfg, callables=False)
    )
    try:
        return yaml.safe_dump(content, sort_keys=False)
    except yaml.YAMLError as error:
        raise ConfigError(f"config: cannot be written as YAML ({error}).") from None


def _with_limits(
    cfg: Config, time_budget: Union[str, float, None], max_params: Optional[int]
) -> Config:
    """The config with `--time-budget` and `--max-params` applied; a bad value names its
    option (docs/guide.md, "When to stop, what it costs, what to keep")."""
    from tunenet.config.stopping import duration_seconds

    changes: dict[str, Any] = {}
    if time_budget is not None:
        try:
            changes["time_budget"] = duration_seconds(time_budget)
        except ValueError as error:
            raise OptionError(f"--time-budget: got {_shown(time_budget)}, {error}.") from None
    if max_params is not None:
        if isinstance(max_params, bool) or not isinstance(max_params, Integral) or max_params < 1:
            raise OptionError(
                f"--max-params: expected a whole number of parameters, 1 or more, got "
                f"{_shown(max_params)}."
            )
        changes["max_params"] = int(max_params)
    if not changes:
        return cfg
    return cfg.model_copy(update={"search": cfg.search.model_copy(update=changes)})


def _retrying(cfg: Config, options: RunOptions, retry_failed: bool) -> RunOptions:
    """`retry_failed` checked (with resume, a strategy that can retry), and the warm start's
    run readable, before TensorFlow loads."""
    from tunenet.tuning import replay

    replay.check(cfg, options.resume, retry_failed)
    return replace(options, retry_failed=retry_failed)


def _override_flags(edits: dict) -> tuple[str, ...]:
    """The config overrides again as CLI flags, for resume hints and worker processes."""
    flags: list[str] = []
    for key in ("max_trials", "epochs", "seed"):
        if edits.get(key) is not None:
            flags += [f"--{key.replace('_', '-')}", str(edits[key])]
    return (*flags, "--smoke") if edits.get("smoke") else tuple(flags)


def _checked_data(cfg: Config, events: SearchListener) -> Optional[Dataset]:
    """The data, read once and checked as `validate` checks it, before TensorFlow loads.

    The search trains on this very dataset, so the file is not read twice. None for a
    `keras:*` source: Keras downloads it, so the search loads it once TensorFlow is there
    (`validate` cannot read those either).
    """
    from tunenet.data.dataset import load_dataset
    from tunenet.data.sources import KERAS_DATASETS
    from tunenet.models.shapes import check_fits

    if cfg.data.source in KERAS_DATASETS:
        return None
    events.on_status(f"reading data ({data_label(cfg)})")
    dataset = load_dataset(cfg)
    check_fits(cfg, dataset.input_shape)  # a CNN too deep for the images actually found
    return dataset


def data_label(cfg: Config) -> str:
    """The data as a status names it: "iris", "csv: data.csv", "python: load.py"."""
    where = cfg.data.path or (cfg.data.loader if isinstance(cfg.data.loader, str) else None)
    return f"{cfg.data.source}: {Path(where).name}" if where else str(cfg.data.source)


def _run(
    cfg: Config,
    options: RunOptions,
    listeners: Sequence[SearchListener],
    distributed: dict,
    dataset: Optional[Dataset],
) -> Any:
    """Run in this process, or as the chief of keras-tuner's distributed mode (`distributed`:
    `search`'s keywords for it)."""
    Listeners(listeners).on_status("loading TensorFlow")
    if not (distributed["workers"] or distributed["serve"]):
        from tunenet.tuning import tuner  # imports TensorFlow

        return tuner.run_search(cfg, options, listeners=listeners, dataset=dataset)
    from tunenet.tuning import workers  # the chief imports TensorFlow too

    gpus = distributed["gpus"]
    plan = workers.WorkerOptions(
        count=distributed["workers"] or 0,
        serve=distributed["serve"],
        max_trials_per_worker=distributed["max_trials_per_worker"],
        worker_memory_mb=distributed["worker_memory"],
        gpus=list(gpus) if isinstance(gpus, (list, tuple)) else workers.gpu_list(gpus),
        overrides=options.overrides,
        timeout=distributed["worker_timeout"] or 600.0,
        tensorboard=options.tensorboard,
    )
    return workers.run_distributed(cfg, options, plan, listeners=listeners, dataset=dataset)


def _search_listeners(console: Console, quiet: bool) -> list[SearchListener]:
    """What the user sees of a search on `console`: its progress, each finished trial's line
    with the label `tunenet report` gives it, and its notes (only these when `quiet`)."""
    from tunenet.reporting.live import LiveLabels
    from tunenet.reporting.progress import SearchProgress

    labels = LiveLabels()
    return [labels, SearchProgress(console, quiet=quiet, labeler=labels)]


def _stderr_console() -> Console:
    from rich.console import Console

    # no markup: user text such as a header "a:b:y" is printed as it is
    return Console(stderr=True, highlight=False, markup=False, emoji=False, soft_wrap=True)


# ---------------------------------------------------------------- report


@dataclass(repr=False)
class Report:
    """The diagnosis of one run, or of every run in a directory.

    Attributes:
        runs: one `RunReport` per run that could be read; its `trials` best first.
        failures: (path, message) of each run that could not be read.
    """

    runs: list[RunReport]
    failures: list[tuple[Path, str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        """What report.json holds: one run's report, or {format_version, runs, reports}."""
        return json.loads(self.render("json"))

    def render(self, fmt: str = "markdown", out_path: Union[str, Path, None] = None) -> str:
        """The report as text.

        Args:
            fmt: "table" (plain text), "markdown", "csv", "json" or "html". Default: markdown.
            out_path: where the text will go, so that markdown links its plots relative to it.
                Default: the current directory.

        Raises:
            OptionError: `fmt` is not one of the formats, or `out_path` is not a path.
        """
        from tunenet import reporting

        if out_path is not None and not isinstance(out_path, (str, PathLike)):
            raise OptionError(
                f"out_path: expected a path (str or pathlib.Path), got {_shown(out_path)}."
            )
        where = None if out_path is None else Path(out_path)
        return reporting.render(fmt, self.runs, self.failures, where)

    def save(self, plots: bool = True) -> list[Path]:
        """Write each run's report.md/.html/.json/.csv (and plots) under `<run>/report/`.

        Returns:
            The files written.

        Raises:
            OSError: a report directory is not writable.
        """
        from tunenet import reporting

        return [
            path for run in self.runs for path in reporting.write_report_files(run, plots=plots)
        ]

    def __repr__(self) -> str:
        names = [report.run.name for report in self.runs]
        return f"Report(runs={names}, failures={[str(path) for path, _ in self.failures]})"

    def _repr_markdown_(self) -> str:  # a notebook shows the report itself
        return self.render("markdown")


def report(
    runs_or_run: Union[str, Path],
    *,
    target_error: Union[float, str, None] = None,
    bias_threshold: Optional[float] = None,
    variance_threshold: Optional[float] = None,
    top: Optional[int] = None,
) -> Report:
    """Diagnose a run, or every run in a directory: bias, variance, divergence, what to change.

    Reads the run's files only (never TensorFlow) and writes nothing; `Report.save()` writes the
    report files.

    Args:
        runs_or_run: one run directory, or a directory of runs (a str or a path).
        target_error: override the run's `diagnosis.target_error`: a fraction in [0, 1] or
            "auto" (the best baseline's validation error). Default: the run's own.
        bias_threshold, variance_threshold: override the run's `diagnosis` thresholds, fractions
            in [0, 1]. Default: the run's own.
        top: keep only the best `top` trials, an integer >= 1. Default: all.

    Returns:
        A `Report`; `.to_dict()` is what report.json holds.

    Raises:
        OptionError: an argument is not what is expected (also a ValueError), as the CLI's
            options are checked.
        RunDirError: the run cannot be read, or no run under the directory can.
    """
    from tunenet import reporting

    _check_report_arguments(runs_or_run, target_error, bias_threshold, variance_threshold, top)
    reports, failures = reporting.load_reports(
        Path(runs_or_run),
        target_error=target_error,
        bias_threshold=bias_threshold,
        variance_threshold=variance_threshold,
        top=top,
    )
    return Report(reports, failures)


def _check_report_arguments(
    runs_or_run: Any, target_error: Any, bias_threshold: Any, variance_threshold: Any, top: Any
) -> None:
    """`report`'s arguments, checked as the CLI checks its options (OptionError)."""
    if not isinstance(runs_or_run, (str, PathLike)) or not str(runs_or_run):
        raise OptionError(
            f"runs_or_run: expected the path of a run directory or of a directory of runs "
            f"(a str or pathlib.Path), got {_shown(runs_or_run)}."
        )
    fractions = {"bias_threshold": bias_threshold, "variance_threshold": variance_threshold}
    if target_error != "auto":
        fractions = {"target_error": target_error, **fractions}
    for name, value in fractions.items():
        if value is not None and not (_is_number(value) and 0 <= value <= 1):
            allowed = ' or "auto"' if name == "target_error" else ""
            raise OptionError(
                f"{name}: expected a fraction between 0 and 1 (0.13 means 13 %){allowed}, "
                f"got {_shown(value)}."
            )
    if top is not None and (isinstance(top, bool) or not isinstance(top, Integral) or top < 1):
        raise OptionError(f"top: expected a whole number of trials, 1 or more, got {_shown(top)}.")


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{text[:60]}..." if len(text) > 60 else f"{text} ({type(value).__name__})"


# ---------------------------------------------------------------- lr-find, learning curve


def lr_find(
    config: Union[str, Path],
    runs_dir: Union[str, Path] = "runs",
    *,
    min_lr: float = 1e-7,
    max_lr: float = 10.0,
    steps: int = 100,
    out: Optional[Union[str, Path]] = None,
) -> Any:
    """The learning-rate range test of `tunenet lr-find` (docs/guide.md).

    Writes `<runs_dir>/<name>-lr-find/lr_find.csv` and `lr_find.png`.

    Args:
        config: the YAML config file.
        runs_dir: where `<name>-lr-find/` goes. Default: "runs".
        min_lr, max_lr: the first and last learning rate. Default: 1e-7 and 10.
        steps: batches to train. Default: 100.
        out: also write the config with the suggested `optimizer.learning_rate` (a new file):
            the log range, or for `search.strategy: grid` log-spaced rates from it.

    Returns:
        An `LrFindResult`: `.suggestion` (the range, or None when the loss never fell),
        `.config_note` (for a grid: the rates written to `out`) and `.lines()` (what the
        command prints).

    Raises:
        TunenetError: bad options; ConfigError, DataError, RunDirError as `search`.
    """
    from tunenet.studies import lr_find as lr_find_module  # TensorFlow when it trains

    lr_find_module.check_options(min_lr, max_lr, steps)
    return lr_find_module.run_lr_find(
        Path(config),
        runs_dir=Path(runs_dir),
        min_lr=min_lr,
        max_lr=max_lr,
        steps=steps,
        out=None if out is None else Path(out),
    )


def learning_curve(
    run_dir: Union[str, Path],
    fractions: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0),
    *,
    quiet: bool = True,
    console: Optional[Console] = None,
) -> Any:
    """Retrain a run's best trial on growing fractions of its training split (docs/guide.md).

    Writes `<run>/learning_curve.csv` and `learning_curve.png`; `report()` then says whether
    more data is likely to help.

    Args:
        run_dir: the run directory.
        fractions: shares of the training split, increasing, in (0, 1]. Default 0.1, 0.25, 0.5,
            1.0.
        quiet: no progress display. Default: True.
        console: where progress goes. Default: a stderr console.

    Returns:
        A `CurveResult`: `.table` (learning_curve.csv), `.curve.more_data_helps` (True, False
        or None: uncertain) and `.curve.reason`.

    Raises:
        TunenetError: bad fractions. RunDirError: not a run, or no completed trial.
        DataError: a fraction keeps too few examples.
    """
    from tunenet.studies import learning_curve as curve_module  # TensorFlow when it trains

    return curve_module.learning_curve_run(
        Path(run_dir), fractions, console=console or _stderr_console(), quiet=quiet
    )


EXPORT_TARGETS = ("mlflow", "tensorboard")


def export(
    run_dir: Union[str, Path],
    to: str = "mlflow",
    *,
    tracking_uri: Optional[str] = None,
    experiment: Optional[str] = None,
    logdir: Union[str, Path, None] = None,
    follow: bool = False,
    log: Optional[Callable[[str], None]] = None,
) -> Any:
    """Export a run to an experiment tracker, from its files (docs/export.md).

    Args:
        run_dir: the run directory (finished, or still running with `follow`).
        to: "mlflow" (a parent run for the search, a nested run per trial) or "tensorboard"
            (HParams and per-epoch scalars per trial).
        tracking_uri: MLflow only. Default: MLFLOW_TRACKING_URI, else sqlite:///mlflow.db in
            the current directory.
        experiment: MLflow only. Default: the run's name.
        logdir: TensorBoard only. Default: `<run>/tensorboard`.
        follow: export as the search writes, until its manifest says it ended.
        log: called with a line after each export pass (progress). Default: silent.

    Returns:
        For MLflow an `ExportResult` (`.experiment_id`, `.parent_run_id`, `.trial_runs`:
        trial id -> MLflow run id); for TensorBoard a `TensorBoardResult` (`.logdir`,
        `.trials`).

    Raises:
        OptionError: an unknown target, or an option of the other target.
        RunDirError: not a run. MissingExtra (a TunenetError): mlflow is not installed.
    """
    if to not in EXPORT_TARGETS:
        raise OptionError(f"--to {to!r}: expected one of {', '.join(EXPORT_TARGETS)}.")
    if to == "mlflow":
        if logdir is not None:
            raise OptionError("--logdir is for --to tensorboard; MLflow takes --tracking-uri.")
        from tunenet.studies.export_mlflow import export_mlflow

        return export_mlflow(Path(run_dir), uri=tracking_uri, experiment=experiment,
                             follow_run=follow, log=log)  # fmt: skip
    if tracking_uri is not None or experiment is not None:
        raise OptionError("--tracking-uri and --experiment are for --to mlflow.")
    from tunenet.studies.export_tensorboard import export_tensorboard

    return export_tensorboard(
        Path(run_dir), logdir=Path(logdir) if logdir is not None else None, follow_run=follow,
        log=log,
    )  # fmt: skip
