"""trials.csv and epochs.csv as the search writes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunenet.errors import RunDirError
from tunenet.runs import EpochLog, TrialTable, read_trial_rows, trial_order

TRIAL_COLUMNS = ["trial_id", "status", "objective"]
EPOCH_COLUMNS = ["trial_id", "execution", "epoch", "loss"]


def epoch_log(tmp_path: Path, text: str = "") -> EpochLog:
    path = tmp_path / "epochs.csv"
    if text:
        path.write_text(text)
    return EpochLog(path, EPOCH_COLUMNS)


def test_epoch_log_writes_its_header_then_whole_lines(tmp_path: Path) -> None:
    log = epoch_log(tmp_path)
    log.append({"trial_id": "01", "execution": 0, "epoch": 1, "loss": 0.5})
    assert log.path.read_text() == "trial_id,execution,epoch,loss\n01,0,1,0.5\n"


def test_epoch_log_refuses_a_file_with_other_columns(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="epochs.csv: its columns are not"):
        epoch_log(tmp_path, "trial_id,epoch\n01,1\n")


HEADER = "trial_id,execution,epoch,loss\n"
ROWS = "01,0,1,0.5\n02,0,1,0.6\n03,0,1,0.7\n"


@pytest.mark.parametrize(
    ("keep", "drop", "left"),
    [
        ({"01", "03"}, None, "01,0,1,0.5\n03,0,1,0.7\n"),
        (None, {"02"}, "01,0,1,0.5\n03,0,1,0.7\n"),
        ({"01", "02"}, {"02"}, "01,0,1,0.5\n"),
        (None, None, ROWS),
    ],
)
def test_drop_trials_keeps_or_drops_the_rows_of_trials(
    tmp_path: Path, keep: set | None, drop: set | None, left: str
) -> None:
    log = epoch_log(tmp_path, HEADER + ROWS)
    assert log.drop_trials(keep=keep, drop=drop) == 0
    assert log.path.read_text() == HEADER + left


def test_drop_trials_drops_a_last_line_cut_by_a_crash(tmp_path: Path) -> None:
    log = epoch_log(tmp_path, HEADER + ROWS + "04,0,1,0.")
    assert log.drop_trials() == 1
    assert log.path.read_text() == HEADER + ROWS


def trial_table(tmp_path: Path) -> TrialTable:
    return TrialTable(tmp_path / "trials.csv", TRIAL_COLUMNS)


def test_trial_table_put_writes_and_a_new_table_reads_it_back(tmp_path: Path) -> None:
    table = trial_table(tmp_path)
    table.put({"trial_id": "01", "status": "completed", "objective": 0.5})
    table.put({"trial_id": "01", "status": "completed", "objective": 0.25})  # replaced
    assert table.path.read_text() == "trial_id,status,objective\n01,completed,0.25\n"
    again = trial_table(tmp_path)
    assert again.rows == {"01": {"trial_id": "01", "status": "completed", "objective": "0.25"}}


def test_trial_table_put_keeps_the_rows_another_process_wrote(tmp_path: Path) -> None:
    mine, theirs = trial_table(tmp_path), trial_table(tmp_path)
    theirs.put({"trial_id": "02", "status": "failed"})
    mine.put({"trial_id": "01", "status": "completed"})
    assert [row["trial_id"] for row in trial_table(tmp_path).ordered()] == ["01", "02"]


def test_trial_ids_are_ordered_as_numbers_whatever_their_padding(tmp_path: Path) -> None:
    table = trial_table(tmp_path)
    for trial_id in ("10", "03", "2", "x"):
        table.put({"trial_id": trial_id, "status": "completed"})
    assert [row["trial_id"] for row in table.ordered()] == ["2", "03", "10", "x"]
    assert sorted(["10", "9", "009"], key=trial_order) == ["009", "9", "10"]


def test_find_matches_3_and_03_but_not_other_text(tmp_path: Path) -> None:
    table = trial_table(tmp_path)
    table.put({"trial_id": "03", "status": "completed"})
    table.put({"trial_id": "x", "status": "failed"})
    assert table.find("3")["trial_id"] == "03"
    assert table.find("003")["trial_id"] == "03"
    assert table.find("x")["trial_id"] == "x"
    assert table.find("4") is None and table.find("y") is None


def test_read_trial_rows_drops_a_cut_last_line_and_returns_it(tmp_path: Path) -> None:
    path = tmp_path / "trials.csv"
    path.write_text("trial_id,status\n01,completed\n02,compl")
    rows, cut = read_trial_rows(path)
    assert rows == [{"trial_id": "01", "status": "completed"}]
    assert cut == "02,compl"


def test_read_trial_rows_of_a_missing_or_empty_file(tmp_path: Path) -> None:
    assert read_trial_rows(tmp_path / "trials.csv") == ([], "")
    (tmp_path / "trials.csv").write_text("trial_id,sta")
    assert read_trial_rows(tmp_path / "trials.csv") == ([], "trial_id,sta")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("garbage,header\n01,completed\n", "line 1 is not tunenet's header"),
        ("trial_id,status\n01\n02,completed\n", "line 2 has 1 fields, the header 2"),
        (b"\xff\xfe\x00\n", "cannot be read as UTF-8 text"),
    ],
)
def test_read_trial_rows_refuses_damage_a_crash_cannot_cause(
    tmp_path: Path, text: str | bytes, problem: str
) -> None:
    path = tmp_path / "trials.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(RunDirError, match=problem) as error:
        read_trial_rows(path)
    assert str(path) in str(error.value)
