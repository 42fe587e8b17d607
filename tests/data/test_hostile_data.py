"""Hostile data: every data problem exits 2 before training, from `validate` and from `search`.

Each case writes a few-dozen-row file, runs the CLI and checks what the user sees: exit code 2,
a message naming the file, the column or key, the bad value and the fix, no traceback, and
nothing created. Only empty cells are missing values (docs/reproducibility.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import tunenet_command
from tunenet.config.load import validate_dict
from tunenet.data import dataset as data_module

ROWS = 40


def write_rows(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def numeric_rows(n: int = ROWS) -> list[str]:
    """a, b -> y (a regression target); a starts at 2, so it does not number the rows."""
    return [f"{i + 2},{(i * 7) % 11},{i * 0.5 + (i % 3)}" for i in range(n)]


def csv_config(write_config, path: Path, target: str = "y", **data) -> Path:
    extra = "".join(f", {key}: {json.dumps(value)}" for key, value in data.items())
    return write_config(
        f"data: {{source: csv, path: {json.dumps(str(path))}, target: {target}{extra}}}\n"
    )


def refused(cli, untouched, config: Path, *texts: str) -> str:
    """`validate` exits 2 with every text in its message, without a traceback or a new file."""
    with untouched():
        result = cli("validate", config)
    assert result.exit_code == 2, result.output
    message = result.stderr
    assert "Traceback" not in message
    for text in texts:
        assert text in message, (text, message)
    return message.splitlines()[0]


# ---------------------------------------------------------------- the file itself


def test_missing_csv_file(cli, write_config, untouched, tmp_path):
    config = csv_config(write_config, tmp_path / "nope.csv")
    refused(cli, untouched, config, "data.path", "nope.csv", "no such file", "Check the path")


def test_directory_given_as_the_csv_path(cli, write_config, untouched, tmp_path):
    (tmp_path / "folder").mkdir()
    config = csv_config(write_config, tmp_path / "folder")
    refused(cli, untouched, config, "data.path", "folder", "is a directory", "give the file")


def test_empty_csv_file(cli, write_config, untouched, tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    config = csv_config(write_config, tmp_path / "empty.csv")
    refused(cli, untouched, config, "data.path", "empty.csv", "is empty")


def test_binary_file_as_csv(cli, write_config, untouched, tmp_path):
    (tmp_path / "image.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 4)
    config = csv_config(write_config, tmp_path / "image.csv")
    refused(cli, untouched, config, "data.path", "image.csv", "binary file", "CSV text")


def test_header_without_rows(cli, write_config, untouched, tmp_path):
    write_rows(tmp_path / "header.csv", "a,b,y", [])
    config = csv_config(write_config, tmp_path / "header.csv")
    refused(cli, untouched, config, "header.csv", "no rows", "Add examples")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_csv_file(cli, write_config, untouched, tmp_path):
    path = write_rows(tmp_path / "locked.csv", "a,b,y", numeric_rows())
    path.chmod(0)
    try:
        config = csv_config(write_config, path)
        refused(cli, untouched, config, "data.path", "locked.csv", "cannot be read", "permission")
    finally:
        path.chmod(0o644)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_named_pipe_is_refused_without_blocking(cli, write_config, untouched, tmp_path):
    os.mkfifo(tmp_path / "pipe.csv")  # reading it would wait forever for a writer
    config = csv_config(write_config, tmp_path / "pipe.csv")
    refused(cli, untouched, config, "data.path", "pipe.csv", "not a regular file")


def test_wrong_delimiter_reads_one_column_and_says_so(cli, write_config, untouched, tmp_path):
    path = tmp_path / "colons.csv"
    path.write_text("a:b:y\n" + "".join(f"{i}:{i % 5}:{i % 2}\n" for i in range(ROWS)))
    config = csv_config(write_config, path)
    refused(cli, untouched, config, "data.target", "'y'", "colons.csv", "one column", "a:b:y",
            "delimiter")  # fmt: skip


def test_rows_longer_than_the_header(cli, write_config, untouched, tmp_path):
    """pandas would silently make the first field an index and shift every column."""
    path = write_rows(tmp_path / "short.csv", "a,y", numeric_rows())
    config = csv_config(write_config, path)
    refused(cli, untouched, config, "data.path", "short.csv", "3 fields", "2 columns",
            "Name every column")  # fmt: skip


# ---------------------------------------------------------------- columns


def test_target_column_absent_says_did_you_mean(cli, write_config, untouched, tmp_path):
    path = write_rows(tmp_path / "houses.csv", "area,rooms,price", numeric_rows())
    config = csv_config(write_config, path, target="prize")
    refused(cli, untouched, config, "data.target", "'prize'", "houses.csv",
            "area, rooms, price", "Did you mean 'price'")  # fmt: skip


def test_duplicate_column_names_are_refused(cli, write_config, untouched, tmp_path):
    """pandas would rename the second `y` to `y.1` and use it, the target, as a feature."""
    rows = [f"{i},{i % 2},{i % 2}" for i in range(ROWS)]
    path = write_rows(tmp_path / "twice.csv", "a,y,y", rows)
    config = csv_config(write_config, path)
    first = refused(cli, untouched, config, "twice.csv", "'y'", "twice", "columns 2 and 3",
                    "Rename")  # fmt: skip
    assert "y.1" not in first


def test_unnamed_column_with_values_is_refused(cli, write_config, untouched, tmp_path):
    path = write_rows(tmp_path / "gap.csv", "a,,y", numeric_rows())
    config = csv_config(write_config, path)
    refused(cli, untouched, config, "gap.csv", "column 2 has no name", "Name it in the header")


def test_features_name_an_absent_column(cli, write_config, untouched, tmp_path):
    path = write_rows(tmp_path / "table.csv", "a,b,y", numeric_rows())
    config = csv_config(write_config, path, features=["a", "c"])
    refused(cli, untouched, config, "data.features", "'c'", "table.csv", "a, b, y")


def test_features_listed_twice(cli, write_config, untouched, tmp_path):
    path = write_rows(tmp_path / "table.csv", "a,b,y", numeric_rows())
    config = csv_config(write_config, path, features=["a", "b", "a"])
    refused(cli, untouched, config, "data.features", "'a'", "twice")


def test_missing_values_with_another_source_is_a_config_error(cli, write_config, untouched):
    config = write_config('data: {source: digits, missing_values: ["NA"]}\n')
    refused(cli, untouched, config, "data.missing_values", "'digits'", "remove it")


def test_null_in_missing_values_must_be_quoted(cli, write_config, untouched, tmp_path):
    path = write_rows(tmp_path / "table.csv", "a,b,y", numeric_rows())
    config = write_config(
        f"data: {{source: csv, path: {json.dumps(str(path))}, target: y, "
        "missing_values: [NA, null]}\n"
    )
    refused(cli, untouched, config, "data.missing_values", '"null"')


# ---------------------------------------------------------------- values


def test_infinite_regression_target_names_rows_and_values(cli, write_config, untouched, tmp_path):
    rows = numeric_rows()
    rows[3] = "3,1,inf"
    rows[8] = "8,2,-inf"
    path = write_rows(tmp_path / "inf.csv", "a,b,y", rows)
    config = csv_config(write_config, path)
    refused(cli, untouched, config, "data.target", "inf.csv", "'y'", "infinite",
            "line 5", "line 10", "inf")  # fmt: skip


def test_infinite_feature_names_the_line(cli, write_config, untouched, tmp_path):
    rows = numeric_rows()
    rows[4] = "4,-inf,2.5"
    path = write_rows(tmp_path / "inf.csv", "a,b,y", rows)
    config = csv_config(write_config, path)
    refused(cli, untouched, config, "inf.csv", "column 'b'", "infinite", "line 6: '-inf'",
            "data.missing_values")  # fmt: skip


def test_text_in_a_numeric_target_names_rows_and_the_fix(cli, write_config, untouched, tmp_path):
    rows = numeric_rows()
    rows[6] = "6,1,NA"
    rows[7] = "7,1,n/a"
    path = write_rows(tmp_path / "target.csv", "a,b,y", rows)
    config = csv_config(write_config, path, task="regression")
    refused(cli, untouched, config, "data.target", "target.csv", "'y'", "'NA'", "'n/a'",
            "line 8", "line 9", 'data.missing_values: ["NA", "n/a"]')  # fmt: skip


def test_na_in_a_numeric_feature_is_refused_with_the_fix(cli, write_config, untouched, tmp_path):
    """Only empty cells are missing; "NA" among numbers is neither a number nor a category."""
    rows = numeric_rows()
    rows[2] = "2,NA,1.5"
    path = write_rows(tmp_path / "feature.csv", "a,b,y", rows)
    config = csv_config(write_config, path)
    refused(cli, untouched, config, "feature.csv", "column 'b'", "'NA'", "line 4",
            'data.missing_values: ["NA"]', "data.features")  # fmt: skip


def test_missing_values_turn_na_into_missing_cells(cli, write_config, untouched, tmp_path):
    rows = numeric_rows()
    rows[2] = "2,NA,1.5"
    path = write_rows(tmp_path / "feature.csv", "a,b,y", rows)
    config = csv_config(write_config, path, missing_values=["NA"])
    refused(cli, untouched, config, "feature.csv", "'b' (1)", "data.missing: drop")
    dropped = csv_config(write_config, path, missing_values=["NA"], missing="drop")
    result = cli("validate", dropped)
    assert result.exit_code == 0, result.stderr
    assert f"{ROWS - 1} examples" in result.stdout


# ---------------------------------------------------------------- npz and images


def test_npz_missing_file(cli, write_config, untouched, tmp_path):
    config = write_config(f"data: {{source: npz, path: {json.dumps(str(tmp_path / 'no.npz'))}}}\n")
    refused(cli, untouched, config, "data.path", "no.npz", "no such file")


def test_npz_without_x_and_y_lists_its_arrays(cli, write_config, untouched, tmp_path):
    np.savez(tmp_path / "arrays.npz", features=np.zeros((ROWS, 3)), labels=np.zeros(ROWS))
    config = write_config(
        f"data: {{source: npz, path: {json.dumps(str(tmp_path / 'arrays.npz'))}}}\n"
    )
    refused(cli, untouched, config, "data.path", "arrays.npz", "features, labels",
            "numpy.savez(path, x=x, y=y)")  # fmt: skip


def test_npz_lengths_differ(cli, write_config, untouched, tmp_path):
    np.savez(tmp_path / "uneven.npz", x=np.zeros((ROWS, 3)), y=np.arange(ROWS - 5) % 2)
    config = write_config(
        f"data: {{source: npz, path: {json.dumps(str(tmp_path / 'uneven.npz'))}}}\n"
    )
    refused(cli, untouched, config, "uneven.npz", f"{ROWS} examples", f"{ROWS - 5}", "must match")


def test_images_folder_missing(cli, write_config, untouched, tmp_path):
    config = write_config(f"data: {{source: images, path: {json.dumps(str(tmp_path / 'pets'))}}}\n")
    refused(cli, untouched, config, "data.path", "pets", "no such folder")


def test_images_with_a_single_class(cli, write_config, untouched, tmp_path):
    from PIL import Image

    (tmp_path / "pets" / "cat").mkdir(parents=True)
    for index in range(3):
        Image.new("RGB", (4, 4)).save(tmp_path / "pets" / "cat" / f"{index}.png")
    config = write_config(f"data: {{source: images, path: {json.dumps(str(tmp_path / 'pets'))}}}\n")
    refused(cli, untouched, config, "data.path", "pets", "one class", "'cat'", "at least two")


# ---------------------------------------------------------------- only empty cells are missing


def test_na_none_and_null_are_categories_not_gaps(tmp_path):
    """North America ("NA") stays a region of its own, apart from "None" and "null"."""
    regions = ["NA", "EU", "None", "null", "AS"]
    rows = [f"{regions[i % 5]},{i % 7},{int(regions[i % 5] == 'NA')}" for i in range(ROWS)]
    path = write_rows(tmp_path / "regions.csv", "region,size,label", rows)
    config = validate_dict(
        {"data": {"source": "csv", "path": str(path), "target": "label"}, "seed": 1}
    )
    dataset = data_module.load_dataset(config)
    assert dataset.vocabularies["region"] == sorted(regions)


def test_validate_reads_the_data_and_says_what_it_found(cli, write_config, tmp_path):
    path = write_rows(tmp_path / "table.csv", "a,b,y", numeric_rows())
    result = cli("validate", csv_config(write_config, path))
    assert result.exit_code == 0, result.stderr
    assert f"data: {path}: {ROWS} examples, 2 features" in result.stdout
    assert "regression" in result.stdout


def test_unnamed_index_column_is_dropped_with_a_warning(cli, write_config, tmp_path):
    rows = [f"{i},{line}" for i, line in enumerate(numeric_rows())]
    path = write_rows(tmp_path / "indexed.csv", ",a,b,y", rows)
    result = cli("validate", csv_config(write_config, path))
    assert result.exit_code == 0, result.stderr
    assert "warning:" in result.stderr and "indexed.csv" in result.stderr
    assert "first column has no name" in result.stderr and "left out" in result.stderr
    assert "2 features" in result.stdout
    config = validate_dict({"data": {"source": "csv", "path": str(path), "target": "y"}})
    assert data_module.load_dataset(config).feature_names == ["a", "b"]


def test_trailing_delimiter_column_is_left_out(cli, write_config, tmp_path):
    path = write_rows(tmp_path / "trailing.csv", "a,b,y,", [f"{row}," for row in numeric_rows()])
    result = cli("validate", csv_config(write_config, path))
    assert result.exit_code == 0, result.stderr
    assert "column 4 has no name and no values" in result.stderr
    assert "2 features" in result.stdout


# ---------------------------------------------------------------- validate without TensorFlow


def validate_without_tensorflow(env: dict, tmp_path: Path, data: Path):
    config = tmp_path / f"{data.stem}.yaml"
    config.write_text(f"data: {{source: csv, path: {json.dumps(str(data))}, target: y}}\n")
    return subprocess.run(
        tunenet_command("validate", config), env=env, capture_output=True, text=True, timeout=120
    )


def test_validate_reads_csv_data_without_tensorflow(no_tensorflow_env, tmp_path):
    """The blocked environment fails any import of TensorFlow, Keras or keras-tuner."""
    good = write_rows(tmp_path / "good.csv", "a,b,y", numeric_rows())
    bad = write_rows(tmp_path / "twice.csv", "a,y,y", [f"{i},{i % 2},{i % 2}" for i in range(ROWS)])
    checked = validate_without_tensorflow(no_tensorflow_env, tmp_path, good)
    assert checked.returncode == 0, checked.stderr
    assert f"data: {good}: {ROWS} examples" in checked.stdout
    stopped = validate_without_tensorflow(no_tensorflow_env, tmp_path, bad)
    assert stopped.returncode == 2, stopped.stderr
    assert "twice.csv" in stopped.stderr and "'y' appears 2 times" in stopped.stderr
    assert "blocked" not in stopped.stderr and "Traceback" not in stopped.stderr


def test_data_package_checks_csv_without_tensorflow(no_tensorflow_env, tmp_path):
    """The library path: every source module imports, and check_data reads a CSV, with
    TensorFlow, Keras and keras-tuner blocked."""
    good = write_rows(tmp_path / "good.csv", "a,b,y", numeric_rows())
    bad = write_rows(tmp_path / "inf.csv", "a,b,y", [*numeric_rows()[:5], "5,1,inf"])
    script = (
        "import sys\n"
        "import tunenet.data.sources\n"
        "from tunenet.data.dataset import check_data\n"
        "from tunenet.errors import DataError\n"
        "from tunenet.config.load import validate_dict\n"
        "def config(path):\n"
        "    return validate_dict({'data': {'source': 'csv', 'path': path, 'target': 'y'}})\n"
        f"print(check_data(config({str(good)!r})))\n"
        "try:\n"
        f"    check_data(config({str(bad)!r}))\n"
        "except DataError as error:\n"
        "    print('DataError', 'infinite' in str(error))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'keras', 'keras_tuner')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=no_tensorflow_env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"data: {good}: {ROWS} examples")
    assert lines[1:] == ["DataError True", "[]"]


# ---------------------------------------------------------------- search


def test_search_on_a_bad_csv_exits_2_and_creates_no_run(cli, write_config, untouched, tmp_path):
    rows = numeric_rows()
    rows[5] = "5,1,inf"
    path = write_rows(tmp_path / "inf.csv", "a,b,y", rows)
    config = csv_config(write_config, path)
    with untouched():
        result = cli("search", config, "--runs-dir", tmp_path / "runs", "--quiet")
    assert result.exit_code == 2, result.output
    assert "inf.csv" in result.stderr and "infinite" in result.stderr and "line 7" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.e2e
def test_columns_named_like_tunenet_layers_train(cli, write_config, tmp_path):
    """Text columns make one model input per column, named by the column: any name works."""
    colors = ("red", "green", "blue")
    header = ",output,normalize,input,dense_0,lookup_output,y"
    rows = [
        f"{i},{colors[i % 3]},{i % 5},{(i * 3) % 7},{i % 2},{i % 4},{int(colors[i % 3] == 'red')}"
        for i in range(ROWS)
    ]
    path = write_rows(tmp_path / "layers.csv", header, rows)
    config = write_config(
        f"""
        name: clash
        data: {{source: csv, path: {json.dumps(str(path))}, target: y}}
        model: {{layers: 1, units: 4}}
        training: {{epochs: 1, batch_size: 16}}
        search: {{max_trials: 1}}
        """
    )
    result = cli("search", config, "--runs-dir", tmp_path / "runs", "--quiet")
    assert result.exit_code == 0, result.output
    assert "first column has no name" in result.stderr
    manifest = json.loads((tmp_path / "runs/clash/manifest.json").read_text())
    features = ["output", "normalize", "input", "dense_0", "lookup_output"]
    assert manifest["data"]["feature_names"] == features  # the index column is not a feature
    import keras

    model = keras.models.load_model(tmp_path / "runs/clash/best/model.keras", safe_mode=True)
    assert sorted(model.input) == sorted(features)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
