"""Config loading: YAML 1.2 scalars, the schema, and error messages that name path and value."""

from __future__ import annotations

import pytest

from tunenet.config.load import load_config
from tunenet.config.sections import Choice, Fixed, Range
from tunenet.errors import ConfigError


def load_error(write_config, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(text))
    return str(caught.value)


def test_scientific_notation_reads_as_float(write_config):
    config = load_config(
        write_config(
            """
            data: {source: digits}
            optimizer:
              learning_rate: 1e-3
              clipnorm: 1E+1
            regularization: {l2: [0, 1e-4]}
            """
        )
    )
    assert config.optimizer.learning_rate == Fixed(value=0.001)
    assert config.optimizer.clipnorm == Fixed(value=10.0)
    assert config.regularization.l2 == Choice(values=[0.0, 0.0001])
    assert all(isinstance(v, float) for v in config.regularization.l2.values)


def test_every_tunable_syntax(write_config):
    config = load_config(
        write_config(
            """
            data: {source: digits}
            model:
              layers: {min: 1, max: 3}
              units: {values: [16, 32]}
              activation: [relu, tanh]
            optimizer:
              learning_rate: {min: 1.0e-4, max: 1.0e-1, sampling: log}
            """
        )
    )
    assert config.model.layers == Range(min=1, max=3)
    assert isinstance(config.model.layers.min, int)
    assert config.model.units == Choice(values=[16, 32])
    assert config.optimizer.learning_rate.sampling == "log"
    assert config.name == "config"  # the file's stem


def test_yes_and_on_are_not_booleans_in_yaml_12(write_config):
    message = load_error(write_config, "data: {source: digits}\nmodel: {activation: on}\n")
    assert "model.activation" in message and "'on'" in message


def test_unknown_key_suggests_the_right_one(write_config):
    message = load_error(write_config, "data: {source: digits}\nmodel: {untis: 32}\n")
    assert "model.untis" in message
    assert "did you mean 'units'" in message
    assert "line 2" in message


def test_unknown_range_key_suggests_min(write_config):
    message = load_error(
        write_config, "data: {source: digits}\noptimizer:\n  learning_rate: {mn: 0.1, max: 1.0}\n"
    )
    assert "optimizer.learning_rate.mn" in message and "did you mean 'min'" in message


def test_all_errors_of_a_file_at_once(write_config):
    message = load_error(
        write_config,
        """
        data: {source: digitz}
        model:
          units: [32, "many"]
        regularization:
          dropout: 1.5
        training:
          epochs: -3
        """,
    )
    assert "4 problems" in message
    assert "data.source" in message and "'digitz'" in message
    assert "did you mean 'digits'" in message
    assert "model.units[1]" in message and "'many'" in message
    assert "regularization.dropout" in message and "1.5" in message
    assert "training.epochs" in message and "-3" in message


def test_range_bounds_are_checked(write_config):
    message = load_error(
        write_config, "data: {source: digits}\nmodel: {layers: {min: 3, max: 1}}\n"
    )
    assert "model.layers" in message and "min (3) must be smaller than max (1)" in message


def test_log_range_needs_positive_min(write_config):
    message = load_error(
        write_config,
        "data: {source: digits}\nregularization: {l2: {min: 0.0, max: 0.1, sampling: log}}\n",
    )
    assert "regularization.l2" in message and "min > 0" in message


def test_categorical_key_rejects_a_range(write_config):
    message = load_error(
        write_config, "data: {source: digits}\noptimizer: {name: {min: 1, max: 2}}\n"
    )
    assert "optimizer.name" in message and "list of values" in message


def test_missing_data_section(write_config):
    message = load_error(write_config, "model: {layers: 1}\n")
    assert "data" in message and "is required" in message


def test_yaml_syntax_error_names_the_line(write_config):
    message = load_error(write_config, "data:\n  source: digits\nmodel: [unclosed\n")
    assert "config.yaml:" in message and "YAML syntax error" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"", "is empty"), (b"\x00\x01\x02binary", "binary"), (b"- a\n- b\n", "expected a mapping")],
)
def test_unusable_files(tmp_path, content, expected):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=expected):
        load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.yaml")


def test_grid_needs_a_finite_space(write_config):
    message = load_error(
        write_config,
        """
        data: {source: wine}
        optimizer: {learning_rate: {min: 1.0e-4, max: 1.0e-1, sampling: log}}
        search: {strategy: grid}
        """,
    )
    assert "optimizer.learning_rate" in message and "grid" in message


def test_objective_must_be_a_validation_metric(write_config):
    message = load_error(write_config, "data: {source: wine}\nsearch: {objective: accuracy}\n")
    assert "search.objective" in message and "val_accuracy" in message


def test_split_must_leave_training_examples(write_config):
    message = load_error(
        write_config, "data: {source: wine, split: {validation: 0.5, test: 0.5}}\n"
    )
    assert "data.split" in message and "0.5" in message


def test_command_line_overrides(write_config):
    path = write_config("data: {source: wine}\ntraining: {epochs: 9}\nsearch: {max_trials: 7}\n")
    config = load_config(path, max_trials=2, epochs=3, seed=5)
    assert (config.search.max_trials, config.training.epochs, config.seed) == (2, 3, 5)


def test_early_stopping_switches(write_config):
    off = load_config(write_config("data: {source: wine}\ntraining: {early_stopping: false}\n"))
    assert off.training.early_stopping is False
    on = load_config(write_config("data: {source: wine}\ntraining: {early_stopping: true}\n"))
    assert on.training.early_stopping.patience == 5
    message = load_error(write_config, "data: {source: wine}\ntraining: {early_stopping: 3}\n")
    assert "training.early_stopping" in message and "3" in message
