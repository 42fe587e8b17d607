"""Hostile run names and damaged run directories (docs/reproducibility.md, issue 12 items 1 and 6).

A run name never leads outside --runs-dir, --overwrite deletes only a tunenet run, and --resume
repairs what a crash or a full disk can leave behind (or refuses, naming the file): no finished
trial is lost, nothing outside the run is touched, no traceback, never "internal error".
"""

from __future__ import annotations

import errno
import json
import shutil
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import tree_state
from tunenet import runs
from tunenet.cli import app
from tunenet.errors import RunDirError
from tunenet.runs import files, tables

GRID = """
    name: {name}
    seed: 7
    data: {{source: iris}}
    model: {{layers: 1, units: [4, 8]}}
    training: {{epochs: 2, batch_size: 16, early_stopping: false}}
    search: {{strategy: grid}}
"""
RULE = "a run name is one plain directory name"
BAD_NAMES = {
    "dotdot": "..",
    "dot": ".",
    "hidden": ".hidden",
    "slash": "a/b",
    "backslash": "a\\b",
    "absolute": "/tmp/tunenet-victim",
    "101 chars": "x" * 101,
    "300 chars": "x" * 300,
}


def grid_text(name: str) -> str:
    return textwrap.dedent(GRID.format(name=json.dumps(name)))  # JSON strings are YAML strings


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"trial_id": str})


def clean(result) -> str:
    """stderr, checked for what a user must never see."""
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    return result.stderr


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished 2-trial grid run, built once; tests work on copies."""
    base = tmp_path_factory.mktemp("finished")
    (base / "grid.yaml").write_text(grid_text("g"), encoding="utf-8")
    args = ["search", str(base / "grid.yaml"), "--runs-dir", str(base / "runs"), "--quiet"]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return base


@pytest.fixture
def run(finished: Path, tmp_path: Path) -> Path:
    """A copy of the finished run at tmp_path/runs/g (config: tmp_path/grid.yaml)."""
    shutil.copytree(finished / "runs", tmp_path / "runs", symlinks=True)
    shutil.copy(finished / "grid.yaml", tmp_path / "grid.yaml")
    return tmp_path / "runs" / "g"


def resume(cli, tmp_path: Path):
    return cli("search", tmp_path / "grid.yaml", "--runs-dir", tmp_path / "runs", "--resume", "-q")


def cut_last_line(path: Path, keep: int) -> None:
    """Cut the file inside its last line, keeping `keep` characters of it (a power loss)."""
    text = path.read_text()
    start = text.rstrip("\n").rfind("\n") + 1
    path.write_text(text[: start + keep])


# ---------------------------------------------------------------- run names


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_config_name_that_is_not_a_plain_directory_name_is_a_config_error(
    name, cli, write_config, untouched
):
    config = write_config(grid_text(name), name="bad.yaml")
    with untouched():
        result = cli("validate", config)
    assert result.exit_code == 2
    message = clean(result)
    assert f"name: got {name[:40]!r}"[:-1] in message and RULE in message
    assert "line 2" in message  # the YAML line of `name:`


@pytest.mark.parametrize("name", ["..", "/tmp/tunenet-victim"], ids=["dotdot", "absolute"])
def test_config_name_with_overwrite_deletes_nothing(name, cli, write_config, tmp_path, untouched):
    config = write_config(grid_text(name), name="bad.yaml")
    (tmp_path / "runs" / "other").mkdir(parents=True)
    (tmp_path / "runs" / "other" / "manifest.json").write_text("{}")
    with untouched():
        result = cli("search", config, "--runs-dir", tmp_path / "runs", "--overwrite", "-q")
    assert result.exit_code == 2
    assert RULE in clean(result)


@pytest.mark.parametrize("name", [*BAD_NAMES.values(), ""], ids=[*BAD_NAMES.keys(), "empty"])
def test_bad_name_option_is_refused_before_anything_is_created(
    name, cli, write_config, tmp_path, untouched
):
    config = write_config(grid_text("fine"), name="ok.yaml")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    name = str(victim) if name.startswith("/") else name
    with untouched():
        result = cli("search", config, "--runs-dir", tmp_path / "runs", "--name", name,
                     "--overwrite", "-q")  # fmt: skip
    assert result.exit_code == 2
    message = clean(result)
    assert message.startswith(f"error: --name: got {name[:40]!r}"[:-1])
    assert RULE in message and "--name my-run" in message


def test_default_name_from_a_dot_file_asks_for_a_name(cli, tmp_path, untouched):
    config = tmp_path / ".hidden.yaml"
    config.write_text("data: {source: iris}\n")
    with untouched():
        result = cli("search", config, "--runs-dir", tmp_path / "runs", "-q")
    assert result.exit_code == 2
    message = clean(result)
    assert ".hidden.yaml: the run name defaults to the file's name, '.hidden'" in message
    assert "starts with a dot" in message and "--name" in message


@pytest.mark.parametrize("name", ["digits.v2", "x" * 100, "ünïcode run"])
def test_plain_names_are_accepted(name, cli, write_config):
    assert cli("validate", write_config(grid_text(name))).exit_code == 0


# ---------------------------------------------------------------- --overwrite and containment


def test_overwrite_refuses_a_directory_that_is_not_a_run(cli, write_config, tmp_path, untouched):
    config = write_config(grid_text("photos"), name="photos.yaml")
    (tmp_path / "runs" / "photos").mkdir(parents=True)
    (tmp_path / "runs" / "photos" / "holiday.jpg").write_bytes(b"\xff\xd8")
    with untouched():
        result = cli("search", config, "--runs-dir", tmp_path / "runs", "--overwrite", "-q")
    assert result.exit_code == 2
    message = clean(result)
    assert "runs/photos: is not a tunenet run (no manifest.json)" in message
    assert "--overwrite does not delete it" in message


def test_overwrite_refuses_a_file_in_place_of_the_run(cli, write_config, tmp_path, untouched):
    config = write_config(grid_text("notes"), name="notes.yaml")
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "notes").write_text("not a directory")
    with untouched():
        result = cli("search", config, "--runs-dir", tmp_path / "runs", "--overwrite", "-q")
    assert result.exit_code == 2
    assert "runs/notes: is a file, not a run directory" in clean(result)


@pytest.mark.parametrize("flag", ["--overwrite", "--resume"])
def test_a_run_linked_outside_the_runs_dir_is_refused(flag, cli, run, tmp_path, untouched):
    outside = tmp_path / "outside"
    shutil.move(run, outside)  # a real run, manifest and all, but outside --runs-dir
    run.symlink_to(outside, target_is_directory=True)
    with untouched():
        result = cli("search", tmp_path / "grid.yaml", "--runs-dir", tmp_path / "runs", flag, "-q")
    assert result.exit_code == 2
    message = clean(result)
    assert f"leads to {outside}, outside the runs directory" in message
    assert "remove the link" in message


def test_a_worker_does_not_join_a_run_linked_outside(run, tmp_path):
    from tunenet.config.load import load_config

    outside = tmp_path / "outside"
    shutil.move(run, outside)
    run.symlink_to(outside, target_is_directory=True)
    config = load_config(tmp_path / "grid.yaml")
    options = runs.RunOptions(config_path=tmp_path / "grid.yaml", runs_dir=tmp_path / "runs")
    with pytest.raises(RunDirError, match="outside the runs directory"):
        runs.join(config, options)


@pytest.mark.e2e
def test_overwrite_replaces_only_its_own_run(cli, run, tmp_path):
    sibling = tmp_path / "runs" / "keep"
    shutil.copytree(run, sibling)
    outside = tree_state(tmp_path / "runs" / "keep")
    result = cli("search", tmp_path / "grid.yaml", "--runs-dir", tmp_path / "runs",
                 "--overwrite", "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert tree_state(sibling) == outside
    assert len(read(run / "trials.csv")) == 2


# ---------------------------------------------------------------- --resume repairs or refuses


@pytest.mark.e2e
def test_resume_after_trials_csv_cut_mid_line_runs_that_trial_again(cli, run, tmp_path, untouched):
    trials, epochs = read(run / "trials.csv"), read(run / "epochs.csv")
    cut_last_line(run / "trials.csv", keep=14)  # "01,completed,8" of trial 01's row
    with untouched(allowed=("runs/g",)):
        result = resume(cli, tmp_path)
    assert result.exit_code == 0, result.output
    message = clean(result)
    assert "trials.csv: dropped its last line, cut by a crash" in message
    assert "trial 01 is finished in" in message and "rebuilt from trials.csv" in message
    after, curves = read(run / "trials.csv"), read(run / "epochs.csv")
    assert list(after["trial_id"]) == ["00", "01"] and set(after["status"]) == {"completed"}
    pd.testing.assert_series_equal(after.iloc[0], trials.iloc[0])  # 00 kept, not retrained
    assert not curves.duplicated(["trial_id", "execution", "epoch"]).any()
    pd.testing.assert_frame_equal(curves.drop(columns="seconds"), epochs.drop(columns="seconds"))


@pytest.mark.e2e
def test_resume_after_a_crash_mid_trial_with_a_cut_epochs_line(cli, run, tmp_path, untouched):
    """Killed in trial 01: its row is missing, epochs.csv ends in half a line."""
    trials, epochs = read(run / "trials.csv"), read(run / "epochs.csv")
    text = (run / "trials.csv").read_text().splitlines(keepends=True)
    (run / "trials.csv").write_text("".join(text[:2]))
    cut_last_line(run / "epochs.csv", keep=9)
    with untouched(allowed=("runs/g",)):
        result = resume(cli, tmp_path)
    assert result.exit_code == 0, result.output
    assert "epochs.csv: dropped its last line, cut by a crash" in clean(result)
    after, curves = read(run / "trials.csv"), read(run / "epochs.csv")
    assert len(after) == 2 and set(after["status"]) == {"completed"}
    pd.testing.assert_series_equal(after.iloc[0], trials.iloc[0])
    assert not curves.duplicated(["trial_id", "execution", "epoch"]).any()
    kept = epochs[epochs["trial_id"] == "00"]
    pd.testing.assert_frame_equal(curves[curves["trial_id"] == "00"], kept)
    assert len(curves) == len(epochs)


def test_resume_drops_a_cut_epochs_line_of_a_finished_run(cli, run, tmp_path, untouched):
    trials = (run / "trials.csv").read_text()
    cut_last_line(run / "epochs.csv", keep=9)
    whole = (run / "epochs.csv").read_text().rsplit("\n", 1)[0] + "\n"
    with untouched(allowed=("runs/g",)):
        result = resume(cli, tmp_path)
    assert result.exit_code == 0, result.output
    assert "epochs.csv: dropped its last line, cut by a crash" in clean(result)
    assert (run / "epochs.csv").read_text() == whole  # no half line; the rest kept
    assert (run / "trials.csv").read_text() == trials  # nothing trained again


@pytest.mark.parametrize(
    ("damaged", "content"),
    [
        ("tuner/oracle.json", ""),
        ("tuner/trial_00/trial.json", ""),
        ("tuner/tuner0.json", ""),
        ("tuner/oracle.json", "{}"),  # JSON, but it lost the trials
        ("tuner/oracle.json", '{"start_order": ["00", "01"]}'),  # keras-tuner cannot reload it
    ],
    ids=["empty oracle.json", "empty trial.json", "empty tuner0.json", "oracle {}", "oracle keys"],
)
def test_resume_rebuilds_damaged_keras_tuner_state_without_training(
    damaged, content, cli, run, tmp_path, untouched
):
    trials, epochs = (run / "trials.csv").read_text(), (run / "epochs.csv").read_text()
    (run / damaged).write_text(content)
    with untouched(allowed=("runs/g",)):
        result = resume(cli, tmp_path)
    assert result.exit_code == 0, result.output
    message = clean(result)
    assert "keras-tuner" in message and "rebuilt from trials.csv" in message
    assert (run / "trials.csv").read_text() == trials  # finished trials replayed, not retrained
    assert (run / "epochs.csv").read_text() == epochs
    assert json.loads((run / "tuner" / "oracle.json").read_text())["end_order"] == ["00", "01"]


def test_resume_rebuilds_a_manifest_that_is_not_json(cli, run, tmp_path, untouched):
    trials = (run / "trials.csv").read_text()
    (run / "manifest.json").write_text('{"format_version": 1, "sta')
    with untouched(allowed=("runs/g",)):
        result = resume(cli, tmp_path)
    assert result.exit_code == 0, result.output
    assert "manifest.json: was not JSON" in clean(result) and "rebuilt" in result.stderr
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "completed" and manifest["best_trial"] == "00"
    assert manifest["data"]["source"] == "iris"
    assert (run / "trials.csv").read_text() == trials


@pytest.mark.parametrize(
    ("file", "damage", "expected"),
    [
        ("trials.csv", lambda t: "\x00\x01garbage,,\n" + t.split("\n", 1)[1],
         "trials.csv: line 1 is not tunenet's header"),
        ("trials.csv", lambda t: t.replace("\n01,", "\n01,oops\n01,", 1),
         "trials.csv: line 3 has 2 fields, the header"),
        ("epochs.csv", lambda t: "loss;val_loss\n" + t.split("\n", 1)[1],
         "epochs.csv: line 1 is not tunenet's header"),
        ("trials.csv", lambda t: t.encode("utf-16"),
         "trials.csv: cannot be read as UTF-8 text"),
    ],
    ids=["trials header", "trials inner line", "epochs header", "trials not utf-8"],
)  # fmt: skip
def test_resume_refuses_damage_a_crash_cannot_cause(
    file, damage, expected, cli, run, tmp_path, untouched
):
    path = run / file
    damaged = damage(path.read_text())
    path.write_bytes(damaged if isinstance(damaged, bytes) else damaged.encode())
    with untouched():
        result = resume(cli, tmp_path)
    assert result.exit_code == 2
    message = clean(result)
    assert expected in message
    assert "start the run again with --overwrite" in message


def test_resume_refuses_when_neither_manifest_nor_resolved_config_can_be_read(
    cli, run, tmp_path, untouched
):
    (run / "manifest.json").write_text("not json")
    (run / "resolved.yaml").write_text("- a list\n- not a config\n")
    with untouched():
        result = resume(cli, tmp_path)
    assert result.exit_code == 2
    message = clean(result)
    assert "resolved.yaml: cannot be read (not a YAML mapping)" in message
    assert "cannot tell whether the config changed" in message


# ---------------------------------------------------------------- a full disk


def no_space(path: object) -> OSError:
    return OSError(errno.ENOSPC, "No space left on device", str(path))


def search_then_resume(cli, tmp_path: Path, monkeypatch, untouched) -> pd.DataFrame:
    """A search on a disk that fills up (exit 2, no traceback), then a resume once it is free."""
    (tmp_path / "grid.yaml").write_text(grid_text("g"))
    with untouched(allowed=("runs",)):
        result = cli("search", tmp_path / "grid.yaml", "--runs-dir", tmp_path / "runs", "-q")
    assert result.exit_code == 2, result.output
    message = clean(result)
    assert "No space left on device" in message
    assert "Free some space" in message and "--resume" in message
    run = tmp_path / "runs" / "g"
    assert (run / "epochs.csv").read_text().endswith("\n")  # never half a line
    before = read(run / "epochs.csv")
    done = set(read(run / "trials.csv")["trial_id"]) if (run / "trials.csv").exists() else set()
    monkeypatch.undo()  # the disk is free again
    with untouched(allowed=("runs/g",)):
        result = resume(cli, tmp_path)
    assert result.exit_code == 0, result.output
    clean(result)
    trials, curves = read(run / "trials.csv"), read(run / "epochs.csv")
    assert list(trials["trial_id"]) == ["00", "01"] and set(trials["status"]) == {"completed"}
    assert not curves.duplicated(["trial_id", "execution", "epoch"]).any()
    for trial_id in done:  # completed before the disk filled: rows kept as they were
        same = before[before["trial_id"] == trial_id].reset_index(drop=True)
        pd.testing.assert_frame_equal(
            curves[curves["trial_id"] == trial_id].reset_index(drop=True), same
        )
    return trials


@pytest.mark.e2e
def test_disk_full_writing_trials_csv_stops_cleanly_and_resumes(
    cli, tmp_path, monkeypatch, untouched
):
    real, calls = tables.write_atomic, []  # where trials.csv is written

    def full_disk(path: Path, text: str) -> None:
        calls.append(path.name)
        if path.name == "trials.csv" and calls.count("trials.csv") == 2:  # trial 01's row
            raise no_space(path)
        real(path, text)

    monkeypatch.setattr(tables, "write_atomic", full_disk)
    search_then_resume(cli, tmp_path, monkeypatch, untouched)


@pytest.mark.e2e
def test_disk_full_mid_line_of_epochs_csv_leaves_no_half_line(
    cli, tmp_path, monkeypatch, untouched
):
    real, calls = files._write_all, []

    def full_disk(handle: int, data: bytes) -> None:
        calls.append(data)
        if len(calls) == 3:  # trial 01's first epoch: half the line, then the disk is full
            real(handle, data[: len(data) // 2])
            raise no_space("")
        real(handle, data)

    monkeypatch.setattr(files, "_write_all", full_disk)
    search_then_resume(cli, tmp_path, monkeypatch, untouched)


@pytest.mark.e2e
def test_disk_full_writing_keras_tuner_state_stops_cleanly_and_resumes(
    cli, tmp_path, monkeypatch, untouched
):
    from keras_tuner.src.engine import oracle

    real, calls = oracle.Oracle.save, []

    def full_disk(self) -> None:
        calls.append(1)
        if len(calls) >= 4:  # the end of trial 01 (saves: begin 00, end 00, begin 01, end 01)
            raise no_space(Path(self._project_dir) / "oracle.json")
        real(self)

    monkeypatch.setattr(oracle.Oracle, "save", full_disk)
    search_then_resume(cli, tmp_path, monkeypatch, untouched)


@pytest.mark.e2e
def test_rebuilt_random_search_proposes_the_same_trials_again(cli, write_config, tmp_path):
    """A rebuilt oracle (same seed) proposes the recorded trials again, so each is replayed
    under its own id and only the trial whose row was lost is trained again, with its values."""
    config = write_config(
        """
        name: r
        seed: 3
        data: {source: iris}
        model: {layers: 1, units: [4, 8, 16]}
        optimizer: {learning_rate: {min: 0.001, max: 0.1, sampling: log}}
        training: {epochs: 2}
        search: {strategy: random, max_trials: 3}
        """,
        name="grid.yaml",
    )
    assert cli("search", config, "--runs-dir", tmp_path / "runs", "-q").exit_code == 0
    run = tmp_path / "runs" / "r"
    trials = read(run / "trials.csv")
    cut_last_line(run / "trials.csv", keep=5)
    (run / "tuner" / "oracle.json").write_text("")
    result = resume(cli, tmp_path)
    assert result.exit_code == 0, result.output
    assert "oracle.json is damaged" in clean(result)
    after = read(run / "trials.csv")
    hps = [column for column in trials.columns if column.startswith("hp.")]
    pd.testing.assert_frame_equal(after[["trial_id", *hps]], trials[["trial_id", *hps]])
    pd.testing.assert_frame_equal(after.iloc[:2], trials.iloc[:2])  # replayed, not retrained
