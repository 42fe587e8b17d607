"""Nothing written outside the run or over what is not a plain file (issue 22, part 5):
`report --out` writes only regular files, `report` never writes through a symbolic link out of
the run, and the `tunenet` command leaves the home directory as it found it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, tree_state
from tunenet.errors import RunDirError
from tunenet.reporting.output import check_out_path

FIXTURE = REPO / "tests" / "fixtures" / "runs" / "small-split"


@pytest.fixture
def run(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "runs" / "small-split"))


def report(cli, run: Path, *args: object):
    return cli("report", run, "--no-plots", *args)


# ---------------------------------------------------------------- --out


def test_out_on_a_fifo_is_refused_and_the_fifo_kept(cli, run, tmp_path, untouched):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with untouched():  # not even <run>/report/: --out is checked first
        result = report(cli, run, "-f", "csv", "--out", fifo)
    assert result.exit_code == 2, result.output
    assert f"--out {fifo}: is a FIFO (named pipe), not a regular file" in result.stderr
    assert fifo.is_fifo()


def test_out_on_a_symbolic_link_is_refused_and_its_target_kept(cli, run, tmp_path, untouched):
    target = tmp_path / "precious.txt"
    target.write_text("keep\n")
    (tmp_path / "link.md").symlink_to(target)
    with untouched():
        result = report(cli, run, "-f", "markdown", "--out", tmp_path / "link.md")
    assert result.exit_code == 2, result.output
    assert f"--out {tmp_path / 'link.md'}: is a symbolic link" in result.stderr
    assert (tmp_path / "link.md").is_symlink() and target.read_text() == "keep\n"


def test_out_on_a_directory_is_refused(cli, run, tmp_path):
    (tmp_path / "folder").mkdir()
    result = report(cli, run, "--out", tmp_path / "folder")
    assert result.exit_code == 2
    assert "is a directory, not a regular file" in result.stderr


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero"])
def test_out_on_a_device_is_refused_before_writing(device):
    with pytest.raises(RunDirError, match=f"--out {device}: is a character device"):
        check_out_path(Path(device))


def test_out_replaces_a_regular_file(cli, run, tmp_path):
    (tmp_path / "old.csv").write_text("old\n")
    result = report(cli, run, "-f", "csv", "--out", tmp_path / "old.csv")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "old.csv").read_text().startswith("rank,trial_id,status")


# ---------------------------------------------------------------- <run>/report/


def test_a_report_dir_linked_outside_the_run_is_refused(cli, run, tmp_path, untouched):
    outside = tmp_path / "outside"
    outside.mkdir()
    (run / "report").symlink_to(outside, target_is_directory=True)
    with untouched():
        result = report(cli, run, "-f", "json")
    assert result.exit_code == 2, result.output
    assert f"{run / 'report'}: is a symbolic link (to {outside})" in result.stderr
    assert "never through a link" in result.stderr
    assert list(outside.iterdir()) == []


def test_a_plot_linked_outside_the_run_is_refused(cli, run, tmp_path, untouched):
    victim = tmp_path / "victim.png"
    victim.write_bytes(b"keep")
    (run / "report" / "plots").mkdir(parents=True)
    (run / "report" / "plots" / "curves.png").symlink_to(victim)
    with untouched():
        result = cli("report", run, "--plots")
    assert result.exit_code == 2, result.output
    assert "curves.png: is a symbolic link" in result.stderr
    assert victim.read_bytes() == b"keep"


def test_a_file_in_place_of_the_report_dir_is_refused(cli, run):
    (run / "report").write_text("not a folder\n")
    result = report(cli, run)
    assert result.exit_code == 2
    assert "report: is a regular file, not a directory" in result.stderr


# ---------------------------------------------------------------- the home directory


def clean_home_env(tmp_path: Path) -> dict:
    """An environment with an empty HOME and nothing set that would move Keras or matplotlib."""
    home, temp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    temp.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("KERAS_HOME", "MPLCONFIGDIR") and not key.startswith("XDG_")
    }
    env.update(HOME=str(home), TMPDIR=str(temp), PYTHONPATH=str(REPO / "src"))
    return env


@pytest.mark.slow
def test_report_with_plots_leaves_home_empty(run, tmp_path):
    env = clean_home_env(tmp_path)
    command = [sys.executable, "-m", "tunenet.cli", "report", str(run), "--plots"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert list((run / "report" / "plots").glob("*.png"))  # matplotlib did draw
    assert tree_state(tmp_path / "home") == {}
    assert (tmp_path / "tmp" / f"tunenet-{os.getuid()}" / "matplotlib").is_dir()
    assert oct((tmp_path / "tmp" / f"tunenet-{os.getuid()}").stat().st_mode & 0o777) == "0o700"


@pytest.mark.slow
def test_keras_imported_by_the_command_leaves_home_empty(tmp_path):
    env = clean_home_env(tmp_path)
    code = (
        "import sys\n"
        "from tunenet import cli\n"
        "sys.argv = ['tunenet', '--version']\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "from tunenet.models import build\n"  # Keras, as a search imports it
        "import keras\n"
        "print(keras.config.keras_home() if hasattr(keras.config, 'keras_home') else '')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert tree_state(tmp_path / "home") == {}
    assert (tmp_path / "tmp" / f"tunenet-{os.getuid()}" / "keras" / "keras.json").is_file()


def test_the_user_s_own_settings_are_kept(tmp_path, monkeypatch):
    from tunenet import cli

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mine"))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    (tmp_path / ".keras").mkdir()  # a Keras user: their keras.json and downloads stay in use
    cli._keep_home_clean()
    assert os.environ["MPLCONFIGDIR"] == str(tmp_path / "mine")
    assert "KERAS_HOME" not in os.environ
