"""Imbalanced classes: how well the best model recalls each class, and whether its error is
distinguishable from always answering the majority class (docs/report.md).

Accuracy alone hides a small class: on a table with 3.35% positives, always answering "no" is
96.65% accurate. So, from the best model's confusion matrix on one split (rows: true class,
columns: predicted), the report gives each class's recall with its 95% Wilson interval, and an
exact McNemar test of the model against the majority-class answer on the same rows: of the rows
where exactly one of the two is right, the model is right on `model_only` (rows of another class
it got right) and the majority answer on `majority_only` (majority rows the model got wrong);
with no difference between them each such row is a fair coin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

from tunenet.diagnosis.advice import Recommendation
from tunenet.diagnosis.intervals import Interval, error_ci
from tunenet.diagnosis.significance import ALPHA
from tunenet.diagnosis.text import p_text

IMBALANCE = 3.0  # classes are imbalanced when the largest has more than this × the smallest


@dataclass(frozen=True)
class ClassRecall:
    """One class of a split: its examples and the share of them the model predicted as it."""

    label: str
    n: int
    recall: float | None  # None: the split has no example of the class
    recall_ci: Interval | None


@dataclass(frozen=True)
class MajorityTest:
    """The model against always answering the majority class, on one split's rows."""

    split: str
    n: int
    majority: str  # the class label always answered
    wrong: int  # rows the model got wrong
    majority_wrong: int  # rows of the other classes (always answering the majority is wrong)
    majority_only: int  # majority rows the model got wrong
    model_only: int  # rows of another class the model got right
    p_value: float  # exact McNemar test, two-sided

    @property
    def error(self) -> float:
        return self.wrong / self.n

    @property
    def majority_error(self) -> float:
        return self.majority_wrong / self.n

    @property
    def distinguishable(self) -> bool:
        return self.p_value < ALPHA

    @property
    def better(self) -> bool:
        """Fewer errors than the majority answer beyond the noise."""
        return self.distinguishable and self.model_only > self.majority_only

    @property
    def worse(self) -> bool:
        """More errors than the majority answer beyond the noise."""
        return self.distinguishable and self.model_only < self.majority_only


@dataclass(frozen=True)
class BalancedTest:
    """The model's balanced error on one split (1 − the mean of the classes' recalls) against
    always answering the majority class, whose balanced error is 1 − 1/k. A class-weighted
    model trades overall accuracy for the small classes on purpose, so it is judged by this
    (docs/report.md); `half_width` is the 95% normal half-width from each class's recall."""

    split: str
    n: int
    error: float
    half_width: float
    majority_error: float

    @property
    def better(self) -> bool:
        return self.error + self.half_width < self.majority_error

    @property
    def worse(self) -> bool:
        return self.error - self.half_width > self.majority_error


def balanced_test(recalls: Sequence[ClassRecall], split: str) -> BalancedTest | None:
    """`BalancedTest` of a split's recalls; None with fewer than two classes present."""
    known = [r for r in recalls if r.recall is not None and r.n]
    if len(known) < 2:
        return None
    k = len(known)
    error = 1.0 - sum(r.recall for r in known) / k  # type: ignore[misc]
    variance = sum(r.recall * (1 - r.recall) / r.n for r in known) / k**2  # type: ignore[operator]
    half = float(stats.norm.ppf(0.975)) * variance**0.5
    return BalancedTest(split, sum(r.n for r in known), error, half, 1.0 - 1.0 / k)


@dataclass(frozen=True)
class ClassBalance:
    """What the report says about the classes of the best model's confusion matrix."""

    ratio: float | None  # largest / smallest class (inf: a class without example)
    ratio_split: str  # the split the classes were counted on
    split: str  # the split of the recalls and the test (test, else validation)
    recalls: list[ClassRecall]
    majority: MajorityTest | None
    low_recall: list[str]  # classes whose error lies above the split's overall error (tested)
    class_weight: object = None  # training.class_weight of the run, when known
    objective: str | None = None

    @property
    def imbalanced(self) -> bool:
        return self.ratio is not None and self.ratio > IMBALANCE

    @property
    def weighted(self) -> bool:
        """The run set `training.class_weight`."""
        return self.class_weight not in (None, "none", False)

    @property
    def balanced(self) -> BalancedTest | None:
        """The balanced error against the majority answer, on the split of the recalls."""
        return balanced_test(self.recalls, self.split)

    @property
    def majority_like(self) -> bool:
        """The best model's error is not distinguishable from the majority answer (or worse);
        for a class-weighted run, its balanced error (`BalancedTest`)."""
        if self.weighted and self.balanced is not None:
            return not self.balanced.better
        return self.majority is not None and not self.majority.better

    @property
    def needs_advice(self) -> bool:
        """Class weights or an AUC objective would help: imbalanced classes, and a class the
        model misses beyond the noise or a model no better than the majority answer."""
        return self.imbalanced and bool(self.low_recall or self.majority_like)


def class_recalls(matrix: Sequence[Sequence[int]], labels: Sequence[str]) -> list[ClassRecall]:
    """Each class's recall (its diagonal cell over its row) with its 95% Wilson interval."""
    found = []
    for i, (label, row) in enumerate(zip(labels, matrix, strict=True)):
        n = int(sum(row))
        recall = row[i] / n if n else None
        found.append(ClassRecall(str(label), n, recall, error_ci(recall, n) if n else None))
    return found


def class_ratio(matrix: Sequence[Sequence[int]]) -> float | None:
    """Largest / smallest class count of a matrix's rows; inf when a class has no row."""
    sizes = [int(sum(row)) for row in matrix]
    if not sizes or max(sizes) == 0:
        return None
    return max(sizes) / min(sizes) if min(sizes) > 0 else float("inf")


def majority_test(
    matrix: Sequence[Sequence[int]], labels: Sequence[str], split: str, majority: int
) -> MajorityTest | None:
    """Exact McNemar test of the model against always answering class `majority` (its index),
    on the rows of one matrix; None without rows."""
    n = int(sum(map(sum, matrix)))
    if not n:
        return None
    right = sum(int(matrix[i][i]) for i in range(len(matrix)))
    majority_rows = int(sum(matrix[majority]))
    majority_only = majority_rows - int(matrix[majority][majority])
    model_only = right - int(matrix[majority][majority])
    pairs = majority_only + model_only
    p_value = stats.binomtest(model_only, pairs, 0.5).pvalue if pairs else 1.0
    return MajorityTest(
        split=split,
        n=n,
        majority=str(labels[majority]),
        wrong=n - right,
        majority_wrong=n - majority_rows,
        majority_only=majority_only,
        model_only=model_only,
        p_value=float(p_value),
    )


AUC_OBJECTIVES = ("val_auc", "val_pr_auc")


def imbalance_advice(balance: ClassBalance) -> Recommendation | None:
    """The best trial's first step where classes are imbalanced and accuracy hides it (a class
    missed beyond the noise, or no better than the majority answer): weight the classes, else
    search by an AUC objective; None when the run already does both, or nothing calls for it."""
    if not balance.needs_advice:
        return None
    weighted = balance.class_weight not in (None, "none", False)
    by_auc = balance.objective in AUC_OBJECTIVES
    if weighted and by_auc:
        return None
    why = _why(balance)
    auc = "search.objective: val_pr_auc (or val_auc), which rewards separating the classes"
    if weighted:
        return Recommendation("search.objective", "set", f"Search by {auc} ({why}).", "val_pr_auc")
    text = (
        "Weight the classes: set training.class_weight: balanced, so that a mistake on a small "
        "class costs as much as one on the largest" + ("" if by_auc else f"; or search by {auc}")
    )
    return Recommendation("training.class_weight", "set", f"{text} ({why}).", "balanced")


def _why(balance: ClassBalance) -> str:
    """ "classes imbalanced 28.9 to 1; recall of yes 37.3% on the test split; no better than
    always answering "no" (p = 0.55)"."""
    if balance.ratio == float("inf"):
        parts = ["a class without example"]
    else:
        parts = [f"classes imbalanced {balance.ratio:.1f} to 1"]
    low = [r for r in balance.recalls if r.label in balance.low_recall and r.recall is not None]
    if low:
        split = "validation" if balance.split == "val" else balance.split
        recalls = ", ".join(f"{r.label} {r.recall:.1%}" for r in low)
        parts.append(f"recall of {recalls} on the {split} split")
    test = balance.majority
    if test is not None and balance.majority_like:
        words = "worse than" if test.worse else "no better than"
        parts.append(f'{words} always answering "{test.majority}", {p_text(test.p_value)}')
    return "; ".join(parts)


def with_imbalance_advice(
    recommendations: list[Recommendation], balance: ClassBalance, first: bool = True
) -> list[Recommendation]:
    """The best trial's recommendations with `imbalance_advice` first (when there is any);
    `first=False` (a trial not learning or diverged: its own cause comes first) second."""
    advice = imbalance_advice(balance)
    if advice is None:
        return recommendations
    others = [r for r in recommendations if r.key != advice.key]
    at = 0 if first else min(1, len(others))
    return [*others[:at], advice, *others[at:]]


IMBALANCE_KEYS = ("training.class_weight", "search.objective")


def imbalance_step(balance: ClassBalance) -> str | None:
    """The imbalance advice in a few words, for the verdict when another step comes first:
    "set training.class_weight: balanced or search.objective: val_pr_auc (or val_auc)"."""
    advice = imbalance_advice(balance)
    if advice is None:
        return None
    auc = "search.objective: val_pr_auc (or val_auc)"
    if advice.key == "search.objective":
        return f"set {auc}"
    weights = "set training.class_weight: balanced"
    return weights if balance.objective in AUC_OBJECTIVES else f"{weights} or {auc}"
