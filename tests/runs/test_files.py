"""Writing a run's files: a failure leaves neither a temp file nor a half line behind."""

from __future__ import annotations

import errno
import math
import os
from pathlib import Path

import pytest

from tunenet.runs import files
from tunenet.runs.files import append_line, csv_line, text_or_none, write_atomic, write_json


def no_space(path: str = "") -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path or None)


def test_write_atomic_replaces_the_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "trials.csv"
    write_atomic(target, "old\n")
    write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["trials.csv"]


def test_write_atomic_that_fails_leaves_no_temp_file_and_the_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "trials.csv"
    target.write_text("old\n")

    def full_disk(source: str, destination: Path) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "replace", full_disk)
    with pytest.raises(OSError) as error:
        write_atomic(target, "new\n")
    assert error.value.filename == str(target)  # named, though the disk named no file
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["trials.csv"]


def test_write_json_ends_with_a_newline(tmp_path: Path) -> None:
    write_json(tmp_path / "manifest.json", {"format_version": 1})
    assert (tmp_path / "manifest.json").read_text() == '{\n  "format_version": 1\n}\n'


def test_append_line_adds_one_whole_line(tmp_path: Path) -> None:
    target = tmp_path / "epochs.csv"
    append_line(target, "a,b\n")
    append_line(target, "1,2\n")
    assert target.read_text() == "a,b\n1,2\n"


def test_append_line_that_fails_halfway_cuts_the_file_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "epochs.csv"
    target.write_text("trial_id,epoch\n0,1\n")
    real = files._write_all

    def half_then_full(handle: int, data: bytes) -> None:
        real(handle, data[: len(data) // 2])
        raise no_space()

    monkeypatch.setattr(files, "_write_all", half_then_full)
    with pytest.raises(OSError) as error:
        append_line(target, "0,2\n")
    assert error.value.filename == str(target)
    assert target.read_text() == "trial_id,epoch\n0,1\n"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (math.nan, "nan"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (0.1 + 0.2, "0.3"),  # 8 significant digits
        (1 / 3, "0.33333333"),
        (12, "12"),
        (True, "True"),
        ("a,b", '"a,b"'),
    ],
)
def test_csv_line_formats_each_value(value: object, text: str) -> None:
    assert csv_line([value, 1]) == text + ",1\n"


def test_text_or_none(tmp_path: Path) -> None:
    (tmp_path / "binary").write_bytes(b"\xff\xfe\x00")
    assert text_or_none(tmp_path / "missing") is None
    assert text_or_none(tmp_path / "binary") is None


def test_replace_atomic_writes_through_a_temp_file_with_the_suffix(tmp_path: Path) -> None:
    target = tmp_path / "best" / "model.keras"
    seen: list[Path] = []

    def save(temp: Path) -> None:
        seen.append(temp)
        temp.write_bytes(b"zip")

    files.replace_atomic(target, save, suffix=".keras")
    assert target.read_bytes() == b"zip"
    assert seen[0].parent == target.parent and seen[0].name.endswith(".keras")
    assert [p.name for p in target.parent.iterdir()] == ["model.keras"]


def test_replace_atomic_that_fails_keeps_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "plot.png"
    target.write_bytes(b"old")

    def interrupted(temp: Path) -> None:
        temp.write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        files.replace_atomic(target, interrupted, suffix=".png")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["plot.png"]
