"""`tunenet export RUN --to tensorboard`: event files read back with TensorBoard's own reader
(scalars per epoch, HParams), written again without doubling, beside in-process logs."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from tunenet.studies.export_tensorboard import SUFFIX, export_tensorboard

from .export_helpers import LOSSES, grow_run, make_run, set_status

# TensorBoard's reader loads TensorFlow when it can (seconds) at its first read; its stub reads
# event files as well, and a module named tensorboard.compat.notf selects it.
sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))


def read(folder: Path) -> EventAccumulator:
    events = EventAccumulator(str(folder))
    events.Reload()
    return events


def scalars(events: EventAccumulator, tag: str) -> list[tuple[int, float]]:
    return [(e.step, round(e.value, 5)) for e in events.Scalars(tag)]


def losses(trial: str, execution: int) -> list[tuple[int, float]]:
    return sorted(
        (epoch, round(loss, 5))
        for (t, e, epoch), loss in LOSSES.items()
        if t == trial and e == execution
    )


def hparams(events: EventAccumulator) -> plugin_data_pb2.HParamsPluginData:
    content = events.PluginTagToContent("hparams")
    assert len(content) == 1
    return plugin_data_pb2.HParamsPluginData.FromString(next(iter(content.values())))


def test_every_trial_gets_per_epoch_scalars_and_its_hyperparameters(tmp_path, cli):
    run = make_run(tmp_path)
    result = cli("export", run, "--to", "tensorboard")
    assert result.exit_code == 0, result.output
    logdir = run / "tensorboard"  # the default
    assert f"tensorboard --logdir {logdir}" in result.stdout
    assert sorted(p.name for p in logdir.iterdir() if p.is_dir()) == [
        "trial_0",
        "trial_1",
        "trial_2",
    ]

    trial_1 = read(logdir / "trial_1")
    assert scalars(trial_1, "loss") == losses("1", 0)  # step = epoch
    assert scalars(trial_1, "loss_exec1") == losses("1", 1)  # the second execution
    assert scalars(trial_1, "final_val_error") == [(0, 0.575)]
    session = hparams(trial_1).session_start_info
    assert session.group_name == "trial_1"
    assert session.hparams["model.units.0"].number_value == 32
    assert session.hparams["optimizer.learning_rate"].number_value == pytest.approx(0.01)
    trial_0 = read(logdir / "trial_0")
    assert scalars(trial_0, "layers/dense_0/weight_norm") == [(1, 2.0), (2, 3.0), (3, 4.0)]
    assert scalars(trial_0, "objective") == [(0, 0.65)]

    experiment = hparams(read(logdir)).experiment  # the HParams dashboard's columns
    assert [h.name for h in experiment.hparam_infos] == ["model.units.0", "optimizer.learning_rate"]
    assert "final_val_error" in [m.name.tag for m in experiment.metric_infos]


def test_exporting_again_replaces_its_files_and_keeps_the_in_process_logs(tmp_path):
    run = make_run(tmp_path)
    logdir = tmp_path / "tb"
    in_process = logdir / "trial_0" / "execution_0" / "events.out.tfevents.1.host.1.v2"
    in_process.parent.mkdir(parents=True)
    in_process.write_bytes(b"")  # what `tunenet search --tensorboard` left there
    export_tensorboard(run, logdir=logdir)
    export_tensorboard(run, logdir=logdir)
    assert len(list((logdir / "trial_0").glob(f"*{SUFFIX}"))) == 1
    assert in_process.exists()
    assert scalars(read(logdir / "trial_0"), "loss") == losses("0", 0)  # once, not twice


def test_follow_writes_each_trial_once_it_ended_and_stops_with_the_run(tmp_path):
    run = make_run(tmp_path, status="running")

    def search():
        grow_run(run, pause=lambda: time.sleep(0.03))
        set_status(run, "completed")

    writer = threading.Thread(target=search)
    writer.start()
    try:
        result = export_tensorboard(run, follow_run=True, poll_seconds=0.05)
    finally:
        writer.join()
    assert result.trials == ["0", "1", "2"]
    trial_1 = read(run / "tensorboard" / "trial_1")
    assert scalars(trial_1, "loss_exec1") == losses("1", 1)


def test_the_command_writes_into_logdir_without_importing_tensorflow(tmp_path):
    run, logdir = make_run(tmp_path), tmp_path / "elsewhere"
    code = (
        "import sys\n"
        "from tunenet.cli import app\n"
        "try:\n"
        f"    app(['export', {str(run)!r}, '--to', 'tensorboard', '--logdir', {str(logdir)!r}])\n"
        "except SystemExit as end:\n"
        "    print('exit', end.code)\n"
        "print('tensorflow' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.splitlines()[-2:] == ["exit 0", "False"], done.stderr
    assert f"exported 3 trials to {logdir}" in done.stdout
    assert scalars(read(logdir / "trial_0"), "loss") == losses("0", 0)
    assert not (run / "tensorboard").exists()
