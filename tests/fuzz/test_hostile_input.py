"""Hostile input: random and mutated configs never crash `validate` and never write anything.

How many examples and whether they are the same on every run comes from the Hypothesis profile
(tests/conftest.py): fixed in CI, random with HYPOTHESIS_PROFILE=dev. The fuzz mark runs each
test under a memory limit."""

from __future__ import annotations

import os

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from tunenet.cli import app
from tunenet.config.sections import Config

pytestmark = pytest.mark.fuzz

KEYS = sorted(
    {name for section in Config.model_fields.values()
     for name in getattr(section.annotation, "model_fields", {})}
    | set(Config.model_fields) | {"min", "max", "sampling", "step", "values", "source"}
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["digits", "wine", "grid", "log", "relu", "adam", "1e-3", "on", "✓ ü 字"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner, max_size=4),
    ),
    max_leaves=25,
)
VALID = {
    "data": {"source": "digits", "split": {"validation": 0.2, "test": 0.2}},
    "model": {"layers": {"min": 1, "max": 3}, "units": [16, 32]},
    "regularization": {"l2": {"min": 1.0e-6, "max": 1.0e-2, "sampling": "log"}},
    "optimizer": {"name": ["sgd", "adam"], "learning_rate": 0.01},
    "training": {"epochs": 5, "early_stopping": {"patience": 2}},
    "search": {"strategy": "random", "max_trials": 3},
}


def check_validate(tmp_path, content: bytes) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(content)
    before = sorted(os.listdir(tmp_path))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code in (0, 2), (content, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert sorted(os.listdir(tmp_path)) == before


@given(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6))
def test_random_configs(tmp_path, raw):
    check_validate(tmp_path, yaml.safe_dump(raw, allow_unicode=True).encode())


@given(st.data())
def test_mutated_valid_config(tmp_path, data):
    config = yaml.safe_load(yaml.safe_dump(VALID))
    section = data.draw(st.sampled_from(sorted(config)))
    key = data.draw(st.sampled_from(sorted(config[section])))
    config[section][key] = data.draw(VALUES)
    check_validate(tmp_path, yaml.safe_dump(config, allow_unicode=True).encode())


@given(st.binary(max_size=200))
def test_binary_and_garbage(tmp_path, content):
    check_validate(tmp_path, content)


def test_deep_nesting_and_huge_documents(tmp_path):
    deep = "data: " + "[" * 5000 + "]" * 5000 + "\n"
    check_validate(tmp_path, deep.encode())
    anchors = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    check_validate(tmp_path, anchors.encode())  # a "billion laughs" of aliases


def test_yaml_tags_are_not_executed(tmp_path):
    check_validate(tmp_path, b"data: !!python/object/apply:os.system ['touch pwned']\n")
    assert not (tmp_path / "pwned").exists()


def test_the_memory_limit_holds():
    """The fuzz mark's limit is real: 2 GB more than the process holds is refused."""
    with pytest.raises(MemoryError):
        bytearray(2 << 30)
