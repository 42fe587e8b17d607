"""Injection and parsing (issue 22, part 5): messages cannot drive the terminal, suggested
commands are shell-quoted, nested run files are refused by name, and the Python API checks its
arguments as the CLI checks its options."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pytest

import tunenet
from conftest import REPO
from tunenet.errors import OptionError, RunDirError, printable, shell_command
from tunenet.runs import RunDir, tuner_state_problem
from tunenet.runs.resume import _manifest_or_damage

FIXTURE = REPO / "tests" / "fixtures" / "runs" / "small-split"
ESCAPES = ("\x1b", "\x07", "\x9b")
DEEP_JSON = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def run(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "runs" / "small-split"))


# ---------------------------------------------------------------- control characters


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\x1b[31mred\x1b[0m", "ared"),  # colour (CSI)
        ("\x1b]0;new title\x07x", "x"),  # window title (OSC, BEL)
        ("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"),  # hyperlink (OSC, ST)
        ("\x1b[2J\x1b[Hcleared", "cleared"),  # clear screen, cursor home
        ("a\x9b31mb", "a31mb"),  # a C1 control: its effect gone
        ("\x00\x08\x7fok", "ok"),
        ("abc\u202edcba", "abcdcba"),  # right-to-left override
        ("line 1\n\tline 2", "line 1\n\tline 2"),  # newlines and tabs stay
    ],
)
def test_printable(text, shown):
    assert printable(text) == shown


def test_an_escape_sequence_in_a_csv_header_is_not_echoed(cli, write_config, tmp_path):
    (tmp_path / "d.csv").write_text("size,\x1b[31mcolor\x1b]0;pwned\x07,label\n1,2,a\n3,4,b\n")
    config = write_config(f"data: {{source: csv, path: {tmp_path / 'd.csv'}, target: nope}}\n")
    result = cli("validate", config)
    assert result.exit_code == 2
    assert "its columns are: size, color, label" in result.stderr
    assert not any(code in result.stderr for code in ESCAPES)


def test_an_escape_sequence_in_a_config_value_is_not_echoed(cli, write_config, tmp_path):
    config = write_config('data: {source: csv, path: "d\\e[2J\\e]0;pwned\\a.csv", target: y}\n')
    result = cli("validate", config)
    assert result.exit_code == 2
    assert "data.path: d.csv: no such file" in result.stderr
    assert not any(code in result.stderr for code in ESCAPES)


def test_an_escape_sequence_in_a_run_file_header_is_not_echoed(cli, run):
    (run / "trials.csv").write_text("trial_id,status,\x1b]0;pwned\x07x\x1b[8m,val_error\n")
    result = cli("report", run, "--no-plots")
    assert result.exit_code == 2
    assert "missing column 'train_error' (found: trial_id, status, x, val_error)" in result.stderr
    assert not any(code in result.stderr for code in ESCAPES)


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv", "html"])
def test_an_escape_sequence_in_a_run_name_is_not_echoed(cli, run, tmp_path, fmt):
    """A run directory named (or a manifest naming it) with escape codes: every report format
    shows the name without them."""
    hostile = run.parent / "r\x1b[31mEVIL\x1b]0;pwned\x07"
    run.rename(hostile)
    out = tmp_path / f"report.{fmt}"
    result = cli("report", hostile, "--no-plots", "--format", fmt, "--out", out)
    assert result.exit_code == 0, result.stderr
    shown = out.read_text(encoding="utf-8") + result.stdout + result.stderr
    assert "rEVIL" in shown
    assert not any(code in shown for code in ESCAPES)


# ---------------------------------------------------------------- shell hints

HOSTILE_DIR = "my runs/$(touch pwned)'x"


def test_shell_command_quotes_each_word():
    command = shell_command("tunenet", "report", Path(HOSTILE_DIR) / "a b")
    assert shlex.split(command) == ["tunenet", "report", f"{HOSTILE_DIR}/a b"]


def test_the_full_report_hint_is_shell_quoted(tmp_path):
    from tunenet.reporting import best_trial_text

    run = Path(shutil.copytree(FIXTURE, tmp_path / HOSTILE_DIR / "r;rm -rf ~"))
    hint = best_trial_text(run).splitlines()[-1]
    assert hint.startswith("Full report: ")
    assert shlex.split(hint.removeprefix("Full report: ")) == ["tunenet", "report", str(run)]


@pytest.mark.slow
def test_the_resume_hint_is_shell_quoted(tmp_path):
    from tunenet.runs import RunOptions
    from tunenet.tuning.tuner import resume_command  # imports TensorFlow

    options = RunOptions(
        config_path=tmp_path / "c $(x).yaml",
        runs_dir=tmp_path / HOSTILE_DIR,
        overrides=("--epochs", "3"),
    )
    command = resume_command(options, RunDir(options.runs_dir / "n"))
    assert shlex.split(command) == [
        "tunenet", "search", str(options.config_path), "--runs-dir", str(options.runs_dir),
        "--name", "n", "--epochs", "3", "--resume",
    ]  # fmt: skip


# ---------------------------------------------------------------- nested run files


def test_a_deeply_nested_manifest_is_named_not_an_internal_error(cli, run):
    (run / "manifest.json").write_text(DEEP_JSON)
    result = cli("report", run, "--no-plots", "-f", "json")
    assert result.exit_code == 0, result.output
    assert f"{run / 'manifest.json'}: unreadable (nested deeper than 100 levels)" in result.stderr
    assert "internal error" not in result.stderr
    with pytest.raises(RunDirError, match="manifest.json: cannot be read .nested deeper"):
        RunDir(run).read_manifest()
    manifest, damage = _manifest_or_damage(RunDir(run))  # --resume rebuilds it
    assert manifest is None and "nested deeper than 100 levels" in damage


def test_a_deeply_nested_resolved_yaml_and_confusion_json_are_named(cli, run):
    (run / "resolved.yaml").write_text("[" * 50_000 + "]" * 50_000)
    (run / "best").mkdir()
    (run / "best" / "confusion.json").write_text(DEEP_JSON)
    result = cli("report", run, "--no-plots", "-f", "json")
    assert result.exit_code == 0, result.output
    assert "resolved.yaml: unreadable (nested deeper than 100 levels)" in result.stderr
    assert "confusion.json: unreadable (nested deeper than 100 levels)" in result.stderr
    with pytest.raises(RunDirError, match="resolved.yaml: cannot be read"):
        RunDir(run).read_resolved()


def test_a_deeply_nested_keras_tuner_state_is_damage_to_rebuild(run):
    (run / "tuner").mkdir()
    (run / "tuner" / "oracle.json").write_text(DEEP_JSON)
    assert "oracle.json is damaged (ValueError: nested deeper" in tuner_state_problem(
        RunDir(run), set()
    )


def test_json_that_a_run_writes_is_read_back(run):
    (run / "manifest.json").write_text(json.dumps({"a": [[{"b": [1, "[[[["]}]]}))
    assert RunDir(run).read_manifest()["a"][0][0]["b"][1] == "[[[["


# ---------------------------------------------------------------- the Python API's arguments


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"top": 0}, "top: expected a whole number of trials, 1 or more, got 0 (int)"),
        ({"top": 2.5}, "top: expected a whole number of trials, 1 or more, got 2.5"),
        ({"top": True}, "top: expected a whole number of trials, 1 or more, got True"),
        ({"target_error": "abc"}, "target_error: expected a fraction between 0 and 1 (0.13 "
         "means 13 %) or \"auto\", got 'abc' (str)"),
        ({"target_error": 1.5}, "target_error: expected a fraction between 0 and 1"),
        ({"target_error": float("nan")}, "target_error: expected a fraction"),
        ({"bias_threshold": -0.1}, "bias_threshold: expected a fraction between 0 and 1 (0.13 "
         "means 13 %), got -0.1"),
        ({"variance_threshold": "0.1"}, "variance_threshold: expected a fraction"),
        ({"bias_threshold": False}, "bias_threshold: expected a fraction"),
    ],
)  # fmt: skip
def test_report_checks_its_arguments(arguments, message, run):
    with pytest.raises(OptionError) as caught:
        tunenet.report(run, **arguments)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)  # what Python code expects of a bad argument


@pytest.mark.parametrize("path", [3, None, "", b"runs"])
def test_report_needs_a_path(path):
    with pytest.raises(OptionError, match="runs_or_run: expected the path of a run directory"):
        tunenet.report(path)


def test_report_takes_auto_and_valid_arguments(run):
    report = tunenet.report(str(run), target_error="auto", top=1, bias_threshold=0)
    assert len(report.runs[0].trials) == 1
    assert report.runs[0].settings.target_error.source.startswith("auto")


@pytest.mark.parametrize("fmt", ["pdf", ["csv"], None])
def test_render_checks_its_format(fmt, run):
    with pytest.raises(OptionError, match="expected one of table, markdown, csv, json, html"):
        tunenet.report(run).render(fmt)


def test_render_checks_its_out_path(run):
    with pytest.raises(OptionError, match=r"out_path: expected a path .* got 3 \(int\)"):
        tunenet.report(run).render("markdown", out_path=3)
    assert tunenet.report(run).render("markdown", out_path=str(run / "r.md")).startswith("#")
