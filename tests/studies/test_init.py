"""tunenet init: every template is shipped, commented, valid, and never overwrites a file."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable

import pytest

from conftest import tunenet_command
from tunenet.config import load as loader
from tunenet.studies import init

TEMPLATES = [
    "quickstart",
    "tabular-csv",
    "image-cnn",
    "regularization-study",
    "learning-rate-sweep",
]


def test_every_template_is_listed_in_teaching_order(cli: Callable) -> None:
    assert init.template_names() == TEMPLATES
    result = cli("init", "--list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == TEMPLATES
    assert all(len(line.split(maxsplit=1)[1]) > 20 for line in lines)  # a summary each


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_validates_and_is_commented(name: str, tmp_path: Path, cli: Callable) -> None:
    out = tmp_path / f"{name}.yaml"
    result = cli("init", name, "--out", out)
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.startswith(f"# {name}: ")
    assert sum(line.lstrip().startswith("#") or " # " in line for line in text.splitlines()) >= 8
    config = loader.load_config(out)
    assert config.name == name  # no name in the template: the run is named after the file


def test_default_template_prints_to_stdout(cli: Callable) -> None:
    result = cli("init")
    assert result.exit_code == 0
    assert result.stdout == init.template_text("quickstart")


def test_init_refuses_to_overwrite(tmp_path: Path, cli: Callable) -> None:
    out = tmp_path / "mine.yaml"
    out.write_text("data: {source: iris}\n")
    result = cli("init", "image-cnn", "--out", out)
    assert result.exit_code == 2
    assert "already exists" in result.output and str(out) in result.output
    assert out.read_text() == "data: {source: iris}\n"


def test_unknown_template_says_did_you_mean(cli: Callable) -> None:
    result = cli("init", "quikstart")
    assert result.exit_code == 2
    assert "'quikstart'" in result.output and "did you mean 'quickstart'" in result.output.lower()


def test_init_without_tensorflow(tmp_path: Path, no_tensorflow_env: dict) -> None:
    out = tmp_path / "start.yaml"
    result = subprocess.run(
        tunenet_command("init", "tabular-csv", "--out", out),
        env=no_tensorflow_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert out.exists() and "tunenet validate" in result.stderr
