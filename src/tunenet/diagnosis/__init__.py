"""Pure diagnosis: errors and learning curves in, labels, findings and recommendations out.

Nothing here reads files, prints, or imports TensorFlow, matplotlib or Rich. The report loads a
run directory and calls these functions; `docs/report.md` describes the rules in words.

- `labels`: avoidable bias and variance against the thresholds → one of `LABELS`.
- `curves`: diverged, still improving, overfitting began at epoch k, stopped early at k.
- `effects`: rank, hyperparameter effects, and what the search's trials say per config key.
- `advice`: the rules of thumb for a trial's problems, checked against that evidence.
- `capacity`: the capacity curve of a `search.strategy: capacity` run.
- `verdict`: the search in one paragraph; `text`: values, percentages and points as words.

This module is the package's public face (`from tunenet import diagnosis as dx`).
"""

from tunenet.diagnosis.advice import Recommendation, TrialContext, recommend
from tunenet.diagnosis.capacity import CapacityCurve, CapacityStep, capacity_curve, size_label
from tunenet.diagnosis.curves import Finding, curve_findings
from tunenet.diagnosis.effects import (
    CATEGORICAL_KEYS,
    NUMERIC_KEYS,
    EffectRow,
    Evidence,
    HpEffect,
    completed,
    hp_effects,
    key_columns,
    rank,
    search_evidence,
)
from tunenet.diagnosis.labels import (
    BOTH,
    GOOD_FIT,
    HIGH_BIAS,
    HIGH_VARIANCE,
    LABELS,
    FitDiagnosis,
    Thresholds,
    fit_diagnosis,
)
from tunenet.diagnosis.text import format_value, percent, points
from tunenet.diagnosis.verdict import capacity_sentence, verdict

__all__ = [
    "BOTH",
    "CATEGORICAL_KEYS",
    "GOOD_FIT",
    "HIGH_BIAS",
    "HIGH_VARIANCE",
    "LABELS",
    "NUMERIC_KEYS",
    "CapacityCurve",
    "CapacityStep",
    "EffectRow",
    "Evidence",
    "Finding",
    "FitDiagnosis",
    "HpEffect",
    "Recommendation",
    "Thresholds",
    "TrialContext",
    "capacity_curve",
    "capacity_sentence",
    "completed",
    "curve_findings",
    "fit_diagnosis",
    "format_value",
    "hp_effects",
    "key_columns",
    "percent",
    "points",
    "rank",
    "recommend",
    "search_evidence",
    "size_label",
    "verdict",
]
