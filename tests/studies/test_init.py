"""tunenet init: every template is shipped, commented, valid, and never overwrites a file."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable

import pytest

from conftest import REPO, tunenet_command
from tunenet.config import load as loader
from tunenet.studies import init

TEMPLATES = [
    "quickstart",
    "tabular-csv",
    "image-cnn",
    "regularization-study",
    "learning-rate-sweep",
    "sequence-digits",
    "functional-residual",
]
# the templates of a custom model, and the files they write beside the config
CODE = {
    "sequence-digits": ["custom/recurrent.py", "custom/digits_sequences.py"],
    "functional-residual": ["custom/residual.py"],
}


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


@pytest.mark.parametrize("name", sorted(CODE))
def test_custom_template_writes_its_code_beside_the_config(
    name: str, tmp_path: Path, cli: Callable
) -> None:
    out = tmp_path / "project" / "mine.yaml"
    out.parent.mkdir()
    result = cli("init", name, "--out", out)
    assert result.exit_code == 0, result.output
    for relative in CODE[name]:
        written = out.parent / relative
        assert str(relative) in result.stderr
        # the same file as the example config's (configs/custom/), so both teach the same code
        assert written.read_bytes() == (REPO / "configs" / relative).read_bytes()
    checked = cli("validate", out)
    assert checked.exit_code == 0, checked.output
    assert f"runs build() from {out.parent / CODE[name][0]}" in checked.stdout


def test_custom_template_never_replaces_a_code_file(tmp_path: Path, cli: Callable) -> None:
    mine = tmp_path / "custom" / "residual.py"
    mine.parent.mkdir()
    mine.write_text("def build(params, data): ...\n")
    result = cli("init", "functional-residual", "--out", tmp_path / "residual.yaml")
    assert result.exit_code == 2
    assert "already exists" in result.output and "residual.py" in result.output
    assert mine.read_text() == "def build(params, data): ...\n"
    assert not (tmp_path / "residual.yaml").exists()  # nothing written


def test_custom_template_on_stdout_names_the_files_it_needs(cli: Callable) -> None:
    result = cli("init", "sequence-digits")
    assert result.exit_code == 0
    assert result.stdout == init.template_text("sequence-digits")
    assert "custom/recurrent.py, custom/digits_sequences.py" in result.stderr
    assert "--out" in result.stderr
    assert init.code_files("quickstart") == []


def test_example_configs_match_their_templates() -> None:
    """configs/<name>.yaml and the template differ in comments and `name:` only."""
    for name in CODE:
        example = loader.parse_yaml((REPO / "configs" / f"{name}.yaml").read_text(), name)
        template = loader.parse_yaml(init.template_text(name), name)
        assert example.pop("name") == name
        assert example == template
