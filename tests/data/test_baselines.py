"""Reference baselines (docs/report.md): fitted on the search's split, scored like the network,
written to baselines.csv, reused on resume. No training of networks except the e2e test."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from rich.console import Console

from tunenet.config.load import validate_dict
from tunenet.data import baselines as baselines_module
from tunenet.data.baselines import fit_baselines
from tunenet.data.dataset import Dataset, load_dataset
from tunenet.reporting.progress import SearchProgress
from tunenet.runs import BASELINE_COLUMNS, RunDir, read_baseline_rows, write_baselines


def dataset_of(source: str, **data) -> tuple[Dataset, object]:
    config = validate_dict({"seed": 3, "data": {"source": source, **data}})
    return load_dataset(config), config


def by_model(rows: list[dict]) -> dict[str, dict]:
    return {row["model"]: row for row in rows}


@pytest.mark.parametrize("source", ["iris", "wine"])
def test_classification_baselines_beat_the_majority_class(source: str, tmp_path: Path) -> None:
    dataset, config = dataset_of(source)
    fitted = fit_baselines(dataset, config.data.normalize, config.seed)
    rows = by_model(fitted.rows)
    assert list(rows) == ["majority", "logistic", "boosting"] and not fitted.skipped
    for row in fitted.rows:
        for split in ("train", "val", "test"):
            assert 0 <= row[f"{split}_error"] <= 1
    assert rows["logistic"]["val_error"] < rows["majority"]["val_error"] - 0.3
    run = RunDir(tmp_path)
    write_baselines(run, fitted.rows)
    with open(run.baselines_file, newline="") as file:
        assert tuple(next(csv.reader(file))) == BASELINE_COLUMNS
    assert [row["model"] for row in read_baseline_rows(run)] == list(rows)


STEPS = ["majority 1/3", "logistic 2/3", "boosting 3/3"]


def test_each_baseline_is_told_before_it_is_fitted() -> None:
    told: list[str] = []
    fit_baselines(*dataset_of("iris")[:1], "standard", seed=0, status=told.append)
    assert told == [f"fitting 3 baselines ({name})" for name in STEPS]
    told.clear()  # boosting left out: two to fit
    fit_baselines(images(40, 65), "standard", seed=0, status=told.append)
    assert told == ["fitting 2 baselines (majority 1/2)", "fitting 2 baselines (logistic 2/2)"]


def test_regression_baselines_on_diabetes() -> None:
    dataset, config = dataset_of("diabetes")
    fitted = fit_baselines(dataset, config.data.normalize, config.seed)
    rows = by_model(fitted.rows)
    assert list(rows) == ["mean", "linear", "boosting"]
    assert rows["mean"]["train_error"] == pytest.approx(1.0, abs=1e-6)  # MSE / var(y_train)
    assert 0.7 < rows["mean"]["val_error"] < 1.4  # 1 up to the noise of 88 examples
    assert rows["linear"]["val_error"] < rows["mean"]["val_error"] - 0.2


def test_a_csv_with_a_text_column_is_one_hot_encoded(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    colors = rng.choice(["red", "green", "blue"], size=300)
    path = tmp_path / "table.csv"
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["noise", "color", "label"])
        for value, color in zip(rng.normal(size=300), colors):
            writer.writerow([f"{value:.3f}", color, "yes" if color == "red" else "no"])
    dataset, config = dataset_of("csv", path=str(path), target="label")
    assert dataset.columns
    rows = by_model(fit_baselines(dataset, config.data.normalize, config.seed).rows)
    assert rows["logistic"]["val_error"] == 0 and rows["boosting"]["val_error"] == 0
    assert rows["majority"]["val_error"] > 0.2


def images(n: int, side: int, classes: int = 2) -> Dataset:
    rng = np.random.default_rng(1)
    y = np.arange(n) % classes

    def x(count: int) -> np.ndarray:
        return rng.random((count, side, side, 1), dtype="float32")

    return Dataset("npz", "binary", ["a", "b"], [], x(n), y, x(n), y, x(0), y[:0])


def test_images_larger_than_4096_values_skip_boosting() -> None:
    fitted = fit_baselines(images(40, 65), "standard", seed=0)  # 65 × 65 = 4225 values
    assert [row["model"] for row in fitted.rows] == ["majority", "logistic"]
    assert fitted.skipped == ["boosting: input of 4,225 values (> 4,096)"]
    assert all(row["test_error"] is None for row in fitted.rows)  # no test split


def test_a_failing_baseline_is_left_out_with_the_reason() -> None:
    dataset = images(30, 4)
    dataset.y_train = np.zeros(30, dtype="int32")  # one class: logistic regression refuses
    fitted = fit_baselines(dataset, "none", seed=0)
    assert "majority" in by_model(fitted.rows)
    assert any(reason.startswith("logistic: ValueError") for reason in fitted.skipped)


def test_large_training_splits_are_subsampled_and_say_so(monkeypatch) -> None:
    monkeypatch.setattr(baselines_module, "MAX_ROWS", 50)
    dataset, config = dataset_of("iris")
    fitted = fit_baselines(dataset, config.data.normalize, config.seed)
    assert (fitted.fitted_rows, fitted.train_rows) == (50, 90)
    assert "fitted on 50 of 90 training rows" in fitted.summary()
    assert fitted.manifest() == {"fitted_rows": 50, "train_rows": 90, "notes": [], "skipped": []}


def test_boosting_work_is_capped_on_wide_inputs() -> None:
    iterations, why = baselines_module.boosting_iterations(784, trees=10)  # mnist
    assert iterations == 12 and why == "784 input values × 10 classes, to take seconds"
    assert baselines_module.boosting_iterations(3072, trees=10)[0] is None  # cifar10
    assert baselines_module.boosting_iterations(64, trees=10)[0] == 100  # digits
    fitted = fit_baselines(images(40, 40, classes=2), "standard", seed=0)  # 1,600 values
    assert fitted.notes == ["boosting: 62 of 100 iterations (1,600 input values, to take seconds)"]
    assert fitted.summary().endswith(fitted.notes[0])


def test_summary_line_is_best_first() -> None:
    rows = [
        {"model": "majority", "val_error": 0.899},
        {"model": "logistic", "val_error": 0.028},
    ]
    line = baselines_module.Baselines(rows, 10, 10, 3.14).summary()
    assert line == "baselines (3.1 s): logistic 2.8%, majority 89.9% validation error"


def test_unreadable_or_incomplete_files_are_not_reused(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    assert read_baseline_rows(run) is None  # missing
    run.baselines_file.write_text("model,val_error\nlogistic,0.1\n")
    assert read_baseline_rows(run) is None  # a column missing
    run.baselines_file.write_text(",".join(BASELINE_COLUMNS) + "\nlogistic,0.1,abc,,1\n")
    assert read_baseline_rows(run) is None  # not a number
    write_baselines(run, [{"model": "logistic", "train_error": 0.1, "val_error": 0.2}])
    assert read_baseline_rows(run) == [
        {"model": "logistic", "train_error": 0.1, "val_error": 0.2, "test_error": None,
         "seconds": None, "train_error_se": None, "val_error_se": None, "test_error_se": None,
         "train_log_loss": None, "val_log_loss": None, "val_log_loss_se": None}
    ]  # fmt: skip


def search_context(tmp_path: Path) -> SimpleNamespace:
    dataset, config = dataset_of("iris")
    run = RunDir(tmp_path)
    run.update_manifest(name="iris")
    return SimpleNamespace(run=run, config=config, dataset=dataset, class_weight=None)


def test_search_start_fits_them_and_a_resume_reuses_them(tmp_path: Path, monkeypatch) -> None:
    from tunenet.tuning import tuner  # imports TensorFlow, trains nothing

    context = search_context(tmp_path)
    log = io.StringIO()
    console = Console(file=log, width=200)
    context.events = SearchProgress(console)
    tuner._reference_baselines(context, resume=False)
    lines = log.getvalue().splitlines()  # the statuses while fitting, then what they found
    assert lines[:3] == [f"fitting 3 baselines ({name})" for name in STEPS]
    assert lines[3].startswith("baselines (")
    assert context.run.read_manifest()["baselines"]["train_rows"] == 90
    written = context.run.baselines_file.read_text()

    def refit(*args: object) -> None:
        raise AssertionError("a resume must reuse baselines.csv")

    monkeypatch.setattr(tuner, "fit_baselines", refit)
    context.events = SearchProgress(console, quiet=True)
    tuner._reference_baselines(context, resume=True)
    assert context.run.baselines_file.read_text() == written


def test_a_resume_without_a_complete_file_fits_them(tmp_path: Path) -> None:
    from tunenet.tuning import tuner

    context = search_context(tmp_path)
    context.run.baselines_file.write_text("model,train_error\n")  # cut by a crash
    log = io.StringIO()
    context.events = SearchProgress(Console(file=log), quiet=True)
    tuner._reference_baselines(context, resume=True)
    assert read_baseline_rows(context.run) is not None
    assert log.getvalue() == ""  # quiet: no line


@pytest.mark.e2e
def test_a_search_writes_baselines_and_reports_them(write_config, cli, tmp_path: Path) -> None:
    config = write_config(
        """
        name: iris-baselines
        seed: 1
        data: {source: iris}
        model: {layers: 1, units: 8}
        training: {epochs: 2}
        search: {max_trials: 1}
        """
    )
    result = cli("search", config, "--runs-dir", tmp_path, "--quiet")
    assert result.exit_code == 0, result.stderr
    run = tmp_path / "iris-baselines"
    assert [row["model"] for row in read_baseline_rows(RunDir(run))] == [
        "majority",
        "logistic",
        "boosting",
    ]
    report = cli("report", run, "--format", "markdown", "--no-plots")
    assert "Baselines: your network" in report.stdout
    assert "auto: " in report.stdout  # the target error came from the baselines
