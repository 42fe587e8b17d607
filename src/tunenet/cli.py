"""The `tunenet` command line: each command parses, makes one library call and renders.

`search`, `validate` and `report` call the Python API (`tunenet.api`); the other commands call
their module. Library code raises `tunenet.errors`; `handle_errors` is the one place that turns
them into a message and an exit code. TensorFlow is imported only inside the commands that train
(`search`, `evaluate`, ...), so `--help`, `validate`, `report`, `schema`, `init` and `refine`
answer in well under a second.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer
from rich.console import Console
from typer.exceptions import TyperException

from tunenet import __version__
from tunenet.errors import TunenetError, printable, shell_command
from tunenet.tuning import handover

app = typer.Typer(
    name="tunenet",
    help="Tune Keras neural networks from one YAML file; keep and diagnose every learning curve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# No markup and no emoji codes: user text such as a header "a:b:y" is printed as it is.
out = Console(highlight=False, markup=False, emoji=False, soft_wrap=False)
err = Console(stderr=True, highlight=False, markup=False, emoji=False, soft_wrap=True)
PIPED_WIDTH = 160  # stdout piped without COLUMNS (docs/report.md)


def _fit_output_width() -> None:
    """Results are as wide as `COLUMNS` when set, else the terminal; piped: PIPED_WIDTH.
    Read at each command (not at import), so that `COLUMNS=100 tunenet report ...` holds."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        out.width = int(columns)
    else:
        out.width = None if out.is_terminal else PIPED_WIDTH  # type: ignore[assignment]


class _WarningHandler(logging.Handler):
    """The library's log warnings (e.g. a CSV column left out) on stderr, as `warning: ...`."""

    def emit(self, record: logging.LogRecord) -> None:
        err.print(printable(f"warning: {record.getMessage()}"))  # err: sys.stderr at each print


_library_log = logging.getLogger("tunenet")
_library_log.addHandler(_WarningHandler(logging.WARNING))
_library_log.propagate = False

ConfigArg = Annotated[Path, typer.Argument(help="The YAML config file.", show_default=False)]
RunsDirOpt = Annotated[
    Path, typer.Option("--runs-dir", help="Directory that holds the run directories.")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")]


class ReportFormat(str, Enum):
    table = "table"
    markdown = "markdown"
    csv = "csv"
    json = "json"
    html = "html"


@contextlib.contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """SIGTERM ends a command as Ctrl-C does: "interrupted", exit 130 (a search also records
    its run as interrupted, see tuning.tuner.stop_on_signals). Left alone when ignored, and
    outside the main thread (which alone may set handlers)."""
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGTERM) is signal.SIG_IGN:
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def handle_errors(command: Callable) -> Callable:
    """Turn tunenet errors into a message on stderr and their exit code, without a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            with _sigterm_as_ctrl_c():
                return command(*args, **kwargs)
        except TunenetError as error:
            if os.environ.get("TUNENET_DEBUG") == "1":
                raise
            err.print(printable(f"error: {error}"))  # a quoted value cannot drive the terminal
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            if os.environ.get("TUNENET_DEBUG") == "1":
                raise
            err.print("interrupted")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except Exception as error:  # a bug: say so plainly, the traceback is one variable away
            if os.environ.get("TUNENET_DEBUG") == "1":
                raise
            err.print(
                printable(f"internal error: {type(error).__name__}: {error}\n")
                + "This is a bug in tunenet; run again with TUNENET_DEBUG=1 to see the traceback."
            )
            raise typer.Exit(1) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        out.print(f"tunenet {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Tune Keras neural networks from one YAML file; keep and diagnose every learning curve."""
    _fit_output_width()


@app.command()
@handle_errors
def validate(config: ConfigArg) -> None:
    """Check a config and its data: schema, search space, grid size, budget, model size, data file.

    A csv or npz file is read, and an images folder listed, as a search would, without
    TensorFlow: a data problem stops `validate` with the same message. The largest model of
    the space is estimated from the data's shape and refused above search.max_model_params. A
    config file is read up to 1 MiB. A custom model's builder (model.build) and a python
    loader (data.loader) are read and parsed, never imported.
    """
    from tunenet import api
    from tunenet.config.user_code import config_runs
    from tunenet.reporting import space_table

    checked = api.validate(config)  # before any output: a data problem prints only the error
    for line in config_runs(checked.config):  # the user's code it names, read but never run
        out.print(printable(line))
    out.print(space_table(checked.config, checked.hyperparameters))
    out.print(checked.summary)
    if checked.data:
        out.print(checked.data)


MaxTrialsOpt = Annotated[Optional[int], typer.Option(min=1, help="Override search.max_trials.")]
EpochsOpt = Annotated[Optional[int], typer.Option(min=1, help="Override training.epochs.")]
SeedOpt = Annotated[Optional[int], typer.Option(help="Override the config's seed.")]
SmokeOpt = Annotated[
    bool, typer.Option("--smoke", help="CI smoke run: at most 2 trials, 2 epochs, 512 examples.")
]
PerWorkerOpt = Annotated[
    Optional[int],
    typer.Option(min=1, help="Replace a worker by a fresh process after this many trials."),
]
TensorBoardOpt = Annotated[
    bool, typer.Option("--tensorboard", help="TensorBoard logs per trial, with HParams.")
]
MemoryOpt = Annotated[
    Optional[int],
    typer.Option(min=1, help="Replace a worker by a fresh process past this RSS, in MB."),
]


@app.command()
@handle_errors
def search(
    config: ConfigArg,
    runs_dir: RunsDirOpt = Path("runs"),
    name: Annotated[Optional[str], typer.Option(help="Run name (default: the config's).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an existing run.")] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing run.")
    ] = False,
    max_trials: MaxTrialsOpt = None,
    epochs: EpochsOpt = None,
    smoke: SmokeOpt = False,
    workers: Annotated[
        int,
        typer.Option(
            min=0, help="Worker processes on keras-tuner's distributed mode (0: in this process)."
        ),
    ] = 0,
    serve: Annotated[
        Optional[str],
        typer.Option(help="HOST:PORT where the oracle waits for remote `tunenet worker`s."),
    ] = None,
    max_trials_per_worker: PerWorkerOpt = None,
    worker_memory: MemoryOpt = None,
    gpus: Annotated[
        Optional[str], typer.Option(help="GPUs for the workers, e.g. 0,1 (default: all visible).")
    ] = None,
    worker_timeout: Annotated[
        float,
        typer.Option(
            min=1,
            help="Seconds a remote worker may stay silent before its trial is "
            "given to another worker.",
        ),
    ] = 600.0,
    tensorboard: TensorBoardOpt = False,
    seed: SeedOpt = None,
    quiet: QuietOpt = False,
    retry_failed: Annotated[
        bool,
        typer.Option(
            "--retry-failed",
            help="With --resume: each failed trial's hyperparameters run again as a new trial.",
        ),
    ] = False,
    time_budget: Annotated[
        Optional[str],
        typer.Option(
            help="Start no trial after this long (900, 90s, 30m, 2h); overrides "
            "search.time_budget.",
        ),
    ] = None,
    max_params: Annotated[
        Optional[int],
        typer.Option(
            min=1,
            help="Do not train a model with more trainable parameters; overrides "
            "search.max_params.",
        ),
    ] = None,
) -> None:
    """Run the search a config describes and write its run directory.

    The config and its data are checked first, as `validate` checks them and before TensorFlow
    loads: a refused search answers as fast as `validate`, and writes nothing. From the first
    second until the first trial's line, stderr says what the search is doing (reading the
    data, loading TensorFlow, fitting the baselines, building trial 0).
    """
    if resume and overwrite:
        raise typer.BadParameter("--resume and --overwrite cannot be used together.")
    if retry_failed and not resume:
        raise typer.BadParameter("--retry-failed needs --resume: it reruns a run's failed trials.")
    if handover.inherit():  # this process continues the search its predecessor handed over
        resume, overwrite = True, False
    from tunenet.errors import SearchError

    display = _search_display(config, quiet)  # something on screen before anything slow loads
    try:
        from tunenet import api
        from tunenet.reporting.live import LiveLabels

        display.labeler = labels = LiveLabels()
        result = api.search(
            config, runs_dir, name, resume, overwrite, quiet, console=err,
            max_trials=max_trials, epochs=epochs, seed=seed, smoke=smoke, workers=workers,
            serve=serve, max_trials_per_worker=max_trials_per_worker,
            worker_memory=worker_memory, gpus=gpus, worker_timeout=worker_timeout,
            tensorboard=tensorboard, listeners=[labels, display], time_budget=time_budget,
            max_params=max_params, retry_failed=retry_failed,
        )  # fmt: skip
    except SearchError as error:
        if error.summary is None:
            raise
        _print_summary(error.summary)  # the search ran: its trials, then exit 1
        raise typer.Exit(error.exit_code) from None
    finally:
        display.on_status("")  # the status line goes, whatever the way out
    _print_summary(result.summary)


def _search_display(config: Path, quiet: bool) -> Any:
    """The search's progress on stderr, its first status shown at once: the library and
    TensorFlow take seconds to load (docs/cli.md)."""
    from tunenet.reporting.progress import SearchProgress

    display = SearchProgress(err, quiet=quiet)
    display.on_status(f"reading config ({config.name})")
    return display


def _print_summary(summary: Any) -> None:
    from tunenet.reporting import best_trial_text, search_summary

    out.print(search_summary(summary))
    if summary.best is not None:
        out.print(best_trial_text(summary.run.path))


@app.command()
@handle_errors
def worker(
    config: ConfigArg,
    oracle: Annotated[str, typer.Option(help="HOST:PORT of the chief (`tunenet search --serve`).")],
    runs_dir: RunsDirOpt = Path("runs"),
    name: Annotated[Optional[str], typer.Option(help="Run name (default: the config's).")] = None,
    worker_id: Annotated[
        Optional[str], typer.Option("--id", help="Worker id (default: host name and process id).")
    ] = None,
    threads: Annotated[Optional[int], typer.Option(min=1, help="CPU threads to use.")] = None,
    max_trials: MaxTrialsOpt = None,
    epochs: EpochsOpt = None,
    smoke: SmokeOpt = False,
    seed: SeedOpt = None,
    max_trials_per_worker: PerWorkerOpt = None,
    worker_memory: MemoryOpt = None,
    tensorboard: TensorBoardOpt = False,
) -> None:
    """Join a search: fetch trials from the chief's oracle and write into the shared run dir."""
    import socket

    from tunenet.config import load as loader
    from tunenet.models.checks import MODEL_CHECKS
    from tunenet.runs import RunOptions

    cfg = loader.load_config(
        config, max_trials=max_trials, epochs=epochs, seed=seed, smoke=smoke, checks=MODEL_CHECKS
    )
    options = RunOptions(
        config_path=config, runs_dir=runs_dir, name=name, resume=True, tensorboard=tensorboard
    )
    from tunenet.reporting.progress import SearchProgress
    from tunenet.tuning import workers as workers_module  # imports TensorFlow

    tuner_id = worker_id or os.environ.get("KERASTUNER_TUNER_ID")
    code = workers_module.run_worker(
        cfg,
        options,
        oracle=oracle,
        tuner_id=tuner_id or f"worker-{socket.gethostname()}-{os.getpid()}",
        threads=threads,
        max_trials=max_trials_per_worker,
        memory_mb=worker_memory,
        listeners=[SearchProgress(err)],  # its trials' lines; the chief shows the search
    )
    raise typer.Exit(code)


@app.command()
@handle_errors
def report(
    runs_or_run: Annotated[
        Path, typer.Argument(help="One run directory, or a directory of runs.", show_default=False)
    ],
    format: Annotated[ReportFormat, typer.Option("--format", "-f")] = ReportFormat.table,
    out_path: Annotated[
        Optional[Path],
        typer.Option("--out", help="Write the chosen format to this regular file."),
    ] = None,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Draw PNG plots.")] = True,
    target_error: Annotated[
        Optional[float], typer.Option(help="Override diagnosis.target_error.")
    ] = None,
    bias_threshold: Annotated[
        Optional[float], typer.Option(help="Override diagnosis.bias_threshold.")
    ] = None,
    variance_threshold: Annotated[
        Optional[float], typer.Option(help="Override diagnosis.variance_threshold.")
    ] = None,
    top: Annotated[Optional[int], typer.Option(min=1, help="Show only the best K trials.")] = None,
) -> None:
    """Diagnose a run (or a directory of runs): bias, variance, divergence, what to change.

    Each run also gets its report.md, .html, .json, .csv and plots under RUN/report/. Nothing is
    written through a symbolic link: a link in RUN/report/ (or a file in its place) is refused
    with exit code 2, and --out writes only a regular file (a FIFO, a device, a directory or a
    link there is refused, before anything is written). In csv, a text cell that a spreadsheet
    would run as a formula (starting with =, +, -, @, a tab or CR) gets a leading single quote;
    numbers stay numbers.
    """
    from tunenet import api, reporting

    found = api.report(
        runs_or_run,
        target_error=target_error,
        bias_threshold=bias_threshold,
        variance_threshold=variance_threshold,
        top=top,
    )
    reporting.publish(
        found.runs, found.failures, fmt=format.value, out_path=out_path, plots=plots,
        console=out, log=err,
    )  # fmt: skip


@app.command()
@handle_errors
def activations(
    run: Annotated[Path, typer.Argument(help="A run directory.", show_default=False)],
    input: Annotated[
        Path,
        typer.Option(
            "--input", "-i", help="Image (PNG, JPEG) or .npy array to feed the best model."
        ),
    ],
    layers: Annotated[
        Optional[list[str]],
        typer.Option(help="Layers to draw, comma-separated (default: every conv_i and pool_i)."),
    ] = None,
    out_path: Annotated[
        Optional[Path],
        typer.Option("--out", help="PNG to write [default: RUN/report/activations.png]."),
    ] = None,
    filters: Annotated[
        bool, typer.Option("--filters", help="Also draw the first conv layer's kernels.")
    ] = False,
) -> None:
    """Draw what each conv and pooling layer of a CNN run's best model makes of one image."""
    names = [name.strip() for item in layers or [] for name in item.split(",") if name.strip()]
    from tunenet.studies.activations import draw_activations  # imports TensorFlow when it runs

    result = draw_activations(run, input, layers=names or None, out=out_path, filters=filters)
    out.print(str(result.path))


class EvaluateSplit(str, Enum):
    test = "test"
    val = "val"
    train = "train"


class EvaluateFormat(str, Enum):
    table = "table"
    json = "json"


@app.command()
@handle_errors
def evaluate(
    run: Annotated[Path, typer.Argument(help="A run directory.", show_default=False)],
    split: Annotated[
        EvaluateSplit,
        typer.Option("--split", help="test is the unbiased estimate; never choose by it."),
    ] = EvaluateSplit.test,
    format: Annotated[EvaluateFormat, typer.Option("--format", "-f")] = EvaluateFormat.table,
) -> None:
    """Evaluate a run's best model on its test (or val, train) split: loss, metrics, error."""
    from tunenet.studies import evaluate as evaluate_module  # imports TensorFlow when it runs

    result = evaluate_module.evaluate_run(run, split.value)
    for warning in result.warnings:
        err.print(f"warning: {warning}")
    if format is EvaluateFormat.json:
        out.print(evaluate_module.as_json(result))
    else:
        out.print(evaluate_module.as_table(result))


@app.command("learning-curve")
@handle_errors
def learning_curve(
    run: Annotated[Path, typer.Argument(help="A run directory.", show_default=False)],
    fractions: Annotated[
        str,
        typer.Option(help="Shares of the training split to retrain on, increasing, in (0, 1]."),
    ] = "0.1,0.25,0.5,1.0",
    quiet: QuietOpt = False,
) -> None:
    """Retrain the best trial on growing fractions of the training split: will more data help?

    Writes RUN/learning_curve.csv and learning_curve.png; `tunenet report` shows the verdict.
    """
    from tunenet.studies import learning_curve as curve_module  # TensorFlow only when it trains

    chosen = curve_module.parse_fractions(fractions)  # before TensorFlow loads
    result = curve_module.learning_curve_run(run, chosen, console=err, quiet=quiet)
    for warning in result.warnings:
        err.print(f"warning: {warning}")
    out.print(curve_module.as_table(result))
    for line in curve_module.verdict_lines(result):
        out.print(line, overflow="fold")  # wrapped at words to the width, a long path folded


@app.command()
@handle_errors
def init(
    template: Annotated[
        Optional[str],
        typer.Argument(help="Template name (see --list). Default: quickstart.", show_default=False),
    ] = None,
    out_path: Annotated[
        Optional[Path],
        typer.Option("--out", "-o", help="Write the config to this file (never overwrites)."),
    ] = None,
    list_templates: Annotated[
        bool, typer.Option("--list", help="List the templates and exit.")
    ] = False,
) -> None:
    """Start a config from a commented template (printed, or written with --out)."""
    from tunenet.studies import init as init_module

    if list_templates:
        for name in init_module.template_names():
            out.print(f"{name:<22} {init_module.summary(name)}")
        return
    if out_path is None:
        typer.echo(init_module.template_text(template), nl=False)
        if files := init_module.code_files(template):  # stdout holds the config alone
            err.print(f"note: this config runs {', '.join(files)} beside it; "
                      f"--out FILE.yaml writes them too.")  # fmt: skip
        return
    written = init_module.write_template(template, out_path)
    err.print(f"wrote {', '.join(map(str, written))}. "
              f"Next: {shell_command('tunenet', 'validate', out_path)}")  # fmt: skip


@app.command()
@handle_errors
def schema() -> None:
    """Print the JSON Schema of the config file, for editor completion and checking."""
    from tunenet.config.schema import schema_text

    typer.echo(schema_text(), nl=False)


@app.command()
@handle_errors
def refine(
    run: Annotated[Path, typer.Argument(help="A run directory.", show_default=False)],
    top: Annotated[
        int, typer.Option(min=1, help="Narrow around at most K trials tied with the best.")
    ] = 5,
    out_path: Annotated[
        Optional[Path],
        typer.Option("--out", "-o", help="Write the config to this file (never overwrites)."),
    ] = None,
) -> None:
    """Coarse to fine: a config with ranges narrowed around a run's best trials."""
    from tunenet.studies.refine import refine_run, write_config

    refinement = refine_run(run, top=top)
    if out_path is None:
        typer.echo(refinement.text, nl=False)
        return
    write_config(refinement.text, out_path)
    err.print(
        f"wrote {out_path}: {len(refinement.changes)} key(s) narrowed around the top "
        f"{len(refinement.top)} trial(s). Next: {shell_command('tunenet', 'validate', out_path)}"
    )
    # how the ties were counted and why each key is what it is (also in the file's header)
    for line in refinement.basis + refinement.reasons:
        err.print(printable(f"  {line}"), markup=False, highlight=False)


@app.command("lr-find")
@handle_errors
def lr_find(
    config: ConfigArg,
    runs_dir: RunsDirOpt = Path("runs"),
    min_lr: Annotated[float, typer.Option("--min-lr", help="First learning rate.")] = 1e-7,
    max_lr: Annotated[float, typer.Option("--max-lr", help="Last learning rate.")] = 10.0,
    steps: Annotated[int, typer.Option("--steps", help="Batches to train (at least 10).")] = 100,
    out_path: Annotated[
        Optional[Path],
        typer.Option(
            "--out",
            help="Write the config with the suggested range (never overwrites); a grid search "
            "gets log-spaced rates from it.",
        ),
    ] = None,
) -> None:
    """Learning-rate range test: train one model while the rate grows, suggest a range.

    Writes RUNS_DIR/<name>-lr-find/lr_find.csv and lr_find.png. The config and its data are
    checked before TensorFlow loads. --out writes a config that validates: the suggested log
    range, or for search.strategy grid log-spaced rates from it (said in the output).
    """
    from tunenet.studies import lr_find as lr_find_module

    lr_find_module.check_options(min_lr, max_lr, steps)  # before TensorFlow loads
    result = lr_find_module.run_lr_find(
        config, runs_dir=runs_dir, min_lr=min_lr, max_lr=max_lr, steps=steps, out=out_path
    )
    for line in result.lines():
        out.print(line)
    if result.suggestion is None:
        raise typer.Exit(1)  # the test ran, but the loss never fell: no range to suggest
    if result.config_out is not None:
        next_step = shell_command("tunenet", "validate", result.config_out)
        err.print(f"wrote {result.config_out}. Next: {next_step}")


class ExportTarget(str, Enum):
    mlflow = "mlflow"
    tensorboard = "tensorboard"


@app.command()
@handle_errors
def export(
    run: Annotated[Path, typer.Argument(help="A run directory.", show_default=False)],
    to: Annotated[
        ExportTarget, typer.Option("--to", help="The tracker to export to.", show_default=False)
    ],
    tracking_uri: Annotated[
        Optional[str],
        typer.Option(
            "--tracking-uri",
            help="MLflow tracking URI (default: MLFLOW_TRACKING_URI, else sqlite:///mlflow.db).",
        ),
    ] = None,
    experiment: Annotated[
        Optional[str],
        typer.Option("--experiment", help="MLflow experiment (default: the run's name)."),
    ] = None,
    logdir: Annotated[
        Optional[Path],
        typer.Option("--logdir", help="TensorBoard log directory (default: RUN/tensorboard)."),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option("--follow", help="Keep exporting as the search writes; stop when it ends."),
    ] = False,
) -> None:
    """Export a run to MLflow or TensorBoard, from its files (also a --workers run).

    MLflow: one parent run for the search and one nested run per trial (params, per-epoch
    metrics, final errors with their intervals, labels and findings as tags, the report and the
    best model as artifacts); exporting again updates the same runs, never duplicates. MLflow is
    an optional extra (docs/export.md). TensorBoard: HParams and per-epoch scalars per trial.
    """
    from tunenet import api

    result = api.export(
        run, to.value, tracking_uri=tracking_uri, experiment=experiment, logdir=logdir,
        follow=follow, log=lambda line: err.print(printable(line)),
    )  # fmt: skip
    for line in result.lines():
        out.print(printable(line), soft_wrap=True)


# Keras writes ~/.keras/keras.json when it is imported, matplotlib a font cache in ~/.cache: the
# command points them at a private directory instead (never the home directory), unless the
# user set these variables or already has the directory (their settings and downloads stay used).
PRIVATE_DIRS = {
    "KERAS_HOME": ("keras", "~/.keras"),
    "MPLCONFIGDIR": ("matplotlib", "~/.config/matplotlib", "~/.cache/matplotlib"),
}


def _keep_home_clean() -> None:
    """Set KERAS_HOME and MPLCONFIGDIR before Keras or matplotlib is imported (docs/cli.md)."""
    for variable, (folder, *own) in PRIVATE_DIRS.items():
        if os.environ.get(variable) or any(os.path.isdir(os.path.expanduser(p)) for p in own):
            continue
        os.environ[variable] = os.path.join(_private_dir(), folder)


def _private_dir() -> str:
    """`<tmp>/tunenet-<uid>`, this user's alone (mode 700): a shared temp directory must not
    let another user plant a config there; otherwise a fresh one."""
    import stat
    import tempfile

    path = os.path.join(tempfile.gettempdir(), f"tunenet-{os.getuid()}")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.lstat(path)  # a link is not a directory here
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077:
            return path
    except OSError:
        pass
    return tempfile.mkdtemp(prefix="tunenet-")


def main() -> None:
    """Console-script entry point."""
    _keep_home_clean()  # before anything imports Keras or matplotlib
    handover.enable()  # a long search may re-execute this process (bounded memory)
    app(prog_name="tunenet")


if __name__ == "__main__":
    sys.exit(main())
