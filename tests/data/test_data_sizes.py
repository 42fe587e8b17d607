"""Data files of hostile sizes: npz arrays checked from their headers before any data is read
(size limit, decompression bombs), and CSV headers read whole however wide."""

from __future__ import annotations

import io
import json
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tunenet.data import npz_file


def npz_config(write_config, path: Path, **model) -> Path:
    text = f"data: {{source: npz, path: {json.dumps(str(path))}}}\n"
    if model:
        text += f"model: {json.dumps(model)}\n"
    return write_config(text)


def header_only_npz(path: Path, shapes: dict[str, tuple], data: bytes = b"") -> Path:
    """An npz whose members declare these shapes (float64) but hold only `data`: what a file
    claims, without the bytes to back it (as a bomb's header claims its inflated size)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, shape in shapes.items():
            member = io.BytesIO()
            header = {"descr": "<f8", "fortran_order": False, "shape": shape}
            np.lib.format.write_array_header_1_0(member, header)
            archive.writestr(f"{name}.npy", member.getvalue() + data)
    return path


def refused(cli, untouched, config: Path) -> str:
    with untouched():
        start = time.perf_counter()
        result = cli("validate", config)
    assert time.perf_counter() - start < 10  # from the header: reading would take minutes or fail
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    return result.stderr


def test_an_array_too_large_is_refused_from_its_header(cli, write_config, untouched, tmp_path):
    path = header_only_npz(tmp_path / "huge.npz", {"x": (10**12, 2), "y": (10**12,)})
    message = refused(cli, untouched, npz_config(write_config, path))
    assert "data.path" in message and "array x has shape (1000000000000, 2) of float64" in message
    assert "16 TB once read" in message and "up to 8.59 GB" in message


def test_a_million_by_million_header_is_exit_2_not_memory_error(
    cli, write_config, untouched, tmp_path
):
    path = header_only_npz(tmp_path / "square.npz", {"x": (10**6, 10**6), "y": (10**6,)})
    message = refused(cli, untouched, npz_config(write_config, path))
    assert "(1000000, 1000000)" in message or "input 1000000)" in message


def test_the_array_check_comes_before_reading(write_config, tmp_path):
    """Refused with the data still compressed: peak memory stays far below the array's size."""
    from tunenet.errors import DataError

    path = header_only_npz(tmp_path / "bomb.npz", {"x": (250_000_000,), "y": (250_000_000,)})
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="decompression bomb"):
            npz_file._npz_arrays(path, "data.path", ("x", "y"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20  # 2 GB declared


def test_a_real_decompression_bomb_is_refused(cli, write_config, untouched, tmp_path):
    path = tmp_path / "zeros.npz"
    np.savez_compressed(path, x=np.zeros((50_000, 10)), y=np.zeros(50_000))  # 4 MB -> 8 kB
    assert path.stat().st_size < 50_000
    message = refused(cli, untouched, npz_config(write_config, path))
    assert "array x is" in message and "decompression bomb" in message
    assert "more than 200 times" in message


def test_a_compressed_npz_of_real_data_is_read(cli, write_config, tmp_path):
    path = tmp_path / "real.npz"
    rng = np.random.default_rng(0)
    np.savez_compressed(path, x=rng.normal(size=(60, 4)), y=rng.integers(0, 2, 60))
    result = cli("validate", npz_config(write_config, path))
    assert result.exit_code == 0, result.output
    assert "60 examples of shape (4,)" in result.stdout


def test_header_shapes_reads_no_data(tmp_path):
    path = header_only_npz(tmp_path / "h.npz", {"x": (3, 28, 28), "y": (3,)})
    assert npz_file.header_shapes(path) == {"x": (3, 28, 28), "y": (3,)}


# ---------------------------------------------------------------- wide CSV headers


def test_a_20000_column_csv_is_read_whole(cli, write_config, tmp_path):
    path = tmp_path / "wide.csv"
    names = [f"f{index}" for index in range(20_000)]
    rows = [
        ",".join(str((row * 7 + i) % 5) for i in range(20_000)) + f",{row % 2}" for row in range(30)
    ]
    path.write_text(",".join([*names, "y"]) + "\n" + "\n".join(rows) + "\n")
    config = write_config(
        f"data: {{source: csv, path: {json.dumps(str(path))}, target: y}}\nmodel: {{layers: 1, units: 8}}\n"
    )
    start = time.perf_counter()
    result = cli("validate", config)
    assert time.perf_counter() - start < 60  # a hang guard; the read itself takes about 2 s
    assert result.exit_code == 0, result.output
    assert "20000 features" in result.stdout


def test_a_duplicate_far_into_a_wide_header_is_found(cli, write_config, tmp_path):
    path = tmp_path / "dup.csv"
    names = [f"f{index}" for index in range(20_000)] + ["f19999", "y"]
    path.write_text(",".join(names) + "\n" + ",".join(["1"] * len(names)) + "\n")
    config = write_config(f"data: {{source: csv, path: {json.dumps(str(path))}, target: y}}\n")
    result = cli("validate", config)
    assert result.exit_code == 2
    assert "column 'f19999' appears 2 times" in result.stderr
    assert "columns 20000 and 20001" in result.stderr
