"""The `tunenet` command line. Each command parses, makes one library call and renders.

TensorFlow is imported only inside the commands that train (`search`, `evaluate`, ...), so
`--help`, `validate`, `report`, `schema`, `init` and `refine` answer in well under a second.
"""

from __future__ import annotations

import functools
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer
from rich.console import Console

from tunenet import __version__
from tunenet.errors import TunenetError

app = typer.Typer(
    name="tunenet",
    help="Tune Keras neural networks from one YAML file; keep and diagnose every learning curve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

out = Console(highlight=False, markup=False, soft_wrap=False)
err = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)
if not out.is_terminal:
    out.width = max(out.width, 160)  # piped output: wide tables rather than cut headers

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


def handle_errors(command: Callable) -> Callable:
    """Turn tunenet errors into a message on stderr and their exit code, without a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except TunenetError as error:
            if os.environ.get("TUNENET_DEBUG") == "1":
                raise
            err.print(f"error: {error}")
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            if os.environ.get("TUNENET_DEBUG") == "1":
                raise
            err.print("interrupted")
            raise typer.Exit(130) from None

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


@app.command()
@handle_errors
def validate(config: ConfigArg) -> None:
    """Check a config: schema, search space, grid size and worst-case epoch budget."""
    from tunenet import loader, space
    from tunenet.render import space_table

    cfg = loader.load_config(config)
    hps = space.build_space(cfg)
    out.print(space_table(cfg, hps))
    out.print(space.summary_line(cfg, hps))


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
    max_trials: Annotated[
        Optional[int], typer.Option(min=1, help="Override search.max_trials.")
    ] = None,
    epochs: Annotated[Optional[int], typer.Option(min=1, help="Override training.epochs.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Override the config's seed.")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Run the search a config describes and write its run directory."""
    from tunenet import loader
    from tunenet.runs import RunOptions

    if resume and overwrite:
        raise typer.BadParameter("--resume and --overwrite cannot be used together.")
    cfg = loader.load_config(config, max_trials=max_trials, epochs=epochs, seed=seed)
    options = RunOptions(
        config_path=config, runs_dir=runs_dir, name=name, resume=resume, overwrite=overwrite
    )
    from tunenet import tuner  # imports TensorFlow

    summary = tuner.run_search(cfg, options, quiet=quiet, console=err)
    from tunenet.render import search_summary

    out.print(search_summary(summary))
    if summary.exit_code:
        raise typer.Exit(summary.exit_code)


@app.command()
@handle_errors
def report(
    runs_or_run: Annotated[
        Path, typer.Argument(help="One run directory, or a directory of runs.", show_default=False)
    ],
    format: Annotated[ReportFormat, typer.Option("--format", "-f")] = ReportFormat.table,
    out_path: Annotated[
        Optional[Path], typer.Option("--out", help="Write the chosen format to this path.")
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
    """Diagnose a run (or a directory of runs): bias, variance, divergence, what to change."""
    from tunenet import report as report_module

    report_module.run(
        runs_or_run,
        fmt=format.value,
        out_path=out_path,
        plots=plots,
        target_error=target_error,
        bias_threshold=bias_threshold,
        variance_threshold=variance_threshold,
        top=top,
        console=out,
        log=err,
    )


def main() -> None:
    """Console-script entry point."""
    app(prog_name="tunenet")


if __name__ == "__main__":
    sys.exit(main())
