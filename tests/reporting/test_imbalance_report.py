"""Imbalanced classes at the top of every format (docs/report.md, "Imbalanced classes"): the
issue-28 case, a credit-like table with 67 positives in 2,000 test rows, where the best model's
test error (62 wrong, 3.10%) is not distinguishable from always answering "No" (67, 3.35%)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd
import pytest
from scipy.stats import binomtest

from .helpers import build, copy_run, run_report

# exact McNemar test: 20 "No" rows the model got wrong, 25 "Yes" rows it got right
ISSUE_P = binomtest(25, 45, 0.5).pvalue
NOT_DISTINGUISHABLE = (
    "On the 2,000 test rows, the best model is not distinguishable from always answering the "
    'majority class "No": 62 wrong (3.10%) against 67 (3.35%); exact McNemar test, p = 0.55.'
)
YES_LOW, YES_HIGH = binomtest(25, 67).proportion_ci(method="wilson")
RECALL = f"Yes 37.3% [{YES_LOW:.1%}, {YES_HIGH:.1%}] of 67"


def with_matrices(tmp_path: Path, splits: dict, name: str = "imbalanced") -> Path:
    run = copy_run(name, tmp_path)
    payload = {"format_version": 1, "trial_id": "00", "labels": ["No", "Yes"], "splits": splits}
    (run / "best").mkdir(exist_ok=True)
    (run / "best" / "confusion.json").write_text(json.dumps(payload), encoding="utf-8")
    return run


def test_the_issue_case_is_not_distinguishable_from_the_majority_class(tmp_path):
    assert ISSUE_P == pytest.approx(0.5515, abs=1e-4)
    report = build(copy_run("imbalanced", tmp_path))
    assert NOT_DISTINGUISHABLE in report.verdict
    assert "fits well" not in report.verdict and "nothing stands out" not in report.verdict
    assert "its errors look like a good fit" in report.verdict
    assert RECALL in report.verdict and "No 99.0% [" in report.verdict
    assert "Next: Weight the classes: set training.class_weight: balanced" in report.verdict
    assert "search.objective: val_pr_auc (or val_auc)" in report.verdict
    first = report.best.recommendations[0]
    assert (first.key, first.action, first.value) == ("training.class_weight", "set", "balanced")
    assert "no better than the majority class" in report.headline


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_every_format_shows_the_classes_near_the_top(tmp_path, fmt):
    out, _ = run_report(copy_run("imbalanced", tmp_path), fmt)
    text = " ".join(html.unescape(out).split())  # wrapped lines joined
    assert "Classes are imbalanced (the largest class has 28.9× the validation examples" in text
    assert "accuracy alone hides a small class's errors" in text
    assert RECALL in text
    assert NOT_DISTINGUISHABLE in text
    top = text.index(RECALL)
    assert top < text.index("Confusion matrix")  # not only in the confusion section
    assert top < text.index("Hyperparameter effects")
    if fmt == "table":
        assert top < text.index("Trials")  # the terminal shows them before the trials table


def test_report_json_carries_the_recall_and_the_test_against_the_majority(tmp_path):
    out, _ = run_report(copy_run("imbalanced", tmp_path), "json")
    report = json.loads(out)
    assert NOT_DISTINGUISHABLE in report["verdict"]
    classes = report["classes"]
    assert classes["imbalanced"] is True and classes["split"] == "test"
    assert classes["imbalance_ratio"] == pytest.approx(1933 / 67)
    yes = classes["per_class_recall"][1]
    assert yes["label"] == "Yes" and yes["n"] == 67 and yes["recall"] == pytest.approx(25 / 67)
    assert yes["recall_ci"] == pytest.approx([YES_LOW, YES_HIGH])
    majority = classes["majority"]
    assert majority["label"] == "No" and majority["n"] == 2000
    assert majority["error"] == pytest.approx(0.031) and majority["majority_error"] == 0.0335
    assert majority["p_value"] == pytest.approx(ISSUE_P)
    assert majority["distinguishable"] is False and majority["better"] is False
    first = report["trials"][0]["recommendations"][0]
    assert first["key"] == "training.class_weight" and first["value"] == "balanced"


def test_a_clearly_better_model_is_not_compared_with_the_majority_in_words(tmp_path):
    # test: 8 "No" rows wrong, 55 "Yes" rows right: 20 wrong (1.0%) against 67, p < 0.001
    run = with_matrices(tmp_path, {"val": [[1925, 8], [13, 54]], "test": [[1925, 8], [12, 55]]})
    report = build(run)
    assert report.balance.majority.better
    assert "always answering the majority class" not in report.verdict
    assert "no better than the majority" not in report.headline
    # still imbalanced, and "Yes" still missed beyond the noise: recall shown, weights advised
    assert "Yes 82.1% [" in report.verdict
    assert report.best.recommendations[0].key == "training.class_weight"


def test_balanced_classes_say_nothing_about_imbalance(tmp_path):
    run = copy_run("small-split", tmp_path)
    (run / "best").mkdir()
    payload = {"trial_id": "00", "labels": ["no", "yes"], "splits": {"val": [[50, 3], [8, 45]]}}
    (run / "best" / "confusion.json").write_text(json.dumps(payload), encoding="utf-8")
    report = build(run)
    assert not report.balance.imbalanced and report.balance.majority.better
    for fmt in ("table", "markdown", "html", "json"):
        out, _ = run_report(run, fmt)
        assert "imbalanced (" not in out and "Recall per class" not in out, fmt
        assert "always answering the majority class" not in out, fmt
        assert "class_weight" not in out, fmt


def test_without_a_test_split_the_validation_split_is_used_and_named(tmp_path):
    run = with_matrices(tmp_path, {"val": [[1915, 18], [43, 24]]})
    report = build(run)
    assert report.balance.split == "val"
    assert (
        "On the 2,000 validation rows (no test split; the validation split chose this model, "
        "which favours it), the best model is not distinguishable from always answering the "
        'majority class "No": 61 wrong (3.05%) against 67 (3.35%)'
    ) in report.verdict
    assert "recall per class on the validation split" in report.verdict


def test_a_model_worse_than_the_majority_is_said_to_be(tmp_path):
    # test: 60 "No" rows wrong, 10 "Yes" rows right: 117 wrong against 67 (p < 0.001)
    run = with_matrices(tmp_path, {"test": [[1873, 60], [57, 10]], "val": [[1873, 60], [57, 10]]})
    text = build(run).verdict
    assert 'the best model is worse than always answering the majority class "No"' in text


def test_a_run_already_weighted_is_advised_an_auc_objective(tmp_path):
    run = copy_run("imbalanced", tmp_path)
    resolved = run / "resolved.yaml"
    text = resolved.read_text().replace(
        "  batch_size: 64", "  batch_size: 64\n  class_weight: balanced"
    )
    resolved.write_text(text)
    first = build(run).best.recommendations[0]
    assert (first.key, first.value) == ("search.objective", "val_pr_auc")
    assert first.text.startswith("Search by search.objective: val_pr_auc (or val_auc)")


def test_a_matrix_of_another_trial_is_not_the_best_models(tmp_path):
    run = copy_run("imbalanced", tmp_path)
    path = run / "best" / "confusion.json"
    path.write_text(path.read_text().replace('"trial_id": "00"', '"trial_id": "03"'))
    report = build(run)
    assert report.balance is None
    assert "always answering the majority class" not in report.verdict


def test_the_end_of_a_search_shows_the_classes_with_the_best_trial(tmp_path):
    from tunenet.reporting.terminal import best_trial_text

    text = best_trial_text(copy_run("imbalanced", tmp_path))
    assert RECALL in text and NOT_DISTINGUISHABLE in text
    assert "Next: Weight the classes: set training.class_weight: balanced" in text


SEARCH = """\
name: credit
seed: 1
data:
  source: csv
  path: {path}
  target: default
  task: binary
  split: {{validation: 0.25, test: 0.25, stratify: true}}
model: {{layers: 1, units: [4, 8]}}
optimizer: {{name: adam, learning_rate: 0.003}}
training: {{epochs: 2, batch_size: 64, early_stopping: false, monitor_layers: false}}
search: {{strategy: grid, max_trials: 2}}
"""


@pytest.mark.e2e
@pytest.mark.slow
def test_a_real_search_on_an_imbalanced_table_reports_its_classes(tmp_path, cli):
    """1,200 rows, 4% positives: the report's classes agree with the run's own files."""
    from sklearn.datasets import make_classification

    x, y = make_classification(1200, 6, weights=[0.96], random_state=0)
    table = pd.DataFrame(x, columns=[f"x{i}" for i in range(6)])
    table["default"] = ["Yes" if v else "No" for v in y]
    table.to_csv(tmp_path / "credit.csv", index=False)
    config = tmp_path / "credit.yaml"
    config.write_text(SEARCH.format(path=tmp_path / "credit.csv"))
    assert cli("search", config, "--runs-dir", tmp_path / "runs").exit_code == 0
    result = cli("report", tmp_path / "runs" / "credit", "--format", "json", "--no-plots")
    report = json.loads(result.stdout)
    best = report["trials"][0]
    classes, majority = report["classes"], report["classes"]["majority"]
    assert classes["imbalanced"] is True and classes["split"] == "test"
    assert majority["label"] == "No" and majority["n"] == 300
    assert majority["error"] == pytest.approx(best["test_error"], abs=1e-6)
    test_rows = json.loads((tmp_path / "runs" / "credit" / "best" / "confusion.json").read_text())
    yes_rows = sum(test_rows["splits"]["test"][1])
    assert majority["majority_error"] == pytest.approx(yes_rows / 300)
    said = "always answering the majority class" in report["verdict"]
    assert said == (not majority["better"])


def _weighted(run: Path) -> Path:
    resolved = run / "resolved.yaml"
    text = resolved.read_text().replace(
        "  batch_size: 64", "  batch_size: 64\n  class_weight: balanced"
    )
    resolved.write_text(text)
    return run


def test_a_weighted_model_paying_accuracy_for_the_small_class_is_judged_by_balanced_error(
    tmp_path,
):
    # weighted: 290 "No" rows wrong for 59 of 67 "Yes" right; 298 wrong against 67 by accuracy
    # (worse than "No" beyond the noise), but the balanced error is 0.5 * (290/1933 + 8/67) =
    # 13.5% against 50% for always answering "No"
    splits = {"test": [[1643, 290], [8, 59]], "val": [[1643, 290], [8, 59]]}
    report = build(_weighted(with_matrices(tmp_path, splits)))
    expected = (
        "With training.class_weight the best model trades accuracy for the small classes "
        '(14.9% of the 2,000 test rows wrong, against 3.35% for always answering "No"); its '
        "balanced error, the mean of the classes' errors, is 13.5% ± "
    )
    assert expected in report.verdict
    assert 'against 50.0% for always answering the majority class "No": better beyond the' in (
        report.verdict
    )
    assert "is worse than always answering the majority class" not in report.verdict
    assert "no better than the majority class" not in report.headline


def test_a_weighted_model_that_recalls_no_small_class_is_no_better_by_balanced_error(tmp_path):
    splits = {"test": [[1930, 3], [66, 1]], "val": [[1930, 3], [66, 1]]}
    report = build(_weighted(with_matrices(tmp_path, splits)))
    assert "against 50.0% for always answering the majority class" in report.verdict
    assert "not distinguishable from it." in report.verdict
    assert "no better than the majority class" in report.headline


def test_report_json_carries_a_weighted_runs_balanced_error(tmp_path):
    splits = {"test": [[1643, 290], [8, 59]], "val": [[1643, 290], [8, 59]]}
    run = _weighted(with_matrices(tmp_path, splits))
    out, _ = run_report(run, "json")
    balanced = json.loads(out)["classes"]["balanced"]
    assert balanced["error"] == pytest.approx(0.5 * (290 / 1933 + 8 / 67))
    assert balanced["majority_error"] == 0.5 and balanced["better"] is True
    plain = json.loads(run_report(with_matrices(tmp_path / "plain", splits), "json")[0])
    assert plain["classes"]["balanced"] is None
