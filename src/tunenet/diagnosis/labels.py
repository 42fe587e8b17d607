"""One trial's diagnosis (docs/report.md): avoidable bias and variance against their
thresholds, each asserted only where its 95% interval clears zero, and `not learning` at chance.

Each part is decided on its own. A part above its threshold whose interval clears zero is
asserted; one above its threshold whose interval includes zero is uncertain (`uncertain` lists
it, `reason` says why and what would settle it). Without intervals (a run that records no split
sizes) the point values decide, as before intervals existed.

`not learning` comes first: a train error not clearly below chance (the high end of its interval
at or above the error of the majority class; regression: of the mean) says nothing about bias or
variance, and the fixes for those (dropout, more data) would not help. For classification the
validation log loss speaks too: on imbalanced classes a model can learn real probabilities while
its accuracy stays at the majority class's, so a log loss clearly below the class-prior model's
means learning whatever the accuracy. A completed trial whose curve diverged is `diverged`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from tunenet.diagnosis.curves import Finding
from tunenet.diagnosis.intervals import Interval, Z, difference_ci, half_width
from tunenet.diagnosis.text import finite, percent, percent_ci, points, points_ci, with_ci
from tunenet.runs.status import TrialStatus

GOOD_FIT = "good fit"
HIGH_BIAS = "high bias"
HIGH_VARIANCE = "high variance"
BOTH = "high bias and high variance"
NOT_LEARNING = "not learning"
UNCERTAIN = "uncertain"
# A trial that did not finish training is labelled by its status (trials.csv `status`): plain
# strings, as the report writes its labels.
DIVERGED = TrialStatus.DIVERGED.value
FAILED = TrialStatus.FAILED.value
PRUNED = TrialStatus.PRUNED.value
FIT_LABELS = (GOOD_FIT, HIGH_BIAS, HIGH_VARIANCE, BOTH, NOT_LEARNING, UNCERTAIN)
STATUS_LABELS = (DIVERGED, FAILED, PRUNED)
LABELS = FIT_LABELS + STATUS_LABELS
BIAS, VARIANCE = "bias", "variance"  # the parts `uncertain` lists

# Differences are rounded for display: 0.17 - 0.12 is 0.05000000000000002.
DECIMALS = 9
# Errors come from Keras' float32 metrics (1 - accuracy: 4/80 is stored as 0.050000012), so a
# comparison with a threshold or with zero allows this much: far below any printed digit.
TOLERANCE = 1e-6
BEATS_TARGET_WORDS = (
    "below target beyond the noise: the target is not a floor; revisit diagnosis.target_error"
)
FIXES = {
    "validation": "a larger data.split.validation narrows it; search.executions_per_trial above 1 "
    "also averages out the run-to-run variation",
    "training": "more training examples narrow it; search.executions_per_trial above 1 also "
    "averages out the run-to-run variation",
}


@dataclass(frozen=True)
class Thresholds:
    """What the errors are compared with (fractions: 0.05 is 5 %)."""

    target_error: float
    bias_threshold: float
    variance_threshold: float
    target_ci: Interval | None = None  # a measured target's own 95% interval (None: exact)


@dataclass(frozen=True)
class Noise:
    """How precisely a trial's errors are known: their 95% intervals (None: unknown) and the
    split sizes behind them. `proportions`: classification errors (differences by Newcombe's
    method); False for regression's normalized MSE (normal intervals)."""

    train_ci: Interval | None = None
    val_ci: Interval | None = None
    train_n: int | None = None
    val_n: int | None = None
    proportions: bool = True


@dataclass(frozen=True)
class LogLoss:
    """A validation log loss (mean natural-log loss per example) and its standard error (None:
    unknown)."""

    value: float
    se: float | None = None
    whose: str = "the class prior's"  # the reference model, for the words


@dataclass(frozen=True)
class Chance:
    """The train error of a model that learned nothing, and what it is (a noun phrase for the
    report: "the majority class (baselines.csv)"). `log_loss`: the class-prior model's
    validation log loss (classification, when baselines.csv has it)."""

    error: float
    source: str
    log_loss: LogLoss | None = None


@dataclass(frozen=True)
class FitDiagnosis:
    """Bias and variance of one trial. `label` is one of `FIT_LABELS` (or `diverged` for a
    completed trial whose curve diverged, `with_curve`); `high_bias` and
    `high_variance` are the parts asserted (above the threshold and clear of the noise);
    `uncertain` the parts above their threshold but inside the noise; `reason` says why a label
    is uncertain, not learning, or less sure than it looks (None: nothing to add)."""

    avoidable_bias: float
    variance: float
    high_bias: bool
    high_variance: bool
    label: str
    bias_ci: Interval | None = None
    variance_ci: Interval | None = None
    uncertain: tuple[str, ...] = ()
    reason: str | None = None

    @property
    def beats_target(self) -> bool:
        """Train error below the target beyond the noise: the bias interval's high end is below
        zero (False without an interval: nothing says it is beyond the noise)."""
        return self.bias_ci is not None and self.bias_ci[1] < -TOLERANCE

    @property
    def explanation(self) -> str:
        """The two parts in words: "avoidable bias 2.1 pts below target ± 1.8, train-to-
        validation gap +3.0 pts ± 8.3", and what a train error below the target beyond the
        noise means."""
        text = (
            f"avoidable bias {bias_words(self.avoidable_bias, self.bias_ci)}, "
            f"train-to-validation gap {points_ci(self.variance, self.variance_ci)}"
        )
        return text + f"; {BEATS_TARGET_WORDS}" if self.beats_target else text


def bias_words(bias: float, ci: Interval | None = None) -> str:
    """Avoidable bias in words: "+13.0 pts ± 2.7"; below zero "2.1 pts below target ± 1.8"
    (never a bare negative number); "at target" when it rounds to 0.0. A lopsided interval
    follows as signed ends: "at target [+0.0, +2.0]"."""
    if f"{abs(bias) * 100:.1f}" == "0.0":
        return with_ci("at target", ci, bias, signed=True)
    if bias < 0:
        return with_ci(f"{abs(bias) * 100:.1f} pts below target", ci, bias, signed=True)
    return points_ci(bias, ci)


def chance_error(
    task: str | None,
    classes: int | None = None,
    majority: float | None = None,
    log_loss: LogLoss | None = None,
) -> Chance | None:
    """What a model that learned nothing gets on the training split.

    Args:
        task: the manifest's `data.task` (binary, multiclass, regression) or None.
        classes: the number of classes (classification), when known.
        majority: the train error of the majority-class (regression: mean) baseline, from
            baselines.csv, when known. It wins: it is measured on the same split.
        log_loss: the class-prior model's validation log loss (baselines.csv's majority row),
            when known; ignored for regression.

    Returns None when nothing is known. With only the number of classes k, the chance error is
    1 - 1/k: the majority class errs at most that much (exactly that on balanced data), so a
    train error not below it is surely no better than the majority class; on imbalanced data a
    trial between the two is not caught (it is labelled by bias and variance instead).
    Regression's normalized MSE is 1 for the mean of the training targets.
    """
    prior = None if task == "regression" else log_loss
    if majority is not None and finite(majority):
        name = "mean" if task == "regression" else "majority-class"
        return Chance(float(majority), f"the {name} baseline (baselines.csv)", prior)
    if task == "regression":
        return Chance(1.0, "predicting the mean (normalized MSE 1)")
    if classes is not None and classes >= 2:
        return Chance(
            1 - 1 / classes,
            f"guessing among {classes} classes (the majority class errs no more)",
            prior,
        )
    return None


def fit_diagnosis(
    train_error: float | None,
    val_error: float | None,
    thresholds: Thresholds,
    noise: Noise | None = None,
    chance: Chance | None = None,
    log_loss: LogLoss | None = None,
) -> FitDiagnosis | None:
    """Label one trial from its errors. Returns None when either error is missing or not finite.

    avoidable bias = train_error - target_error; variance = val_error - train_error. High bias
    when the bias is above `bias_threshold` and its interval's low end above zero; high variance
    likewise. `not learning` when the train error is not clearly below `chance` (the high end
    of its interval, or the value without one, at or above the chance error) and, where both
    log losses are known, the validation log loss is not clearly below the class prior's
    (`log_loss_below`).

    Args:
        noise: the errors' intervals and split sizes. Default: none known (point values decide).
        chance: the train error of a model that learned nothing. Default: unknown (no check).
        log_loss: the trial's validation log loss (classification). Default: unknown.
    """
    if not finite(train_error) or not finite(val_error):
        return None
    noise = noise or Noise()
    train, val = float(train_error), float(val_error)  # type: ignore[arg-type]
    bias = round(train - thresholds.target_error, DECIMALS)
    variance = round(val - train, DECIMALS)
    target, target_ci = thresholds.target_error, thresholds.target_ci
    bias_ci = difference_ci(train, noise.train_ci, target, target_ci, noise.proportions)
    variance_ci = None
    if noise.train_ci is not None and noise.val_ci is not None:
        variance_ci = difference_ci(val, noise.val_ci, train, noise.train_ci, noise.proportions)
    learning_note = None  # why a trial at chance by accuracy is learning after all
    if chance is not None and _at_chance(train, noise.train_ci, chance):
        accuracy = (
            f"train error {percent_ci(train, noise.train_ci)} is not clearly below "
            f"{percent(chance.error)}, the error of {chance.source}"
        )
        prior = chance.log_loss
        if log_loss is None or prior is None or not log_loss_below(log_loss, prior):
            words = f", and {log_loss_words(log_loss, prior)}" if log_loss and prior else ""
            reason = accuracy + words
            return FitDiagnosis(
                bias, variance, False, False, NOT_LEARNING, bias_ci, variance_ci, (), reason
            )
        learning_note = f"{accuracy}, but {log_loss_words(log_loss, prior)}: learning"
    parts = {
        BIAS: _Part(BIAS, bias, bias_ci, thresholds.bias_threshold, noise),
        VARIANCE: _Part(VARIANCE, variance, variance_ci, thresholds.variance_threshold, noise),
    }
    high_bias, high_variance = parts[BIAS].clear, parts[VARIANCE].clear
    uncertain = tuple(name for name, part in parts.items() if part.inside)
    ordered = sorted(parts.values(), key=lambda part: not part.inside)  # uncertain parts first
    reasons = [part.reason for part in ordered if part.reason] + [learning_note]
    return FitDiagnosis(
        bias,
        variance,
        high_bias,
        high_variance,
        _label(high_bias, high_variance, bool(uncertain)),
        bias_ci,
        variance_ci,
        uncertain,
        "; ".join(r for r in reasons if r) or None,
    )


def log_loss_below(trial: LogLoss, prior: LogLoss) -> bool:
    """Whether a trial's validation log loss is clearly below the class-prior model's: the 95%
    interval of the difference (standard errors in quadrature; an unknown one counts as 0)
    lies below zero; without standard errors, the difference itself. Both are measured on the
    same validation rows; treating them as independent makes the interval wider, never falsely
    narrower than the paired one would usually be."""
    if not finite(trial.value) or not finite(prior.value):
        return False
    return trial.value - prior.value + Z * _pooled_se(trial, prior) < -TOLERANCE


def log_loss_words(trial: LogLoss, prior: LogLoss) -> str:
    """ "validation log loss 0.085 ± 0.004 is clearly below the class prior's 0.146" (or "is not
    clearly below")."""
    clearly = "is clearly below" if log_loss_below(trial, prior) else "is not clearly below"
    return f"validation log loss {_loss_ci(trial)} {clearly} {prior.whose} {_loss_ci(prior)}"


def with_curve(fit: FitDiagnosis | None, findings: Sequence[Finding]) -> FitDiagnosis | None:
    """A completed trial whose learning curve diverged (a `diverged` finding) is labelled
    `diverged` whatever its errors, with the finding as the reason: its bias and variance are
    not asserted (a model that blew up tells nothing about either)."""
    diverged = next((f for f in findings if f.kind == DIVERGED), None)
    if fit is None or diverged is None:
        return fit
    return replace(
        fit,
        high_bias=False,
        high_variance=False,
        label=DIVERGED,
        uncertain=(),
        reason=diverged.text,
    )


def _pooled_se(*losses: LogLoss) -> float:
    return math.sqrt(sum(loss.se**2 for loss in losses if finite(loss.se)))  # type: ignore[operator]


def _loss_ci(loss: LogLoss) -> str:
    """ "0.085 ± 0.004" (± z · se); the value alone without a standard error."""
    text = f"{loss.value:.3g}"
    known = finite(loss.se) and loss.se > 0  # type: ignore[operator]
    return f"{text} ± {Z * loss.se:.2g}" if known else text  # type: ignore[operator]


def trial_label(
    status: str, fit: FitDiagnosis | None, findings: Sequence[Finding] = ()
) -> str | None:
    """A trial's one label: its status when diverged, failed or pruned; `diverged` for a
    completed trial whose curve diverged (a `diverged` finding, e.g. a first-epoch loss far
    above chance); the fit's label for another completed trial; None for an interrupted trial
    (it runs again on --resume) or a trial whose errors were not recorded."""
    if status in STATUS_LABELS:
        return status
    if status == TrialStatus.INTERRUPTED:
        return None
    if any(f.kind == DIVERGED for f in findings):
        return DIVERGED
    return fit.label if fit is not None else None


def _at_chance(train: float, train_ci: Interval | None, chance: Chance) -> bool:
    high = train_ci[1] if train_ci is not None else train
    return high - chance.error >= -TOLERANCE


@dataclass(frozen=True)
class _Part:
    """Avoidable bias or the train-to-validation gap, against its threshold and its noise."""

    name: str
    value: float
    ci: Interval | None
    threshold: float
    noise: Noise

    @property
    def above(self) -> bool:
        return self.value - self.threshold > TOLERANCE  # exactly at it is not above

    @property
    def clear(self) -> bool:
        """Above the threshold, and the interval (when known) above zero."""
        return self.above and (self.ci is None or self.ci[0] > TOLERANCE)

    @property
    def inside(self) -> bool:
        """Above the threshold, but the interval includes zero."""
        return self.above and not self.clear

    @property
    def reason(self) -> str | None:
        """Why the part is uncertain, or, within its threshold, how far the noise reaches."""
        what = f"the {self.title} ({points(self.value)})"
        limit = f"its threshold ({self.threshold * 100:g} pts)"
        if self.inside:
            assert self.ci is not None
            low, high = points(self.ci[0]), points(self.ci[1])
            return (
                f"{what} is above {limit} but its 95% interval ({low} to {high}) includes zero "
                f"({self.split_text}); {FIXES[self.split]}"
            )
        if self.above or self.ci is None or self.ci[1] - self.threshold <= TOLERANCE:
            return None
        return (
            f"{what} is within {limit}, but the noise allows up to {points(self.ci[1])} "
            f"({self.split_text})"
        )

    @property
    def title(self) -> str:
        return "avoidable bias" if self.name == BIAS else "train-to-validation gap"

    @property
    def split(self) -> str:
        """The split whose noise dominates: training for bias; the noisier one for the gap."""
        if self.name == BIAS:
            return "training"
        train = half_width(self.noise.train_ci) or 0.0
        val = half_width(self.noise.val_ci) or 0.0
        return "training" if train > val else "validation"

    @property
    def split_text(self) -> str:
        """ "validation set of 106 examples: ±8.3 pts" (size unknown: "validation error ±8.3
        pts")."""
        noise = self.noise
        training = self.split == "training"
        ci, n = (noise.train_ci, noise.train_n) if training else (noise.val_ci, noise.val_n)
        width = f"±{(half_width(ci) or 0.0) * 100:.1f} pts"
        return f"{self.split} set of {n} examples: {width}" if n else f"{self.split} error {width}"


def _label(high_bias: bool, high_variance: bool, uncertain: bool) -> str:
    if high_bias and high_variance:
        return BOTH
    if high_bias:
        return HIGH_BIAS
    if high_variance:
        return HIGH_VARIANCE
    return UNCERTAIN if uncertain else GOOD_FIT
