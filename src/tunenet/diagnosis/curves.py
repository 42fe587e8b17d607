"""What one trial's learning curve shows: diverged, still improving, overfitting, stopped early."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tunenet.runs.status import TrialStatus

# A loss larger than this multiple of its first value has blown up (diverged); so has a first
# epoch's loss larger than this multiple of the loss of a model that learned nothing.
BLOW_UP_FACTOR = 10.0
# Overfitting needs validation loss to rise for this many epochs after its minimum ...
OVERFIT_MIN_EPOCHS = 2
# ... and to end this much (relative) above the minimum, so noise on a plateau is not called one.
OVERFIT_MIN_RISE = 0.02


@dataclass(frozen=True)
class Finding:
    """Something a learning curve shows. kind: diverged | still_improving | overfitting |
    stopped_early; `epoch` is the epoch it refers to (1-based) when there is one."""

    kind: str
    epoch: int | None
    text: str


def curve_findings(
    curve: pd.DataFrame,
    *,
    status: str = TrialStatus.COMPLETED,
    best_epoch: int | None = None,
    epochs_trained: int | None = None,
    stopped_early: bool | None = None,
    epoch_limit: int | None = None,
    chance_loss: float | None = None,
) -> list[Finding]:
    """Findings of one trial's learning curve.

    Args:
        curve: one execution's rows, columns `epoch`, `loss`, `val_loss` (1-based epochs).
        status: the trial's status; "diverged" is a finding even without a curve.
        best_epoch: the trial's best epoch (default: where validation loss is lowest).
        epochs_trained: epochs the trial ran (default: the curve's last epoch).
        stopped_early: whether early stopping ended it (None: unknown).
        epoch_limit: `training.epochs`; None means a trial not stopped early hit its limit.
        chance_loss: the training loss of a model that learned nothing (the class-prior
            model's log loss; regression: the mean's normalized MSE, 1), when known: a first
            epoch whose loss is above 10x it diverged.

    A diverged curve gets only the divergence finding: the rest of it means little.
    """
    curve = curve.sort_values("epoch") if len(curve) else curve
    diverged = divergence(curve, status, chance_loss)
    if diverged:
        return [diverged]
    last = epochs_trained or _last_epoch(curve)
    best = best_epoch or _min_epoch(curve)
    found = [
        still_improving(best, last, stopped_early, epoch_limit)
        or still_improving(_min_epoch(curve), last, stopped_early, epoch_limit, "validation loss"),
        overfitting_start(curve),
        early_stop(last, best, stopped_early),
    ]
    return [finding for finding in found if finding]


def divergence(
    curve: pd.DataFrame, status: str = TrialStatus.COMPLETED, chance_loss: float | None = None
) -> Finding | None:
    """NaN/inf in loss or val_loss, a first epoch's training loss above 10x `chance_loss` (it
    blew up at once: the rest of the curve may be flat), or a training loss that grew past 10x
    its first value."""
    for column in ("loss", "val_loss"):
        values = _column(curve, column)
        bad = ~np.isfinite(values)
        if bad.any():
            epoch = int(curve["epoch"].to_numpy()[bad.argmax()])
            kind = "NaN" if np.isnan(values[bad.argmax()]) else "infinite"
            return Finding("diverged", epoch, f"diverged: {column} became {kind} at epoch {epoch}")
    loss = _column(curve, "loss")
    if len(loss) and chance_loss is not None and chance_loss > 0:
        if loss[0] > BLOW_UP_FACTOR * chance_loss:
            epoch = int(curve["epoch"].to_numpy()[0])
            text = (
                f"diverged: the training loss at epoch {epoch} was {loss[0]:.3g}, above "
                f"{BLOW_UP_FACTOR:g} × {chance_loss:.3g}, the loss of a model that learned nothing"
            )
            return Finding("diverged", epoch, text)
    if len(loss) > 1 and loss[0] > 0 and loss[1:].max() > BLOW_UP_FACTOR * loss[0]:
        index = 1 + int(np.argmax(loss[1:] > BLOW_UP_FACTOR * loss[0]))
        epoch = int(curve["epoch"].to_numpy()[index])
        text = f"diverged: loss grew from {loss[0]:.3g} to {loss[index]:.3g} by epoch {epoch}"
        return Finding("diverged", epoch, text)
    if status == TrialStatus.DIVERGED:
        return Finding("diverged", _last_epoch(curve), "diverged (recorded by the search)")
    return None


def still_improving(
    best_epoch: int | None,
    last_epoch: int | None,
    stopped_early: bool | None,
    epoch_limit: int | None,
    measure: str = "",
) -> Finding | None:
    """Best epoch is the last one and training hit its epoch limit: it should train longer.

    Args:
        measure: what `best_epoch` is the best of, for the text (default: the trial's best epoch).
    """
    if best_epoch is None or last_epoch is None or best_epoch < last_epoch:
        return None
    hit_limit = last_epoch >= epoch_limit if epoch_limit else stopped_early is not True
    if not hit_limit:
        return None
    where = f"{measure} was lowest at" if measure else "the best epoch is"
    text = f"still improving at the epoch limit: {where} the last ({last_epoch})"
    return Finding("still_improving", last_epoch, text)


def overfitting_start(curve: pd.DataFrame) -> Finding | None:
    """Validation loss lowest at epoch k, then rising for at least `OVERFIT_MIN_EPOCHS` epochs
    to end more than `OVERFIT_MIN_RISE` above that minimum."""
    val_loss = _column(curve, "val_loss")
    if len(val_loss) <= OVERFIT_MIN_EPOCHS:
        return None
    index = int(np.argmin(val_loss))
    after = val_loss[index + 1 :]
    lowest = val_loss[index]
    if len(after) < OVERFIT_MIN_EPOCHS or after[-1] <= lowest + OVERFIT_MIN_RISE * abs(lowest):
        return None
    epoch = int(curve["epoch"].to_numpy()[index])
    text = (
        f"overfitting began at epoch {epoch}: validation loss was lowest there ({lowest:.4g}) "
        f"and rose over the next {len(after)} epochs to {after[-1]:.4g}"
    )
    loss = _column(curve, "loss")
    if len(loss) == len(val_loss) and loss[-1] < loss[index]:
        text += " while training loss kept falling"
    return Finding("overfitting", epoch, text)


def early_stop(
    last_epoch: int | None, best_epoch: int | None, stopped_early: bool | None
) -> Finding | None:
    """Early stopping ended the trial at its last epoch."""
    if not stopped_early or last_epoch is None:
        return None
    best = f" (best epoch {best_epoch})" if best_epoch else ""
    return Finding("stopped_early", last_epoch, f"stopped early at epoch {last_epoch}{best}")


def _column(curve: pd.DataFrame, name: str) -> np.ndarray:
    if name not in curve.columns:
        return np.array([], dtype=float)
    return pd.to_numeric(curve[name], errors="coerce").to_numpy(dtype=float)


def _last_epoch(curve: pd.DataFrame) -> int | None:
    return int(curve["epoch"].max()) if len(curve) else None


def _min_epoch(curve: pd.DataFrame) -> int | None:
    val_loss = _column(curve, "val_loss")
    if not len(val_loss) or not np.isfinite(val_loss).any():
        return None
    return int(curve["epoch"].to_numpy()[np.nanargmin(val_loss)])
