from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from babelrec.eval.stats import mean_interval, paired_comparison, per_user_mean

A = {"u1": 0.1, "u2": 0.2, "u3": 0.3, "u4": 0.4, "u5": 0.5}
B = {u: v + d for (u, v), d in zip(A.items(), [1, 2, 3, 4, 5], strict=True)}  # diffs 1..5


def test_hand_made_case() -> None:
    result = paired_comparison(A, B, seed=7)
    assert result.n == 5 and result.n_excluded == 0
    assert result.mean_a == pytest.approx(0.3) and result.mean_b == pytest.approx(3.3)
    assert result.mean_difference == pytest.approx(3.0)
    # Exact two-sided Wilcoxon signed-rank, all 5 differences positive: 2 / 2**5.
    assert result.test == "wilcoxon" and result.p_value == pytest.approx(0.0625)
    # Bootstrap means of 5 values from 1..5 lie in [1, 5]; the percentile CI is within it.
    assert 1.0 <= result.ci_low < 3.0 < result.ci_high <= 5.0
    assert paired_comparison(A, B, seed=7) == result


def test_paired_t() -> None:
    result = paired_comparison(A, B, test="t")
    # t = 3 / (sqrt(2.5) / sqrt(5)) = 4.243 with 4 degrees of freedom.
    assert result.p_value == pytest.approx(0.0132356, abs=1e-6)


def test_bootstrap_is_seeded() -> None:
    a = {f"u{i}": float(i % 7) for i in range(40)}
    b = {f"u{i}": float(i % 5) for i in range(40)}
    first, again = paired_comparison(a, b, seed=1), paired_comparison(a, b, seed=1)
    other = paired_comparison(a, b, seed=2)
    assert (first.ci_low, first.ci_high) == (again.ci_low, again.ci_high)
    assert (first.ci_low, first.ci_high) != (other.ci_low, other.ci_high)
    assert first.ci_low < first.mean_difference < first.ci_high


def test_degenerate_and_unpaired_values() -> None:
    same = paired_comparison(A, A)
    assert same.mean_difference == 0.0 and same.p_value == 1.0
    assert same.ci_low == same.ci_high == 0.0
    shifted = paired_comparison(A, {u: v + 1 for u, v in A.items()}, test="t")
    assert shifted.ci_low == shifted.ci_high == pytest.approx(1.0)
    partial = paired_comparison({**A, "u6": 1.0, "u7": math.nan}, {**B, "u7": 0.0, "u8": 1.0})
    assert partial.n == 5 and partial.n_excluded == 3
    with pytest.raises(ValueError, match="no user"):
        paired_comparison({"a": 1.0}, {"b": 1.0})


def test_per_user_mean() -> None:
    means = per_user_mean(["u", "v", "u", "w"], [1.0, 2.0, 3.0, math.nan])
    assert means["u"] == 2.0 and means["v"] == 2.0 and math.isnan(means["w"])
    with pytest.raises(ValueError):
        per_user_mean(["u"], [])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=2, max_size=60), st.integers(0, 5))
def test_mean_interval_holds_the_mean_and_is_seeded(values: list[float], seed: int) -> None:
    by_user = {f"u{i}": v for i, v in enumerate(values)}
    mean, low, high = mean_interval(by_user, seed=seed, n_resamples=300)
    assert mean == pytest.approx(sum(values) / len(values))
    assert low - 1e-9 <= mean <= high + 1e-9
    assert min(values) - 1e-9 <= low and high <= max(values) + 1e-9
    assert mean_interval(by_user, seed=seed, n_resamples=300) == (mean, low, high)


def test_mean_interval_narrows_with_more_users_and_skips_nans() -> None:
    few = {f"u{i}": float(i % 2) for i in range(40)}
    many = {f"u{i}": float(i % 2) for i in range(4000)}
    _, low_few, high_few = mean_interval(few)
    _, low_many, high_many = mean_interval(many)
    assert high_many - low_many < (high_few - low_few) / 5
    assert mean_interval({"a": math.nan, "b": 0.5, "c": 0.5}) == (0.5, 0.5, 0.5)
    assert all(math.isnan(x) for x in mean_interval({"a": math.nan}))
