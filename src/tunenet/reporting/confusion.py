"""The best model's confusion matrix in the report: per-class error with its noise, read from
best/confusion.json (`Run.confusion`), never from the model (no TensorFlow).

Per-class error is 1 − recall (the share of a class's examples predicted as another class),
with a 95% Wilson interval on that class's examples. Classes are imbalanced when the largest
has more than `IMBALANCE` (3) times the examples of the smallest (in the validation split,
else the test split); then the best trial's lines give each class's recall and test the model
against always answering the majority class (`class_balance`, diagnosis/imbalance.py). A class
stands out when a one-sided binomial test finds its error above the split's overall error with
p < 0.05 after Holm's correction over the classes: with ten classes, one 95% interval in ten
would clear the overall error by chance alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy import stats

from tunenet import diagnosis as dx
from tunenet.diagnosis.imbalance import (
    IMBALANCE,
    ClassBalance,
    class_ratio,
    class_recalls,
    majority_test,
)
from tunenet.diagnosis.significance import holm
from tunenet.runs import Run

ALPHA = 0.05  # a class stands out when its Holm-adjusted p-value is below this
SPLIT_NAMES = {"val": "validation", "test": "test", "train": "training"}


@dataclass(frozen=True)
class ClassError:
    """One class of one split: its examples, its error (1 − recall) and the error's interval."""

    label: str
    n: int
    error: float | None  # None when the split has no example of the class
    error_ci: dx.Interval | None
    stands_out: bool  # its error is above the split's overall error beyond noise (Holm)


@dataclass(frozen=True)
class SplitConfusion:
    """One split's matrix (rows: true class, columns: predicted) and what it says."""

    split: str
    matrix: list[list[int]]
    n: int
    error: float
    error_ci: dx.Interval | None
    classes: list[ClassError]

    @property
    def standing_out(self) -> list[ClassError]:
        return [c for c in self.classes if c.stands_out]

    def top_confusion(self) -> tuple[str, str, int] | None:
        """(true label, predicted label, count) of the most frequent mistake, or None."""
        labels = [c.label for c in self.classes]
        mistakes = [
            (count, i, j)
            for i, row in enumerate(self.matrix)
            for j, count in enumerate(row)
            if i != j and count > 0
        ]
        if not mistakes:
            return None
        count, i, j = max(mistakes)
        return labels[i], labels[j], count


@dataclass(frozen=True)
class ConfusionReport:
    """best/confusion.json as the report shows it."""

    trial_id: str | None
    labels: list[str]
    splits: dict[str, SplitConfusion]
    imbalance: float | None  # largest / smallest class count (validation split, else test);
    # inf: a class without examples; None: no matrix

    @property
    def imbalanced(self) -> bool:
        return self.imbalance is not None and self.imbalance > IMBALANCE

    @property
    def counted_on(self) -> str:
        """The split whose classes `imbalance` counts: validation, else test."""
        return "val" if "val" in self.splits else next(iter(self.splits))

    @property
    def detailed(self) -> bool:
        """Per-class errors are worth showing: imbalanced classes or a class that stands out."""
        return self.imbalanced or any(s.standing_out for s in self.splits.values())


def confusion_report(run: Run) -> ConfusionReport | None:
    """The report's view of `run.confusion`, or None when the run has no confusion matrix."""
    found = run.confusion
    if not found:
        return None
    labels = [str(label) for label in found["labels"]]
    splits = {
        name: split_confusion(name, matrix, labels) for name, matrix in found["splits"].items()
    }
    splits = {name: split for name, split in splits.items() if split.n > 0}
    if not splits:
        return None
    trial = found.get("trial_id")
    return ConfusionReport(
        trial_id=None if trial is None else str(trial),
        labels=labels,
        splits=splits,
        imbalance=_imbalance(splits.get("val") or next(iter(splits.values()))),
    )


def split_confusion(split: str, matrix: list[list[int]], labels: list[str]) -> SplitConfusion:
    """Overall and per-class errors of one matrix, each with its 95% Wilson interval."""
    counts = [[int(cell) for cell in row] for row in matrix]
    n = sum(map(sum, counts))
    wrong = n - sum(counts[i][i] for i in range(len(counts)))
    error = wrong / n if n else 0.0
    overall_ci = dx.error_ci(error, n)
    sizes = [sum(row) for row in counts]
    wrongs = [size - row[i] for i, (size, row) in enumerate(zip(sizes, counts, strict=True))]
    p_values = [
        stats.binomtest(w, size, error, alternative="greater").pvalue if size and error else None
        for w, size in zip(wrongs, sizes, strict=True)
    ]
    adjusted = holm(p_values, family=len(counts))
    classes = []
    for label, size, w, p in zip(labels, sizes, wrongs, adjusted, strict=True):
        class_error = w / size if size else None
        ci = dx.error_ci(class_error, size) if size else None
        stands_out = p is not None and p < ALPHA and class_error > error
        classes.append(ClassError(label, size, class_error, ci, stands_out))
    return SplitConfusion(split, counts, n, error, overall_ci, classes)


def _imbalance(split: SplitConfusion) -> float | None:
    return class_ratio(split.matrix)


def class_balance(
    confusion: ConfusionReport | None,
    best_trial: str | None,
    class_weight: object = None,
    objective: str | None = None,
) -> ClassBalance | None:
    """The best model's classes for the verdict and the best trial's lines: the recall of each
    class and the exact McNemar test against always answering the majority class, on the test
    split, else the validation split. None without a matrix of the best trial.

    The majority class is the largest of the validation split (the rows the search chose by;
    else of the split tested), as the majority baseline answers the largest training class.
    """
    if confusion is None or best_trial is None or confusion.trial_id not in (None, best_trial):
        return None
    tested = confusion.splits.get("test") or confusion.splits.get("val")
    if tested is None:
        return None
    counted = confusion.splits[confusion.counted_on]
    sizes = [c.n for c in counted.classes]
    majority = sizes.index(max(sizes))
    return ClassBalance(
        ratio=confusion.imbalance,
        ratio_split=confusion.counted_on,
        split=tested.split,
        recalls=class_recalls(tested.matrix, confusion.labels),
        majority=majority_test(tested.matrix, confusion.labels, tested.split, majority),
        low_recall=[c.label for c in tested.standing_out],
        class_weight=class_weight,
        objective=objective,
    )


# ---------------------------------------------------------------- what the report says


def confusion_lines(confusion: ConfusionReport | None, best_trial: str | None) -> list[str]:
    """The "Confusion matrix" section: one line when the classes are balanced and none stands
    out beyond its noise; else the per-class errors of each split."""
    if confusion is None:
        return []
    lines = []
    if best_trial is not None and confusion.trial_id not in (None, best_trial):
        lines.append(
            f"Note: best/confusion.json is trial {confusion.trial_id}'s, not the best trial "
            f"{best_trial}'s (a search still running, or a resume that found a better trial)."
        )
    balance = _balance_text(confusion)
    if not confusion.detailed:
        summaries = "; ".join(_split_summary(split) for split in confusion.splits.values())
        lines.append(
            f"{summaries}. {balance}; no class's error stands out beyond its noise "
            "(one-sided binomial test against the overall error, Holm-corrected over the classes)."
        )
        return lines
    if confusion.imbalanced:  # the warning and the recall per class are with the best trial
        lines.append(f"{balance}; see the best trial for the recall of each class.")
    else:
        lines.append(f"{balance}, but a class's error stands out.")
    for split in confusion.splits.values():
        lines.append(f"{_split_summary(split)}.")
        if split.split == "val":  # the split the search chose by; the test split's summary only
            per_class = "; ".join(_class_text(c) for c in split.classes)
            lines.append(f"Validation error per class (1 − recall, 95% interval): {per_class}.")
        lines.append(_standing_out_text(split))
    return lines


def _balance_text(confusion: ConfusionReport) -> str:
    ratio = confusion.imbalance
    if ratio is None:
        return "Class balance unknown (no validation matrix)"
    if ratio == float("inf"):
        return "Classes are imbalanced: a class has no validation example"
    words = "imbalanced" if confusion.imbalanced else "balanced"
    return (
        f"Classes are {words} (the largest has {ratio:.1f}× the validation examples of the "
        "smallest)"
    )


def _split_summary(split: SplitConfusion) -> str:
    name = SPLIT_NAMES.get(split.split, split.split).capitalize()
    text = f"{name} error {dx.percent_ci(split.error, split.error_ci)} on {split.n} examples"
    top = split.top_confusion()
    if top is not None:
        true, predicted, count = top
        text += f"; most frequent mistake: {true} predicted as {predicted} ({count}×)"
    return text


def _class_text(c: ClassError) -> str:
    if c.error is None:
        return f"{c.label} no example"
    low, high = c.error_ci or (c.error, c.error)
    text = f"{c.label} {dx.percent(c.error)} [{dx.percent(low)}, {dx.percent(high)}] of {c.n}"
    return text + (" (stands out)" if c.stands_out else "")


def _standing_out_text(split: SplitConfusion) -> str:
    name = SPLIT_NAMES.get(split.split, split.split).capitalize()
    out = split.standing_out
    if not out:
        return (
            f"{name}: no class's error stands out beyond its noise (one-sided binomial test "
            "against the overall error, Holm-corrected over the classes)."
        )
    names = ", ".join(c.label for c in out)
    return (
        f"{name}: the error of class(es) {names} lies above the overall "
        f"{dx.percent(split.error)} beyond its noise (one-sided binomial test, Holm-corrected "
        "over the classes, p < 0.05). See what they are mistaken for (the matrix, "
        "report.json `confusion`); more examples of them may help."
    )


def confusion_dict(confusion: ConfusionReport | None) -> dict | None:
    """report.json's `confusion`: labels, and per split the matrix and per-class errors."""
    if confusion is None:
        return None

    def interval(ci: dx.Interval | None) -> list[float] | None:
        return None if ci is None else [float(ci[0]), float(ci[1])]

    return {
        "trial_id": confusion.trial_id,
        "labels": confusion.labels,
        "imbalanced": confusion.imbalanced,
        "imbalance_ratio": confusion.imbalance,
        "splits": {
            name: {
                "matrix": split.matrix,
                "n": split.n,
                "error": split.error,
                "error_ci": interval(split.error_ci),
                "per_class": [
                    {
                        "label": c.label,
                        "n": c.n,
                        "error": c.error,
                        "error_ci": interval(c.error_ci),
                        "stands_out": c.stands_out,
                    }
                    for c in split.classes
                ],
            }
            for name, split in confusion.splits.items()
        },
    }
