"""The baselines in the report (docs/report.md) and `diagnosis.target_error: auto`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunenet.reporting.html import render_html
from tunenet.reporting.markdown import render_markdown
from tunenet.reporting.tables import render_json
from tunenet.reporting.terminal import render_text
from tunenet.runs import RunDir, write_baselines

from .helpers import build, copy_run

ROWS = [
    {"model": "majority", "train_error": 0.5, "val_error": 0.5, "test_error": 0.5, "seconds": 0},
    {"model": "logistic", "train_error": 0.1, "val_error": 0.252, "test_error": 0.3,
     "seconds": 0.01},
    {"model": "boosting", "train_error": 0.0, "val_error": 0.299, "test_error": 0.28,
     "seconds": 1.2},
]  # fmt: skip
LINE = "Baselines: your network {network} validation error; logistic 25.2%, boosting 29.9%, " + (
    "majority 50.0%."
)


def with_baselines(name: str, tmp_path: Path, **manifest) -> Path:
    run = copy_run(name, tmp_path)
    write_baselines(RunDir(run), ROWS)
    if manifest:
        RunDir(run).update_manifest(**manifest)
    return run


def test_auto_is_the_lowest_baseline_validation_error(tmp_path: Path) -> None:
    result = build(with_baselines("curves", tmp_path))  # resolved.yaml: no diagnosis section
    assert result.settings.target_error.value == pytest.approx(0.252)
    assert result.settings.target_error.source.startswith(
        "auto: logistic regression's validation error (baselines.csv), ± 6.0 pts on 200 examples"
    )


def test_auto_written_in_resolved_yaml(tmp_path: Path) -> None:
    run = with_baselines("curves", tmp_path)
    with open(run / "resolved.yaml", "a") as file:
        file.write("diagnosis: {target_error: auto}\n")
    assert build(run).settings.target_error.value == pytest.approx(0.252)


def test_auto_without_baselines_is_zero_and_says_so(tmp_path: Path) -> None:
    result = build(copy_run("curves", tmp_path))
    assert result.settings.target_error.value == 0.0
    assert result.settings.target_error.source == "auto, but no baselines.csv: 0"
    assert result.baselines == []


def test_the_option_and_a_number_in_the_run_win_over_auto(tmp_path: Path) -> None:
    option = build(with_baselines("curves", tmp_path), target_error=0.01).settings.target_error
    assert (option.value, option.source) == (0.01, "--target-error")
    worked = build(with_baselines("worked-example", tmp_path)).settings.target_error
    assert (worked.value, worked.source) == (0.13, "resolved.yaml")


def test_every_format_shows_the_network_beside_the_baselines(tmp_path: Path) -> None:
    fitted = {"fitted_rows": 20000, "train_rows": 48000, "notes": ["boosting: 12 of 100"]}
    note = {"baselines": {**fitted, "skipped": ["boosting: x"]}}
    result = build(with_baselines("worked-example", tmp_path, **note))
    line = LINE.format(network="13.0%")  # the best trial's validation error
    subsample = "Baselines fitted on 20,000 of 48,000 training rows"
    for text in (render_text([result]), render_markdown([result]), render_html([result])):
        assert line in text and subsample in text
    document = json.loads(render_json([result]))
    assert document["baselines"][1] == ROWS[1]
    assert document["baselines_note"] == (
        "fitted on 20,000 of 48,000 training rows (to take seconds); boosting: 12 of 100; "
        "left out: boosting: x"
    )


def test_a_run_without_baselines_has_no_line(tmp_path: Path) -> None:
    result = build(copy_run("worked-example", tmp_path))
    assert "Baselines" not in render_markdown([result])
    assert json.loads(render_json([result]))["baselines"] == []


def test_an_unreadable_baselines_file_is_a_warning(tmp_path: Path) -> None:
    run = copy_run("curves", tmp_path)
    RunDir(run).baselines_file.write_text("model\nlogistic\n")
    result = build(run)
    assert result.baselines == [] and "baselines.csv" in result.run.warnings[0]
    assert result.settings.target_error.value == 0.0


def test_the_auto_target_carries_its_own_noise(tmp_path):
    target = build(with_baselines("curves", tmp_path)).settings.target_error
    assert target.source.startswith("auto:") and "counted in bias" in target.source
    low, high = target.interval
    assert low <= target.value <= high and high - low > 0
