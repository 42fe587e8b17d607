"""`tunenet lr-find --out` writes a config that validates, whatever the search strategy."""

from __future__ import annotations

import math
import re

import pytest

from tunenet.config import load as loader
from tunenet.studies import lr_find
from tunenet.studies.lr_range import Suggestion, grid_rates

STRATEGIES = ["grid", "random", "bayesian", "hyperband", "capacity"]
SUGGESTION = Suggestion(low=0.0012, high=0.034, steepest=0.003, at_minimum=0.3)
NOTE = re.compile(r"grid needs a list: wrote (\d) log-spaced rates \[([^\]]+)\]")

# block style (edited line by line, comments kept) and flow style (the parsed config rewritten)
LAYOUTS = {
    "block": """\
        # tuned by hand
        name: iris
        data: {{source: iris}}
        model: {{layers: [1, 2], units: [8, 16]}}
        optimizer:
          name: adam  # keep
          learning_rate: 0.01
        search: {{strategy: {strategy}, max_trials: 30}}
        training: {{epochs: 2}}
        """,
    "flow": """\
        name: iris
        data: {{source: iris}}
        model: {{layers: [1, 2], units: [8, 16]}}
        optimizer: {{name: sgd, learning_rate: {{min: 1.0e-4, max: 0.1, sampling: log, step: 10}}}}
        search: {{strategy: {strategy}, max_trials: 30}}
        """,
}


def significant_digits(value: float) -> int:
    return len(f"{value:.15g}".split("e")[0].replace(".", "").strip("0"))


def assert_grid_rates(rates: list[float], low: float, high: float) -> None:
    assert 3 <= len(rates) <= 5
    assert rates[0] == low and rates[-1] == high
    assert all(low <= rate <= high for rate in rates)
    assert all(significant_digits(rate) <= 2 for rate in rates)
    steps = [math.log10(b / a) for a, b in zip(rates, rates[1:])]
    assert max(steps) - min(steps) < 0.05  # evenly spaced on a log scale, up to rounding


@pytest.mark.parametrize(
    "low, high, count",
    [(0.001, 0.01, 3), (0.0012, 0.034, 4), (1e-5, 0.012, 5), (1e-7, 10.0, 5)],
)
def test_grid_rates_are_log_spaced_inside_the_range(low, high, count):
    rates = grid_rates(Suggestion(low, high, 0.0, 0.0))
    assert len(rates) == count  # about two a decade, 3 to 5
    assert_grid_rates(rates, low, high)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_written_config_validates_for_every_strategy(
    cli, write_config, tmp_path, strategy, layout
):
    config = write_config(LAYOUTS[layout].format(strategy=strategy))
    out = tmp_path / "lr.yaml"
    note = lr_find.write_config(config, out, SUGGESTION)
    result = cli("validate", out)
    assert result.exit_code == 0, result.stderr
    written = loader.parse_yaml(out.read_text(), str(out))
    original = loader.parse_yaml(config.read_text(), str(config))
    rate = written["optimizer"].pop("learning_rate")
    original["optimizer"].pop("learning_rate")
    assert written == original  # every other key as the user wrote it
    if strategy == "grid":
        assert rate == [0.0012, 0.0037, 0.011, 0.034]
        assert_grid_rates(rate, SUGGESTION.low, SUGGESTION.high)
        assert note == (
            "search.strategy grid needs a list: wrote 4 log-spaced rates "
            f"[0.0012, 0.0037, 0.011, 0.034] from that range to {out}; the grid has "
            "24 point(s)"
        )
        assert "grid size: 24 point(s)" in result.stdout
    else:
        assert rate == {"min": 0.0012, "max": 0.034, "sampling": "log"}
        assert note is None
    if layout == "block":
        assert "# tuned by hand" in out.read_text() and "# keep" in out.read_text()


def test_a_grid_larger_than_max_trials_is_said(write_config, tmp_path):
    config = write_config(LAYOUTS["block"].format(strategy="grid").replace("30", "10"))
    note = lr_find.write_config(config, tmp_path / "lr.yaml", SUGGESTION)
    assert note.endswith(
        "the grid has 24 point(s), search.max_trials 10 runs 10 of them (raise it to run them all)"
    )


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_suggested_rate_and_the_hint_without_out_per_strategy(strategy):
    config = loader.load_mapping({"data": {"source": "iris"}, "search": {"strategy": strategy}})
    rate = lr_find.suggested_rate(config, Suggestion(0.001, 0.01, 0.002, 0.1))
    if strategy == "grid":
        assert rate.value == [0.001, 0.0032, 0.01] and rate.text == "[0.001, 0.0032, 0.01]"
        assert lr_find.grid_hint(config, Suggestion(0.001, 0.01, 0.002, 0.1)) == (
            "search.strategy grid needs a list: use 3 log-spaced rates [0.001, 0.0032, 0.01] "
            "from that range (--out writes them)"
        )
    else:
        assert rate.value == {"min": 0.001, "max": 0.01, "sampling": "log"}
        assert rate.text == "{min: 0.001, max: 0.01, sampling: log}" and not rate.grid
        assert lr_find.grid_hint(config, Suggestion(0.001, 0.01, 0.002, 0.1)) is None


@pytest.mark.e2e
def test_lr_find_on_a_grid_config_writes_rates_that_validate(cli, write_config, tmp_path):
    config = write_config(
        "name: g\ndata: {source: iris}\nmodel: {layers: 1, units: [8, 16]}\n"
        "search: {strategy: grid}\ntraining: {batch_size: 16}\n"
    )
    out = tmp_path / "lr.yaml"
    result = cli(
        "lr-find", config, "--runs-dir", tmp_path / "runs", "--steps", "40", "--min-lr", "1e-4",
        "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    found = NOTE.search(result.stdout)
    assert found, result.stdout
    rates = [float(rate) for rate in found.group(2).split(", ")]
    assert len(rates) == int(found.group(1))
    low, high = re.search(r"\{min: ([^,]+), max: ([^,]+), sampling: log\}", result.stdout).groups()
    assert_grid_rates(rates, float(low), float(high))
    assert loader.parse_yaml(out.read_text(), str(out))["optimizer"]["learning_rate"] == rates
    validated = cli("validate", out)
    assert validated.exit_code == 0, validated.stderr
    assert "strategy grid" in validated.stdout
