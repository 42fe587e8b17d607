"""The run directory's file names, and the statuses of trials.csv."""

from __future__ import annotations

from pathlib import Path

from tunenet.runs import FINAL_STATUSES, RunDir, RunLock, TrialStatus, csv_line


def test_trial_status_values_are_the_strings_of_trials_csv() -> None:
    assert [status.value for status in TrialStatus] == [
        "completed",
        "diverged",
        "failed",
        "interrupted",
        "pruned",
        "infeasible",
    ]
    assert TrialStatus("failed") is TrialStatus.FAILED
    assert TrialStatus.COMPLETED == "completed" and f"{TrialStatus.PRUNED}" == "pruned"
    assert csv_line(["01", TrialStatus.DIVERGED]) == "01,diverged\n"


def test_an_interrupted_trial_is_not_final() -> None:
    assert set(FINAL_STATUSES) == {"completed", "diverged", "failed", "pruned", "infeasible"}
    assert "interrupted" not in FINAL_STATUSES


def test_run_dir_file_names() -> None:
    run = RunDir(Path("runs/x"))
    names = {
        "config_file": "config.yaml",
        "resolved_file": "resolved.yaml",
        "manifest_file": "manifest.json",
        "trials_file": "trials.csv",
        "epochs_file": "epochs.csv",
        "layers_file": "layers.csv",
        "baselines_file": "baselines.csv",
        "learning_curve_file": "learning_curve.csv",
        "lock_file": ".lock",
        "best_model_file": "best/model.keras",
        "confusion_file": "best/confusion.json",
        "report_dir": "report",
        "tuner_dir": "tuner",
        "workers_dir": "tuner/workers",
        "warm_start_dir": "tuner/warm_start",
        "tensorboard_dir": "tensorboard",
    }
    assert {key: getattr(run, key) for key in names} == {
        key: Path("runs/x") / name for key, name in names.items()
    }
    assert run.name == "x"
    assert run.heartbeat_file("w1") == Path("runs/x/tuner/workers/w1.heartbeat")
    assert run.worker_log(0) == Path("runs/x/tuner/workers/tuner0.log")
    assert run.worker_pid_file(0) == Path("runs/x/tuner/workers/tuner0.pid")
    assert run.warm_start_file("03") == Path("runs/x/tuner/warm_start/trial_03.weights.h5")
    assert run.tensorboard_trial_dir("03", 1) == Path("runs/x/tensorboard/trial_03/execution_1")


def test_update_manifest_keeps_the_other_keys(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    run.update_manifest(format_version=1, status="running")
    assert run.update_manifest(status="completed") == {
        "format_version": 1,
        "status": "completed",
    }
    assert run.read_manifest()["status"] == "completed"


def test_run_lock_uses_the_lock_file(tmp_path: Path) -> None:
    with RunLock(tmp_path) as lock:
        assert lock.path == RunDir(tmp_path).lock_file and lock.path.exists()
