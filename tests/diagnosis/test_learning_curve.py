"""Will more data help? The rule of docs/guide.md on hand-made curves, and the report's section."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from reporting.helpers import copy_run, run_report
from tunenet.diagnosis.intervals import normal, wilson
from tunenet.diagnosis.learning_curve import learning_curve


def curve(*points: tuple[float, int, float, float], val_n: int = 400) -> pd.DataFrame:
    """learning_curve.csv rows from (fraction, examples, train_error, val_error), with Wilson
    intervals (train on `examples`, validation on `val_n` examples)."""
    rows = []
    for fraction, examples, train, val in points:
        train_low, train_high = wilson(train, examples)
        val_low, val_high = wilson(val, val_n)
        rows.append(
            dict(fraction=fraction, examples=examples, train_error=train,
                 train_error_low=train_low, train_error_high=train_high, val_error=val,
                 val_error_low=val_low, val_error_high=val_high, seconds=1.0)
        )  # fmt: skip
    return pd.DataFrame(rows)


def test_apart_and_falling_means_more_data_helps() -> None:
    found = learning_curve(
        curve((0.25, 250, 0.0, 0.20), (0.5, 500, 0.0, 0.12), (1.0, 1000, 0.0, 0.05), val_n=2000)
    )
    assert found.more_data_helps is True
    assert found.gap == pytest.approx(0.05) and found.gap_ci[0] > 0
    assert found.val_drop == pytest.approx(0.07) and found.val_drop_ci[0] > 0
    assert found.val_slope < 0 and found.val_slope_ci[1] < 0
    assert found.reason.startswith("at 1,000 examples the gap is +5.0 pts ± ")
    assert "(curves apart)" in found.reason
    assert (
        "over 3 fractions validation error falls 7.4 pts per doubling of the data" in found.reason
    )
    assert "(95% interval 6.5 to 8.4): more data is likely to help." in found.reason


def test_met_and_flat_means_more_data_does_not_help() -> None:
    found = learning_curve(curve((0.5, 500, 0.31, 0.32), (1.0, 1000, 0.30, 0.31)))
    assert found.more_data_helps is False
    assert found.gap_ci[0] <= 0 < found.gap_ci[1]
    assert "(inside its noise: no sign that the curves are apart)" in found.reason
    assert "over 2 fractions validation error falls 1.0 pts per doubling" in found.reason
    assert "no sign that more data would help" in found.reason and "bias" in found.reason


def test_a_no_from_wide_intervals_says_how_to_become_sure() -> None:
    wide = learning_curve(curve((0.5, 500, 0.31, 0.32), (1.0, 1000, 0.30, 0.31)))
    assert wide.more_data_helps is False and wide.gap_ci[1] > 0.05
    assert f"The gap may still be as large as +{wide.gap_ci[1] * 100:.1f} pts" in wide.reason
    assert "(above the variance threshold, 5 pts)" in wide.reason
    assert "raise data.split.validation" in wide.reason
    narrow = learning_curve(curve((0.5, 10000, 0.30, 0.30), (1.0, 20000, 0.30, 0.30), val_n=20000))
    assert narrow.more_data_helps is False and narrow.gap_ci[1] < 0.05
    assert "may still be" not in narrow.reason
    # the run's own threshold decides what "large" is
    strict = learning_curve(
        curve((0.5, 10000, 0.30, 0.30), (1.0, 20000, 0.30, 0.30), val_n=20000),
        variance_threshold=0.001,
    )
    assert "(above the variance threshold, 0.1 pts)" in strict.reason


def test_apart_but_not_falling_beyond_noise_is_uncertain() -> None:
    # 6% -> 5% on 400 validation examples: a fall of 1 point inside about ±3
    found = learning_curve(curve((0.5, 500, 0.0, 0.06), (1.0, 1000, 0.0, 0.05)))
    assert found.more_data_helps is None
    assert found.gap_ci[0] > 0 and found.val_slope_ci[0] < 0 < found.val_slope_ci[1]
    assert "(curves apart), but over 2 fractions validation error falls 1.0 pts" in found.reason
    assert "uncertain whether more data helps" in found.reason
    assert "data.split.validation" in found.reason and "--fractions" in found.reason


def test_met_but_still_falling_is_uncertain() -> None:
    found = learning_curve(curve((0.5, 500, 0.30, 0.45), (1.0, 1000, 0.30, 0.31)))
    assert found.more_data_helps is None
    assert found.gap_ci[0] <= 0 and found.val_slope_ci[1] < 0
    assert (
        "no sign that the curves are apart" in found.reason and "beyond its noise" in found.reason
    )
    assert "uncertain" in found.reason


def test_a_rising_validation_error_is_said_as_such() -> None:
    found = learning_curve(curve((0.5, 500, 0.30, 0.30), (1.0, 1000, 0.30, 0.32)))
    assert found.more_data_helps is False
    assert "validation error rises 2.0 pts per doubling of the data" in found.reason


def test_rows_are_judged_in_fraction_order() -> None:
    ordered = curve((0.5, 500, 0.0, 0.12), (1.0, 1000, 0.0, 0.05), val_n=2000)
    found = learning_curve(ordered.iloc[::-1].reset_index(drop=True))
    assert [p.fraction for p in found.points] == [0.5, 1.0]
    assert found.more_data_helps is True


def test_regression_uses_normal_intervals() -> None:
    def row(fraction, examples, train, val, se):
        return dict(fraction=fraction, examples=examples, train_error=train,
                    train_error_low=normal(train, se)[0], train_error_high=normal(train, se)[1],
                    val_error=val, val_error_low=normal(val, se)[0],
                    val_error_high=normal(val, se)[1], seconds=2.0)  # fmt: skip

    table = pd.DataFrame([row(0.5, 200, 0.20, 0.60, 0.03), row(1.0, 400, 0.25, 0.45, 0.03)])
    found = learning_curve(table, proportions=False)
    assert found.more_data_helps is True
    spread = 1.959963984540054 * 0.03 * 2**0.5  # two independent normal errors
    assert found.gap_ci == pytest.approx((0.20 - spread, 0.20 + spread))


def test_one_fraction_is_not_enough() -> None:
    found = learning_curve(curve((1.0, 1000, 0.0, 0.05)))
    assert found.more_data_helps is None
    assert "1 fraction(s)" in found.reason and "two fractions or more" in found.reason
    assert found.gap is None and found.val_slope is None


def test_a_missing_error_or_interval_names_the_fraction() -> None:
    table = curve((0.5, 500, 0.0, 0.12), (1.0, 1000, 0.0, 0.05))
    table.loc[1, "val_error"] = float("nan")
    found = learning_curve(table)
    assert found.more_data_helps is None
    assert "validation error at fraction 1 is missing" in found.reason
    table = curve((0.5, 500, 0.0, 0.12), (1.0, 1000, 0.0, 0.05))
    table.loc[1, "train_error_low"] = float("nan")
    found = learning_curve(table)
    assert found.more_data_helps is None
    assert "train error at fraction 1 has no interval" in found.reason


def test_a_fraction_without_its_validation_interval_is_left_out_of_the_trend() -> None:
    table = curve((0.25, 250, 0.0, 0.20), (0.5, 500, 0.0, 0.12), (1.0, 1000, 0.0, 0.05),
                  val_n=2000)  # fmt: skip
    table.loc[1, "val_error_low"] = float("nan")
    found = learning_curve(table)
    assert found.more_data_helps is True
    assert "over 2 fractions validation error falls 7.5 pts per doubling" in found.reason
    table.loc[0, "val_error"] = float("nan")  # one usable fraction left: no trend
    found = learning_curve(table)
    assert found.more_data_helps is None and "1 with a validation error" in found.reason


# ---------------------------------------------------------------- the whole curve


def test_the_issue_curve_falls_over_the_whole_curve_and_more_data_helps() -> None:
    # 32% -> 21% -> 21% -> 10% on 60 validation rows: the last two fractions alone do not clear
    # their noise (21% vs 10%), the whole curve does: 6.2 pts per doubling, 95% interval 2.3 to 10.1
    points = (
        (0.1, 40, 0.02, 0.32),
        (0.25, 101, 0.03, 0.21),
        (0.5, 202, 0.03, 0.21),
        (1.0, 404, 0.02, 0.10),
    )
    found = learning_curve(curve(*points, val_n=60))
    assert found.val_drop_ci[0] < 0  # what the old rule read: uncertain
    assert found.val_slope == pytest.approx(-0.062, abs=0.001)
    assert found.val_slope_ci[1] < 0 and found.gap_ci[0] > 0
    assert found.more_data_helps is True
    assert (
        "over 4 fractions validation error falls 6.2 pts per doubling of the data" in found.reason
    )
    # the same curve with the train error near the validation error: the gap is inside its
    # noise, but a curve that falls beyond its noise is never "no"
    met = [(f, n, val - 0.01, val) for f, n, _, val in points]
    found = learning_curve(curve(*met, val_n=60))
    assert found.gap_ci[0] <= 0 and found.val_slope_ci[1] < 0
    assert found.more_data_helps is None
    assert "may still be falling toward the train error" in found.reason


def test_a_flat_curve_whose_curves_met_means_no() -> None:
    points = [(0.1, 2000, 0.30, 0.31), (0.25, 5000, 0.30, 0.30), (0.5, 10000, 0.30, 0.31),
              (1.0, 20000, 0.30, 0.30)]  # fmt: skip
    found = learning_curve(curve(*points, val_n=2000))
    assert found.more_data_helps is False
    assert found.val_slope_ci[0] < 0 < found.val_slope_ci[1]
    assert "over 4 fractions validation error falls 0.2 pts per doubling" in found.reason
    assert "(95% interval -0.6 to 1.0), inside its noise: no sign that more data would help" in (
        found.reason
    )


def test_a_noisy_short_curve_is_uncertain_and_says_how_to_become_sure() -> None:
    # 30% -> 24% on 50 validation rows, train 0%: apart, but a fall of 6 pts inside ±17
    found = learning_curve(curve((0.5, 100, 0.0, 0.30), (1.0, 200, 0.0, 0.24), val_n=50))
    assert found.more_data_helps is None
    assert found.gap_ci[0] > 0 and found.val_slope_ci[0] < 0 < found.val_slope_ci[1]
    assert "uncertain whether more data helps" in found.reason
    assert (
        "data.split.validation" in found.reason and "--fractions 0.1,0.25,0.5,1.0" in found.reason
    )


def test_points_scattered_beyond_their_intervals_widen_the_trend() -> None:
    # 30, 10, 25, 5% on 2000 validation rows: a zigzag far beyond ±2 pts; the fall is not sure
    points = [(0.1, 100, 0.0, 0.30), (0.25, 250, 0.0, 0.10), (0.5, 500, 0.0, 0.25),
              (1.0, 1000, 0.0, 0.05)]  # fmt: skip
    found = learning_curve(curve(*points, val_n=2000))
    assert found.more_data_helps is None
    assert found.val_slope_ci[0] < 0 < found.val_slope_ci[1]
    assert "widened: the points scatter 169.4× the variance their intervals allow" in found.reason


# ---------------------------------------------------------------- the report's section

CURVE_CSV = """\
fraction,examples,train_error,train_error_low,train_error_high,val_error,val_error_low,val_error_high,seconds
0.25,80,0.0,0.0,0.0458,0.2547,0.1824,0.3437,1.5
0.5,160,0.0125,0.0034,0.0444,0.1792,0.1179,0.2625,1.8
1.0,320,0.0094,0.0032,0.0272,0.0566,0.0262,0.1180,2.4
"""


@pytest.fixture
def run_with_curve(tmp_path: Path) -> Path:
    run = copy_run("small-split", tmp_path)
    (run / "learning_curve.csv").write_text(CURVE_CSV, encoding="utf-8")
    return run


def test_report_says_whether_more_data_helps(run_with_curve: Path) -> None:
    out, _ = run_report(run_with_curve, "table")
    assert "Learning curve (will more data help?)" in out
    assert "More data helps: yes. At 320 examples the gap is +4.7 pts " in out
    assert "over 3 fractions validation error falls 10.3 pts per doubling of the data" in out
    assert "80 training examples (fraction 0.25): train error 0.0% " in out


def test_markdown_report_has_the_section(run_with_curve: Path) -> None:
    out, _ = run_report(run_with_curve, "markdown")
    assert "Learning curve (will more data help?)" in out
    assert "More data helps: yes." in out
    assert "320 training examples (fraction 1): train error 0.9% " in out


def test_report_json_has_the_verdict_and_rows(run_with_curve: Path) -> None:
    out, _ = run_report(run_with_curve, "json")
    found = json.loads(out)["learning_curve"]
    assert found["more_data_helps"] is True
    assert found["reason"].startswith("at 320 examples the gap is +4.7 pts")
    assert [row["examples"] for row in found["rows"]] == [80, 160, 320]
    assert found["rows"][2]["val_error_ci"] == pytest.approx([0.0262, 0.1180])
    assert found["gap"] == pytest.approx(0.0566 - 0.0094)
    assert found["gap_ci"][0] > 0 and found["val_drop_ci"][0] > 0
    assert found["val_slope"] == pytest.approx(-0.103, abs=0.001)
    assert found["val_slope_ci"][1] < 0


def test_report_without_a_curve_has_no_section(tmp_path: Path) -> None:
    run = copy_run("small-split", tmp_path)
    out, _ = run_report(run, "table")
    assert "will more data help" not in out
    assert json.loads(run_report(run, "json")[0])["learning_curve"] is None


def test_a_damaged_curve_file_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    run = copy_run("small-split", tmp_path)
    (run / "learning_curve.csv").write_text("fraction,examples\n0.5,10\n", encoding="utf-8")
    out, err = run_report(run, "json")
    report = json.loads(out)
    assert report["learning_curve"] is None
    assert any("learning_curve.csv: missing column" in w for w in report["warnings"])


FLAT_CSV = """\
fraction,examples,train_error,train_error_low,train_error_high,val_error,val_error_low,val_error_high,seconds
0.5,160,0.30,0.2357,0.3734,0.32,0.2413,0.4108,1.0
1.0,320,0.31,0.2620,0.3623,0.31,0.2322,0.3996,1.5
"""


def test_the_more_data_advice_cites_the_learning_curve(tmp_path: Path) -> None:
    """The capacity fixture's best trial has high variance: its advice includes more data."""
    run = copy_run("capacity", tmp_path)
    before = json.loads(run_report(run, "json")[0])
    (run / "learning_curve.csv").write_text(FLAT_CSV, encoding="utf-8")
    after = json.loads(run_report(run, "json")[0])
    assert after["learning_curve"]["more_data_helps"] is False

    def more_data(report: dict) -> str:
        (best,) = [t for t in report["trials"] if t["trial_id"] == report["best_trial"]]
        (rec,) = [r for r in best["recommendations"] if r["key"] == "data.limit"]
        return rec["text"]

    assert "learning curve" not in more_data(before)
    cited = more_data(after)
    assert cited.startswith(more_data(before))
    assert "The learning curve (tunenet learning-curve) says no: at 320 examples" in cited
    assert "no sign that more data would help" in cited


# ---------------------------------------------------------------- the plot


def test_the_figure_draws_both_errors_with_their_bands_against_examples() -> None:
    from io import StringIO

    from tunenet.reporting.learning_curve_plot import learning_curve_figure

    table = pd.read_csv(StringIO(CURVE_CSV))
    table.loc[0, "train_error"] = float("nan")  # a diverged fit is left out, not drawn at 0
    figure = learning_curve_figure(table, title="digits", verdict="more data helps: yes")
    (axes,) = figure.axes
    lines = {line.get_label(): line for line in axes.lines}
    assert list(lines["train error"].get_xdata()) == [160, 320]
    assert list(lines["validation error"].get_xdata()) == [80, 160, 320]
    assert list(lines["validation error"].get_ydata()) == pytest.approx([0.2547, 0.1792, 0.0566])
    bands = [c for c in axes.collections if "95% interval" in str(c.get_label())]
    assert len(bands) == 2
    assert axes.get_xlabel() == "training examples" and axes.get_ylabel() == "error"
    low, high = axes.get_ylim()
    assert low < 0 < 0.3437 < high  # markers at 0 and the top of the widest band show
    assert "more data helps: yes" in [t.get_text() for t in axes.texts]
    import matplotlib.pyplot as plt

    plt.close(figure)
