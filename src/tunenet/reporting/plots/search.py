"""Plots of the search as a whole: the optimization history, bias against variance (train error
against validation error) and the importance of each hyperparameter."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from tunenet import diagnosis as dx
from tunenet.reporting.model import RunReport
from tunenet.reporting.plots import hover, style
from tunenet.runs import TrialStatus

# ---------------------------------------------------------------- history


@dataclass(frozen=True)
class History:
    """Every trial in trial order: its objective (NaN unless completed), status and label; the
    running best of the completed ones."""

    trial_ids: list[str]
    objective: np.ndarray
    statuses: list[str]
    labels: list[str | None]
    best_so_far: np.ndarray
    objective_name: str
    goal: str
    best: str | None


def history_info(report: RunReport) -> History:
    trials = report.run.trials.copy()
    trials["order"] = [trial_order(t) for t in trials["trial_id"]]
    trials = trials.sort_values("order", kind="stable")
    labels = {t.trial_id: style.shown_label(t) for t in report.trials}
    values = pd.to_numeric(trials[report.objective.column], errors="coerce").to_numpy(float)
    done = (trials["status"] == TrialStatus.COMPLETED).to_numpy() & np.isfinite(values)
    objective = np.where(done, values, np.nan)
    best_so_far, best = [], np.nan
    for value in objective:
        if report.objective.better(value, best):
            best = value
        best_so_far.append(best)
    ids = trials["trial_id"].tolist()
    return History(
        trial_ids=ids,
        objective=objective,
        statuses=trials["status"].tolist(),
        labels=[labels.get(tid) for tid in ids],
        best_so_far=np.asarray(best_so_far, dtype=float),
        objective_name=report.objective.name,
        goal=report.objective.goal,
        best=report.best.trial_id if report.best else None,
    )


def trial_order(trial_id: str) -> tuple[int, float, str]:
    """Numeric ids in numeric order ("2" before "10"), then the others by text."""
    try:
        return 0, float(trial_id), trial_id
    except ValueError:
        return 1, 0.0, trial_id


def history(info: History) -> Figure | None:
    """The objective of each trial in trial order, coloured by label, and the best so far as a
    step line; trials that did not complete as crosses along the bottom."""
    if not np.isfinite(info.objective).any():
        return None
    figure, axis = style.new_figure(style.WIDE)
    xs = np.arange(len(info.trial_ids), dtype=float)
    done = np.isfinite(info.objective)
    colors = [style.label_color(label) for label in info.labels]
    axis.scatter(
        xs[done], info.objective[done], c=np.array(colors)[done], s=36, zorder=3,
        edgecolor="white", linewidth=0.5,
    )  # fmt: skip
    hover.mark_trials(axis, xs[done], info.objective[done], np.array(info.trial_ids)[done])
    failed = np.flatnonzero(~done)
    hover.mark_trials(
        axis, xs[failed], np.full(len(failed), 0.03), [info.trial_ids[i] for i in failed],
        axis.get_xaxis_transform(),
    )  # fmt: skip
    axis.step(
        xs, info.best_so_far, where="post", color=style.OBJECTIVE_COLOR, linewidth=1.6,
        label="best so far",
    )  # fmt: skip
    for i in np.flatnonzero(~done):
        axis.scatter(
            [xs[i]], [0.03], marker="x", s=40, color=colors[i],
            transform=axis.get_xaxis_transform(), zorder=3, clip_on=False,
        )  # fmt: skip
    if info.best in info.trial_ids:
        i = info.trial_ids.index(info.best)
        axis.scatter([xs[i]], [info.objective[i]], **style.BEST_STAR)
    _trial_ticks(axis, info.trial_ids)
    axis.yaxis.set_major_locator(MaxNLocator(6))
    axis.set_xlabel("trial (in trial order); × did not complete")
    axis.set_ylabel(info.objective_name)
    axis.grid(alpha=style.GRID_ALPHA)
    handles = style.label_handles(info.labels, info.best) + axis.get_legend_handles_labels()[0]
    style.figure_legend(figure, handles, loc="outside right upper", ncol=1)
    axis.set_title(
        f"Optimization history: {info.objective_name} per trial ({info.goal}) and the best so far",
        fontsize=style.TITLE_SIZE,
    )
    return figure


def _trial_ids_shown(ids: list[str], most: int = 30) -> list[int]:
    step = max(1, -(-len(ids) // most))
    return list(range(0, len(ids), step))


def _trial_ticks(axis: Axes, ids: list[str]) -> None:
    shown = _trial_ids_shown(ids)
    axis.set_xticks(shown, [ids[i] for i in shown])
    if len(shown) > 12:
        axis.tick_params(axis="x", labelrotation=90)
    axis.set_xlim(-0.6, len(ids) - 0.4)


# ---------------------------------------------------------------- bias and variance


def error_points(report: RunReport) -> pd.DataFrame:
    """trial_id, train_error, val_error, label of the trials with a fit diagnosis."""
    return pd.DataFrame(
        [(t.trial_id, t.train_error, t.val_error, t.label) for t in report.trials if t.fit],
        columns=["trial_id", "train_error", "val_error", "label"],
    )


def error_scatter(
    points: pd.DataFrame, thresholds: dx.Thresholds, best: str | None
) -> Figure | None:
    """Train error (x) against validation error (y), one point per trial coloured by label, with
    the high-bias region (train error > target + bias threshold) and the high-variance region
    (validation - train > variance threshold) shaded, the diagonal and the target error."""
    if points.empty:
        return None
    train = points["train_error"].to_numpy(dtype=float)
    val = points["val_error"].to_numpy(dtype=float)
    bias_edge = thresholds.target_error + thresholds.bias_threshold
    highest = np.nanmax(np.concatenate([train, val, [bias_edge + thresholds.variance_threshold]]))
    top = highest * 1.12 + 0.01 if np.isfinite(highest) else 1.0
    figure, axis = style.new_figure(style.SQUARE)
    xs = np.linspace(0, top, 200)
    axis.axvspan(bias_edge, top, color=style.label_color(dx.HIGH_BIAS), alpha=0.10, linewidth=0)
    axis.fill_between(
        xs, xs + thresholds.variance_threshold, top, color=style.label_color(dx.HIGH_VARIANCE),
        alpha=0.10, linewidth=0,
    )  # fmt: skip
    axis.plot([0, top], [0, top], color=style.MUTED, linewidth=1, linestyle="--")
    axis.axvline(thresholds.target_error, color=style.MUTED, linewidth=1, linestyle=":")
    _region_names(axis, top, bias_edge, thresholds)
    colors = [style.label_color(label) for label in points["label"]]
    axis.scatter(train, val, s=40, c=colors, edgecolor="white", zorder=3)
    ids = points["trial_id"].tolist()
    hover.mark_trials(axis, train, val, ids)
    if best in ids:
        i = ids.index(best)
        axis.scatter([train[i]], [val[i]], **style.BEST_STAR)
    axis.set_xlim(0, top)
    axis.set_ylim(0, top)
    for target in (axis.xaxis, axis.yaxis):
        target.set_major_formatter(PercentFormatter(1.0))
        target.set_major_locator(MaxNLocator(6))
    axis.set_xlabel("train error")
    axis.set_ylabel("validation error")
    axis.set_title(
        f"Bias and variance (target error {thresholds.target_error:.3g}, thresholds "
        f"{thresholds.bias_threshold:g} / {thresholds.variance_threshold:g})",
        fontsize=style.TITLE_SIZE,
    )
    axis.grid(alpha=style.GRID_ALPHA)
    style.legend_for_labels(axis, points["label"].tolist(), best, loc="lower right")
    style.place_labels(axis, train, val, ids)
    return figure


def _region_names(axis: Axes, top: float, bias_edge: float, thresholds: dx.Thresholds) -> None:
    small = {"fontsize": style.TICK_SIZE, "zorder": 2}
    if bias_edge > 0.25 * top:  # else the strip left of the bias edge has no room for words
        axis.text(
            0.02 * top, 0.97 * top, "high variance", va="top",
            color=style.label_color(dx.HIGH_VARIANCE), **small,
        )  # fmt: skip
    if bias_edge < 0.8 * top:
        left = bias_edge + 0.01 * top
        axis.text(left, 0.02 * top, "high bias", color=style.label_color(dx.HIGH_BIAS), **small)
        axis.text(left, 0.97 * top, "both", va="top", color=style.label_color(dx.BOTH), **small)
    axis.text(
        thresholds.target_error, 0.5 * top, " target error", rotation=90, va="center",
        ha="right", fontsize=style.SMALL_SIZE, color=style.MUTED,
    )  # fmt: skip


# ---------------------------------------------------------------- importance

TARGET_TITLES = {
    "objective": "{objective}",
    "train_error": "train error (what moves bias)",
    "gap": "gap (what moves variance)",
}


@dataclass(frozen=True)
class Importance:
    """Per target (`dx.TARGETS`), per hyperparameter: (importance, significant, p-value)."""

    hyperparameters: list[str]
    targets: dict[str, list[tuple[float | None, bool, float | None]]]
    objective_name: str


def importance_info(report: RunReport) -> Importance | None:
    effects = [e for e in report.effects if any(t.importance is not None for t in e.tests.values())]
    if not effects:
        return None
    effects.sort(key=lambda e: -(e.importance or 0))
    targets = {}
    for target in dx.TARGETS:
        tests = [e.tests.get(target) for e in effects]
        if any(t is not None and t.importance is not None for t in tests):
            targets[target] = [
                (t.importance, t.significant, t.p_value) if t else (None, False, None)
                for t in tests
            ]
    return Importance([e.hyperparameter for e in effects], targets, report.objective.name)


def importance(info: Importance | None) -> Figure | None:
    """One bar chart per target: each hyperparameter's importance (the share of the spread its
    values explain beyond noise), solid where the effect is larger than the noise, pale with
    "not significant" otherwise."""
    if info is None:
        return None
    count = len(info.targets)
    height = 2.2 + 0.42 * len(info.hyperparameters)
    figure, grid = style.new_figure((3.3 * count + 1.6, height), 1, count, sharey=True)
    panels = list(np.atleast_1d(grid).flat)
    ys = np.arange(len(info.hyperparameters))
    for axis, (target, bars) in zip(panels, info.targets.items(), strict=True):
        _importance_panel(axis, ys, bars)
        axis.set_title(TARGET_TITLES[target].format(objective=info.objective_name))
    panels[0].set_yticks(ys, info.hyperparameters)
    panels[0].invert_yaxis()  # the most important on top
    figure.suptitle(
        f"Hyperparameter importance (0–1; solid: larger than the noise, p < {dx.ALPHA:g} after "
        "Holm's correction)",
        fontsize=style.TITLE_SIZE,
    )
    return figure


def _importance_panel(axis: Axes, ys: np.ndarray, bars: list) -> None:
    for y, (value, significant, p_value) in zip(ys, bars, strict=True):
        if value is None:
            axis.text(
                0.02, y, "not tested", va="center", fontsize=style.SMALL_SIZE, color=style.TEXT
            )
            continue
        color = style.OBJECTIVE_COLOR
        axis.barh(y, value, height=0.6, color=color, alpha=1.0 if significant else 0.25)
        if p_value is None:
            words = "not tested"
        elif significant:
            words = dx.p_text(p_value)
        else:
            words = f"not significant ({dx.p_text(p_value)})"
        inside = value > 0.5
        axis.text(
            value - 0.02 if inside else value + 0.02, y, words, va="center",
            ha="right" if inside else "left", fontsize=style.SMALL_SIZE,
            color="white" if inside and significant else style.TEXT,
        )  # fmt: skip
    axis.set_xlim(0, 1.0)
    axis.xaxis.set_major_locator(MaxNLocator(5))
    axis.set_xlabel("importance")
    axis.grid(axis="x", alpha=style.GRID_ALPHA)
