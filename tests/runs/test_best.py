"""Opening a finished run and its best model (evaluate, activations, learning-curve): each
wrong path or damaged file is named with what was expected, before TensorFlow loads."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from tunenet.errors import RunDirError
from tunenet.runs import RunDir
from tunenet.runs.best import open_finished_run, open_run, run_config

WORKED = Path(__file__).parents[1] / "fixtures" / "runs" / "worked-example"


@pytest.fixture
def run(tmp_path: Path) -> RunDir:
    """The worked example (manifest.json, resolved.yaml, no model yet)."""
    return RunDir(Path(shutil.copytree(WORKED, tmp_path / "runs" / "worked-example")))


def refused(path: Path, *expected: str, manifest: bool = True, model: bool = False) -> str:
    opener = open_finished_run if model else open_run
    with pytest.raises(RunDirError) as error:
        opener(path, manifest=manifest)
    message = str(error.value)
    assert all(part in message for part in expected), message
    return message


def test_a_missing_directory(tmp_path: Path) -> None:
    refused(tmp_path / "nope", "no such run directory", "runs/<name>")


def test_the_best_model_file_instead_of_its_run(run: RunDir) -> None:
    run.best_model_file.parent.mkdir()
    run.best_model_file.write_bytes(b"PK")
    refused(run.best_model_file, "is a file", f"try tunenet evaluate {run.path}")


def test_a_directory_of_runs_lists_them(run: RunDir) -> None:
    refused(run.path.parent, "is a directory of runs", str(run.path))


def test_a_run_without_manifest(run: RunDir) -> None:
    run.manifest_file.unlink()
    refused(run.path, "not a tunenet run directory (no manifest.json)")
    assert open_run(run.path, manifest=False).path == run.path  # activations needs no manifest
    run.resolved_file.unlink()
    refused(run.path, "no resolved.yaml", manifest=False)


def test_a_run_without_best_model(run: RunDir) -> None:
    refused(run.path, "best/model.keras: does not exist", "--resume", model=True)


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "is an empty file"),
        (b"name,value\n", "is a text file of 11 bytes (starts 'name,value'), not a zip archive"),
        (b"\x89HDF\r\n\x1a\n" + bytes(8), "an HDF5 file"),
    ],
)
def test_a_best_model_that_is_not_a_keras_file(run: RunDir, content: bytes, expected: str) -> None:
    run.best_model_file.parent.mkdir()
    run.best_model_file.write_bytes(content)
    refused(run.path, expected, "expected a Keras model", model=True)


def test_a_zip_without_config_json(run: RunDir) -> None:
    run.best_model_file.parent.mkdir()
    with zipfile.ZipFile(run.best_model_file, "w") as archive:
        archive.writestr("weights.h5", b"")
    refused(run.path, "zip archive without config.json (it holds weights.h5)", model=True)


def test_a_well_formed_model_file_passes_without_tensorflow(run: RunDir) -> None:
    run.best_model_file.parent.mkdir()
    with zipfile.ZipFile(run.best_model_file, "w") as archive:
        archive.writestr("config.json", "{}")
    assert open_finished_run(run.path).path == run.path


def test_run_config_reads_the_data_where_the_search_found_it(run: RunDir, tmp_path: Path) -> None:
    data = tmp_path / "elsewhere" / "houses.csv"
    data.parent.mkdir()
    data.write_text("size,price\n1,2\n", encoding="utf-8")
    resolved = yaml.safe_load(run.resolved_file.read_text(encoding="utf-8"))
    resolved["data"] = {"source": "csv", "path": "houses.csv", "target": "price"}
    run.resolved_file.write_text(yaml.safe_dump(resolved), encoding="utf-8")
    manifest = json.loads(run.manifest_file.read_text(encoding="utf-8"))
    manifest["data"]["files"] = {"path": str(data)}
    run.manifest_file.write_text(json.dumps(manifest), encoding="utf-8")
    config = run_config(run)
    assert config.data.path == str(data) and config.name == "worked-example"
    data.unlink()  # moved since: the recorded relative path stays
    assert run_config(run).data.path == "houses.csv"


def test_run_config_of_a_resolved_yaml_that_is_not_a_config(run: RunDir) -> None:
    run.resolved_file.write_text("search: {}\n", encoding="utf-8")
    with pytest.raises(RunDirError, match="is not a tunenet resolved config"):
        run_config(run)


def test_opening_a_run_loads_no_tensorflow() -> None:
    code = (
        "import sys, tunenet.runs.best, tunenet.studies.evaluate, tunenet.studies.activations\n"
        "print([m for m in ('tensorflow', 'keras') if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
