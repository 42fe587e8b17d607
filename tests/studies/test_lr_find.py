"""`tunenet lr-find`: the learning-rate range test (docs/guide.md)."""

from __future__ import annotations

import csv
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from tunenet.config import load as loader
from tunenet.studies import lr_find, lr_range
from tunenet.studies.lr_range import Suggestion

COLUMNS = ["step", "learning_rate", "loss", "smoothed_loss"]
RANGE = re.compile(
    r"suggested optimizer\.learning_rate: \{min: ([^,]+), max: ([^,]+), sampling: log\}"
)


def suggested(stdout: str) -> tuple[float, float]:
    found = RANGE.search(stdout)
    assert found, stdout
    return float(found.group(1)), float(found.group(2))


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        assert reader.fieldnames == COLUMNS
        return list(reader)


# ---------------------------------------------------------------- the pure part


def test_learning_rates_grow_exponentially_from_min_to_max():
    rates = lr_range.learning_rates(1e-7, 10.0, 100)
    assert len(rates) == 100
    assert rates[0] == pytest.approx(1e-7) and rates[-1] == pytest.approx(10.0)
    ratios = rates[1:] / rates[:-1]
    assert np.allclose(ratios, ratios[0])


def test_smoothing_is_bias_corrected():
    smoother = lr_range.Smoother(0.98)
    assert smoother.add(2.0) == pytest.approx(2.0)  # not 0.04: the correction undoes the start
    assert smoother.add(2.0) == pytest.approx(2.0)
    assert smoother.add(5.0) == pytest.approx((0.98 * 0.0792 + 0.02 * 5) / (1 - 0.98**3))


def test_the_test_stops_when_the_smoothed_loss_blows_up_or_is_nan():
    assert lr_range.stop_reason(3.9, 1.0) is None
    assert "exceeded 4× its minimum" in lr_range.stop_reason(4.1, 1.0)
    assert "NaN" in lr_range.stop_reason(math.nan, 1.0)


def watched(losses: list[float]) -> tuple[list[float], str | None]:
    """Feed losses to the blow-up rule as the training loop does, until it stops."""
    watch, smoothed = lr_range.Watch(), []
    for loss in losses:
        value, reason = watch.add(loss)
        smoothed.append(value)
        if reason:
            return smoothed, reason
    return smoothed, None


def test_a_jump_the_moving_average_hides_is_a_blow_up():
    # flat at 0.5, then the batch loss jumps to 3.0 (6× the minimum): the smoothed loss reaches
    # only about 0.6 in two batches, under 4× its minimum; the batch losses are above the line
    losses = [0.5] * 40 + [3.0] * 5
    smoothed, reason = watched(losses)
    assert len(smoothed) == 42  # stopped at the second batch above the line
    assert smoothed[-1] < 4 * min(smoothed)  # the old rule (smoothed only) would go on
    assert reason == "stopped: the loss exceeded 4× its lowest level for 2 batches in a row"
    line = lr_range.blow_up_line(losses[:42])  # what the plot draws
    assert line[-1] == pytest.approx(2.0) and losses[41] > line[-1]


def test_one_batch_above_the_line_is_named_not_a_blow_up():
    losses = [0.5] * 40 + [3.0] + [0.5] * 9
    smoothed, reason = watched(losses)
    assert reason is None and len(smoothed) == 50
    assert lr_range.spikes(losses) == [40]
    rates = list(lr_range.learning_rates(1e-7, 10.0, 50))
    result = lr_find.LrFindResult(
        Path("d"), {"model.kind": "dense"}, rates, losses, smoothed, 50,
        lr_find.NOT_STOPPED, None, files=[Path("d/lr_find.csv")],
    )  # fmt: skip
    text = "\n".join(result.lines())
    assert "reached --max-lr without the loss blowing up" in text
    assert (
        f"single batches above the blow-up line (4× the lowest level so far) at lr {rates[40]:.3g}"
        in text
    )


def test_a_high_start_is_said_as_such():
    # unscaled inputs: the first batch's loss is 1.66e6, then it falls and stays near 1
    losses = [1.66e6, 2e4, 50.0] + [1.0] * 47
    smoothed, reason = watched(losses)
    assert reason is None  # falling from a high start is not a blow-up
    assert lr_range.high_start(losses) == 1.66e6
    rates = list(lr_range.learning_rates(1e-7, 10.0, 50))
    result = lr_find.LrFindResult(
        Path("d"), {"model.kind": "dense"}, rates, losses, smoothed, 50,
        lr_find.NOT_STOPPED, None, files=[Path("d/lr_find.csv")],
    )  # fmt: skip
    text = "\n".join(result.lines())
    assert (
        "the loss started high (1.66e+06 at the first step, above 4× the 1 of the next batches)"
        in text
    )
    assert "not a blow-up but a hard start (inputs not normalized? see data.normalize)" in text
    assert lr_range.high_start([1.0] * 10) is None
    # a range test that learns falls far below its start, later: not a hard start
    assert lr_range.high_start([2.7, 2.7, 2.8, 2.6, 2.7, 2.7] + [0.3] * 20) is None
    # the moving average stays high for tens of steps after such a start; the line does not:
    # a later jump to 100 (from a level of 1) is still a blow-up
    smoothed, reason = watched(losses + [100.0] * 3)
    assert smoothed[-1] < 4 * min(smoothed)  # the smoothed loss alone could not tell
    assert reason is not None and "2 batches in a row" in reason and len(smoothed) == 52


def test_the_printed_architecture_says_how_each_key_was_held():
    config = loader.load_mapping(
        {
            "data": {"source": "iris"},
            "model": {"layers": {"min": 1, "max": 3}, "units": [64, 32]},
            "regularization": {
                "l2": {"min": 1e-6, "max": 1e-2, "sampling": "log"},
                "dropout": {"min": 0.0, "max": 0.5},
            },
            "optimizer": {"name": ["sgd", "adam"]},
        }
    )
    values = lr_find.first_values(config)
    held = lr_find.held_rules(config, values)
    assert lr_find.held_lines(held) == [
        "  tuned keys held at an integer range's min (model.layers); a list's first value "
        "(model.units.0, optimizer.name); a log range's geometric midpoint (regularization.l2); "
        "a range's midpoint (regularization.dropout)"
    ]
    result = lr_find.LrFindResult(
        Path("d"), lr_find.architecture(config, values), [1e-7, 1e-6], [1.0, 1.0], [1.0, 1.0],
        2, lr_find.NOT_STOPPED, None, files=[Path("d/lr_find.csv")], held=held,
    )  # fmt: skip
    lines = result.lines()
    assert lines[0].startswith("architecture: model.kind=dense, model.layers=1, optimizer.name=sgd")
    assert "first value" not in lines[0]  # the old "(each tuned key at its first value)" is gone
    assert lines[1].startswith("  tuned keys held at")


def curve(rates: np.ndarray, seed: int = 0) -> list[float]:
    """A range test's shape: flat, a fall between 1e-4 and 1e-1, then a blow-up past 1."""
    logs = np.log10(rates)
    fall = 2.3 - 2.0 / (1 + np.exp(-(logs + 2.5) * 2.5))
    blow = np.where(logs > 0, 10 ** (2 * logs), 0)
    noise = np.random.default_rng(seed).normal(0, 0.05, len(rates))
    return list(fall + blow + noise)


def test_suggestion_spans_the_fall_and_stays_below_the_minimum():
    rates = lr_range.learning_rates(1e-7, 10.0, 100)
    losses = curve(rates)
    s = lr_range.suggest(list(rates), losses)
    assert s is not None
    assert 1e-4 <= s.low < s.high <= 1e-1  # where the loss falls, not in the flat part
    assert s.low <= 10**-2.5 <= s.high  # the fall is steepest at 10^-2.5
    assert s.high <= s.at_minimum / 10 * 1.01 or s.high == pytest.approx(s.steepest, rel=0.01)
    assert s.high / s.low >= 10 * 0.99  # at least a decade to search


def test_no_suggestion_when_the_loss_never_falls():
    rates = lr_range.learning_rates(1e-7, 1e-3, 60)
    flat = list(2.3 + np.random.default_rng(1).normal(0, 0.05, 60))
    assert lr_range.suggest(list(rates), flat) is None


def test_first_values_fix_each_tuned_key_as_a_user_expects():
    config = loader.load_mapping(
        {
            "data": {"source": "iris"},
            "model": {"layers": {"min": 1, "max": 3}, "units": [64, 32]},
            "regularization": {
                "l2": {"min": 1e-6, "max": 1e-2, "sampling": "log"},
                "dropout": {"min": 0.0, "max": 0.5},
            },
            "optimizer": {
                "name": ["sgd", "momentum"],
                "learning_rate": {"min": 1e-4, "max": 1e-1, "sampling": "log"},
                "schedule": ["cosine", "constant"],
            },
            "training": {"batch_size": [16, 64]},
        }
    )
    values = lr_find.first_values(config)
    assert values == {
        "model.layers": 1,  # an int range: its min
        "model.units.0": 64,  # a list: its first value; no units.1 for one layer
        "regularization.l2": 1e-4,  # a log range: its geometric midpoint
        "regularization.dropout": 0.25,  # a linear range: its midpoint
        "optimizer.name": "sgd",  # momentum is not used by sgd
        "training.batch_size": 16,
    }  # the learning rate and its schedule are the test's own


# ---------------------------------------------------------------- bad input: exit 2, nothing made


@pytest.mark.parametrize(
    "options, message",
    [
        (["--min-lr", "1", "--max-lr", "0.1"], "--min-lr 1 must be smaller than --max-lr 0.1"),
        (["--steps", "5"], "--steps 5: expected at least 10"),
        (["--min-lr", "-1e-3"], "--min-lr -0.001: expected a positive learning rate"),
        (["--max-lr", "0"], "--max-lr 0.0: expected a positive learning rate"),
    ],
)
def test_bad_options_exit_2_before_anything(cli, write_config, tmp_path, options, message):
    config = write_config("data: {source: iris}\n")
    result = cli("lr-find", config, "--runs-dir", tmp_path / "runs", *options)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


def test_a_bad_config_exits_2_like_search(cli, write_config, tmp_path):
    config = write_config("data: {source: iris}\nmodel: {unitz: 3}\n")
    result = cli("lr-find", config, "--runs-dir", tmp_path / "runs")
    assert result.exit_code == 2
    assert "model.unitz" in result.stderr and "did you mean" in result.stderr
    assert not (tmp_path / "runs").exists()


def test_a_directory_that_is_not_an_lr_find_one_is_never_replaced(cli, write_config, tmp_path):
    config = write_config("name: mine\ndata: {source: iris}\n")
    other = tmp_path / "runs" / "mine-lr-find"
    other.mkdir(parents=True)
    (other / "notes.txt").write_text("mine")
    result = cli("lr-find", config, "--runs-dir", tmp_path / "runs")
    assert result.exit_code == 2
    assert str(other) in result.stderr and "not an lr-find directory" in result.stderr
    assert (other / "notes.txt").read_text() == "mine"


def test_an_unwritable_runs_dir_exits_2_before_training(cli, write_config, tmp_path, monkeypatch):
    config = write_config("data: {source: iris}\n")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    real_access = os.access
    # as a user without write permission sees it (tests may run as root, who writes anywhere)
    monkeypatch.setattr(
        lr_find.os, "access", lambda path, mode: path != locked and real_access(path, mode)
    )
    result = cli("lr-find", config, "--runs-dir", locked / "runs")
    assert result.exit_code == 2
    assert "cannot write there" in result.stderr and "--runs-dir" in result.stderr
    assert not (locked / "runs").exists()


def test_out_never_overwrites_a_file_not_even_the_input(cli, write_config, tmp_path):
    config = write_config("data: {source: iris}\n")
    result = cli("lr-find", config, "--runs-dir", tmp_path / "runs", "--out", config)
    assert result.exit_code == 2
    assert "is the input config; tunenet never overwrites a config" in result.stderr
    assert config.read_text() == "data: {source: iris}\n"
    assert not (tmp_path / "runs").exists()


# ---------------------------------------------------------------- --out keeps the user's YAML

USER_CONFIG = """\
# my digits experiment
name: mine
data:
  source: digits   # built in
optimizer:
  name: adam       # keep adam
  learning_rate:
    min: 1.0e-5
    max: 1.0
  schedule: constant
training:
  epochs: 5
"""


@pytest.mark.parametrize(
    "text",
    [
        USER_CONFIG,
        USER_CONFIG.replace("  learning_rate:\n    min: 1.0e-5\n    max: 1.0\n", ""),
        "# no optimizer section\ndata: {source: digits}\n",
        "data: {source: digits}\noptimizer: {name: adam, learning_rate: 0.1}\n",
    ],
    ids=["replaced", "inserted", "appended", "flow-style"],
)
def test_out_sets_the_range_and_keeps_the_rest(cli, write_config, tmp_path, text):
    config = write_config(text)
    out = tmp_path / "tuned.yaml"
    lr_find.write_config(config, out, Suggestion(1e-5, 0.012, 0.001, 0.12))
    written = out.read_text()
    raw = loader.parse_yaml(written, str(out))
    original = loader.parse_yaml(text, str(config))
    assert raw["optimizer"]["learning_rate"] == {"min": 1e-5, "max": 0.012, "sampling": "log"}
    assert {k: v for k, v in raw.items() if k != "optimizer"} == {
        k: v for k, v in original.items() if k != "optimizer"
    }
    assert {k: v for k, v in raw["optimizer"].items() if k != "learning_rate"} == {
        k: v for k, v in (original.get("optimizer") or {}).items() if k != "learning_rate"
    }
    if "keep adam" in text:  # block layout: the user's comments stay
        assert "# my digits experiment" in written and "# keep adam" in written
    # 1.0e-05, not 1e-05, which a YAML 1.1 reader (PyYAML's safe_load) takes for a string
    assert yaml.safe_load(written)["optimizer"]["learning_rate"]["min"] == 1e-5
    result = cli("validate", out)
    assert result.exit_code == 0, result.stderr


# ---------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def digits_test(tmp_path_factory):
    """Adam on digits, 100 steps: the range known to work is about 1e-3 to 1e-2."""
    from typer.testing import CliRunner

    from tunenet.cli import app

    root = tmp_path_factory.mktemp("lrfind")
    config = root / "digits.yaml"
    config.write_text(
        "name: digits\ndata: {source: digits}\nmodel: {layers: [1, 2], units: [32, 64]}\n"
        "optimizer: {name: adam}\ntraining: {batch_size: 32}\n"
    )
    runs, out = root / "runs", root / "tuned.yaml"
    args = ["lr-find", str(config), "--runs-dir", str(runs), "--out", str(out)]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    return root, runs / "digits-lr-find", out, result


@pytest.mark.e2e
def test_adam_on_digits_suggests_the_range_known_to_work(digits_test):
    _, directory, _, result = digits_test
    assert result.exit_code == 0, result.stderr
    low, high = suggested(result.stdout)
    assert low < 1e-2 and high > 1e-3  # overlaps [1e-3, 1e-2]
    assert 1e-5 <= low < high <= 1
    assert "architecture: model.kind=dense, model.layers=1, optimizer.name=adam" in result.stdout
    assert "training.batch_size=32, model.units.0=32" in result.stdout


@pytest.mark.e2e
def test_files_of_the_range_test(digits_test):
    _, directory, _, result = digits_test
    rows = read_rows(directory / "lr_find.csv")
    assert 10 <= len(rows) <= 100
    assert [int(row["step"]) for row in rows] == list(range(1, len(rows) + 1))
    rates = [float(row["learning_rate"]) for row in rows]
    assert rates[0] == pytest.approx(1e-7) and all(b > a for a, b in zip(rates, rates[1:]))
    smoothed = [float(row["smoothed_loss"]) for row in rows]
    if len(rows) < 100:  # it stopped: the loss blew up by the rule the plot draws
        losses = [float(row["loss"]) for row in rows]
        line = lr_range.blow_up_line(losses)
        smoothed_rule = smoothed[-1] > 4 * min(smoothed[:-1])
        assert smoothed_rule or all(losses[i] > line[i] for i in (-2, -1))
        assert "stopped" in result.stdout
    assert (directory / "lr_find.png").stat().st_size > 10_000
    assert sorted(p.name for p in directory.iterdir()) == ["lr_find.csv", "lr_find.png"]


@pytest.mark.e2e
def test_out_config_validates_and_carries_the_printed_range(digits_test, cli):
    _, _, out, result = digits_test
    low, high = suggested(result.stdout)
    raw = loader.parse_yaml(out.read_text(), str(out))
    assert raw["optimizer"] == {
        "name": "adam",
        "learning_rate": {"min": low, "max": high, "sampling": "log"},
    }
    assert cli("validate", out).exit_code == 0


@pytest.mark.e2e
def test_a_rerun_replaces_its_own_directory(digits_test, cli):
    root, directory, _, _ = digits_test
    before = read_rows(directory / "lr_find.csv")
    result = cli(
        "lr-find", root / "digits.yaml", "--runs-dir", root / "runs", "--steps", "12",
        "--min-lr", "1e-4", "--max-lr", "1",
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.stderr
    rows = read_rows(directory / "lr_find.csv")
    assert len(rows) <= 12 < len(before) and float(rows[0]["learning_rate"]) == pytest.approx(1e-4)
    assert sorted(p.name for p in (root / "runs").iterdir()) == ["digits-lr-find"]


def image_folder(root: Path, per_class: int = 12, size: int = 8) -> Path:
    """PNGs drawn from scikit-learn's digits 0 and 1: one sub-folder per class."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    for digit in (0, 1):
        folder = root / f"digit_{digit}"
        folder.mkdir(parents=True)
        for index, image in enumerate(digits.images[digits.target == digit][:per_class]):
            pixels = (image * 255 / 16).astype("uint8")
            Image.fromarray(pixels, mode="L").resize((size, size)).save(folder / f"{index}.png")
    return root


@pytest.mark.e2e
@pytest.mark.parametrize(
    "data, model, optimizer",
    [
        ("{source: iris}", "{layers: 1, units: 8}", "sgd"),
        ("{source: iris}", "{layers: 1, units: 8}", "momentum"),
        ("{source: wine}", "{layers: 1, units: 8}", "rmsprop"),
        ("{source: diabetes}", "{layers: 1, units: 8}", "adam"),
        ("{source: csv, path: table.csv, target: label}", "{layers: 1, units: 8}", "adam"),
        (
            "{source: images, path: images, image_size: [8, 8], color_mode: grayscale}",
            "{kind: cnn, layers: 1, filters: 4, dense_units: 8}",
            "adam",
        ),
    ],
    ids=["iris-sgd", "iris-momentum", "wine-rmsprop", "diabetes-adam", "csv-text", "images-cnn"],
)
def test_every_optimizer_and_data_source(
    cli, write_config, tmp_path, monkeypatch, data, model, optimizer
):
    from conftest import table_rows, write_csv

    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "table.csv", table_rows())
    image_folder(tmp_path / "images")
    config = write_config(
        f"name: t\ndata: {data}\nmodel: {model}\n"
        f"optimizer: {{name: {optimizer}, schedule: exponential}}\ntraining: {{batch_size: 16}}\n"
    )
    result = cli("lr-find", config, "--runs-dir", "runs", "--steps", "30", "--min-lr", "1e-5")
    assert result.exit_code in (0, 1), result.stderr  # 1: the loss never fell in 30 steps
    rows = read_rows(tmp_path / "runs" / "t-lr-find" / "lr_find.csv")
    assert 2 <= len(rows) <= 30
    assert f"optimizer.name={optimizer}" in result.stdout
    if result.exit_code == 0:
        low, high = suggested(result.stdout)
        assert 1e-5 <= low < high <= 10
    else:
        assert "no range suggested" in result.stdout
