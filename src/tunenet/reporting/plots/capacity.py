"""The capacity curve of a `search.strategy: capacity` run: the objective and the errors as the
network grows, step by step."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from tunenet.diagnosis import CapacityCurve, format_value
from tunenet.reporting.plots import style
from tunenet.reporting.plots.style import MUTED, OBJECTIVE_COLOR, TRAIN_COLOR, VAL_COLOR
from tunenet.runs import TrialStatus


def capacity_curve(curve: CapacityCurve, objective: str, target_error: float) -> Figure | None:
    """Two panels over the steps of a capacity search, in trial order: the objective (best
    step a star; the level a later step had to beat, `min_delta` past the step after which growth
    stopped paying, dotted), then train and validation error with the target error. A dashed
    line (named in the legend) marks where growth stopped paying; the steps after it are shaded.

    The x axis is the step (trial order), labelled with the size (`2×16`) and the trial id:
    sizes double while the units grow, so evenly spaced steps keep the small networks readable,
    and a size that repeats still gets its own point.
    """
    steps = curve.steps
    if not steps:
        return None
    xs = np.arange(len(steps), dtype=float)
    ids = [s.trial_id for s in steps]

    def values(attribute: str) -> np.ndarray:
        raw = [getattr(s, attribute) for s in steps]
        return np.array([np.nan if v is None else float(v) for v in raw], dtype=float)

    score, train, val = values("objective"), values("train_error"), values("val_error")
    width = max(6.4, 0.62 * len(steps) + 2.2)
    figure, (top, bottom) = style.new_figure((width, 6.6), 2, 1, sharex=True)
    stop = ids.index(curve.stopped_after) if curve.stopped_after in ids else None
    last_done = max((i for i, v in enumerate(score) if np.isfinite(v)), default=None)
    paying_to_the_end = stop is not None and stop == last_done

    for axis in (top, bottom):
        if stop is not None and not paying_to_the_end:
            axis.axvspan(stop, len(steps) - 0.5, color=MUTED, alpha=0.08, linewidth=0)
            label = f"growth stopped paying after {steps[stop].label}" if axis is top else None
            axis.axvline(stop, color=MUTED, linestyle="--", linewidth=1.2, label=label)
        axis.grid(alpha=0.3)
        axis.tick_params(labelsize=8)

    _gapped_line(top, xs, score, OBJECTIVE_COLOR, objective)
    if curve.best in ids:
        i = ids.index(curve.best)
        top.scatter([xs[i]], [score[i]], **style.BEST_STAR, label=f"best (trial {curve.best})")
    if stop is not None and not paying_to_the_end:
        sign = 1 if curve.objective.maximized else -1
        bar = score[stop] + sign * curve.min_delta
        beat = f"to beat: {format_value(bar)} ({'+' if sign > 0 else '−'}min_delta)"
        top.hlines(
            bar,
            stop,
            len(steps) - 0.5,
            color=OBJECTIVE_COLOR,
            linestyle=":",
            linewidth=1.2,
            label=beat,
        )
    elif paying_to_the_end:
        top.text(
            0.99,
            0.04,
            "still paying at the last step",
            transform=top.transAxes,
            ha="right",
            fontsize=8,
            color=MUTED,
        )
    for i, step in enumerate(steps):
        if step.status != TrialStatus.COMPLETED:
            top.text(
                xs[i],
                0.5,
                step.status,
                transform=top.get_xaxis_transform(),
                rotation=90,
                ha="center",
                va="center",
                fontsize=8,
                color=VAL_COLOR,
            )
    top.set_ylabel(objective, fontsize=9)
    top.legend(fontsize=8, loc="best")

    _gapped_line(bottom, xs, train, TRAIN_COLOR, "train error")
    _gapped_line(bottom, xs, val, VAL_COLOR, "validation error")
    bottom.axhline(
        target_error,
        color=MUTED,
        linestyle=":",
        linewidth=1.2,
        label=f"target error {target_error:g}",
    )
    highest = np.nanmax(np.concatenate([train, val, [target_error]]))
    bottom.set_ylim(0, (highest if np.isfinite(highest) else 1) * 1.1 + 0.01)
    bottom.yaxis.set_major_formatter(PercentFormatter(1.0))
    bottom.set_ylabel("error", fontsize=9)
    bottom.legend(fontsize=8, loc="best")
    bottom.set_xticks(xs, [f"{s.label}\n{s.trial_id}" for s in steps])
    bottom.set_xlim(-0.5, len(steps) - 0.5)
    bottom.set_xlabel(
        "model size (layers × units per layer), trial id below; in trial order", fontsize=9
    )
    figure.suptitle(
        f"Capacity curve: {objective} and errors as the network grows "
        f"(min_delta {curve.min_delta:g})",
        fontsize=style.TITLE_SIZE,
    )
    return figure


def _gapped_line(axis, xs: np.ndarray, ys: np.ndarray, color: str, label: str) -> None:
    """A line with markers through the finite points; a failed step leaves a dashed bridge."""
    finite = np.isfinite(ys)
    if not finite.any():
        return
    axis.plot(xs[finite], ys[finite], color=color, linewidth=1, linestyle=":", alpha=0.6)
    axis.plot(xs, ys, color=color, linewidth=1.6, marker="o", markersize=5, label=label)
