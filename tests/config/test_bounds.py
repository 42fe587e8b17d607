"""Every count and size has an upper bound: at the bound a config is accepted, above it refused
with a message naming the dotted key and the value; the JSON Schema shows each bound."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
import yaml

from tunenet.config import space
from tunenet.config.load import MAX_YAML_DEPTH, MAX_YAML_NODES, validate_dict
from tunenet.config.schema import config_schema, section_of
from tunenet.config.sections import MAX_CHOICES, MAX_MODEL_PARAMS, MAX_RANGE_VALUES
from tunenet.errors import ConfigError

# A base in which any single key may sit at its bound: the model-size limit at its own ceiling,
# so that a bound on units is tested, not the model-size check (tests/models/test_size.py).
BASE = {"data": {"source": "digits"}, "search": {"max_model_params": MAX_MODEL_PARAMS}}
# The keys a bound must exist on (the list below is read from the schema; this is its floor).
EXPECTED = {
    "seed", "data.image_size", "data.limit", "data.features", "data.missing_values",
    "model.layers", "model.units", "model.filters", "model.filters_growth", "model.kernel_size",
    "model.strides", "model.dense_units", "optimizer.decay_epochs", "training.epochs",
    "training.batch_size", "training.early_stopping.patience", "search.max_trials",
    "search.executions_per_trial", "search.max_epochs", "search.factor",
    "search.max_consecutive_failed_trials", "search.patience", "search.pruning_warmup",
    "search.pruning_min_trials", "search.max_model_params",
}  # fmt: skip


def _scalar(node: dict) -> dict:
    """The plain-value form of a key's schema: a tunable's scalar, an optional's non-null."""
    options = node.get("anyOf") or [node]
    return next(option for option in options if option.get("type") != "null")


def bounded_keys() -> dict[str, dict]:
    """Every key whose schema has a maximum (or maxItems), by dotted path -> its scalar form."""
    schema = config_schema()
    definitions = schema["$defs"]
    found: dict[str, dict] = {}

    def walk(section: dict, prefix: str) -> None:
        for key, node in section.get("properties", {}).items():
            path = f"{prefix}{key}"
            inner = section_of(node, definitions)
            if inner:
                walk(inner[1], f"{path}.")
                continue
            scalar = _scalar(node)
            items = scalar.get("prefixItems") or [scalar]
            if any("maximum" in item for item in items) or "maxItems" in scalar:
                found[path] = scalar

    walk(schema, "")
    return found


BOUNDED = bounded_keys()


def with_key(dotted: str, value: object) -> dict:
    raw = json.loads(json.dumps(BASE))
    *sections, key = dotted.split(".")
    part = raw
    for section in sections:
        part = part.setdefault(section, {})
    part[key] = value
    return raw


def at_and_above(scalar: dict) -> tuple[object, object]:
    """A value at the key's bound and one just above it."""
    if "prefixItems" in scalar:
        bound = scalar["prefixItems"][0]["maximum"]
        return [bound, bound], [bound + 1, bound]
    if "maxItems" in scalar:
        count = scalar["maxItems"]
        if scalar.get("items", {}).get("type") == "object":  # search.enqueue: configurations
            # BASE tunes nothing: a key at its fixed value fits (distinct dicts: no YAML alias)
            return [{"model.activation": "relu"} for _ in range(count)], [
                {"model.activation": "relu"} for _ in range(count + 1)
            ]
        return [f"c{index}" for index in range(count)], [f"c{i}" for i in range(count + 1)]
    bound = scalar["maximum"]
    return bound, (bound + 1 if scalar["type"] == "integer" else bound * 1.5)


def test_every_count_and_size_has_a_bound_in_the_schema():
    assert EXPECTED <= set(BOUNDED), sorted(EXPECTED - set(BOUNDED))


@pytest.mark.parametrize("dotted", sorted(BOUNDED))
def test_bound_accepted_and_above_refused(cli, write_config, dotted):
    at, above = at_and_above(BOUNDED[dotted])
    if dotted.startswith("data.") and isinstance(at, list) and isinstance(at[0], str):
        # csv-only lists: a csv source whose file the size check cannot read yet
        base = {"source": "csv", "path": "absent.csv", "target": "y"}
        accepted = with_key(dotted, at)
        accepted["data"] = {**base, **accepted["data"], "source": "csv"}
        validate_dict(accepted)
        refused = with_key(dotted, above)
        refused["data"] = {**base, **refused["data"], "source": "csv"}
    else:
        validate_dict(with_key(dotted, at))
        refused = with_key(dotted, above)
    result = cli("validate", write_config(yaml.safe_dump(refused)))
    assert result.exit_code == 2, result.output
    message = result.stderr
    assert dotted in message, message
    shown = above[0] if isinstance(above, list) and not isinstance(above[0], str) else above
    if not isinstance(shown, list):
        assert str(shown) in message, message
    assert "Traceback" not in message


def test_json_schema_shows_the_maxima(cli):
    result = cli("schema")
    schema = json.loads(result.stdout)
    model = schema["$defs"]["ModelConfig"]["properties"]
    assert model["layers"]["anyOf"][0]["maximum"] == 100
    assert model["units"]["anyOf"][0]["maximum"] == 65_536
    choice = model["units"]["anyOf"][1]
    assert choice["items"]["maximum"] == 65_536 and choice["maxItems"] == MAX_CHOICES
    assert model["units"]["anyOf"][3]["properties"]["max"]["maximum"] == 65_536
    training = schema["$defs"]["TrainingConfig"]["properties"]
    assert training["batch_size"]["anyOf"][0]["maximum"] == 2**20
    data = schema["$defs"]["DataConfig"]["properties"]
    assert data["image_size"]["prefixItems"][0]["maximum"] == 8192
    search = schema["$defs"]["SearchConfig"]["properties"]
    assert search["max_model_params"]["default"] == 50_000_000
    assert "max_model_params" in search and search["max_model_params"]["description"]


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "dotted",
    ["model.units", "model.layers", "optimizer.learning_rate", "training.epochs", "seed",
     "search.max_trials", "data.split.validation", "regularization.dropout"],
)  # fmt: skip
def test_booleans_are_not_numbers(dotted):
    with pytest.raises(ConfigError) as error:
        validate_dict(with_key(dotted, True))
    assert f"{dotted}: got True" in str(error.value)
    assert "boolean" in str(error.value)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
@pytest.mark.parametrize(
    "dotted",
    ["optimizer.learning_rate", "regularization.l2", "optimizer.clipnorm",
     "search.min_delta", "diagnosis.bias_threshold", "model.filters_growth"],
)  # fmt: skip
def test_floats_must_be_finite(dotted, value):
    with pytest.raises(ConfigError) as error:
        validate_dict(with_key(dotted, value))
    assert dotted in str(error.value) and "finite" in str(error.value)


def test_range_max_must_be_finite():
    raw = with_key("optimizer.learning_rate", {"min": 1.0e-4, "max": math.inf})
    with pytest.raises(ConfigError, match=r"optimizer\.learning_rate\.max: got inf"):
        validate_dict(raw)


@pytest.mark.parametrize(
    "dotted, value, shown",
    [
        ("regularization.dropout", {"min": 0.0, "max": 0.5, "step": 1e-15}, "5.0e+14 values"),
        ("optimizer.learning_rate",
         {"min": 1.0e-4, "max": 1.0, "sampling": "log", "step": 1.000000001},
         "9,210,339,615 values"),
        ("regularization.dropout", {"min": 0.0, "max": 0.5, "step": 1e-320}, "about 1e+319"),
        ("optimizer.learning_rate",
         {"min": 1e-300, "max": 1e300, "sampling": "log", "step": 1.0000000000000002},
         "6.2e+18 values"),
    ],
)  # fmt: skip
def test_a_range_lists_a_bounded_number_of_values_counted_not_listed(dotted, value, shown):
    start = time.perf_counter()
    with pytest.raises(ConfigError) as error:
        validate_dict(with_key(dotted, value))
    assert time.perf_counter() - start < 5  # enumerating would take hours
    assert dotted in str(error.value) and shown in str(error.value)
    assert f"at most {MAX_RANGE_VALUES:,}" in str(error.value)


# ---------------------------------------------------------------- names and monitor


@pytest.mark.parametrize(
    "name, problem", [("   ", "is blank"), (" run", "starts or ends with a space")]
)
def test_blank_names_are_refused(name, problem):
    with pytest.raises(ConfigError) as error:
        validate_dict({**BASE, "name": name})
    assert f"name: got {name!r}: {problem}" in str(error.value)


def test_a_name_with_inner_spaces_is_fine():
    assert validate_dict({**BASE, "name": "my run"}).name == "my run"


@pytest.mark.parametrize(
    "data, monitor",
    [
        ({"source": "digits"}, "val_<b>x</b>"),
        ({"source": "digits"}, "val_mae"),  # a classification model logs no mae
        ({"source": "diabetes"}, "val_accuracy"),
        ({"source": "csv", "path": "a.csv", "target": "y"}, "val_acc"),
    ],
)
def test_monitor_must_be_a_logged_metric(cli, write_config, data, monitor):
    raw = {"data": data, "training": {"early_stopping": {"monitor": monitor}}}
    result = cli("validate", write_config(yaml.safe_dump(raw)))
    assert result.exit_code == 2
    assert f"training.early_stopping.monitor: got {monitor!r}" in result.stderr
    assert "val_loss" in result.stderr  # what to choose instead


@pytest.mark.parametrize(
    "data, monitor",
    [({"source": "digits"}, "val_accuracy"), ({"source": "diabetes"}, "val_mae"),
     ({"source": "csv", "path": "a.csv", "target": "y"}, "val_mse"),
     ({"source": "csv", "path": "a.csv", "target": "y", "task": "binary"}, "accuracy")],
)  # fmt: skip
def test_monitor_accepts_every_logged_metric(data, monitor):
    validate_dict({"data": data, "training": {"early_stopping": {"monitor": monitor}}})


@pytest.mark.slow  # imports Keras
def test_logged_metrics_are_the_keys_the_trial_logs():
    pytest.importorskip("keras")
    from types import SimpleNamespace

    from tunenet.config.objective import logged_metrics
    from tunenet.models.build import metric_names

    # the optional metrics (auc, pr_auc) are logged when the objective or early stopping
    # watches them: a config watching both logs every key the objective may name
    watching = validate_dict(
        {
            "data": {"source": "iris"},
            "search": {"objective": "val_auc"},
            "training": {"early_stopping": {"monitor": "val_pr_auc"}},
        }
    )
    for task in ("binary", "multiclass", "regression"):
        dataset = SimpleNamespace(task=task, classes=["a", "b", "c"])
        config = watching if task != "regression" else None
        assert logged_metrics(task) == metric_names(dataset, config)
        assert set(metric_names(dataset)) <= set(logged_metrics(task))


@pytest.mark.slow  # imports Keras
def test_the_search_checks_monitor_again_against_the_data_task():
    """A csv with task auto: any task's keys pass the config check; the search, once the data
    says classification, refuses val_mae before any file is written."""
    pytest.importorskip("keras")
    from types import SimpleNamespace

    from tunenet.tuning.trial import resolve_objective

    raw = {"data": {"source": "csv", "path": "a.csv", "target": "y"},
           "training": {"early_stopping": {"monitor": "val_mae"}}}  # fmt: skip
    cfg = validate_dict(raw)
    with pytest.raises(ConfigError, match=r"training\.early_stopping\.monitor: got 'val_mae'"):
        resolve_objective(cfg, SimpleNamespace(task="binary", classes=["a", "b"]))
    assert resolve_objective(cfg, SimpleNamespace(task="regression", classes=[])).name == "val_loss"


# ---------------------------------------------------------------- sizes of the space


def test_the_largest_space_is_counted_at_once():
    raw = {
        **BASE,
        "model": {"layers": {"min": 0, "max": 100}, "units": {"min": 1, "max": 4_096}},
        "optimizer": {"decay_epochs": {"min": 1, "max": 100_000}, "schedule": ["step", "cosine"]},
        "training": {"batch_size": {"min": 1, "max": 2**20}},
    }
    start = time.perf_counter()
    cfg = validate_dict(raw)
    hps = space.build_space(cfg)
    size = space.grid_size(hps)
    line = space.summary_line(cfg, hps)
    points = space.grid_points(hps)
    last = points[points.size - 1]
    assert time.perf_counter() - start < 5  # a hang guard: listing would never end
    assert size > 10**300 and "e+" in line
    assert last["model.layers"] == 100 and last["model.units.99"] == 4_096
    assert points[0]["model.layers"] == 0 and "model.units.0" not in points[0]


def test_hyperband_budget_is_computed_not_walked():
    cfg = validate_dict(
        {**BASE, "search": {"strategy": "hyperband", "max_epochs": 100_000, "max_trials": 100_000}}
    )
    start = time.perf_counter()
    trials, epochs = space.trial_budget(cfg, space.build_space(cfg))
    assert time.perf_counter() - start < 5  # enumerating would take hours
    assert 0 < trials <= 100_000 and epochs > trials


# ---------------------------------------------------------------- the file itself


def test_dev_zero_is_refused_at_once_naming_the_file_and_the_limit(cli):
    start = time.perf_counter()
    result = cli("validate", "/dev/zero")
    assert time.perf_counter() - start < 5  # a hang guard: listing would never end
    assert result.exit_code == 2
    assert "/dev/zero" in result.stderr and "1 MiB" in result.stderr


def test_a_large_file_is_refused(cli, tmp_path: Path):
    path = tmp_path / "big.yaml"
    path.write_text("data: {source: digits}\n" + "# padding\n" * 120_000)
    result = cli("validate", path)
    assert result.exit_code == 2
    assert str(path) in result.stderr and "1 MiB" in result.stderr


def test_too_many_values_are_refused_while_parsing(cli, tmp_path: Path):
    path = tmp_path / "long.yaml"
    path.write_text(f"data: {{source: digits}}\nmodel: {{units: {[1] * 200_000}}}\n")
    start = time.perf_counter()
    result = cli("validate", path)
    assert time.perf_counter() - start < 10  # parsing stops at the limit
    assert result.exit_code == 2
    assert f"{path}:2:" in result.stderr and f"more than {MAX_YAML_NODES:,} values" in result.stderr


def test_nesting_is_bounded(cli, tmp_path: Path):
    path = tmp_path / "deep.yaml"
    path.write_text("data: " + "[" * (MAX_YAML_DEPTH + 5) + "]" * (MAX_YAML_DEPTH + 5) + "\n")
    result = cli("validate", path)
    assert result.exit_code == 2
    assert f"nested more than {MAX_YAML_DEPTH} levels" in result.stderr


def test_a_long_choice_is_refused_from_a_dict():
    with pytest.raises(ConfigError) as error:
        validate_dict(with_key("model.units", [1] * 200_000))
    assert "model.units" in str(error.value) and f"at most {MAX_CHOICES}" in str(error.value)
