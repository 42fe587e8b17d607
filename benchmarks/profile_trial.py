"""Where the time of a search goes: tunenet's trial loop against the hand-written kt script.

    .venv/bin/python benchmarks/profile_trial.py profile [--quick] [--cprofile DIR]
    .venv/bin/python benchmarks/profile_trial.py compare VARIANT[,VARIANT...] [--repeat N] [--quick]

`profile` runs, each in a fresh process, `tunenet.tuning.tuner.run_search` on the benchmark's grid
config (the overhead row of `run.py`) and `kt_script.main` on the same grid, with wall-clock
timers wrapped around the steps of a trial (build, fit, validation inside fit, evaluation,
checkpoint and model saves, clear_session / gc, keras-tuner's JSON saves, tunenet's CSV and
progress bookkeeping). Times are exclusive (a step's nested steps are counted apart), so the
rows add up to the search's wall time. First-epoch time (tracing) and steady epochs are timed
by a callback added to every `fit`.

`compare` measures candidate optimizations by monkeypatching tunenet in the child process only
(nothing under src/ changes): baseline and variant alternate `--repeat` times in fresh
processes; the medians of search wall and CPU seconds are compared, and trials.csv is checked
for the same objective per trial. Variants: see VARIANTS.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run as bench  # noqa: E402  (benchmarks/run.py: configs and sizes)

# ---------------------------------------------------------------- timers


class Timers:
    """Exclusive wall time per label of wrapped callables (nested calls counted apart)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.stack: list[list[Any]] = []
        self.epochs: list[list[float]] = []  # per fit: durations of its epochs

    def labels(self) -> list[str]:
        return [frame[0] for frame in self.stack]

    def wrap(self, owner: Any, attr: str, label: str | Callable[[list[str]], str]) -> None:
        original = getattr(owner, attr)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            name = label(self.labels()) if callable(label) else label
            self.stack.append([name, 0.0])
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                _, nested = self.stack.pop()
                self.seconds[name] += elapsed - nested
                self.calls[name] += 1
                if self.stack:
                    self.stack[-1][1] += elapsed

        setattr(owner, attr, timed)

    def wrap_if(self, owner: Any, attr: str, label: str | Callable[[list[str]], str]) -> None:
        """Wrap when the attribute exists (tunenet's internals change while it is built)."""
        if hasattr(owner, attr):
            self.wrap(owner, attr, label)


def epoch_timer(timers: Timers) -> Any:
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Durations of each epoch of one fit (validation included)."""

        def on_train_begin(self, logs: Any = None) -> None:
            self.last = time.perf_counter()
            timers.epochs.append([])

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            now = time.perf_counter()
            timers.epochs[-1].append(now - self.last)
            self.last = now

    return EpochTimer


def instrument_keras(timers: Timers, tool: str) -> None:
    """Timers on what both tools do: fit (with an epoch timer), evaluate, saves, clear_session."""
    import keras

    EpochTimer = epoch_timer(timers)
    original_fit = keras.Model.fit

    @functools.wraps(original_fit)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs["callbacks"] = [*list(kwargs.get("callbacks") or []), EpochTimer()]
        return original_fit(self, *args, **kwargs)

    keras.Model.fit = fit
    timers.wrap(keras.Model, "fit", "fit: training steps + callbacks")

    def evaluate_label(stack: list[str]) -> str:
        if "fit: training steps + callbacks" in stack:
            return "fit: validation (evaluate inside fit)"
        if tool == "kt" or any(label.startswith("test") for label in stack):
            return "test: evaluate best model"  # the kt script evaluates only the best model
        return "evaluate train/val error after fit"

    timers.wrap(keras.Model, "evaluate", evaluate_label)
    from keras.src.trainers.trainer import Trainer

    # Keras treats a compile that differs from Trainer.compile as custom: wrap it there.
    timers.wrap(Trainer, "compile", "build: compile")
    timers.wrap(keras.Model, "save_weights", "weights .h5 writes (checkpoint / warm start)")
    timers.wrap(keras.Model, "save", "best model .keras save")
    timers.wrap(keras.backend, "clear_session", "clear_session")
    timers.wrap(gc, "collect", "gc.collect")
    from keras_tuner.src.engine import base_tuner, oracle

    label = "keras-tuner JSON saves (oracle, trial, tuner)"
    timers.wrap(oracle.Oracle, "save", label)
    timers.wrap(oracle.Oracle, "_save_trial", label)
    timers.wrap(base_tuner.BaseTuner, "save", label)
    timers.wrap(oracle.Oracle, "create_trial", "keras-tuner: create trial (oracle)")
    timers.wrap(oracle.Oracle, "end_trial", "keras-tuner: end trial (oracle)")


def instrument_tunenet(timers: Timers) -> None:
    from tunenet import runs
    from tunenet.reporting import progress
    from tunenet.tuning import pipelines, trial, tuner

    wrap = timers.wrap_if
    wrap(trial, "build_model", "build: layers")
    wrap(tuner, "load_dataset", "load dataset")
    wrap(tuner, "prepare", "run directory: prepare")
    wrap(pipelines.Pipelines, "train", "tf.data: train pipeline")
    wrap(pipelines.Pipelines, "evaluation", "tf.data: evaluation pipelines")
    wrap(trial.EpochRecorder, "on_epoch_end", "tunenet: epoch recorder callback")
    wrap(runs.EpochLog, "append", "tunenet: epochs.csv append")
    wrap(runs.TrialTable, "save", "tunenet: trials.csv rewrite")
    wrap(runs.TrialTable, "reload", "tunenet: trials.csv reload")
    if hasattr(runs, "RunLock"):
        wrap(runs.RunLock, "__enter__", "tunenet: run lock")
    wrap(runs.RunDir, "update_manifest", "tunenet: manifest.json writes")
    for name in ("trial_begin", "epoch", "trial_end"):
        wrap(progress.SearchProgress, name, "tunenet: progress")
    wrap(trial, "export_model", "tunenet: export model")
    wrap(tuner, "_test_error", "test: load best model")
    wrap(trial.TrialRunner, "run_trial", "trial: other (tunenet run_trial)")


def instrument_kt(timers: Timers) -> None:
    from keras_tuner.src.engine import tuner as kt_tuner
    from keras_tuner.src.engine import tuner_utils

    timers.wrap(kt_tuner.Tuner, "_build_hypermodel", "build: layers")
    timers.wrap(kt_tuner.Tuner, "_deepcopy_callbacks", "keras-tuner: deepcopy callbacks")
    timers.wrap(kt_tuner.Tuner, "load_model", "test: load best model")
    timers.wrap(kt_tuner.Tuner, "run_trial", "trial: other (keras-tuner run_trial)")
    timers.wrap(tuner_utils.SaveBestEpoch, "on_epoch_end", "keras-tuner: checkpoint callback")


# ---------------------------------------------------------------- variants (tunenet only)


def variant_spe(value: int) -> Callable[[], None]:
    def apply() -> None:
        from keras.src.trainers.trainer import Trainer

        original = Trainer.compile

        @functools.wraps(original)
        def compile(self: Any, *args: Any, **kwargs: Any) -> Any:
            kwargs["steps_per_execution"] = value
            return original(self, *args, **kwargs)

        Trainer.compile = compile

    return apply


def variant_spe_rule() -> None:
    """The proposed rule: steps_per_execution = min(steps_per_epoch, 32) from 16 steps per
    epoch, 1 below (a multi-step loop costs ~0.3 s more tracing per trial and pays off only
    over many steps). build_model passes min(steps_per_epoch, 32), so below 16 it is the steps."""
    from keras.src.trainers.trainer import Trainer

    original = Trainer.compile

    @functools.wraps(original)
    def compile(self: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("steps_per_execution", 1) < 16:
            kwargs["steps_per_execution"] = 1
        return original(self, *args, **kwargs)

    Trainer.compile = compile


def variant_train_pipeline_once() -> None:
    """The training tf.data pipeline's source and cache built once per search, not per trial."""
    import tensorflow as tf

    from tunenet.tuning import pipelines

    def train(self: Any, batch_size: int, seed: int) -> Any:
        if not hasattr(self, "_train_source"):
            x, y = self.dataset.x_train, self._target(self.dataset.y_train, raw=False)
            self._train_source = tf.data.Dataset.from_tensor_slices((x, y)).cache()
        return (
            self._train_source.shuffle(len(self.dataset.y_train), seed=seed)
            .batch(batch_size)
            .prefetch(tf.data.AUTOTUNE)
        )

    pipelines.Pipelines.train = train


def variant_best_model_once() -> None:
    """Keep the best model in memory; write best/model.keras once, when the search ends."""
    from tunenet import runs
    from tunenet.tuning import tuner

    pending: dict[str, Any] = {}
    original_save = runs.RunDir.save_best_model

    def save_best_model(self: Any, model: Any) -> None:
        pending["run"], pending["model"] = self, model

    name = "finish" if hasattr(tuner, "finish") else "_finish"
    original_finish = getattr(tuner, name)

    def finish(context: Any, summary: Any) -> Any:
        if pending:
            original_save(pending["run"], pending.pop("model"))
        return original_finish(context, summary)

    runs.RunDir.save_best_model = save_best_model
    setattr(tuner, name, finish)


def variant_oracle_saves_once() -> None:
    """keras-tuner's oracle.json / trial.json written once per trial (at end_trial) instead of
    at create, update and end (and tuner0.json after each trial)."""
    from keras_tuner.src.engine import base_tuner, oracle

    state = {"allowed": False}
    original_save, original_save_trial = oracle.Oracle.save, oracle.Oracle._save_trial
    original_end = oracle.Oracle.end_trial

    def save(self: Any) -> None:
        if state["allowed"]:
            original_save(self)

    def save_trial(self: Any, trial: Any) -> None:
        if state["allowed"]:
            original_save_trial(self, trial)

    def end_trial(self: Any, trial: Any) -> Any:
        state["allowed"] = True
        try:
            return original_end(self, trial)
        finally:
            state["allowed"] = False

    def tuner_save(self: Any) -> None:
        pass  # tunenet never reloads tuner0.json; the oracle was saved in end_trial

    oracle.Oracle.save, oracle.Oracle._save_trial = save, save_trial
    oracle.Oracle.end_trial = end_trial
    base_tuner.BaseTuner.save = tuner_save


def variant_no_fsync() -> None:
    """trials.csv / manifest.json atomic writes without fsync (rename is still atomic)."""
    import os

    from tunenet.runs import files

    class NoSync:
        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        @staticmethod
        def fsync(fd: int) -> None:
            pass

    files.os = NoSync()


def after_each_trial(action: Callable[[], None]) -> None:
    """Run `action` after every trial's row is written (the progress display's trial_end)."""
    from tunenet.reporting import progress

    original = progress.SearchProgress.trial_end

    @functools.wraps(original)
    def trial_end(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        action()

    progress.SearchProgress.trial_end = trial_end


def quiet_progress() -> Any:
    """The progress display of `tunenet search --quiet`: it listens, and shows nothing."""
    from rich.console import Console

    from tunenet.reporting.progress import SearchProgress

    return SearchProgress(Console(stderr=True), quiet=True)


def malloc_trim() -> None:
    import ctypes

    ctypes.CDLL("libc.so.6").malloc_trim(0)


def variant_gc_each_trial() -> None:
    """gc.collect() after every trial (what clear_session(free_memory=True) would add)."""
    after_each_trial(gc.collect)


def variant_malloc_trim() -> None:
    """glibc malloc_trim(0) after every trial: give freed heap pages back to the system."""
    after_each_trial(malloc_trim)


def variant_gc_and_trim() -> None:
    after_each_trial(lambda: (gc.collect(), malloc_trim()))


def variant_eager() -> None:
    """run_eagerly=True: no tf.function tracing at all (slow steps, no first-epoch cost)."""
    from keras.src.trainers.trainer import Trainer

    original = Trainer.compile

    @functools.wraps(original)
    def compile(self: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs["run_eagerly"] = True
        return original(self, *args, **kwargs)

    Trainer.compile = compile


def variant_no_grappler() -> None:
    """Grappler's graph optimizations off for the traced train/test functions."""
    import tensorflow as tf

    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})


def variant_unbounded() -> None:
    """The old behaviour: trial graphs kept in TensorFlow's gradient registry, no hand-over."""
    import os

    os.environ["TUNENET_MEMORY"] = "unbounded"


VARIANTS: dict[str, Callable[[], None]] = {
    "unbounded": variant_unbounded,
    "gc-each-trial": variant_gc_each_trial,
    "malloc-trim": variant_malloc_trim,
    "gc+trim": variant_gc_and_trim,
    "eager": variant_eager,
    "no-grappler": variant_no_grappler,
    "spe1": variant_spe(1),
    "spe64": variant_spe(64),
    "spe-rule": variant_spe_rule,
    "train-pipeline-once": variant_train_pipeline_once,
    "best-model-once": variant_best_model_once,
    "oracle-saves-once": variant_oracle_saves_once,
    "no-fsync": variant_no_fsync,
}
VARIANTS["all"] = lambda: [
    VARIANTS[name]()
    for name in (
        "train-pipeline-once",
        "best-model-once",
        "oracle-saves-once",
        "no-fsync",
    )
]


# ---------------------------------------------------------------- one run (child process)


def grid_files(work: Path, quick: bool, dataset: str) -> tuple[Path, Path, dict]:
    sizes = bench.QUICK if quick else bench.FULL
    spec = bench.grid_spec(sizes)
    spec["dataset"] = dataset
    spec_file = work / "grid-spec.json"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    config = bench.write_yaml(work / "bench-overhead.yaml", bench.grid_config(spec))
    return spec_file, config, spec


def run_child(tool: str, variants: list[str], quick: bool, dataset: str, cprofile: str) -> dict:
    """One search in this process; returns its timings as a dict."""
    with tempfile.TemporaryDirectory(prefix="tunenet-profile-") as folder:
        return _run_child(Path(folder), tool, variants, quick, dataset, cprofile)


def _run_child(
    work: Path, tool: str, variants: list[str], quick: bool, dataset: str, cprofile: str
) -> dict:
    spec_file, config_file, spec = grid_files(work, quick, dataset)
    timers = Timers()
    import keras  # noqa: F401  (imports are not part of the measured search)
    import keras_tuner  # noqa: F401

    instrument_keras(timers, tool)
    if tool == "tunenet":
        from tunenet.config import load as loader
        from tunenet.runs import RunOptions
        from tunenet.tuning import tuner

        instrument_tunenet(timers)
        for name in variants:
            VARIANTS[name]()
        config = loader.load_config(config_file)
        options = RunOptions(config_path=config_file, runs_dir=work / "runs")

        def search() -> Any:
            return tuner.run_search(config, options, listeners=[quiet_progress()])
    else:
        import kt_script

        instrument_kt(timers)

        def search() -> Any:
            return kt_script.main(str(spec_file), str(work / "kt"))

    profiler = None
    if cprofile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    wall, cpu = time.perf_counter(), time.process_time()
    search()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(Path(cprofile) / f"{tool}.prof"))
    first = [epochs[0] for epochs in timers.epochs if epochs]
    steady = [e for epochs in timers.epochs for e in epochs[1:]]
    result = {
        "tool": tool,
        "variants": variants,
        "wall": wall,
        "cpu": cpu,
        "fits": len(timers.epochs),
        "epochs": sum(len(epochs) for epochs in timers.epochs),
        "first_epoch": statistics.median(first) if first else math.nan,
        "steady_epoch": statistics.median(steady) if steady else math.nan,
        "seconds": dict(timers.seconds),
        "calls": dict(timers.calls),
        "objectives": [],
    }
    trials_file = work / "runs" / "bench-overhead" / "trials.csv"
    if trials_file.exists():
        result["objectives"] = [
            (row["trial_id"], row["objective"], row["val_error"], row["train_error"])
            for row in bench.csv_rows(trials_file)
        ]
    return result


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def memory_child(variants: list[str], trials: int) -> dict:
    """The memory row's search, in this process, with RSS sampled after every trial."""
    from tunenet.config import load as loader
    from tunenet.runs import RunOptions
    from tunenet.tuning import tuner

    work = Path(tempfile.mkdtemp(prefix="tunenet-memory-"))
    sizes = bench.FULL
    data = bench.memory_config(sizes)
    data["search"]["max_trials"] = trials
    config_file = bench.write_yaml(work / "bench-memory.yaml", data)
    samples: list[float] = []
    for name in variants:
        VARIANTS[name]()
    after_each_trial(lambda: samples.append(rss_mb()))
    config = loader.load_config(config_file)
    options = RunOptions(config_path=config_file, runs_dir=work / "runs")
    wall = time.perf_counter()
    tuner.run_search(config, options, listeners=[quiet_progress()])
    wall = time.perf_counter() - wall
    shutil.rmtree(work, ignore_errors=True)
    return {"variants": variants, "rss": samples, "wall": wall}


def cmd_memory(args: argparse.Namespace) -> None:
    for name in ["", *[name for name in args.variants.split(",") if name]]:
        command = [
            sys.executable, __file__, "_memory", "--variants", name, "--trials", str(args.trials)
        ]  # fmt: skip
        done = subprocess.run(command, env=bench.ENV, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        rss = result["rss"]
        growth = rss[-1] - rss[4]
        print(
            f"| {name or 'baseline'} | {rss[4]:.0f} | {rss[-1]:.0f} | {growth:+.1f} | "
            f"{growth / (len(rss) - 5):.2f} | {max(rss):.0f} | {result['wall']:.1f} |",
            flush=True,
        )


def child(tool: str, variants: list[str], quick: bool, dataset: str, cprofile: str) -> dict:
    command = [
        sys.executable, __file__, "_child", tool, "--variants", ",".join(variants),
        "--dataset", dataset, *(["--quick"] if quick else []),
        *(["--cprofile", cprofile] if cprofile else []),
    ]  # fmt: skip
    done = subprocess.run(command, env=bench.ENV, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- reports


def profile_table(results: list[dict]) -> str:
    labels = sorted(
        {label for result in results for label in result["seconds"]},
        key=lambda label: -max(r["seconds"].get(label, 0.0) for r in results),
    )
    fits = [max(1, result["fits"]) for result in results]
    header = "| step | " + " | ".join(
        f"{r['tool']} s | per trial ms | %" for r in results
    )  # fmt: skip
    lines = [header + " |", "|---|" + "---|---|---|" * len(results)]
    for label in labels:
        cells = []
        for result, count in zip(results, fits, strict=True):
            value = result["seconds"].get(label)
            if value is None:
                cells.append("— | — | —")
            else:
                share = 100 * value / result["wall"]
                cells.append(f"{value:.3f} | {1000 * value / count:.0f} | {share:.1f}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    cells = []
    for result, count in zip(results, fits, strict=True):
        other = result["wall"] - sum(result["seconds"].values())
        cells.append(
            f"{other:.3f} | {1000 * other / count:.0f} | {100 * other / result['wall']:.1f}"
        )
    lines.append("| (not wrapped: keras-tuner loop, Python) | " + " | ".join(cells) + " |")
    lines.append(
        "| **search wall** | "
        + " | ".join(
            f"**{r['wall']:.3f}** | {1000 * r['wall'] / c:.0f} | 100"
            for r, c in zip(results, fits, strict=True)
        )
        + " |"
    )
    lines.append("")
    for result in results:
        lines.append(
            f"- {result['tool']}: {result['fits']} fits, {result['epochs']} epochs; "
            f"first epoch {1000 * result['first_epoch']:.0f} ms (tracing), steady epoch "
            f"{1000 * result['steady_epoch']:.0f} ms (median, validation included); "
            f"search CPU {result['cpu']:.2f} s for {result['wall']:.2f} s wall."
        )
    return "\n".join(lines)


def cmd_profile(args: argparse.Namespace) -> None:
    results = [
        child(tool, [], args.quick, args.dataset, args.cprofile) for tool in ("tunenet", "kt")
    ]
    print(profile_table(results))


def before_after(pairs: list, key: str, scale: float = 1.0, digits: int = 2) -> str:
    """`median before → median after (median of per-pair ratios)` of one measure."""
    before = statistics.median(b[key] for b, _ in pairs) * scale
    after = statistics.median(t[key] for _, t in pairs) * scale
    ratio = statistics.median(t[key] / b[key] for b, t in pairs)
    return f"{before:.{digits}f} → {after:.{digits}f} ({ratio:.3f})"


def cmd_compare(args: argparse.Namespace) -> None:
    """Baseline and each variant alternate in fresh processes; `a+b` applies both."""
    names = [name for name in args.variants.split(",") if name]
    for name in names:
        for part in name.split("+"):
            if part not in VARIANTS:
                raise SystemExit(f"unknown variant {part!r}; choose from {sorted(VARIANTS)}")
    print(
        f"grid on {args.dataset}{' (quick)' if args.quick else ''}, {args.repeat} pair(s); "
        "medians, ratio = median of per-pair ratios\n\n"
        "| variant | search wall s | search CPU s | first epoch ms | steady epoch ms "
        "| objectives |\n|---|---|---|---|---|---|",
        flush=True,
    )
    for name in names:
        base, test = [], []
        for _ in range(args.repeat):
            base.append(child("tunenet", [], args.quick, args.dataset, ""))
            test.append(child("tunenet", name.split("+"), args.quick, args.dataset, ""))
        pairs = list(zip(base, test, strict=True))
        same = all(b["objectives"] == t["objectives"] for b, t in pairs)

        cell = functools.partial(before_after, pairs)
        print(
            f"| {name} | {cell('wall')} | {cell('cpu')} | {cell('first_epoch', 1000, 0)} | "
            f"{cell('steady_epoch', 1000, 1)} | {'identical' if same else 'DIFFERENT'} |",
            flush=True,
        )
        if args.pairs:
            for b, t in pairs:
                print(
                    f"    pair: wall {b['wall']:.2f} → {t['wall']:.2f}, cpu {b['cpu']:.2f} → "
                    f"{t['cpu']:.2f}, first epoch {1000 * b['first_epoch']:.0f} → "
                    f"{1000 * t['first_epoch']:.0f} ms",
                    flush=True,
                )
        if not same:
            for b, t in zip(base[0]["objectives"], test[0]["objectives"], strict=False):
                if b != t:
                    print(f"    {b} vs {t}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quick", action="store_true", help="The --quick grid (2 trials).")
    common.add_argument("--dataset", default="wine", help="Built-in dataset of the grid.")
    p = sub.add_parser("profile", parents=[common])
    p.add_argument("--cprofile", default="", help="Also write cProfile stats into this folder.")
    c = sub.add_parser("compare", parents=[common])
    c.add_argument("variants", help=f"Comma-separated: {', '.join(VARIANTS)}.")
    c.add_argument("--repeat", type=int, default=3)
    c.add_argument("--pairs", action="store_true", help="Print every pair too.")
    m = sub.add_parser("memory", parents=[common])
    m.add_argument("variants", nargs="?", default="", help="Comma-separated memory variants.")
    m.add_argument("--trials", type=int, default=40)
    n = sub.add_parser("_memory")
    n.add_argument("--variants", default="")
    n.add_argument("--trials", type=int, default=40)
    k = sub.add_parser("_child", parents=[common])
    k.add_argument("tool", choices=("tunenet", "kt"))
    k.add_argument("--variants", default="")
    k.add_argument("--cprofile", default="")
    args = parser.parse_args()
    if args.command == "_child":
        variants = [name for name in args.variants.split(",") if name]
        result = run_child(args.tool, variants, args.quick, args.dataset, args.cprofile)
        print(json.dumps(result))
    elif args.command == "_memory":
        variants = [name for name in args.variants.split(",") if name]
        print(json.dumps(memory_child(variants, args.trials)))
    elif args.command == "memory":
        print(
            "| variant | RSS after trial 5 MB | at end MB | growth MB | MB per trial | peak MB "
            "| wall s |\n|---|---|---|---|---|---|---|",
            flush=True,
        )
        cmd_memory(args)
    elif args.command == "profile":
        cmd_profile(args)
    else:
        cmd_compare(args)


if __name__ == "__main__":
    main()
