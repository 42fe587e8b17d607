"""`tunenet validate` answers any config within 5 s and 1 GB: the worst cases of issue 22, run
in one subprocess under a 1 GiB address-space limit, each timed in CPU seconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import REPO

# (case, YAML text or a path, the key and value the message must name)
CASES = [
    ("layers", "model: {layers: 100000000}", ["model.layers", "100000000"]),
    ("units range", "model: {units: {min: 1, max: 1e9}}", ["model.units.max", "1000000000"]),
    ("dropout step", "regularization: {dropout: {min: 0.0, max: 0.5, step: 1e-15}}",
     ["regularization.dropout", "step 1e-15"]),
    ("log step", "optimizer: {learning_rate: {min: 1e-4, max: 1.0, sampling: log, "
     "step: 1.000000001}}", ["optimizer.learning_rate", "step 1.000000001"]),
    ("decay epochs", "optimizer: {schedule: step, decay_epochs: {min: 1, max: 1e9}}",
     ["optimizer.decay_epochs.max", "1000000000"]),
    ("capacity", "model: {layers: {min: 1, max: 1000000000}}\nsearch: {strategy: capacity}",
     ["model.layers.max", "1000000000"]),
    ("hyperband", "search: {strategy: hyperband, max_epochs: 1e18}",
     ["search.max_epochs", "1e+18"]),
    ("batch size", f"training: {{batch_size: {2**70}}}", ["training.batch_size", str(2**70)]),
    ("units", "model: {units: 1e12}", ["model.units", "1000000000000"]),
    ("kernel", "model: {kind: cnn, kernel_size: 1e9}", ["model.kernel_size", "1000000000"]),
    ("image size", "data: {source: images, path: x, image_size: [1e5, 1e5]}",
     ["data.image_size", "100000"]),
    ("learning rate", "optimizer: {learning_rate: .inf}", ["optimizer.learning_rate", "inf"]),
    ("range max", "regularization: {l2: {min: 0.0, max: .inf}}", ["regularization.l2.max", "inf"]),
    ("name", "name: " + "n" * 10_000_000, ["1 MiB"]),
    ("long list", "model: {units: [" + ", ".join(["1"] * 200_000) + "]}", ["50,000 values"]),
    ("model size", "model: {layers: 100, units: 65536}", ["model:", "parameters",
                                                          "search.max_model_params"]),
    ("dev zero", "/dev/zero", ["/dev/zero", "1 MiB"]),
]  # fmt: skip

# The largest spaces the bounds allow, which validate accepts and prints, as fast.
ACCEPTED = [
    ("widest choices",
     "model: {layers: {min: 0, max: 100}, units: [" + ", ".join(map(str, range(1, 10_001)))
     + "]}\nregularization: {dropout: [" + ", ".join(str(i / 20_000) for i in range(10_000))
     + "]}\nsearch: {max_model_params: 100000000000}"),
    ("largest grid",
     "model: {layers: {min: 0, max: 100}, units: {min: 1, max: 4096}}\n"
     "training: {batch_size: {min: 1, max: 1048576}}\n"
     "search: {strategy: grid, max_model_params: 100000000000, max_trials: 100000}"),
]  # fmt: skip

SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))
    from typer.testing import CliRunner
    from tunenet.cli import app

    results = {}
    for name, path in json.loads(sys.argv[1]).items():
        # CPU seconds: what validate itself spends, whatever else the machine runs
        start = time.process_time()
        result = CliRunner().invoke(app, ["validate", path])
        results[name] = [time.process_time() - start, result.exit_code, result.stderr]
    print(json.dumps(results))
    """
)


def test_validate_answers_the_worst_cases_within_5_s_and_1_gb(tmp_path: Path):
    paths = {}
    for index, (name, text, *_) in enumerate([*CASES, *ACCEPTED]):
        if text.startswith("/dev/"):
            paths[name] = text
            continue
        if not text.startswith("data:"):
            text = "data: {source: digits}\n" + text
        path = tmp_path / f"case{index}.yaml"
        path.write_text(text + "\n", encoding="utf-8")
        paths[name] = str(path)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO / "tests")])
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(paths)],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    for name, _, shown in CASES:
        seconds, code, message = results[name]
        assert code == 2, (name, message)
        assert seconds < 5, (name, seconds)
        assert "Traceback" not in message and "internal error" not in message, (name, message)
        for text in shown:
            assert text in message, (name, text, message)
    for name, _ in ACCEPTED:
        seconds, code, message = results[name]
        assert code == 0, (name, message)
        assert seconds < 5, (name, seconds)
