"""The user's own code named by a config (`model.build`, `data.loader`): parsed and checked
without running it, fingerprinted by its content, imported only when asked."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from tunenet.config.user_code import (
    UserCodeError,
    import_function,
    parse_spec,
    regularization_reads,
    runs_line,
    source_file,
    source_hash,
    static_problems,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "custom"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_a_file_spec_and_a_module_spec():
    spec = parse_spec("models/lstm.py:build")
    assert (spec.path, spec.module, spec.function) == (Path("models/lstm.py"), None, "build")
    spec = parse_spec("my_pkg.models:make_model")
    assert (spec.path, spec.module, spec.function) == (None, "my_pkg.models", "make_model")
    assert str(spec) == "my_pkg.models:make_model"


def test_a_relative_file_is_resolved_against_a_directory(tmp_path):
    spec = parse_spec("models/lstm.py:build").resolved(tmp_path)
    assert spec.path == tmp_path / "models" / "lstm.py"
    assert spec.text == f"{tmp_path}/models/lstm.py:build"
    assert parse_spec("/abs/x.py:f").resolved(tmp_path).path == Path("/abs/x.py")


@pytest.mark.parametrize(
    "text, says",
    [
        ("models/lstm.py", "expected '<file.py>:<function>'"),
        ("models/lstm.py:", "is not a function name"),
        ("models/lstm.py:2build", "is not a function name"),
        ("models/lstm.py:class", "is not a function name"),
        (":build", "expected '<file.py>:<function>'"),
        ("models/lstm:build", "a file must end in .py"),
        ("my-pkg.models:build", "expected '<file.py>:<function>'"),
    ],
)
def test_a_malformed_spec_is_refused_with_both_forms(text, says):
    with pytest.raises(UserCodeError) as caught:
        parse_spec(text)
    assert says in str(caught.value)
    assert repr(text) in str(caught.value) or text.endswith(":")


def test_the_fixture_builder_and_loader_pass():
    assert static_problems(parse_spec(f"{FIXTURES}/builder.py:build"), "build") == []
    assert static_problems(parse_spec(f"{FIXTURES}/loader.py:load"), "loader") == []


@pytest.mark.parametrize(
    "source, function, role, says",
    [
        ("def build(params, data):\n    return 1\n", "make", "build",
         "defines no top-level function 'make' (it defines: build); define `def make(params, data):`"),
        ("def build(params):\n    return 1\n", "build", "build",
         "line 1: build(params) takes 1 required parameter; tunenet calls build(params, data)"),
        ("def build(params, data, extra):\n    pass\n", "build", "build",
         "takes 3 required parameters"),
        ("def build(params, data, *, size):\n    pass\n", "build", "build",
         "needs the keyword argument(s) size"),
        ("def build(params, data:\n", "build", "build", "Python syntax error on line 1"),
        ("class build:\n    pass\n", "build", "build", "'build' is a class"),
        ("async def build(params, data):\n    pass\n", "build", "build", "async function"),
        ("def load(path):\n    pass\n", "load", "loader",
         "load(path) takes 1 required parameter; tunenet calls load() with no argument"),
        ("def outer():\n    def build(params, data):\n        pass\n", "build", "build",
         "defines no top-level function 'build' (it defines: outer)"),
    ],
)  # fmt: skip
def test_static_problems_name_the_file_and_the_fix(tmp_path, source, function, role, says):
    path = write(tmp_path / "code.py", source)
    problems = static_problems(parse_spec(f"{path}:{function}"), role)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: ")
    assert says in problems[0]


@pytest.mark.parametrize(
    "source",
    [
        "def build(params, data, extra=1, *args, **kwargs):\n    pass\n",
        "def build(*args):\n    pass\n",
        "from helpers import build\n",
        "try:\n    import torch\nexcept ImportError:\n    def build(params, data):\n        pass\n",
        "build = make_builder()\n",
    ],
)
def test_functions_tunenet_can_call_or_cannot_check_pass(tmp_path, source):
    path = write(tmp_path / "code.py", source)
    assert static_problems(parse_spec(f"{path}:build"), "build") == []


def test_a_missing_file_a_directory_a_huge_file_and_a_binary_file(tmp_path):
    missing = static_problems(parse_spec(f"{tmp_path}/nope.py:build"), "build")
    assert missing == [
        f"{tmp_path}/nope.py: no such file; check the path (a relative path is relative to the "
        "config file's directory)"
    ]
    (tmp_path / "folder.py").mkdir()
    assert "is a directory" in static_problems(parse_spec(f"{tmp_path}/folder.py:b"), "build")[0]
    (tmp_path / "huge.py").write_bytes(b"#" * (2**20 + 1))
    assert "larger than 1 MiB" in static_problems(parse_spec(f"{tmp_path}/huge.py:b"), "build")[0]
    os.mkfifo(tmp_path / "fifo.py")  # reading it would block
    assert "not a regular file" in static_problems(parse_spec(f"{tmp_path}/fifo.py:b"), "build")[0]
    (tmp_path / "nul.py").write_bytes(b"def build(params, data):\x00\n")
    assert static_problems(parse_spec(f"{tmp_path}/nul.py:build"), "build")


def test_a_module_is_located_without_running_its_package_init(tmp_path, monkeypatch):
    marker = tmp_path / "ran.marker"
    write(tmp_path / "pkg" / "__init__.py", f"open({str(marker)!r}, 'w').write('ran')\n")
    write(tmp_path / "pkg" / "models.py", "def build(params, data):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = parse_spec("pkg.models:build")
    assert source_file(spec) == tmp_path / "pkg" / "models.py"
    assert static_problems(spec, "build") == []
    assert source_hash(spec) is not None
    assert "runs build() from pkg.models (" in runs_line("model.build", spec)
    assert not marker.exists()
    problems = static_problems(parse_spec("pkg.absent:build"), "build")
    assert problems[0].startswith("module 'pkg.absent' is not found on Python's path")
    assert not marker.exists()


def test_the_source_hash_follows_the_file_content(tmp_path):
    path = write(tmp_path / "code.py", "def build(params, data):\n    pass\n")
    spec = parse_spec(f"{path}:build")
    before = source_hash(spec)
    assert before == source_hash(spec) and len(before) == 64
    path.write_text("def build(params, data):\n    return None\n")
    assert source_hash(spec) != before
    assert source_hash(parse_spec(f"{tmp_path}/absent.py:build")) is None


def test_regularization_reads_finds_the_keys_the_source_names(tmp_path):
    path = write(
        tmp_path / "code.py",
        """
        # regularization.l1 in a comment does not count
        def build(params, data):
            l2 = params["regularization.l2"]
            rate = params.get("regularization.dropout", 0.0)
            return l2, rate, "regularization.l2x"
        """,
    )
    assert regularization_reads(parse_spec(f"{path}:build")) == (
        "regularization.l2",
        "regularization.dropout",
    )
    assert regularization_reads(parse_spec(f"{FIXTURES}/builder.py:build")) == (
        "regularization.l2",
        "regularization.dropout",
    )


def test_import_function_imports_a_file_with_its_sibling_modules(tmp_path):
    write(tmp_path / "helpers.py", "WIDTH = 7\n")
    path = write(
        tmp_path / "code.py",
        "from helpers import WIDTH\n\ndef build(params, data):\n    return WIDTH + params['x']\n",
    )
    function = import_function(parse_spec(f"{path}:build"), "model.build")
    assert function({"x": 1}, None) == 8
    assert str(tmp_path) not in __import__("sys").path


def test_an_import_that_raises_names_the_file_and_line(tmp_path):
    path = write(tmp_path / "code.py", "x = 1\nraise RuntimeError('no GPU here')\n")
    with pytest.raises(UserCodeError) as caught:
        import_function(parse_spec(f"{path}:build"), "model.build")
    message = str(caught.value)
    assert message.startswith(f"model.build: {path}: importing it raised RuntimeError: no GPU")
    assert f"({path}, line 2)" in message


def test_import_function_refuses_a_missing_file_and_a_missing_function(tmp_path):
    with pytest.raises(UserCodeError, match="no such file"):
        import_function(parse_spec(f"{tmp_path}/absent.py:build"), "model.build")
    path = write(tmp_path / "code.py", "build = 3\n")
    with pytest.raises(UserCodeError, match="has a non-callable int 'build'"):
        import_function(parse_spec(f"{path}:build"), "model.build")
    with pytest.raises(UserCodeError, match="syntax"):
        import_function(parse_spec(f"{write(tmp_path / 'bad.py', 'def (')}:build"))


def test_a_fifo_is_never_read(tmp_path):
    os.mkfifo(tmp_path / "fifo.py")
    spec = parse_spec(f"{tmp_path}/fifo.py:build")
    assert source_hash(spec) is None
    assert regularization_reads(spec) == ()
    with pytest.raises(UserCodeError, match="not a regular file"):
        import_function(spec, "model.build")
