"""tunenet schema: valid JSON Schema in the user's syntax, accepting every example config."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Callable

import pytest

from conftest import REPO, tunenet_command
from tunenet.config import load as loader
from tunenet.config.schema import TUNABLE_KEYWORD, config_schema
from tunenet.errors import ConfigError
from tunenet.studies import init

jsonschema = pytest.importorskip("jsonschema")

EXAMPLES = sorted((REPO / "configs").glob("*.yaml"))


@pytest.fixture(scope="module")
def validator():
    schema = config_schema()
    jsonschema.Draft202012Validator.check_schema(schema)  # a valid JSON Schema itself
    return jsonschema.Draft202012Validator(schema)


def errors(validator, document: dict) -> list[str]:
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(document)]


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_accepts_every_example_config(validator, path: Path) -> None:
    assert errors(validator, loader.parse_yaml(path.read_text(), str(path))) == []


@pytest.mark.parametrize("name", init.template_names())
def test_accepts_every_template(validator, name: str) -> None:
    assert errors(validator, loader.parse_yaml(init.template_text(name), name)) == []


def test_accepts_every_form_of_a_tunable_key(validator) -> None:
    document = {
        "data": {"source": "digits"},
        "model": {"layers": 2, "units": [32, 64], "activation": {"values": ["relu", "tanh"]}},
        "regularization": {"l2": {"min": 1.0e-6, "max": 1.0e-2, "sampling": "log"}},
        "optimizer": {"learning_rate": {"min": 0.001, "max": 0.1, "step": 0.01}, "clipnorm": 1},
        "training": {"early_stopping": True, "batch_size": {"values": [16, 32]}},
        "search": {"objective": "val_loss"},
    }
    assert errors(validator, document) == []
    loader.validate_dict(document)  # and the models agree
    assert (
        errors(validator, {"data": {"source": "iris"}, "training": {"early_stopping": False}}) == []
    )
    objective = {"name": "val_auc", "direction": "max"}
    assert errors(validator, {"data": {"source": "iris"}, "search": {"objective": objective}}) == []


DIGITS = {"source": "digits"}


@pytest.mark.parametrize(
    "document, where",
    [
        ({"data": {"source": "digits", "sorce": 1}}, "$.data"),
        ({"data": {"source": "mnist"}}, "$.data.source"),
        ({"data": DIGITS, "model": {"units": {"min": 1, "mx": 3}}}, "$.model.units"),
        ({"data": DIGITS, "model": {"units": {"min": 1.5, "max": 3}}}, "$.model.units"),
        ({"data": DIGITS, "optimizer": {"name": ["adam", "adamx"]}}, "$.optimizer.name"),
        ({"data": DIGITS, "model": {"activation": {"min": 1, "max": 2}}}, "$.model.activation"),
        ({"data": DIGITS, "regularization": {"dropout": 1.5}}, "$.regularization.dropout"),
        ({"model": {"layers": 1}}, "$"),
    ],
)
def test_rejects_what_the_loader_rejects(validator, document: dict, where: str) -> None:
    found = errors(validator, document)
    assert found and any(error.startswith(f"{where}:") for error in found), found
    with pytest.raises(ConfigError):
        loader.validate_dict(document)


def test_every_key_is_described_and_tunables_are_marked() -> None:
    schema = config_schema()
    model = schema["$defs"]["ModelConfig"]["properties"]
    assert model["units"][TUNABLE_KEYWORD] == "range"
    assert model["activation"][TUNABLE_KEYWORD] == "choice"
    assert TUNABLE_KEYWORD not in model["kind"]
    assert "default" in model["units"] and model["units"]["default"] == 64
    for name, section in schema["$defs"].items():
        for key, node in section.get("properties", {}).items():
            assert node.get("description"), f"{name}.{key}: add it to schema.DESCRIPTIONS"
    assert not [
        name for name in schema["$defs"] if name.startswith(("Fixed_", "Choice_", "Range_"))
    ]


def test_cli_prints_the_schema_without_tensorflow(no_tensorflow_env: dict) -> None:
    result = subprocess.run(
        tunenet_command("schema"), env=no_tensorflow_env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == config_schema()


def test_cli_schema_in_process(cli: Callable) -> None:
    result = cli("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["$schema"].endswith("2020-12/schema")
