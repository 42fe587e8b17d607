"""Reading a run for `report` and `refine`: what is required, and what a damaged file says."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tunenet.errors import RunDirError
from tunenet.runs import (
    RunDir,
    config_value,
    find_runs,
    load_run,
    read_resolved_text,
    read_trials_text,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "runs"


def copy_run(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES / name, tmp_path / name))


def test_find_runs_of_a_run_and_of_a_directory_of_runs(tmp_path: Path) -> None:
    first, second = copy_run("minimal", tmp_path), copy_run("curves", tmp_path)
    (tmp_path / "not-a-run").mkdir()
    assert find_runs(first) == [first]
    assert find_runs(tmp_path) == [second, first]


def test_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="is not a run directory") as error:
        find_runs(tmp_path)
    assert str(tmp_path) in str(error.value)


def test_a_path_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="no such file or directory"):
        find_runs(tmp_path / "missing")


def test_load_run_keeps_trial_ids_as_strings(tmp_path: Path) -> None:
    run = load_run(copy_run("minimal", tmp_path))
    assert run.trials["trial_id"].map(type).eq(str).all()
    assert run.epochs["trial_id"].map(type).eq(str).all()


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    run = copy_run("minimal", tmp_path)
    RunDir(run).epochs_file.unlink()
    with pytest.raises(RunDirError, match="epochs.csv: missing"):
        load_run(run)


def test_a_missing_column_is_named_with_the_file(tmp_path: Path) -> None:
    run = copy_run("minimal", tmp_path)
    (run / "trials.csv").write_text("trial_id,status,train_error\n0000,completed,0.1\n")
    with pytest.raises(RunDirError) as error:
        load_run(run)
    assert "trials.csv" in str(error.value) and "'val_error'" in str(error.value)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty"),
        (b"trial_id,epoch,loss,val_loss\n0000,1,0.5\n0000,2,0.4,0.3,9,9\n", "not a readable CSV"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe\x00binary", "epochs.csv"),
        (b"trial_id,epoch,loss,val_loss\n0000,1,zero,0.3\n", "'loss' must hold numbers"),
    ],
)
def test_an_unreadable_epochs_csv(tmp_path: Path, content: bytes, problem: str) -> None:
    run = copy_run("minimal", tmp_path)
    (run / "epochs.csv").write_bytes(content)
    with pytest.raises(RunDirError, match=problem) as error:
        load_run(run)
    assert "epochs.csv" in str(error.value)


def test_an_unreadable_manifest_is_a_warning_not_an_error(tmp_path: Path) -> None:
    run = copy_run("curves", tmp_path)
    (run / "manifest.json").write_text("{not json")
    loaded = load_run(run)
    assert loaded.manifest is None and "manifest.json" in loaded.warnings[0]


def test_config_value_finds_a_dotted_key() -> None:
    config = {"search": {"objective": "val_loss", "min_delta": None}}
    assert config_value(config, "search.objective") == (True, "val_loss")
    assert config_value(config, "search.min_delta") == (True, None)
    assert config_value(config, "search.objective.name") == (False, None)
    assert config_value(None, "search") == (False, None)


def test_read_resolved_text_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="no such run directory"):
        read_resolved_text(RunDir(tmp_path / "missing"))
    with pytest.raises(RunDirError, match="no resolved.yaml"):
        read_resolved_text(RunDir(tmp_path))
    RunDir(tmp_path).resolved_file.write_text("seed: 7\n")
    assert read_resolved_text(RunDir(tmp_path)) == "seed: 7\n"


def test_read_trials_text_gives_strings(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    with pytest.raises(RunDirError, match="no trials.csv"):
        read_trials_text(run)
    run.trials_file.write_text("trial_id,status,objective\n03,completed,0.5\n")
    assert read_trials_text(run) == [{"trial_id": "03", "status": "completed", "objective": "0.5"}]
