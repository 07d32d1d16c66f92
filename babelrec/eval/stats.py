"""Paired comparison of two rankers on the same users.

`paired_comparison` takes each ranker's per-user metric values (use `per_user_mean` when a user
has several cases, e.g. several impressions) and reports the mean difference B - A, a seeded
percentile-bootstrap confidence interval for it (``scipy.stats.bootstrap``), and a two-sided
paired test p-value: Wilcoxon signed-rank (``scipy.stats.wilcoxon``, the default: metric
values are bounded and skewed, so normality is not assumed) or the paired t-test
(``scipy.stats.ttest_rel``). Users missing on either side, or with a NaN value, are left out
and counted.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict
from scipy import stats

Test = Literal["wilcoxon", "t"]


class PairedComparison(BaseModel):
    """B against A on the same users: difference of means, its CI and a paired test."""

    model_config = ConfigDict(extra="forbid")

    n: int
    n_excluded: int
    mean_a: float
    mean_b: float
    mean_difference: float
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float
    test: Test
    n_resamples: int
    seed: int


def per_user_mean(user_ids: Sequence[str], values: Sequence[float]) -> dict[str, float]:
    """Average each user's case values (NaNs left out; NaN if a user has none)."""
    if len(user_ids) != len(values):
        raise ValueError(f"{len(user_ids)} user ids for {len(values)} values")
    grouped: defaultdict[str, list[float]] = defaultdict(list)
    for user, value in zip(user_ids, values, strict=True):
        grouped[user].append(value)
    means = {}
    for user, group in grouped.items():
        kept = [v for v in group if not math.isnan(v)]
        means[user] = sum(kept) / len(kept) if kept else math.nan
    return means


def _constant(diffs: np.ndarray) -> bool:
    """All differences equal, up to rounding (a t statistic would be meaningless)."""
    return bool(np.ptp(diffs) <= 1e-12 * max(1.0, float(np.abs(diffs).max())))


def _bootstrap_mean(
    values: np.ndarray, confidence: float, n_resamples: int, seed: int
) -> tuple[float, float]:
    """A seeded percentile-bootstrap interval of the mean of `values`."""
    result = stats.bootstrap(
        (values,),
        np.mean,
        n_resamples=n_resamples,
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def _p_value(a: np.ndarray, b: np.ndarray, test: Test) -> float:
    diffs = b - a
    if not np.any(diffs):
        return 1.0
    if test == "wilcoxon":
        return float(stats.wilcoxon(diffs).pvalue)
    if _constant(diffs):
        return 0.0  # a constant nonzero difference: t is infinite
    return float(stats.ttest_rel(b, a).pvalue)


def paired_comparison(
    a: Mapping[str, float],
    b: Mapping[str, float],
    *,
    test: Test = "wilcoxon",
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> PairedComparison:
    """Compare B with A over the users both have (a positive difference favours B)."""
    users = sorted(set(a) | set(b))
    pairs = [(a[u], b[u]) for u in users if u in a and u in b]
    pairs = [(x, y) for x, y in pairs if not (math.isnan(x) or math.isnan(y))]
    if not pairs:
        raise ValueError("no user has a value for both rankers")
    values = np.array(pairs, dtype=float)
    diffs = values[:, 1] - values[:, 0]
    low = high = p_value = math.nan
    if len(diffs) >= 2:
        if _constant(diffs):
            low = high = float(diffs.mean())
        else:
            low, high = _bootstrap_mean(diffs, confidence, n_resamples, seed)
        p_value = _p_value(values[:, 0], values[:, 1], test)
    return PairedComparison(
        n=len(diffs),
        n_excluded=len(users) - len(diffs),
        mean_a=float(values[:, 0].mean()),
        mean_b=float(values[:, 1].mean()),
        mean_difference=float(diffs.mean()),
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        p_value=p_value,
        test=test,
        n_resamples=n_resamples,
        seed=seed,
    )


def mean_interval(
    values: Mapping[str, float],
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """The mean of per-user values and its seeded percentile-bootstrap interval (NaNs left out):
    how far one ranker's figure could move with another sample of users."""
    kept = np.array([v for v in values.values() if not math.isnan(v)], dtype=float)
    if len(kept) == 0:
        return math.nan, math.nan, math.nan
    mean = float(kept.mean())
    if len(kept) < 2 or _constant(kept):
        return mean, mean, mean
    low, high = _bootstrap_mean(kept, confidence, n_resamples, seed)
    return mean, low, high
