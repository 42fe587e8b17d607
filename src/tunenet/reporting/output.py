"""Where the report goes: the files under `<run>/report/`, and the chosen format on stdout or in
`--out`. `RENDERERS` maps each `--format` to its renderer; every renderer has one signature.

Nothing is written through a symbolic link: `--out` writes only a regular file (never a device,
a FIFO or a link's target), and `<run>/report/` and its `plots/` must be real directories, so
that a report never writes outside its run.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.text import Text

from tunenet.errors import OptionError, RunDirError, printable
from tunenet.reporting import plot_cache
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
        OptionError: `fmt` is not one of `RENDERERS`.
    """
    if not isinstance(fmt, str) or fmt not in RENDERERS:
        raise OptionError(f"format {fmt!r}: expected one of {', '.join(RENDERERS)}.")
    base = out_path.parent if out_path else Path.cwd()
    return RENDERERS[fmt](reports, failures, base)


def write_report_files(
    report: RunReport, *, plots: bool, progress: Callable[[str], None] | None = None
) -> list[Path]:
    """Write report.md, report.html, report.json and report.csv under `<run>/report/`, and its
    plots/*.png when `plots` and their inputs changed (`plot_cache`; `progress` hears which plot
    is drawn). Without `plots` the plots already there are kept and shown. Returns the files.

    Raises:
        RunDirError: `<run>/report/` or `plots/` is a symbolic link (or not a directory).
        OSError: the report directory is not writable.
    """
    check_report_dir(report)
    directory = report.report_dir
    directory.mkdir(parents=True, exist_ok=True)
    if plots:
        report.plots = plot_cache.current_plots(report, directory / "plots", progress)
    else:
        report.plots = plot_cache.existing_plots(directory / "plots")
    texts = {name: RENDERERS[fmt]([report], None, directory) for name, fmt in REPORT_FILES.items()}
    for name, text in texts.items():
        write_atomic(directory / name, text)
    return [directory / name for name in texts] + report.plots


def check_out_path(out_path: Path) -> None:
    """`--out` writes a regular file only: an existing link, device, FIFO, socket or directory
    there is refused, before anything is written.

    Raises:
        RunDirError: naming the path and what it is.
    """
    try:
        mode = out_path.lstat().st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise RunDirError(f"--out {out_path}: cannot be read ({error.strerror}).") from None
    if stat.S_ISLNK(mode):
        raise RunDirError(
            f"--out {out_path}: is a symbolic link; --out writes only a regular file, never "
            "through a link. Remove the link or choose another path."
        )
    if not stat.S_ISREG(mode):
        raise RunDirError(
            f"--out {out_path}: is {_kind(mode)}, not a regular file; --out writes only regular "
            "files and never replaces anything else. Choose another path."
        )


def check_report_dir(report: RunReport) -> None:
    """`<run>/report/` and its `plots/` are real directories (or absent) and hold no symbolic
    link: a link there could lead the report's files (a plot is saved through one) out of the run.

    Raises:
        RunDirError: naming the link (or the file in the way) and what to do.
    """
    for path in (report.report_dir, report.report_dir / "plots"):
        try:
            mode = path.lstat().st_mode
            links = (
                [item for item in path.iterdir() if item.is_symlink()] if stat.S_ISDIR(mode) else []
            )
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError:
            continue  # unreadable: writing fails later, with a warning
        if stat.S_ISLNK(mode) or links:
            link = path if stat.S_ISLNK(mode) else links[0]
            raise RunDirError(
                f"{link}: is a symbolic link (to {link.readlink()}); tunenet writes report "
                "files only inside the run, never through a link. Remove the link and report "
                "again."
            )
        if not stat.S_ISDIR(mode):
            raise RunDirError(
                f"{path}: is {_kind(mode)}, not a directory; the report files go there. Move it "
                "away and report again."
            )


def _kind(mode: int) -> str:
    kinds = {
        stat.S_ISDIR: "a directory", stat.S_ISFIFO: "a FIFO (named pipe)",
        stat.S_ISCHR: "a character device", stat.S_ISBLK: "a block device",
        stat.S_ISSOCK: "a socket", stat.S_ISREG: "a regular file",
    }  # fmt: skip
    return next((name for test, name in kinds.items() if test(mode)), "not a regular file")


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
        RunDirError: `out_path` is not a regular file or cannot be written; a report directory
            is a symbolic link. Both are checked before anything is written.
    """
    if out_path is not None:
        check_out_path(out_path)
    for report in reports:
        check_report_dir(report)
    for _, message in failures:
        _note(log, f"warning: skipped a run: {message}")
    for report in reports:
        for warning in report.run.warnings:
            _note(log, f"warning: {warning}")
        try:
            with _progress(log) as progress:
                write_report_files(report, plots=plots, progress=progress)
            _note(log, f"report files: {report.report_dir}")
        except OSError as error:
            _note(log, f"warning: could not write {report.report_dir} ({error}); printing only.")
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
        check_out_path(out_path)  # again: the report files took time, the path may have changed
        write_atomic(out_path, text)
    except OSError as error:
        raise RunDirError(
            f"--out {out_path}: cannot write ({error}). Choose a writable path."
        ) from None
    _note(log, f"wrote {out_path}")


@contextmanager
def _progress(log: Console) -> Iterator[Callable[[str], None]]:
    """Where "drawing plots 3/11: parallel" goes: a status line kept current on a terminal
    (gone when the report files are written), a line each elsewhere."""
    if not log.is_terminal:
        yield lambda text: _note(log, text)
        return
    with log.status("writing the report files") as status:
        yield lambda text: status.update(Text(printable(text)))


def _note(log: Console, text: str) -> None:
    """A line on the log, as plain text (no markup) without control characters."""
    log.print(Text(printable(text)))


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
