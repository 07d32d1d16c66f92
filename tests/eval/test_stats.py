from __future__ import annotations

import math

import pytest

from babelrec.eval.stats import paired_comparison, per_user_mean

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
