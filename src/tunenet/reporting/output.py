"""Where the report goes: the files under `<run>/report/`, and the chosen format on stdout or in
`--out`. `RENDERERS` maps each `--format` to its renderer; every renderer has one signature.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.text import Text

from tunenet.errors import RunDirError, TunenetError
from tunenet.reporting.html import render_html
from tunenet.reporting.markdown import render_markdown
from tunenet.reporting.model import Failures, RunReport, load_reports
from tunenet.reporting.tables import render_csv, render_json
from tunenet.reporting.terminal import render_rich, render_text
from tunenet.runs import write_atomic

# (reports, runs that could not be read, the directory the text is written to) -> the text
Renderer = Callable[[list[RunReport], Failures | None, Path | None], str]

RENDERERS: dict[str, Renderer] = {
    "table": render_text,
    "markdown": render_markdown,
    "csv": render_csv,
    "json": render_json,
    "html": render_html,
}

# The files every report writes under <run>/report/, and their format.
REPORT_FILES = {
    "report.md": "markdown",
    "report.html": "html",
    "report.json": "json",
    "report.csv": "csv",
}


def render(
    fmt: str, reports: list[RunReport], failures: Failures, out_path: Path | None = None
) -> str:
    """The chosen format as text. Markdown links its plots relative to `out_path`'s directory
    (default: the current directory).

    Raises:
        TunenetError: `fmt` is not one of `RENDERERS`.
    """
    if fmt not in RENDERERS:
        raise TunenetError(f"format {fmt!r}: expected one of {', '.join(RENDERERS)}.")
    base = out_path.parent if out_path else Path.cwd()
    return RENDERERS[fmt](reports, failures, base)


def write_report_files(report: RunReport, *, plots: bool) -> list[Path]:
    """Write report.md, report.html, report.json and report.csv (and plots/*.png when `plots`)
    under `<run>/report/`. Returns the files written.

    Raises:
        OSError: the report directory is not writable.
    """
    directory = report.report_dir
    directory.mkdir(parents=True, exist_ok=True)
    if plots:
        from tunenet.reporting.plots import draw_plots  # matplotlib: only when plots are drawn

        report.plots = draw_plots(report, directory / "plots")
    texts = {name: RENDERERS[fmt]([report], None, directory) for name, fmt in REPORT_FILES.items()}
    for name, text in texts.items():
        write_atomic(directory / name, text)
    return [directory / name for name in texts] + report.plots


def publish(
    reports: list[RunReport],
    failures: Failures,
    *,
    fmt: str,
    out_path: Path | None,
    plots: bool,
    console: Console,
    log: Console,
) -> None:
    """Write every run's report files to `<run>/report/` (a warning when that directory is not
    writable), then the chosen format to `console`, or to `out_path` when given.

    Raises:
        RunDirError: `out_path` cannot be written.
    """
    for _, message in failures:
        log.print(Text(f"warning: skipped a run: {message}"))
    for report in reports:
        for warning in report.run.warnings:
            log.print(Text(f"warning: {warning}"))
        try:
            write_report_files(report, plots=plots)
            log.print(Text(f"report files: {report.report_dir}"))
        except OSError as error:
            log.print(
                Text(f"warning: could not write {report.report_dir} ({error}); printing only.")
            )
    if fmt == "table" and out_path is None:  # live tables, as wide as the terminal
        for item in render_rich(reports, failures):
            console.print(item)
        return
    text = render(fmt, reports, failures, out_path)
    if out_path is None:
        console.out(text, end="", highlight=False)
        return
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(out_path, text)
    except OSError as error:
        raise RunDirError(
            f"--out {out_path}: cannot write ({error}). Choose a writable path."
        ) from None
    log.print(Text(f"wrote {out_path}"))


def run(
    path: Path,
    *,
    fmt: str,
    out_path: Path | None,
    plots: bool,
    target_error: float | None,
    bias_threshold: float | None,
    variance_threshold: float | None,
    top: int | None,
    console: Console,
    log: Console,
) -> None:
    """`tunenet report`: diagnose one run or a directory of runs, then `publish` the reports.

    Raises:
        RunDirError: no run can be read, or `out_path` cannot be written.
        TunenetError: a threshold is outside [0, 1].
    """
    reports, failures = load_reports(
        path,
        target_error=target_error,
        bias_threshold=bias_threshold,
        variance_threshold=variance_threshold,
        top=top,
    )
    publish(reports, failures, fmt=fmt, out_path=out_path, plots=plots, console=console, log=log)
