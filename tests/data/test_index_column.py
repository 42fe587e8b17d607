"""An index-like first column of a CSV (docs/data.md) is left out with a warning naming it, unless
data.target or data.features names it; and the manifest's data.feature_scales."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from tunenet.config.load import validate_dict
from tunenet.data.dataset import Dataset, load_dataset

ROWS = 30


def write_table(path: Path, first: str, values: list) -> Path:
    lines = [f"{first},a,b,y"]
    lines += [f"{value},{(i * 7) % 11},{(i * 3) % 5},{i % 2}" for i, value in enumerate(values)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def features_of(path: Path, **data) -> list[str]:
    config = validate_dict({"data": {"source": "csv", "path": str(path), "target": "y", **data}})
    return load_dataset(config).feature_names


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("rownames", [f"r{i}" for i in range(ROWS)]),  # R's write.csv: text row names
        ("Unnamed: 0", list(range(ROWS))),
        ("ID", [17 * i + 5 for i in range(ROWS)]),  # named id, whatever it holds
        ("step", list(range(ROWS))),  # 0..n-1 in file order
        ("step", list(range(1, ROWS + 1))),  # 1..n
    ],
)
def test_an_index_column_is_left_out_with_a_warning_naming_it(tmp_path, caplog, name, values):
    path = write_table(tmp_path / "indexed.csv", name, values)
    with caplog.at_level(logging.WARNING, logger="tunenet"):
        assert features_of(path) == ["a", "b"]
    assert f"the first column {name!r} looks like a row index" in caplog.text
    assert "left out" in caplog.text and "data.features" in caplog.text


@pytest.mark.parametrize(
    "values",
    [list(range(ROWS))[::-1], [2 + i for i in range(ROWS)], [0.5 * i for i in range(ROWS)]],
)
def test_a_first_column_that_does_not_number_the_rows_is_a_feature(tmp_path, caplog, values):
    path = write_table(tmp_path / "plain.csv", "step", values)
    with caplog.at_level(logging.WARNING, logger="tunenet"):
        assert features_of(path) == ["step", "a", "b"]
    assert "row index" not in caplog.text


def test_an_index_column_listed_in_features_is_kept(tmp_path, caplog):
    path = write_table(tmp_path / "indexed.csv", "id", list(range(ROWS)))
    with caplog.at_level(logging.WARNING, logger="tunenet"):
        assert features_of(path, features=["id", "a"]) == ["id", "a"]
        assert features_of(path, features=["b"]) == ["b"]  # not used: nothing to warn about
    assert "row index" not in caplog.text


def test_validate_shows_the_warning(cli, write_config, tmp_path):
    path = write_table(tmp_path / "indexed.csv", "rownames", list(range(1, ROWS + 1)))
    config = write_config(f"data: {{source: csv, path: '{path}', target: y}}\n")
    result = cli("validate", config)
    assert result.exit_code == 0, result.stderr
    assert "warning:" in result.stderr
    assert "the first column 'rownames' looks like a row index" in result.stderr
    assert "2 features" in result.stdout


def table(columns: dict[str, np.ndarray]) -> Dataset:
    x = np.stack(list(columns.values()), axis=1).astype("float32")
    y = np.arange(len(x)) % 2
    return Dataset("csv", "binary", ["0", "1"], list(columns), x, y, x, y, x, y)


def test_feature_scales_name_the_widest_and_narrowest_feature():
    rng = np.random.default_rng(0)
    small, big = rng.normal(size=2000), 1000 * rng.normal(size=2000)
    constant = np.full(2000, 7.0)  # std 0: left out
    scales = table({"small": small, "constant": constant, "big": big}).summary()["feature_scales"]
    assert scales["largest"] == "big" and scales["smallest"] == "small"
    assert scales["ratio"] == pytest.approx(big.std() / small.std(), rel=1e-4)
    assert 900 < scales["ratio"] < 1100


def test_feature_scales_are_null_for_images_and_a_single_feature():
    images = np.zeros((4, 8, 8, 1), dtype="float32")
    y = np.array([0, 1, 0, 1])
    dataset = Dataset("npz", "binary", ["0", "1"], [], images, y, images, y, images, y)
    assert dataset.summary()["feature_scales"] is None
    assert table({"only": np.arange(10.0)}).summary()["feature_scales"] is None
