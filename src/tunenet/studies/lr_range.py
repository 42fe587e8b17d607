"""The arithmetic of the learning-rate range test (`tunenet lr-find`, docs/guide.md), pure Python.

The rates grow exponentially over the steps; each step's loss is smoothed by a bias-corrected
exponential moving average (the `smoothed_loss` column). One rule says when the loss blew up
(`Watch`), read by the training loop (it stops there), the printed text and the plot (which
draws the rule's line): the loss is NaN or infinite, the smoothed loss exceeds BLOW_UP × its
lowest so far, or the batch loss exceeds BLOW_UP × the lowest level so far for SPIKE_RUN batches
in a row (a jump the moving average, which trails by tens of steps, would hide). The suggested
range is read on the loss's rolling median over a decade of rates, which does not lag
(`suggest`). `studies.lr_find` runs the test and writes its files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd

BETA = 0.98  # smoothing of the loss (an exponential moving average, bias-corrected)
BLOW_UP = 4.0  # the test stops when the smoothed loss exceeds this many times its minimum
MAX_BELOW_MINIMUM = 10.0  # the classic pick: a tenth of the lr where the loss is smallest
MIN_FALL = 0.9  # the loss must fall below this share of its start for a suggestion
SPIKE_RUN = 2  # batch losses above the line in a row that count as a blow-up (one can be noise)
MEDIAN = 5  # batches in the running median that keeps the line low after a high start


@dataclass
class Suggestion:
    """The suggested `optimizer.learning_rate` range and the learning rates behind it."""

    low: float
    high: float
    steepest: float  # lr where the loss (`decade_median`) falls fastest per decade of lr
    at_minimum: float  # lr where it is lowest


def learning_rates(min_lr: float, max_lr: float, steps: int) -> np.ndarray:
    """`steps` rates growing exponentially from min_lr (first step) to max_lr (last)."""
    return min_lr * (max_lr / min_lr) ** (np.arange(steps) / (steps - 1))


class Smoother:
    """Exponential moving average of the loss, bias-corrected (as in Adam): step k's value is
    avg_k / (1 − β^k), so the first steps are not pulled towards 0."""

    def __init__(self, beta: float = BETA):
        self.beta, self.average, self.count = beta, 0.0, 0

    def add(self, loss: float) -> float:
        self.count += 1
        self.average = self.beta * self.average + (1 - self.beta) * loss
        return self.average / (1 - self.beta**self.count)


def stop_reason(smoothed: float, lowest: float) -> Optional[str]:
    """Why the test stops after this step on the smoothed loss, or None to go on."""
    if not math.isfinite(smoothed):
        return "stopped: the loss became NaN or infinite"
    if smoothed > BLOW_UP * lowest:
        return f"stopped: the smoothed loss exceeded {BLOW_UP:g}× its minimum"
    return None


class Watch:
    """The blow-up rule of the module docstring, one batch loss at a time. Its line is BLOW_UP ×
    the lowest level so far: the lower of the smoothed loss and the median of the last MEDIAN
    batch losses (after a high start the moving average stays high for tens of steps; the
    median does not, so a later jump is still seen)."""

    def __init__(self) -> None:
        self.smoother, self.above = Smoother(), 0
        self.lowest_smoothed = self.lowest = math.inf
        self.recent: list[float] = []
        self.line = math.inf  # after the last step

    def add(self, loss: float) -> tuple[float, Optional[str]]:
        """The smoothed loss of this step and why the test stops here (None: go on)."""
        if not math.isfinite(loss):
            return math.nan, "stopped: the loss became NaN or infinite"
        smoothed = self.smoother.add(loss)
        self.lowest_smoothed = min(self.lowest_smoothed, smoothed)
        reason = stop_reason(smoothed, self.lowest_smoothed)
        self.recent = (self.recent + [loss])[-MEDIAN:]
        level = float(np.median(self.recent)) if len(self.recent) == MEDIAN else math.inf
        self.lowest = min(self.lowest, smoothed, level)
        self.line = BLOW_UP * self.lowest
        self.above = self.above + 1 if loss > self.line else 0
        if reason is None and self.above >= SPIKE_RUN:
            reason = (
                f"stopped: the loss exceeded {BLOW_UP:g}× its lowest level for "
                f"{SPIKE_RUN} batches in a row"
            )
        return smoothed, reason


def blow_up_line(losses: list[float]) -> np.ndarray:
    """The rule's line at each step (what the plot draws): `Watch` replayed on the losses."""
    watch, line = Watch(), []
    for loss in losses:
        watch.add(loss)
        line.append(watch.line if math.isfinite(loss) else math.nan)
    return np.array(line, dtype=float)


def spikes(losses: list[float]) -> list[int]:
    """Steps whose batch loss is above the rule's line without making a blow-up (a run shorter
    than SPIKE_RUN): the plot shows them, so the text names them too."""
    line = blow_up_line(losses)
    above = [i for i, loss in enumerate(losses) if math.isfinite(loss) and loss > line[i]]
    end = len(losses) - 1
    while above and above[-1] == end:  # the run that stopped the test is the blow-up itself
        above.pop()
        end -= 1
    return above


def high_start(losses: list[float]) -> Optional[float]:
    """The first loss when it is above BLOW_UP × the median of the next MEDIAN batches: a loss
    that starts far above where it lands a few batches later, at rates too small to learn much
    (inputs not normalized, a large initialization). The plot shows that spike; the rule,
    measured from the lowest level so far, does not call it a blow-up. None otherwise."""
    following = [loss for loss in losses[1 : 1 + MEDIAN] if math.isfinite(loss)]
    if not following or not math.isfinite(losses[0]):
        return None
    return losses[0] if losses[0] > BLOW_UP * float(np.median(following)) else None


def decade_median(rates: list[float], losses: list[float]) -> np.ndarray:
    """The loss's rolling median over one decade of learning rates, centred on each step:
    smooth like `smoothed_loss` but without its lag (an EMA with β = 0.98 trails the loss by
    tens of steps, i.e. by decades of lr), and unmoved by single spikes."""
    per_decade = 1 / math.log10(rates[1] / rates[0]) if len(rates) > 1 else 1
    window = max(3, int(round(per_decade)) | 1)  # odd, so that it is centred
    series = pd.Series(losses, dtype=float).where(np.isfinite(losses))
    return series.rolling(window, center=True, min_periods=1).median().to_numpy()


def suggest(rates: list[float], losses: list[float]) -> Optional[Suggestion]:
    """The range from where the loss falls fastest to before it blows up (see `decade_median`
    for the curve used).

    `steepest`: the lr where the curve falls fastest per decade of lr (its slope over one
    decade), before its minimum; `at_minimum`: the lr of that minimum, where the loss stops
    falling — a tenth of it is the classic pick below the blow-up. The range spans both picks,
    and at least one decade: `high` = the larger of the two, `low` = the smaller, lowered to
    `high` / 10 when closer. None when the curve never fell by 10% (nothing to suggest).
    """
    curve = decade_median(rates, losses)
    if np.isnan(curve).all():
        return None
    lowest = int(np.nanargmin(curve))
    first = float(np.nanmedian(curve[: max(3, lowest // 4)]))
    if lowest < 2 or not curve[lowest] < MIN_FALL * first:
        return None
    logs = np.log10(np.asarray(rates, dtype=float))
    half = max(1, int(round(1 / (logs[1] - logs[0]) / 2)))  # half a decade, in steps
    steps = np.arange(lowest + 1)
    before, after = np.clip(steps - half, 0, None), np.clip(steps + half, None, lowest)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (curve[after] - curve[before]) / (logs[after] - logs[before])
    steepest = float(rates[int(np.nanargmin(np.where(after > before, slope, np.nan)))])
    at_minimum = float(rates[lowest])
    picks = sorted((steepest, at_minimum / MAX_BELOW_MINIMUM))
    high = picks[1]
    low = min(picks[0], high / 10)
    return Suggestion(round2(low), round2(high), steepest, at_minimum)


def round2(value: float) -> float:
    """Two significant digits: a config reads 0.0012, not 0.00123456."""
    return float(f"{value:.2g}")


def range_text(s: Suggestion) -> str:
    return f"{{min: {yaml_number(s.low)}, max: {yaml_number(s.high)}, sampling: log}}"


MIN_GRID_RATES, MAX_GRID_RATES = 3, 5


def grid_rates(s: Suggestion) -> list[float]:
    """Rates evenly spaced on a log scale from `low` to `high`, both included, two significant
    digits: a grid search needs a list. About two per decade, 3 to 5 in all, so that the grid
    grows at most 5-fold."""
    decades = math.log10(s.high / s.low)
    count = min(MAX_GRID_RATES, max(MIN_GRID_RATES, 1 + round(2 * decades)))
    rates = np.geomspace(s.low, s.high, count)
    return list(dict.fromkeys(round2(float(rate)) for rate in rates))


def list_text(rates: list[float]) -> str:
    return "[" + ", ".join(yaml_number(rate) for rate in rates) + "]"


def yaml_number(value: float) -> str:
    """A float that every YAML reader takes as one: 1.0e-05, never 1e-05 (a string in YAML
    1.1)."""
    text = f"{value:g}"
    mantissa, _, exponent = text.partition("e")
    if exponent and "." not in mantissa:
        text = f"{mantissa}.0e{exponent}"
    return text
