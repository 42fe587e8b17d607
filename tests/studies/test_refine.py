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
from tunenet.config import load as loader
from tunenet.config.sections import Choice, Fixed, Range
from tunenet.config.space import _param
from tunenet.runs import RunDir, csv_line, resolved_dict, write_baselines
from tunenet.studies.refine import refine_run

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


# ---------------------------------------------------------------- around the trials tied with the best


def add_columns(run: Path, values: dict[str, dict[str, object]]) -> None:
    """Add columns to trials.csv: `values[trial_id][column]` (empty where a trial has none)."""
    lines = (run / "trials.csv").read_text().splitlines()
    header = lines[0].split(",")
    columns = sorted({column for row in values.values() for column in row})
    rows = [csv_line(header + columns)]
    for line in lines[1:]:
        cells = line.split(",")
        extra = values.get(cells[0], {})
        rows.append(csv_line(cells + [extra.get(column, "") for column in columns]))
    (run / "trials.csv").write_text("".join(rows))


def errors(train: dict[str, float], val_n: int | None = None) -> dict[str, dict[str, object]]:
    """train_error as given, val_error = 1 - objective, and val_n when given."""
    values = {}
    for trial_id, _, _, score in TRIALS:
        if score is None:
            continue
        row: dict[str, object] = {"train_error": train.get(trial_id, 0.01), "val_error": 1 - score}
        if val_n is not None:
            row["val_n"] = val_n
        values[trial_id] = row
    return values


def with_majority(run: Path, train_error: float) -> None:
    write_baselines(RunDir(run), [{"model": "majority", "train_error": train_error,
                                   "val_error": train_error, "seconds": 0.01}])  # fmt: skip


def header(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if line.startswith("#"))


def test_chance_level_trials_in_the_top_k_are_left_out(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    add_columns(run, errors({"0000": 0.50, "0004": 0.51}))  # 0004 ranks 4th: at chance
    with_majority(run, 0.50)
    refinement = refine_run(run, top=5)
    assert [row["trial_id"] for row in refinement.top] == ["0005", "0002", "0007", "0006"]
    assert refinement.config.optimizer.learning_rate.max < 0.05  # 0004's 0.05 is not kept
    assert refinement.config.model.units.max < 256  # nor its 256 units
    text = header(refinement.text)
    assert "not learning" in text and "0004, 0000" in text and "majority" in text


def test_only_the_trials_tied_with_the_best_are_used(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    add_columns(run, errors({}, val_n=1000))  # 3% on 1000 rows: about 2.1% to 4.3%
    refinement = refine_run(run, top=5)
    assert [row["trial_id"] for row in refinement.top] == ["0005", "0002"]  # 0007 (5%) is not
    assert refinement.config.optimizer.name == Fixed(value="adam")
    assert refinement.config.model.layers == Fixed(value=2)
    assert "2 trials tied with the best" in header(refinement.text)


def test_the_validation_size_may_come_from_the_manifest(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    add_columns(run, errors({}))
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["data"] = {"task": "multiclass", "sizes": {"train": 3000, "validation": 1000}}
    (run / "manifest.json").write_text(json.dumps(manifest))
    assert [row["trial_id"] for row in refine_run(run, top=5).top] == ["0005", "0002"]


def test_only_the_best_tied_narrows_around_it_alone(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    add_columns(run, errors({}, val_n=5000))  # 3% on 5000 rows: 4% is clearly worse
    refinement = refine_run(run, top=5)
    assert [row["trial_id"] for row in refinement.top] == ["0005"]
    assert "only the best trial is tied with the best" in header(refinement.text).lower()
    assert "narrowed around it alone" in header(refinement.text)


def test_top_k_caps_the_tied_trials(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    add_columns(run, errors({}, val_n=100))  # 3% on 100 rows: up to about 8.5%
    refinement = refine_run(run, top=2)
    assert [row["trial_id"] for row in refinement.top] == ["0005", "0002"]
    assert "3 trials tied with the best" in header(refinement.text)
    assert "--top 2 keeps the best 2" in header(refinement.text)


def test_every_trial_at_chance_is_an_error(tmp_path: Path, cli: Callable) -> None:
    run = make_run(tmp_path)
    add_columns(run, errors({trial_id: 0.9 for trial_id, *_ in TRIALS}))
    with_majority(run, 0.9)
    result = cli("refine", run)
    assert result.exit_code == 2
    assert "not learning" in result.output and "optimizer.learning_rate" in result.output
