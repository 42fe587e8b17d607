"""Smoke-run every example config: `tunenet search CONFIG --smoke`, then `tunenet report`.

Runs in a temporary directory that also holds a tiny generated image folder, so the image
configs find `data/santa/...` without any download. Prints one line per config and a
count; exits 1 when any config failed. Every command runs in this one process, through the
CLI's own argument parsing and error handling: TensorFlow loads once, not once per config
(the start-up of `python -m tunenet.cli` is tested in tests/test_cli.py).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


def make_image_folder(root: Path) -> None:
    """Two classes of 12 small RGB images each (reddish vs greenish), train and test."""
    rng = np.random.default_rng(0)
    for split, count in (("train", 12), ("test", 4)):
        for label, channel in (("santa", 0), ("not_santa", 1)):
            folder = root / "data" / "santa" / split / label
            folder.mkdir(parents=True, exist_ok=True)
            for index in range(count):
                pixels = rng.integers(0, 120, size=(40, 40, 3), dtype=np.uint8)
                pixels[..., channel] += 120
                Image.fromarray(pixels).save(folder / f"{label}_{index}.png")


def run(args: list[str]):
    """One tunenet command in this process; the click Result (exit_code, stdout, stderr)."""
    from typer.testing import CliRunner

    from tunenet.cli import app

    return CliRunner().invoke(app, args)


def smoke(config: Path, work: Path) -> tuple[bool, str]:
    runs = work / "runs"
    # A custom model's example runs one trial: its builder and loader run the same code path
    # as the built-in families' search, and a recurrent trial costs several seconds.
    one = ["--max-trials", "1"] if "kind: custom" in config.read_text(encoding="utf-8") else []
    searched = run(["search", str(config), "--smoke", "--quiet", "--runs-dir", str(runs),
                    "--name", config.stem, *one])  # fmt: skip
    if searched.exit_code != 0:
        return False, f"search exit {searched.exit_code}: {failure(searched)}"
    reported = run(["report", str(runs / config.stem), "--format", "json", "--no-plots"])
    if reported.exit_code != 0:
        return False, f"report exit {reported.exit_code}: {failure(reported)}"
    return True, "search and report ok"


def failure(result) -> str:
    """The end of what a failed command said, or its exception."""
    text = result.stderr.strip() or repr(result.exception)
    return text[-400:]


def main() -> int:
    configs = sorted((REPO / "configs").glob("*.yaml"))
    failed = 0
    home = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="tunenet-smoke-") as folder:
        work = Path(folder)
        make_image_folder(work)
        os.chdir(work)  # the image configs name data/santa/... relative to the working directory
        for config in configs:
            started = time.perf_counter()
            ok, message = smoke(config, work)
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {config.name}: {message} "
                  f"({time.perf_counter() - started:.0f}s)", flush=True)  # fmt: skip
        os.chdir(home)
    print(f"smoke: {len(configs) - failed} of {len(configs)} example configs ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
