"""Hostile YAML given to `tunenet validate`: exit 2, a message naming file, line, key and fix,
nothing written. Issue 12, items 2 and 8."""

from __future__ import annotations

import time

import pytest


def refused(cli, untouched, path, *parts: str) -> str:
    """Run `validate`, assert exit 2 and no traceback or file written; return the first line."""
    with untouched(root=path.parent):
        result = cli("validate", path)
    assert result.exit_code == 2, result.output
    message = result.stderr
    assert "Traceback" not in message and "internal error" not in message
    assert str(path) in message
    for part in parts:
        assert part in message, (part, message)
    return message.splitlines()[0]


def write_bytes(tmp_path, content: bytes):
    path = tmp_path / "config.yaml"
    path.write_bytes(content)
    return path


# ---------------------------------------------------------------- duplicate keys


@pytest.mark.parametrize(
    ("text", "key", "lines"),
    [
        ("data: {source: digits}\nseed: 1\nseed: 2\n", "seed", (2, 3)),
        ("data: {source: digits}\nmodel:\n  units: 32\n  units: 64\n", "model.units", (3, 4)),
        ("data: {source: digits}\nmodel:\n  units: 32\n  'units': 64\n", "model.units", (3, 4)),
        ("data:\n  source: digits\nmodel: {layers: 1}\nmodel: {layers: 2}\n", "model", (3, 4)),
        (
            "data: {source: digits}\ntraining:\n  early_stopping:\n    patience: 2\n"
            "    monitor: val_loss\n    patience: 9\n",
            "training.early_stopping.patience",
            (4, 6),
        ),
        (
            "data: {source: digits}\noptimizer:\n  learning_rate: {min: 0.1, max: 1.0, min: 0.01}\n",
            "optimizer.learning_rate.min",
            (3, 3),
        ),
    ],
    ids=["top", "nested", "quoted", "section", "deep", "range"],
)
def test_duplicate_key_is_refused(cli, untouched, write_config, text, key, lines):
    path = write_config(text)
    where = f"line {lines[0]}" if lines[0] == lines[1] else f"lines {lines[0]} and {lines[1]}"
    refused(cli, untouched, path, f"line {lines[0]}, {key}: duplicate key on {where}", "keep one")


def test_every_duplicate_is_reported_at_once(cli, untouched, write_config):
    path = write_config("data: {source: digits}\nseed: 1\nseed: 2\nmodel: {units: 1, units: 2}\n")
    first = refused(cli, untouched, path, "seed", "model.units")
    assert "2 problems" in first


# ---------------------------------------------------------------- anchors and aliases


def alias_bomb(levels: int = 9) -> str:
    """The "billion laughs": each level repeats the previous one nine times."""
    lines = ["data: {source: digits}", "laughs:", "  a: &a [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        name, previous = chr(97 + level), chr(96 + level)
        lines.append(f"  {name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    lines.append(f"model: {{units: *{chr(96 + levels)}}}")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_quickly(cli, untouched, write_config):
    path = write_config(alias_bomb())
    started = time.monotonic()
    first = refused(cli, untouched, path, "write the values out")
    assert time.monotonic() - started < 5  # a safety net: it hung for more than 20 s
    assert f"{path}:7: aliases expand to more than 10000 values (refused at *d)" in first


def test_alias_to_its_own_mapping_is_refused(cli, untouched, write_config):
    path = write_config("data: {source: digits}\nmodel: &m {units: [*m]}\n")
    refused(cli, untouched, path, f"{path}:2: the alias *m refers to itself", "write the value")


def test_a_few_anchors_and_aliases_still_work(cli, untouched, write_config):
    path = write_config(
        """
        data: {source: digits}
        model:
          units: &sizes [16, 32]
          dense_units: *sizes
        regularization:
          l2: &penalty {min: 1.0e-6, max: 1.0e-2, sampling: log}
          l1: {<<: *penalty, sampling: linear}
        training: {epochs: &few 3}
        search: {max_trials: *few}
        """
    )
    with untouched(root=path.parent):
        result = cli("validate", path)
    assert result.exit_code == 0, result.output
    assert "model.units" in result.stdout and "at most 3 trial(s)" in result.stdout


# ---------------------------------------------------------------- a key at the wrong level


@pytest.mark.parametrize(
    ("text", "key", "suggestion"),
    [
        (
            "data: {source: digits}\nsplit: {validation: 0.1}\n",
            "split",
            "did you mean 'data.split'",
        ),
        ("data: {source: digits}\nepochs: 3\n", "epochs", "did you mean 'training.epochs'"),
        (
            "data: {source: digits}\nmodel: {learning_rate: 0.1}\n",
            "model.learning_rate",
            "did you mean 'optimizer.learning_rate'",
        ),
        (
            "data:\n  dropout: 0.5\n  source: digits\n",
            "data.dropout",
            "did you mean 'regularization.dropout'",
        ),
        (
            "data: {source: digits}\ntraining: {monitor: val_loss}\n",
            "training.monitor",
            "did you mean 'training.early_stopping.monitor'",
        ),
        ("data: {source: digits}\nepoch: 3\n", "epoch", "did you mean 'training.epochs'"),
        ("data: {source: digits}\nmodel: {untis: 3}\n", "model.untis", "did you mean 'units'"),
    ],
    ids=["split", "epochs", "learning_rate", "dropout", "monitor", "typo-elsewhere", "typo-here"],
)
def test_unknown_key_says_where_it_belongs(cli, untouched, write_config, text, key, suggestion):
    refused(cli, untouched, write_config(text), f"line 2, {key}: unknown key", suggestion)


# ---------------------------------------------------------------- files that are not configs


@pytest.mark.parametrize(
    ("content", "parts"),
    [
        (b"- data\n- model\n", (":1:", "expected a mapping", "got list")),
        (b"# a comment\n\ndigits\n", (":3:", "expected a mapping", "got str")),
        (b"", ("is empty", "data: {source: digits}")),
        (b"# only a comment\n", ("is empty",)),
        (b"data: {source: digits}\n\x00\x01\x02\xff", (":2:", "binary file")),
        (b"data:\n\tsource: digits\n", (":2:", "YAML syntax error", "'\\t'", "Fix the YAML")),
        (
            b"data: {source: digits}\nname: caf\xe9\n",
            (":2:", "not UTF-8", "0xe9", "save it as UTF-8"),
        ),
        (b"\xff\xfed\x00a\x00t\x00a\x00", (":1:", "UTF-16", "save it as UTF-8")),
        (b"data: {source: digits}\nname: a\x07b\n", (":2:", "#x0007", "Remove it")),
        (b"\xef\xbb\xbfdata: {source: digits}\nmodel: {untis: 3}\n", ("line 2, model.untis",)),
        (b"data: [unclosed\n", ("YAML syntax error",)),
    ],
    ids=[
        "list",
        "scalar",
        "empty",
        "comment",
        "binary",
        "tab",
        "latin-1",
        "utf-16",
        "control",
        "bom",
        "syntax",
    ],
)
def test_unusable_file(cli, untouched, tmp_path, content, parts):
    refused(cli, untouched, write_bytes(tmp_path, content), *parts)


def test_bom_is_accepted(cli, untouched, tmp_path):
    path = write_bytes(tmp_path, b"\xef\xbb\xbfdata: {source: digits}\n")
    with untouched(root=tmp_path):
        assert cli("validate", path).exit_code == 0


HUGE = "r" * 1_000_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("data: {source: digits}\nmodel: {activation: " + HUGE + "}\n", "line 2, model.activation"),
        ("data: {source: digits, target: " + HUGE + "}\n", "line 1, data.target"),
        ("data: {source: digits}\nsearch: {objective: " + HUGE + "}\n", "line 2, search.objective"),
        ("data: {source: digits}\n" + HUGE + ": 1\n", "config.yaml:2: YAML syntax error"),
    ],
    ids=["value", "unused-value", "objective", "key"],
)
def test_huge_single_line_gives_a_short_message(cli, untouched, tmp_path, text, expected):
    path = write_bytes(tmp_path, text.encode())
    with untouched(root=tmp_path):
        result = cli("validate", path)
    assert result.exit_code == 2
    assert len(result.stderr) < 2_000, result.stderr[:300]
    assert expected in result.stderr
    assert "rrr..." in result.stderr or "YAML syntax error" in result.stderr
