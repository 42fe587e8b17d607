"""`model.kind: custom` and `data.source: python` in a config (docs/custom-models.md): the keys,
the search space of the builder's knobs, what `validate` says and refuses without running the
user's file, and the file's content in the run's identity."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from tunenet.config.load import load_config, load_mapping
from tunenet.config.space import build_space, grid_size, value_of
from tunenet.config.user_code import import_function, parse_spec, source_hash, with_code
from tunenet.errors import ConfigError, RunDirError
from tunenet.runs.paths import RunDir
from tunenet.runs.resolved import fingerprint, manifest_code, resolved_dict
from tunenet.runs.resume import _check_same_code

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "custom"

CUSTOM = """
data: {source: digits}
model:
  kind: custom
  build: models/builder.py:build
  params:
    units: [32, 64]
    depth: {min: 1, max: 3}
    cell: [lstm, gru]
    rate: {min: 1.0e-3, max: 1.0e-1, sampling: log}
    dropout: {min: 0.0, max: 0.5, step: 0.25}
    bidirectional: false
regularization: {l2: [0.0, 1.0e-4]}
search: {strategy: random, max_trials: 4}
"""


@pytest.fixture
def project(tmp_path):
    """A config directory with the fixture builder and loader under models/ and data/."""
    (tmp_path / "models").mkdir()
    (tmp_path / "data").mkdir()
    shutil.copy(FIXTURES / "builder.py", tmp_path / "models" / "builder.py")
    shutil.copy(FIXTURES / "loader.py", tmp_path / "data" / "load.py")
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_custom_config_loads_with_absolute_paths(project):
    config = load_config(write(project / "config.yaml", CUSTOM))
    assert config.model.kind == "custom"
    assert config.model.build == f"{project}/models/builder.py:build"
    model = resolved_dict(config)["model"]
    assert list(model) == ["kind", "build", "params"]  # no dense or cnn key
    assert model["build"] == f"{project}/models/builder.py:build"
    assert model["params"]["units"] == [32, 64]
    assert model["params"]["bidirectional"] is False


def test_params_are_model_params_hyperparameters(project):
    config = load_config(write(project / "config.yaml", CUSTOM))
    space = {hp.name: hp for hp in build_space(config)}
    assert (
        list(space)
        == [
            "model.params.units",
            "model.params.depth",
            "model.params.cell",
            "model.params.rate",
            "model.params.dropout",
            "regularization.l2",
            "optimizer.name",  # absent: fixed
        ][:5]
        + ["regularization.l2"]
    )
    assert (space["model.params.units"].kind, space["model.params.units"].values) == (
        "choice",
        (32, 64),
    )
    assert (space["model.params.depth"].kind, space["model.params.depth"].max) == ("int", 3)
    assert space["model.params.cell"].values == ("lstm", "gru")
    assert (space["model.params.rate"].kind, space["model.params.rate"].sampling) == (
        "float",
        "log",
    )
    assert space["model.params.dropout"].grid_values() == [0.0, 0.25, 0.5]
    assert not any(hp.name.startswith(("model.layers", "model.units")) for hp in space.values())
    # 2 units x 3 depths x 2 cells x (continuous rate) -> no finite grid; without the rate:
    finite = [hp for hp in space.values() if hp.name != "model.params.rate"]
    assert grid_size(finite) == 2 * 3 * 2 * 3 * 2
    assert value_of(config, {"model.params.units": 64}, "model.params.units") == 64
    assert value_of(config, {}, "model.params.bidirectional") is False


def test_validate_says_what_it_runs_and_lists_the_knobs(project, cli):
    path = write(
        project / "config.yaml",
        CUSTOM.replace("rate: {min: 1.0e-3, max: 1.0e-1, sampling: log}", "rate: [0.01, 0.1]"),
    )
    result = cli("validate", path)
    assert result.exit_code == 0, result.output
    assert (
        f"model.build: runs build() from {project}/models/builder.py (not imported by validate)"
        in result.stdout
    )
    assert "model.params.units" in result.stdout and "model.params.cell" in result.stdout
    assert "grid size: 144 point(s)" in result.stdout
    assert "Largest model: unknown until built" in result.stdout


def test_a_python_loader_is_named_and_resolved(project, cli):
    path = write(
        project / "config.yaml",
        """
        data: {source: python, loader: data/load.py:load}
        model: {kind: custom, build: "models/builder.py:build", params: {units: [8, 16]}}
        """,
    )
    config = load_config(path)
    assert config.data.loader == f"{project}/data/load.py:load"
    result = cli("validate", path)
    assert result.exit_code == 0, result.output
    assert f"data.loader: runs load() from {project}/data/load.py" in result.stdout


def test_a_dict_config_resolves_paths_against_the_current_directory(project, monkeypatch):
    monkeypatch.chdir(project)
    raw = {
        "data": {"source": "digits"},
        "model": {"kind": "custom", "build": "models/builder.py:build"},
    }
    assert load_mapping(raw).model.build == f"{project}/models/builder.py:build"


def test_a_callable_builder_in_the_python_api():
    def build(params, data):
        return None

    raw = {"data": {"source": "digits"}, "model": {"kind": "custom", "build": build}}
    config = load_mapping(raw)
    assert config.model.build is build
    assert resolved_dict(config)["model"]["build"].startswith("<callable ")  # a local function


BAD_BUILDERS = {
    "missing file": ("models/absent.py:build", None, "no such file"),
    "syntax error": ("models/bad.py:build", "def build(params, data:\n", "Python syntax error on line 1"),
    "missing function": ("models/bad.py:make", "def build(params, data):\n    pass\n",
                         "defines no top-level function 'make' (it defines: build)"),
    "one parameter": ("models/bad.py:build", "def build(params):\n    pass\n",
                      "build(params) takes 1 required parameter; tunenet calls build(params, data)"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_BUILDERS))
def test_a_bad_builder_exits_2_naming_the_key_and_the_file(project, cli, case):
    spec, source, says = BAD_BUILDERS[case]
    if source is not None:
        write(project / "models" / "bad.py", source)
    path = write(project / "config.yaml", CUSTOM.replace("models/builder.py:build", spec))
    before = sorted(project.rglob("*"))
    result = cli("validate", path)
    assert result.exit_code == 2
    file = project / spec.rpartition(":")[0]
    assert f"model.build: {file}: " in result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert sorted(project.rglob("*")) == before  # nothing created


@pytest.mark.parametrize(
    "model, key, says",
    [
        ('{kind: custom, build: "models/builder.py"}', "model.build",
         "got 'models/builder.py': expected '<file.py>:<function>'"),
        ('{kind: custom, build: "models/builder.py:build", units: [32, 64]}', "model.units",
         "custom models take their knobs under model.params (e.g. model.params.units)"),
        ('{kind: custom, build: "models/builder.py:build", layers: 2}', "model.layers",
         "custom models take their knobs under model.params"),
        ('{kind: custom, build: "models/builder.py:build", kernel_size: 3}', "model.kernel_size",
         "a key of the dense and cnn families"),
        ("{kind: custom}", "model.build", "is required with model.kind custom"),
        ('{kind: dense, build: "models/builder.py:build"}', "model.build",
         "is only used with model.kind custom"),
        ('{kind: custom, build: "models/builder.py:build", params: {2x: 1}}', "model.params.2x",
         "a name is a Python identifier"),
        ('{kind: custom, build: "models/builder.py:build", params: {a: [1, x]}}', "model.params.a",
         "every value of a choice has one type"),
    ],
)  # fmt: skip
def test_a_bad_model_section_exits_2_naming_the_key(project, cli, model, key, says):
    path = write(project / "config.yaml", f"data: {{source: digits}}\nmodel: {model}\n")
    result = cli("validate", path)
    assert result.exit_code == 2
    assert f"line 2, {key}: " in result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_the_params_are_bounded(project):
    with pytest.raises(ConfigError) as caught:
        load_mapping(
            {"data": {"source": "digits"},
             "model": {"kind": "custom", "build": f"{project}/models/builder.py:build",
                       "params": {f"p{index}": 1 for index in range(101)}}}
        )  # fmt: skip
    assert "model.params: got" in str(caught.value) and "at most 100" in str(caught.value)


@pytest.mark.parametrize(
    "data, says",
    [
        ("{source: python}", "data.loader: is required with data.source python"),
        ("{source: digits, loader: data/load.py:load}", "data.loader: is only used with data.source python"),
        ("{source: python, loader: data/absent.py:load}", "data/absent.py: no such file"),
        ("{source: python, loader: data/bad.py:load}", "load(path) takes 1 required parameter"),
    ],
)  # fmt: skip
def test_a_bad_loader_exits_2_naming_the_key_and_the_file(project, cli, data, says):
    write(project / "data" / "bad.py", "def load(path):\n    pass\n")
    path = write(project / "config.yaml", f"data: {data}\n")
    result = cli("validate", path)
    assert result.exit_code == 2
    assert says in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_validate_never_imports_the_builder_or_the_loader(project, cli):
    marker = project / "imported.marker"
    side_effect = f"open({str(marker)!r}, 'w').write('imported')\nraise SystemExit(3)\n"
    write(project / "models" / "loud.py", side_effect + "def build(params, data):\n    pass\n")
    write(project / "data" / "loud.py", side_effect + "def load():\n    pass\n")
    path = write(
        project / "config.yaml",
        """
        data: {source: python, loader: data/loud.py:load}
        model: {kind: custom, build: "models/loud.py:build", params: {units: [8, 16]}}
        """,
    )
    result = cli("validate", path)
    assert result.exit_code == 0, result.output
    assert "runs build() from" in result.stdout and "runs load() from" in result.stdout
    assert not marker.exists()


def test_capacity_growth_is_refused_for_a_custom_model(project, cli):
    path = write(project / "config.yaml", CUSTOM.replace("strategy: random", "strategy: capacity"))
    result = cli("validate", path)
    assert result.exit_code == 2
    assert "search.strategy: got 'capacity'" in result.stderr


# ---------------------------------------------------------------- the run's identity


def test_the_fingerprint_follows_the_builder_file(project):
    path = write(project / "config.yaml", CUSTOM)
    before = fingerprint(load_config(path))
    assert fingerprint(load_config(path)) == before
    builder = project / "models" / "builder.py"
    builder.write_text(builder.read_text() + "\n# a change\n")
    assert fingerprint(load_config(path)) != before


def test_a_config_without_user_code_keeps_its_fingerprint(write_config):
    config = load_config(write_config("data: {source: digits}\nmodel: {units: [8, 16]}\n"))
    data = resolved_dict(config)
    assert "build" not in data["model"] and "params" not in data["model"]
    assert "loader" not in data["data"]
    assert manifest_code(config) == {}


def test_the_manifest_records_the_builder_and_the_loader(project):
    path = write(
        project / "config.yaml",
        """
        data: {source: python, loader: data/load.py:load}
        model: {kind: custom, build: "models/builder.py:build"}
        """,
    )
    recorded = manifest_code(load_config(path))
    builder = recorded["model"]["builder"]
    assert builder["spec"] == f"{project}/models/builder.py:build"
    assert len(builder["sha256"]) == 64
    assert builder["reads"] == ["regularization.l2", "regularization.dropout"]
    assert set(recorded["data"]["loader"]) == {"spec", "sha256"}


def test_resume_refuses_a_changed_builder_naming_the_file(project):
    path = write(project / "config.yaml", CUSTOM)
    run = RunDir(project / "runs" / "config")
    manifest = {
        "config_fingerprint": fingerprint(load_config(path)),
        **manifest_code(load_config(path)),
    }
    _check_same_code(run, load_config(path), manifest)  # unchanged: resumes
    builder = project / "models" / "builder.py"
    builder.write_text(builder.read_text() + "\n# a change\n")
    with pytest.raises(RunDirError) as caught:
        _check_same_code(run, load_config(path), manifest)
    message = str(caught.value)
    assert f"model.build's file {builder} changed since this run started" in message
    assert "--overwrite" in message


# ---------------------------------------------------------------- the Python API's functions


def test_a_builder_function_is_recorded_by_its_file(tmp_path):
    path = write(
        tmp_path / "mine.py", "def build(params, data):\n    return params['regularization.l2']\n"
    )
    function = import_function(parse_spec(f"{path}:build"))
    config = load_mapping(
        {"data": {"source": "digits"}, "model": {"kind": "custom", "build": function}}
    )
    builder = manifest_code(config)["model"]["builder"]
    assert builder["spec"] == f"{path}:build"  # imports the same function again
    assert builder["reads"] == ["regularization.l2"]
    assert builder["sha256"] == source_hash(parse_spec(f"{path}:build"))
    raw = {"data": {"source": "digits"}, "model": {"kind": "custom", "build": function}}
    assert with_code(raw, config, callables=False)["model"]["build"] == f"{path}:build"
    assert with_code(resolved_dict(config), config, callables=True)["model"]["build"] is function


@pytest.mark.e2e
@pytest.mark.slow
def test_resume_of_a_custom_run_exits_0_unchanged_and_2_after_the_builder_changed(
    project, cli, tmp_path
):
    shutil.copy(FIXTURES / "config.yaml", project / "config.yaml")
    shutil.copy(FIXTURES / "builder.py", project / "builder.py")
    shutil.copy(FIXTURES / "loader.py", project / "loader.py")
    path, runs = project / "config.yaml", tmp_path / "runs"
    args = ("search", path, "--runs-dir", runs, "--max-trials", "1", "--epochs", "1", "-q")
    assert cli(*args).exit_code == 0
    assert cli(*args, "--resume").exit_code == 0  # finished, builder unchanged
    builder = project / "builder.py"
    builder.write_text(builder.read_text() + "\n# a change\n")
    trials = (runs / "custom-fixture" / "trials.csv").read_text()
    result = cli(*args, "--resume")
    assert result.exit_code == 2
    assert f"model.build's file {builder} changed since this run started" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert (runs / "custom-fixture" / "trials.csv").read_text() == trials
