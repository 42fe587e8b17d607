"""A refused search answers as fast as `validate`: the data is checked before TensorFlow loads.

Each case runs the real command in a subprocess where `import tensorflow` (and keras) fails:
if `search` or `lr-find` reached TensorFlow before refusing the data, the error would be an
ImportError, not the data's message.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import tunenet_command

ROWS = "size,weight,price\n1.0,2.0,3.5\n2.0,3.0,{bad}\n3.0,4.0,5.5\n4.0,5.0,6.5\n"

# (csv text, target, task) -> what the message must name besides the file
CASES = {
    "inf-target": (ROWS.format(bad="inf"), "price", "regression", ["'price'", "line 3", "'inf'"]),
    "missing-target": (ROWS.format(bad="4.5"), "cost", "regression", ["'cost'", "price"]),
    "text-in-numbers": (ROWS.format(bad="n/a"), "price", "regression", ["'price'", "'n/a'"]),
    "text-target": (
        "size,label\n1,no\n2,yes\n3,yes\n4,no\n", "label", "regression", ["'label'", "'no'"]
    ),
    "duplicate-columns": (
        "size,size,price\n1,2,3\n2,3,4\n3,4,5\n", "price", "regression", ["'size'", "2 times"]
    ),
}  # fmt: skip


def run(no_tensorflow_env: dict, cwd: Path, *args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        tunenet_command(*args), cwd=cwd, env=no_tensorflow_env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


def refusal(stderr: str) -> str:
    """The error, after the status lines a search prints from its first second (docs/cli.md)."""
    before, error, after = stderr.partition("error: ")
    assert all(line.startswith(("reading ", "loading ")) for line in before.splitlines()), before
    return error + after


def bad_config(folder: Path, text: str, target: str, task: str) -> Path:
    (folder / "houses.csv").write_text(text, encoding="utf-8")
    config = folder / "bad.yaml"
    config.write_text(
        f"name: houses\ndata: {{source: csv, path: houses.csv, target: {target}, task: {task}}}\n"
        "model: {layers: 1, units: 4}\nsearch: {max_trials: 1}\ntraining: {epochs: 1}\n",
        encoding="utf-8",
    )
    return config


def assert_refused(result: subprocess.CompletedProcess, named: list[str]) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "blocked in this test" not in result.stderr
    message = refusal(result.stderr)
    assert message.startswith("error: data.")
    for part in named:
        assert part in message, message


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_search_refuses_bad_data_before_tensorflow(no_tensorflow_env, tmp_path, untouched, case):
    text, target, task, named = CASES[case]
    bad_config(tmp_path, text, target, task)
    with untouched():
        result = run(no_tensorflow_env, tmp_path, "search", "bad.yaml")
    assert_refused(result, [str(tmp_path / "houses.csv"), *named])
    assert not (tmp_path / "runs").exists()


def test_search_refuses_a_missing_data_file_before_tensorflow(no_tensorflow_env, tmp_path):
    config = bad_config(tmp_path, ROWS.format(bad="1"), "price", "regression")
    (tmp_path / "houses.csv").unlink()
    result = run(no_tensorflow_env, tmp_path, "search", config, "--runs-dir", tmp_path / "runs")
    assert_refused(result, ["data.path: houses.csv: no such file", str(tmp_path)])
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bad.yaml"]


@pytest.mark.parametrize("case", ["inf-target", "text-target"])
def test_lr_find_refuses_bad_data_before_tensorflow(no_tensorflow_env, tmp_path, untouched, case):
    text, target, task, named = CASES[case]
    bad_config(tmp_path, text, target, task)
    with untouched():
        result = run(no_tensorflow_env, tmp_path, "lr-find", "bad.yaml", "--out", "lr.yaml")
    assert_refused(result, [str(tmp_path / "houses.csv"), *named])
    assert not (tmp_path / "runs").exists() and not (tmp_path / "lr.yaml").exists()


def test_search_refuses_with_the_message_validate_gives(cli, tmp_path, monkeypatch):
    """Same checks, same words: the user fixes what `validate` would have said."""
    monkeypatch.chdir(tmp_path)
    bad_config(tmp_path, ROWS.format(bad="-inf"), "price", "regression")
    validated = cli("validate", "bad.yaml")
    searched = cli("search", "bad.yaml")
    assert validated.exit_code == searched.exit_code == 2
    assert refusal(searched.stderr) == validated.stderr
    assert "'-inf'" in searched.stderr


def a_run_whose_data_turned_bad(folder: Path) -> Path:
    """The files `evaluate` and `learning-curve` read before the data; the data file now has
    an infinite target."""
    import zipfile

    bad_config(folder, ROWS.format(bad="inf"), "price", "regression")
    run_dir = folder / "runs" / "houses"
    (run_dir / "best").mkdir(parents=True)
    (run_dir / "manifest.json").write_text('{"best_trial": "0"}', encoding="utf-8")
    (run_dir / "resolved.yaml").write_text((folder / "bad.yaml").read_text(), encoding="utf-8")
    (run_dir / "trials.csv").write_text("trial_id,status,objective\n0,completed,0.5\n")
    with zipfile.ZipFile(run_dir / "best" / "model.keras", "w") as archive:
        archive.writestr("config.json", "{}")
    return run_dir


@pytest.mark.parametrize("command", ["evaluate", "learning-curve"])
def test_commands_on_a_run_refuse_its_bad_data_before_tensorflow(
    no_tensorflow_env, tmp_path, untouched, command
):
    run_dir = a_run_whose_data_turned_bad(tmp_path)
    with untouched():
        result = run(no_tensorflow_env, tmp_path, command, run_dir)
    assert_refused(result, [str(tmp_path / "houses.csv"), "'price'", "'inf'"])
    assert result.stdout == ""


def test_an_objective_the_datas_task_does_not_log_is_refused_before_tensorflow(
    no_tensorflow_env, tmp_path, untouched, cli, monkeypatch
):
    """The task comes from the data (auto): a regression target cannot be judged by accuracy.
    validate says so, and search says the same before TensorFlow loads."""
    config = bad_config(tmp_path, ROWS.format(bad="4.5"), "price", "auto")
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "search: {max_trials: 1}", "search: {max_trials: 1, objective: val_accuracy}"
        ),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)  # the config's data path is relative to the working directory
    with untouched():
        checked = cli("validate", config)
        result = run(no_tensorflow_env, tmp_path, "search", "bad.yaml")
    for output in (checked.stderr, result.stderr):
        assert "search.objective: got 'val_accuracy'" in output
        assert "a regression model does not log" in output and "val_mae" in output
    assert checked.exit_code == 2 and result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "blocked in this test" not in result.stderr
