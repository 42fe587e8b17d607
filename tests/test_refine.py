"""tunenet refine: narrowed configs from a hand-made run directory."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path
from typing import Callable

import pytest
import yaml

from conftest import tunenet_command
from tunenet import loader
from tunenet.config import Choice, Fixed, Range
from tunenet.refine import refine_run
from tunenet.runs import csv_line, resolved_dict
from tunenet.space import _param

CONFIG = {
    "name": "coarse",
    "data": {"source": "digits"},
    "model": {"layers": [1, 2, 3], "units": {"min": 16, "max": 256}},
    "regularization": {
        "l2": {"min": 1.0e-6, "max": 1.0e-2, "sampling": "log"},
        "dropout": [0.0, 0.2, 0.5],
    },
    "optimizer": {
        "name": ["sgd", "momentum", "adam"],
        "learning_rate": {"min": 1.0e-4, "max": 1.0e-1, "sampling": "log"},
        "momentum": {"min": 0.5, "max": 0.99},
    },
    "training": {"epochs": 20, "batch_size": {"min": 16, "max": 128, "step": 16}},
    "search": {"strategy": "random", "max_trials": 8, "objective": "val_accuracy"},
}
HP = [
    "model.layers", "model.units.0", "model.units.1", "model.units.2", "regularization.l2",
    "regularization.dropout", "optimizer.name", "optimizer.learning_rate", "optimizer.momentum",
    "training.batch_size",
]  # fmt: skip
# trial_id, status, hp values (in HP order; "" = inactive), objective
TRIALS = [
    ("0000", "completed", [1, 16, "", "", 1e-2, 0.5, "sgd", 1e-4, "", 128], 0.50),
    ("0001", "failed", [3, 256, 256, 256, 1e-6, 0.0, "adam", 1e-4, "", 16], None),
    ("0002", "completed", [2, 96, 64, "", 3e-4, 0.2, "adam", 1e-3, "", 48], 0.96),
    ("0003", "diverged", [1, 32, "", "", 1e-6, 0.0, "momentum", 0.1, 0.5, 16], None),
    ("0004", "completed", [1, 256, "", "", 1e-3, 0.0, "sgd", 0.05, "", 112], 0.80),
    ("0005", "completed", [2, 64, 128, "", 1e-4, 0.2, "adam", 3e-3, "", 32], 0.97),
    ("0006", "completed", [3, 16, 16, 16, 1e-2, 0.5, "sgd", 1e-4, "", 128], 0.90),
    ("0007", "completed", [3, 128, 64, 32, 1e-5, 0.0, "momentum", 1e-2, 0.9, 64], 0.95),
]


def make_run(directory: Path, objective: str = "val_accuracy", direction: str = "max") -> Path:
    """A run directory as `tunenet search` leaves it (only the files refine reads)."""
    run = directory / "coarse"
    run.mkdir(parents=True)
    config = loader.validate_dict(CONFIG)
    (run / "resolved.yaml").write_text(yaml.safe_dump(resolved_dict(config), sort_keys=False))
    manifest = {"format_version": 1, "objective": {"name": objective, "direction": direction}}
    (run / "manifest.json").write_text(json.dumps(manifest))
    columns = ["trial_id", "status", *(f"hp.{name}" for name in HP), "val_accuracy", "objective"]
    lines = [csv_line(columns)]
    for trial_id, status, values, score in TRIALS:
        lines.append(csv_line([trial_id, status, *values, score, score]))
    (run / "trials.csv").write_text("".join(lines))
    return run


def width(param: Range) -> float:
    span = math.log if param.sampling == "log" else float
    return span(param.max) - span(param.min)


def test_refined_config_validates_and_is_narrower(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    refinement = refine_run(run, top=3, today="2025-01-02")
    out = tmp_path / "fine.yaml"
    out.write_text(refinement.text)
    before, after = loader.validate_dict(CONFIG), loader.load_config(out)
    assert after.name == "fine"  # the run is named after the new file, not the old run
    assert [row["trial_id"] for row in refinement.top] == ["0005", "0002", "0007"]
    for key in [name for name in HP if not name[-1].isdigit()] + ["model.units"]:
        old, new = _param(before, key), _param(after, key)
        if isinstance(old, Choice):
            values = new.values if isinstance(new, Choice) else [new.value]
            assert set(values) < set(old.values), key
        else:
            assert isinstance(new, Range) and old.min <= new.min < new.max <= old.max, key
            assert width(new) < width(old), key
            assert new.sampling == old.sampling and new.step == old.step, key
            assert type(new.min) is type(old.min), key  # int ranges stay int
    assert after.model.layers.values == [2, 3]
    assert after.optimizer.name.values == ["momentum", "adam"]  # the original order
    assert after.regularization.dropout.values == [0.0, 0.2]
    assert (after.model.units.min, after.model.units.max) == (20, 140)
    assert (after.training.batch_size.min, after.training.batch_size.max) == (16, 80)
    lr = after.optimizer.learning_rate
    assert lr.min <= 1e-3 and lr.max >= 1e-2  # every top-K value stays inside
    assert after.data == before.data and after.search == before.search  # fixed keys kept
    assert after.training.epochs == 20


def test_header_says_where_it_came_from(tmp_path: Path) -> None:
    text = refine_run(make_run(tmp_path), top=3, today="2025-01-02").text
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert "2025-01-02" in header[0] and str(tmp_path / "coarse") in header[0]
    assert "top 3 of 6 completed" in header[1] and "val_accuracy (max" in header[1]
    assert "0005, 0002, 0007" in header[2]  # trial ids keep their zeros
    assert any("optimizer.name: [sgd, momentum, adam] -> [momentum, adam]" in h for h in header)
    assert not text.splitlines()[len(header)].startswith("name:")


def test_top_one_fixes_choices_and_keeps_ranges_open(tmp_path: Path) -> None:
    config = loader.validate_dict(yaml.load(refine_run(make_run(tmp_path), top=1).text,
                                            Loader=loader.Yaml12Loader))  # fmt: skip
    assert config.optimizer.name == Fixed(value="adam")
    assert config.model.layers == Fixed(value=2)
    units = config.model.units
    assert isinstance(units, Range) and units.min <= 64 and units.max >= 128
    l2 = config.regularization.l2
    assert isinstance(l2, Range) and l2.min < 1e-4 < l2.max  # one value: widened, not a point
    assert config.optimizer.momentum == Range(min=0.5, max=0.99)  # unused by the top trial


def test_direction_min_from_the_manifest(tmp_path: Path) -> None:
    refinement = refine_run(make_run(tmp_path, "val_loss", "min"), top=1)
    assert refinement.top[0]["trial_id"] == "0000"
    assert refinement.config.optimizer.name == Fixed(value="sgd")


def test_cli_writes_once_and_prints(tmp_path: Path, cli: Callable) -> None:
    run = make_run(tmp_path)
    out = tmp_path / "fine.yaml"
    result = cli("refine", run, "--top", 3, "--out", out)
    assert result.exit_code == 0, result.output
    assert loader.load_config(out).model.layers.values == [2, 3]
    again = cli("refine", run, "--out", out)
    assert again.exit_code == 2 and "already exists" in again.output
    printed = cli("refine", run, "--top", 3)
    assert printed.exit_code == 0 and printed.stdout.startswith("# Refined by `tunenet refine`")
    assert "layers: [2, 3]" in printed.stdout


@pytest.mark.parametrize("case", ["missing", "no_resolved", "no_completed"])
def test_bad_run_directories_exit_2(tmp_path: Path, cli: Callable, case: str) -> None:
    run = tmp_path / "coarse"
    if case != "missing":
        run = make_run(tmp_path)
    if case == "no_resolved":
        (run / "resolved.yaml").unlink()
    if case == "no_completed":
        text = (run / "trials.csv").read_text().replace(",completed,", ",failed,")
        (run / "trials.csv").write_text(text)
    result = cli("refine", run)
    assert result.exit_code == 2
    expected = {"missing": "no such run", "no_resolved": "resolved.yaml",
                "no_completed": "no completed trial"}[case]  # fmt: skip
    assert expected in result.output and "Traceback" not in result.output


def test_refine_without_tensorflow(tmp_path: Path, no_tensorflow_env: dict) -> None:
    run = make_run(tmp_path)
    result = subprocess.run(
        tunenet_command("refine", run, "--top", "3"),
        env=no_tensorflow_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Refined by" in result.stdout
