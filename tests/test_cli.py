"""The command line: exit codes, no tracebacks, and no TensorFlow where it is not needed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, tunenet_command
from tunenet import __version__


def run(args, env=None, cwd=None):
    return subprocess.run(
        tunenet_command(*args), capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0 and __version__ in result.stdout


def test_search_needs_tensorflow_and_says_so_when_missing(no_tensorflow_env, tmp_path):
    """The blocked environment really blocks: the same setup fails where TF is needed."""
    config = tmp_path / "quick.yaml"
    config.write_text("data: {source: iris}\n")
    result = run(["search", config, "--runs-dir", tmp_path / "runs"], env=no_tensorflow_env)
    assert result.returncode != 0
    assert "blocked in this test" in result.stderr


def test_bad_config_exits_2_without_traceback(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("data: {source: digits}\nmodel: {unitz: 3}\n")
    for command in (["validate", config], ["search", config, "--runs-dir", tmp_path / "runs"]):
        result = run(command)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert "model.unitz" in result.stderr and "did you mean 'units'" in result.stderr
    assert not (tmp_path / "runs").exists()


def test_debug_variable_shows_the_traceback(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("data: [1, 2\n")
    result = run(["validate", config], env={**os.environ, "TUNENET_DEBUG": "1"})
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_unwritable_runs_directory_exits_2(cli, write_config, tmp_path):
    if os.geteuid() == 0:
        blocker = tmp_path / "file"
        blocker.write_text("not a directory")
        runs = blocker / "runs"  # a path below a file cannot be created, even by root
    else:
        runs = Path("/proc/tunenet-runs")
    path = write_config("data: {source: iris}\ntraining: {epochs: 1}\nsearch: {max_trials: 1}\n")
    result = cli("search", path, "--runs-dir", runs)
    assert result.exit_code == 2
    assert str(runs) in result.stderr and "--runs-dir" in result.stderr


def test_resume_and_overwrite_together_is_a_usage_error(cli, write_config):
    path = write_config("data: {source: iris}\n")
    result = cli("search", path, "--resume", "--overwrite")
    assert result.exit_code == 2


@pytest.mark.parametrize("config", sorted((REPO / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_example_configs_validate(cli, config, tmp_path, monkeypatch):
    """Every example validates where its data exists; `validate` reads the data files."""
    from PIL import Image

    monkeypatch.chdir(tmp_path)  # relative data paths are relative to the working directory
    for split in ("train", "test"):  # configs/images-folder.yaml: data/santa/{train,test}/<class>
        for label in ("santa", "not_santa"):
            (tmp_path / "data/santa" / split / label).mkdir(parents=True)
            Image.new("RGB", (8, 8)).save(tmp_path / "data/santa" / split / label / "0.png")
    result = cli("validate", config)
    assert result.exit_code == 0, result.stderr
