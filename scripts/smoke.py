"""Smoke-run every example config: `tunenet search CONFIG --smoke`, then `tunenet report`.

Runs in a temporary directory that also holds a tiny generated image folder, so the image
configs find `data/santa/...` without any download. Prints one line per config and a
count; exits 1 when any config failed.
"""

from __future__ import annotations

import subprocess
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


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "tunenet.cli", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)


def smoke(config: Path, work: Path) -> tuple[bool, str]:
    runs = work / "runs"
    searched = run(["search", str(config), "--smoke", "--quiet", "--runs-dir", str(runs),
                    "--name", config.stem], work)  # fmt: skip
    if searched.returncode != 0:
        return False, f"search exit {searched.returncode}: {searched.stderr.strip()[-400:]}"
    reported = run(["report", str(runs / config.stem), "--format", "json", "--no-plots"], work)
    if reported.returncode != 0:
        return False, f"report exit {reported.returncode}: {reported.stderr.strip()[-400:]}"
    return True, "search and report ok"


def main() -> int:
    configs = sorted((REPO / "configs").glob("*.yaml"))
    failed = 0
    with tempfile.TemporaryDirectory(prefix="tunenet-smoke-") as folder:
        work = Path(folder)
        make_image_folder(work)
        for config in configs:
            started = time.perf_counter()
            ok, message = smoke(config, work)
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {config.name}: {message} "
                  f"({time.perf_counter() - started:.0f}s)", flush=True)  # fmt: skip
    print(f"smoke: {len(configs) - failed} of {len(configs)} example configs ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
