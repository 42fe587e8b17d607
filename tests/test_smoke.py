"""Every example config's smoke search and report (scripts/smoke.py), as part of the suite.

It runs in this test process, which has TensorFlow loaded already, and pytest-xdist runs it
beside the other tests instead of before them (`make test`). `make smoke` runs the script alone.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _smoke_module():
    spec = importlib.util.spec_from_file_location("tunenet_smoke", REPO / "scripts" / "smoke.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.timeout(900)  # nine searches; a busy machine
def test_every_example_config_searches_and_reports(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the script works in its own temporary folder and comes back
    configs = sorted((REPO / "configs").glob("*.yaml"))
    assert configs
    code = _smoke_module().main()
    out = capsys.readouterr().out
    assert code == 0, out
    for config in configs:
        assert f"ok   {config.name}: search and report ok" in out, out
    assert f"smoke: {len(configs)} of {len(configs)} example configs ok" in out
