"""Pure diagnosis: errors and learning curves in, labels, findings and recommendations out.

Nothing here reads files, prints, or imports TensorFlow, matplotlib or Rich. The report loads a
run directory and calls these functions; `docs/report.md` describes the rules in words.

- `labels`: avoidable bias and variance against the thresholds and their noise, and `not
  learning` at chance → one of `LABELS`; `intervals`: the 95% intervals of errors.
- `curves`: diverged, still improving, overfitting began at epoch k, stopped early at k.
- `effects`: rank, hyperparameter effects tested against the noise (`significance`), and what
  the search's trials say per config key.
- `advice`: the rules of thumb for a trial's problems, checked against that evidence.
- `capacity`: the capacity curve of a `search.strategy: capacity` run.
- `learning_curve`: the data-size curve of `tunenet learning-curve`: will more data help?
- `verdict`: the search in one paragraph; `text`: values, percentages and points as words.

This module is the package's public face (`from tunenet import diagnosis as dx`).
"""

from tunenet.diagnosis.advice import (
    CONTEXT_KEYS,
    LOW_END_SHARE,
    SCALE_RATIO,
    PeerTrial,
    RateSpace,
    Recommendation,
    RunFacts,
    TrialContext,
    TrialSize,
    image_source,
    recommend,
)
from tunenet.diagnosis.builder import ModelBuilder
from tunenet.diagnosis.capacity import CapacityCurve, CapacityStep, capacity_curve, size_label
from tunenet.diagnosis.curves import Finding, curve_findings
from tunenet.diagnosis.dynamics import (
    DEAD_SHARE,
    DYNAMICS_KINDS,
    EXPLODING_GROWTH,
    SATURATED_SHARE,
    VANISHING_RATIO,
    DynamicsFinding,
    DynamicsSummary,
    dynamics_findings,
    dynamics_summary,
    trial_layers,
)
from tunenet.diagnosis.effects import (
    CATEGORICAL_KEYS,
    NUMERIC_KEYS,
    TARGETS,
    EffectRow,
    EffectTest,
    Evidence,
    HpEffect,
    completed,
    hp_effects,
    key_columns,
    params_keys,
    rank,
    search_evidence,
)
from tunenet.diagnosis.intervals import Interval, difference_ci, error_ci, half_width
from tunenet.diagnosis.labels import (
    BOTH,
    FIT_LABELS,
    GOOD_FIT,
    HIGH_BIAS,
    HIGH_VARIANCE,
    LABELS,
    NOT_LEARNING,
    STATUS_LABELS,
    UNCERTAIN,
    Chance,
    FitDiagnosis,
    LogLoss,
    Noise,
    Thresholds,
    bias_words,
    chance_error,
    fit_diagnosis,
    log_loss_below,
    trial_label,
    with_curve,
)
from tunenet.diagnosis.learning_curve import (
    CurvePoint,
    LearningCurve,
    learning_curve,
    verdict_word,
)
from tunenet.diagnosis.significance import ALPHA
from tunenet.diagnosis.text import format_value, p_text, percent, percent_ci, points, points_ci
from tunenet.diagnosis.verdict import capacity_sentence, verdict

__all__ = [
    "ALPHA",
    "BOTH",
    "CATEGORICAL_KEYS",
    "CONTEXT_KEYS",
    "DEAD_SHARE",
    "DYNAMICS_KINDS",
    "EXPLODING_GROWTH",
    "FIT_LABELS",
    "GOOD_FIT",
    "HIGH_BIAS",
    "HIGH_VARIANCE",
    "LABELS",
    "LOW_END_SHARE",
    "NOT_LEARNING",
    "NUMERIC_KEYS",
    "SATURATED_SHARE",
    "SCALE_RATIO",
    "STATUS_LABELS",
    "TARGETS",
    "UNCERTAIN",
    "VANISHING_RATIO",
    "CapacityCurve",
    "CapacityStep",
    "CurvePoint",
    "Chance",
    "DynamicsFinding",
    "DynamicsSummary",
    "EffectRow",
    "EffectTest",
    "Evidence",
    "Finding",
    "FitDiagnosis",
    "HpEffect",
    "Interval",
    "LearningCurve",
    "LogLoss",
    "ModelBuilder",
    "Noise",
    "PeerTrial",
    "RateSpace",
    "Recommendation",
    "RunFacts",
    "Thresholds",
    "TrialContext",
    "TrialSize",
    "bias_words",
    "capacity_curve",
    "capacity_sentence",
    "chance_error",
    "completed",
    "curve_findings",
    "difference_ci",
    "dynamics_findings",
    "dynamics_summary",
    "error_ci",
    "fit_diagnosis",
    "format_value",
    "half_width",
    "hp_effects",
    "image_source",
    "key_columns",
    "learning_curve",
    "log_loss_below",
    "p_text",
    "params_keys",
    "percent",
    "percent_ci",
    "points",
    "points_ci",
    "rank",
    "recommend",
    "search_evidence",
    "size_label",
    "trial_label",
    "trial_layers",
    "verdict",
    "verdict_word",
    "with_curve",
]
