"""Whether a hyperparameter's values moved a quantity by more than the noise: importance, the two
tests behind `significant`, and Holm's correction for testing many hyperparameters at once.

Two sources of noise, two tests:
- across trials: trials with the same value differ (seeds, the other hyperparameters, the split),
  so a permutation test asks whether the values' groups differ more than random groupings do;
- within a trial: an error measured on n examples is uncertain by its own interval, so where
  values were tried too few times for a permutation test to ever clear the corrected threshold,
  trials that differ in this hyperparameter alone are compared with a z (chi-square) test on their
  standard errors. It counts the noise of the validation sample, not the training seed's: a small
  difference on a large split can still be the seed.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence

import numpy as np

ALPHA = 0.05  # a corrected p-value below it is "larger than the noise"
RESAMPLES = 2000  # random relabelings when there are too many to try them all
EXACT_ORDERINGS = math.factorial(8)  # up to 8 trials, every ordering is tried
_TOLERANCE = 1e-9  # relative: a relabeling that explains as much up to rounding is as extreme
SEED = 0  # same report twice, same p-values


def variance_share(
    values: np.ndarray, codes: np.ndarray, noise_variance: float | None
) -> float | None:
    """Share of the spread of `values` that their groups explain beyond noise, in [0, 1].

    omega² = (SS_between − (k − 1)·σ²) / (SS_total + σ²), floored at 0, where σ² is the noise
    variance of one value: the within-group mean square when some value was tried twice,
    else `noise_variance` (the trials' own squared standard errors). eta² would give a grouping of
    pure noise a share of about (k − 1)/(n − 1); omega² gives it about 0.

    Args:
        values: one number per trial.
        codes: the trial's group (0 .. k − 1).
        noise_variance: σ² to use when no group has two trials; None: unknown.

    Returns:
        The share, or None when the noise cannot be estimated.
    """
    groups = np.unique(codes)
    k, n = len(groups), len(values)
    total = float(((values - values.mean()) ** 2).sum())
    between = float(_between_many(values, codes[np.newaxis, :])[0])
    if n > k:
        noise = (total - between) / (n - k)
    elif noise_variance is not None:
        noise = noise_variance
    else:
        return None
    if total + noise <= 0:
        return 0.0
    return float(min(1.0, max(0.0, (between - (k - 1) * noise) / (total + noise))))


def groupings(sizes: Sequence[int]) -> float:
    """How many distinct ways trials split into groups of these sizes (equal-sized groups
    swapped count once): n! / (∏ size! · ∏ (groups of each size)!)."""
    count = math.lgamma(sum(sizes) + 1) - sum(math.lgamma(s + 1) for s in sizes)
    count -= sum(math.lgamma(sizes.count(s) + 1) for s in set(sizes))
    return math.exp(count)


def smallest_permutation_p(sizes: Sequence[int]) -> float:
    """The smallest p-value a permutation test of groups of these sizes can give."""
    if math.factorial(sum(sizes)) <= EXACT_ORDERINGS:
        return 1 / groupings(sizes)
    return max(1 / groupings(sizes), 1 / (RESAMPLES + 1))


def permutation_p(values: np.ndarray, codes: np.ndarray) -> tuple[float, str]:
    """p-value of a permutation test of eta² (the between-groups share of the spread), and the
    test's name: the share of relabelings of the trials whose groups explain as much.

    Exact (every ordering) for up to 8 trials, else `RESAMPLES` seeded random relabelings
    (p = (1 + as extreme) / (1 + RESAMPLES)). Groups of one trial are allowed.
    """
    count = len(values)
    observed = _between_many(values, codes[np.newaxis, :])[0]
    observed -= _TOLERANCE * abs(observed)
    if math.factorial(count) <= EXACT_ORDERINGS:
        extreme = _between_many(values, _arrangements(tuple(sorted(codes.tolist())))) >= observed
        return float(extreme.mean()), "permutation of eta² (exact)"
    rng = np.random.default_rng(SEED)
    labels = rng.permuted(np.tile(codes, (RESAMPLES, 1)), axis=1)
    extreme = int((_between_many(values, labels) >= observed).sum())
    return (1 + extreme) / (1 + RESAMPLES), f"permutation of eta² ({RESAMPLES} resamples)"


@functools.lru_cache(maxsize=32)
def _arrangements(labels: tuple[int, ...]) -> np.ndarray:
    """Every distinct arrangement of these group labels, one per row. Each stands for the same
    number of the n! orderings, so the share of extreme ones is the exact p-value; a report
    asks for the same few label sets many times (one per hyperparameter and objective)."""
    return np.unique(np.array(list(itertools.permutations(labels))), axis=0)


def _between_many(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The between-groups sum of squares of each row of group labels (one row per relabeling);
    for fixed values it orders groupings as eta² does."""
    total = values.sum()
    between = np.zeros(len(labels))
    for group in np.unique(labels[0]):
        inside = labels == group
        between += (inside * values).sum(axis=1) ** 2 / inside[0].sum()
    return between - total**2 / len(values)


def heterogeneity_p(
    values: np.ndarray, errors: np.ndarray, codes: np.ndarray, blocks: np.ndarray
) -> tuple[float, int, int] | None:
    """Whether trials that differ only in one hyperparameter differ by more than their own
    measurement noise (Cochran's Q, chi-square; with two trials, a two-sided z test).

    Within each block (trials equal in every other hyperparameter), trials of the same value are
    pooled (inverse-variance mean), then Q = Σ w·(mean − weighted mean)²; the blocks' Q and
    degrees of freedom add up.

    Args:
        values: the trials' values. errors: their standard errors (> 0).
        codes: the trial's value of the hyperparameter. blocks: the trial's block.

    Returns:
        (p-value, degrees of freedom, trials in blocks holding two values or more), or None
        when no block holds two values.
    """
    from scipy import stats

    q, df, used = 0.0, 0, 0
    for block in np.unique(blocks):
        inside = blocks == block
        means, weights = [], []
        for code in np.unique(codes[inside]):
            chosen = inside & (codes == code)
            weight = (1 / errors[chosen] ** 2).sum()
            means.append((values[chosen] / errors[chosen] ** 2).sum() / weight)
            weights.append(weight)
        if len(means) < 2:
            continue
        means_array, weights_array = np.array(means), np.array(weights)
        center = (means_array * weights_array).sum() / weights_array.sum()
        q += float((weights_array * (means_array - center) ** 2).sum())
        df += len(means) - 1
        used += int(inside.sum())
    if df == 0:
        return None
    return float(stats.chi2.sf(q, df)), df, used


def holm(p_values: Sequence[float | None], family: int) -> list[float | None]:
    """Holm's step-down adjustment of p-values over a family of `family` tests (missing p-values
    count as tests that found nothing: they sort last). Adjusted p-values never fall below the
    raw ones and grow with the family."""
    order = sorted((i for i, p in enumerate(p_values) if p is not None), key=lambda i: p_values[i])
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (family - rank) * p_values[i]))  # type: ignore[operator]
        adjusted[i] = running
    return adjusted
