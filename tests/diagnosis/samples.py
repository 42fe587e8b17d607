"""Data shared by the diagnosis tests: the spec's worked thresholds and a small search."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tunenet.config.objective import Objective
from tunenet.diagnosis.capacity import CapacityStep
from tunenet.diagnosis.labels import Thresholds

WORKED = Thresholds(target_error=0.13, bias_threshold=0.05, variance_threshold=0.05)
ACCURACY = Objective("val_accuracy", "max")


def search_trials() -> pd.DataFrame:
    """Six completed trials: more dropout and more units did better."""
    return pd.DataFrame(
        {
            "trial_id": [f"{i:02d}" for i in range(7)],
            "status": ["completed"] * 6 + ["diverged"],
            "hp.regularization.dropout": [0.0, 0.0, 0.2, 0.2, 0.5, 0.5, 0.5],
            "hp.model.units.0": [16, 32, 64, 64, 128, 128, 16],
            "hp.model.units.1": [np.nan, 32, np.nan, 64, 128, np.nan, np.nan],
            "hp.optimizer.name": ["sgd", "adam", "sgd", "adam", "adam", "adam", "sgd"],
            "objective": [0.70, 0.72, 0.80, 0.82, 0.90, 0.91, np.nan],
        }
    )


def trials_of(hps: dict[str, list], train: list[float], val: list[float], **extra) -> pd.DataFrame:
    """Completed classification trials: `hp.` columns, errors, val_accuracy as the objective."""
    count = len(train)
    table = pd.DataFrame(
        {
            "trial_id": [f"{i:02d}" for i in range(count)],
            "status": "completed",
            **{f"hp.{name}": values for name, values in hps.items()},
            "train_error": train,
            "val_error": val,
            **extra,
        }
    )
    table["val_accuracy"] = 1 - table["val_error"]
    table["objective"] = table["val_accuracy"]
    return table


def random_search(seed: int, count: int = 40) -> pd.DataFrame:
    """A random search where the learning rate moves the error by 10 points and
    `training.batch_size` (32 or 33) does nothing; seed and split noise of about 2 points."""
    rng = np.random.default_rng(seed)
    rates = rng.choice([1e-3, 1e-1], count)
    batch = rng.choice([32, 33], count)
    train = 0.10 + 0.10 * (rates == 1e-1) + rng.normal(0, 0.02, count)
    val = train + 0.05 + rng.normal(0, 0.02, count)
    hps = {"optimizer.learning_rate": rates, "training.batch_size": batch}
    return trials_of(hps, train, val, val_n=300, train_n=900)


def capacity_steps(scores: list[float | None]) -> list[CapacityStep]:
    return [
        CapacityStep(
            f"{i:02d}", "completed" if s is not None else "failed", 1, (2**i,), s, None, None
        )  # fmt: skip
        for i, s in enumerate(scores)
    ]
