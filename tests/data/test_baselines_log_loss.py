"""baselines.csv's newer columns (docs/run-format.md): each classification model's log loss, the
majority row being the class-prior model; each regression model's standard error; and files
written before those columns still read."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tunenet.data.baselines import fit_baselines
from tunenet.data.dataset import Dataset
from tunenet.runs import BASELINE_COLUMNS, RunDir, read_baseline_rows, write_baselines
from tunenet.runs.read import load_run

PRIOR_90_10 = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))  # the entropy of a 90/10 prior


def split_90_10(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.array([0] * (9 * n // 10) + [1] * (n // 10), dtype="int32")
    return rng.normal(size=(n, 3)).astype("float32"), y


def imbalanced() -> Dataset:
    rng = np.random.default_rng(0)
    (xt, yt), (xv, yv), (xs, ys) = (split_90_10(rng, n) for n in (200, 100, 50))
    return Dataset("npz", "binary", ["no", "yes"], ["a", "b", "c"], xt, yt, xv, yv, xs, ys)


def by_model(rows: list[dict]) -> dict[str, dict]:
    return {row["model"]: row for row in rows}


def test_the_majority_row_is_the_class_prior_model_with_its_log_loss(tmp_path: Path) -> None:
    rows = by_model(fit_baselines(imbalanced(), "standard", seed=0).rows)
    majority = rows["majority"]
    assert majority["val_error"] == pytest.approx(0.1)  # it answers the majority class
    assert majority["train_log_loss"] == pytest.approx(PRIOR_90_10, abs=1e-6)
    assert majority["val_log_loss"] == pytest.approx(PRIOR_90_10, abs=1e-6)
    # per-example losses: 90 of ln(1/0.9), 10 of ln(1/0.1); their standard error
    losses = np.array([-math.log(0.9)] * 90 + [-math.log(0.1)] * 10)
    expected = losses.std(ddof=1) / math.sqrt(len(losses))
    assert majority["val_log_loss_se"] == pytest.approx(expected, rel=1e-6)
    assert all(row.get("val_error_se") is None for row in rows.values())  # regression only
    run = RunDir(tmp_path)
    write_baselines(run, list(rows.values()))
    table = pd.read_csv(run.baselines_file).set_index("model")
    assert table.loc["majority", "val_log_loss"] == pytest.approx(PRIOR_90_10, abs=1e-6)
    assert math.isnan(table.loc["majority", "val_error_se"])  # empty cell


def test_a_class_the_fitted_rows_lack_costs_the_clipped_log_loss() -> None:
    dataset = imbalanced()
    dataset.classes = ["no", "yes", "maybe"]  # class 2 never appears
    dataset.task = "multiclass"
    dataset.y_val = dataset.y_val.copy()
    dataset.y_val[0] = 2
    majority = by_model(fit_baselines(dataset, "none", seed=0).rows)["majority"]
    # 89 rows of class 0 (p 0.9), 10 of class 1 (p 0.1), one of the unseen class (p clipped to 1e-7)
    expected = (-89 * math.log(0.9) - 10 * math.log(0.1) - math.log(1e-7)) / 100
    assert majority["val_log_loss"] == pytest.approx(expected, rel=1e-6)


def test_regression_rows_carry_the_standard_error_of_their_error() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(150, 2)).astype("float32")
    y = (x[:, 0] * 3 + rng.normal(size=150)).astype("float32")
    dataset = Dataset("npz", "regression", [], ["a", "b"], x[:100], y[:100], x[100:], y[100:],
                      x[:0], y[:0])  # fmt: skip
    rows = by_model(fit_baselines(dataset, "standard", seed=0).rows)
    per_example = (y[100:] - y[:100].mean()) ** 2 / y[:100].var()
    mean = rows["mean"]
    assert mean["val_error"] == pytest.approx(per_example.mean(), rel=1e-5)
    expected = per_example.std(ddof=1) / math.sqrt(len(per_example))
    assert mean["val_error_se"] == pytest.approx(expected, rel=1e-5)
    assert mean["test_error"] is None and mean.get("test_error_se") is None  # no test split
    assert all(row.get("val_log_loss") is None for row in rows.values())  # classification only


def test_a_five_column_file_still_reads_with_the_new_cells_unknown(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    run.baselines_file.write_text(
        "model,train_error,val_error,test_error,seconds\n"
        "majority,0.1,0.12,0.11,0.01\nlogistic,0.05,0.07,,0.02\n",
        encoding="utf-8",
    )
    rows = read_baseline_rows(run)
    assert [row["model"] for row in rows] == ["majority", "logistic"]
    assert rows[0]["val_error"] == 0.12 and rows[1]["test_error"] is None
    assert all(row[column] is None for row in rows for column in BASELINE_COLUMNS[5:])
    run.trials_file.write_text("trial_id,status,train_error,val_error\n0,completed,0.1,0.2\n")
    run.epochs_file.write_text("trial_id,epoch,loss,val_loss\n0,1,0.5,0.6\n")
    loaded = load_run(tmp_path)
    assert not loaded.warnings
    assert loaded.baselines.loc[0, "val_error"] == 0.12
    assert loaded.baselines["val_log_loss"].isna().all()


def test_a_resume_fits_again_a_file_written_before_the_log_losses(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from rich.console import Console

    from tunenet.config.load import validate_dict
    from tunenet.data.dataset import load_dataset
    from tunenet.reporting.progress import SearchProgress
    from tunenet.tuning import tuner  # imports TensorFlow, trains nothing

    config = validate_dict({"seed": 3, "data": {"source": "iris"}})
    run = RunDir(tmp_path)
    run.update_manifest(name="iris")
    run.baselines_file.write_text(
        "model,train_error,val_error,test_error,seconds\nmajority,0.6,0.6,0.6,0.01\n"
    )
    events = SearchProgress(Console(file=io.StringIO()), quiet=True)
    dataset = load_dataset(config)
    context = SimpleNamespace(
        run=run, config=config, dataset=dataset, events=events, class_weight=None
    )
    tuner._reference_baselines(context, resume=True)
    rows = by_model(read_baseline_rows(run))
    assert rows["majority"]["val_log_loss"] == pytest.approx(math.log(3), abs=1e-6)  # 1/3 each


def test_class_weights_weigh_logistic_and_boosting_like_the_network() -> None:
    # a small class whose signal is weak: unweighted, logistic regression answers the majority
    # almost always; weighted 9 to 1 it answers the small class far more often, paying accuracy
    rng = np.random.default_rng(1)
    splits = []
    for n in (400, 200, 100):
        y = np.array([0] * (9 * n // 10) + [1] * (n // 10), dtype="int32")
        x = rng.normal(size=(n, 3)).astype("float32")
        x[:, 0] += 0.8 * y
        splits += [x, y]
    dataset = Dataset("npz", "binary", ["no", "yes"], ["a", "b", "c"], *splits)
    plain = by_model(fit_baselines(dataset, "standard", seed=0).rows)
    fitted = fit_baselines(dataset, "standard", seed=0, class_weight={0: 1.0, 1: 9.0})
    weighted = by_model(fitted.rows)
    assert weighted["logistic"]["val_error"] > plain["logistic"]["val_error"] + 0.05
    assert weighted["majority"] == {**plain["majority"], "seconds": weighted["majority"]["seconds"]}
    assert "logistic and boosting weighted by training.class_weight" in fitted.manifest()["notes"]
