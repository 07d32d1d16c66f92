from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import ndcg_score, roc_auc_score

from babelrec.eval.metrics import (
    RANKING_METRICS,
    average_popularity,
    catalog_coverage,
    cross_lingual_exposure,
    cultural_calibration,
    evaluate,
    intra_list_diversity,
    item_popularity,
    popularity_lift,
    ranking_metrics,
    top_k,
)
from babelrec.eval.protocols import EvalCase
from babelrec.models import Item

D = [1 / math.log2(r + 1) for r in range(1, 30)]  # discount of rank r is D[r - 1]


def test_hand_computed_case() -> None:
    m = ranking_metrics(list("abcde"), [0.9, 0.8, 0.7, 0.6, 0.5], {"b", "d"})
    assert set(m) == set(RANKING_METRICS)
    assert m["auc"] == pytest.approx(3 / 6)  # b beats c, e; d beats e; of 2 x 3 pairs
    assert m["mrr"] == pytest.approx(1 / 2)
    assert m["mrr_all"] == pytest.approx((1 / 2 + 1 / 4) / 2)
    assert m["ndcg@5"] == pytest.approx((D[1] + D[3]) / (D[0] + D[1]))
    assert m["ndcg@5"] == pytest.approx(0.650921, abs=1e-6)
    assert m["recall@10"] == m["hit@10"] == 1.0


def test_cutoffs() -> None:
    candidates = [f"c{i}" for i in range(25)]
    scores = {c: -i for i, c in enumerate(candidates)}  # c0 ranks first
    m = ranking_metrics(candidates, scores, {"c1", "c10", "c21"})  # ranks 2, 11, 22
    assert m["recall@10"] == pytest.approx(1 / 3)
    assert m["recall@20"] == pytest.approx(2 / 3)
    assert m["hit@10"] == 1.0
    assert m["ndcg@10"] == pytest.approx(D[1] / (D[0] + D[1] + D[2]))
    m = ranking_metrics(candidates, scores, {"c12"})
    assert m["hit@10"] == 0.0 and m["mrr"] == pytest.approx(1 / 13)


def test_ties_are_averaged() -> None:
    m = ranking_metrics(list("abcd"), [1.0] * 4, {"c"})
    assert m["auc"] == 0.5
    assert m["mrr"] == pytest.approx((1 + 1 / 2 + 1 / 3 + 1 / 4) / 4)
    assert m["ndcg@5"] == pytest.approx(sum(D[:4]) / 4)
    m = ranking_metrics([f"c{i}" for i in range(12)], [0.0] * 12, {"c3"})
    assert m["hit@10"] == pytest.approx(10 / 12) and m["recall@10"] == pytest.approx(10 / 12)
    # Two positives among four tied: first positive at 1, 2, 3 with chance 1/2, 1/3, 1/6.
    m = ranking_metrics(list("abcd"), [1.0] * 4, {"a", "b"})
    assert m["mrr"] == pytest.approx(1 / 2 + 1 / 3 / 2 + 1 / 6 / 3)


def _brute_force(scores: list[float], labels: list[int]) -> dict[str, float]:
    """Average of plain metrics over every ordering of the tied candidates."""
    n = len(scores)
    totals: dict[str, float] = {}
    orders = [
        p
        for p in itertools.permutations(range(n))
        if all(scores[p[i]] >= scores[p[i + 1]] for i in range(n - 1))
    ]
    for order in orders:
        ranked = [labels[i] for i in order]
        first = ranked.index(1) + 1
        values = {
            "mrr": 1 / first,
            "mrr_all": sum(y / r for r, y in enumerate(ranked, 1)) / sum(ranked),
            "ndcg@5": sum(y * D[r - 1] for r, y in enumerate(ranked[:5], 1))
            / sum(D[: min(sum(ranked), 5)]),
            "recall@10": sum(ranked[:10]) / sum(ranked),
            "hit@10": float(any(ranked[:10])),
        }
        for key, value in values.items():
            totals[key] = totals.get(key, 0.0) + value / len(orders)
    return totals


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1)), min_size=2, max_size=7))
def test_tie_expectations_match_brute_force(rows: list[tuple[int, int]]) -> None:
    scores = [float(s) for s, _ in rows]
    labels = [y for _, y in rows]
    if 1 not in labels:
        labels[0] = 1
    candidates = [f"c{i}" for i in range(len(rows))]
    positives = {c for c, y in zip(candidates, labels, strict=True) if y}
    m = ranking_metrics(candidates, scores, positives)
    for key, value in _brute_force(scores, labels).items():
        assert m[key] == pytest.approx(value), key


def test_auc_and_ndcg_agree_with_sklearn() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(2, 40))
        labels = rng.integers(0, 2, n)
        labels[0], labels[1] = 1, 0
        scores = rng.integers(0, 5, n).astype(float)  # many ties
        candidates = [f"c{i}" for i in range(n)]
        positives = {c for c, y in zip(candidates, labels, strict=True) if y}
        m = ranking_metrics(candidates, scores, positives)
        assert m["auc"] == pytest.approx(roc_auc_score(labels, scores))
        for k in (5, 10):
            assert m[f"ndcg@{k}"] == pytest.approx(ndcg_score([labels], [scores], k=k))


def test_bad_inputs() -> None:
    assert math.isnan(ranking_metrics(["a", "b"], [1.0, 0.0], {"a", "b"})["auc"])
    with pytest.raises(ValueError, match="no positive"):
        ranking_metrics(["a"], [1.0], set())
    with pytest.raises(ValueError, match="no score"):
        ranking_metrics(["a", "b"], {"a": 1.0}, {"a"})
    with pytest.raises(ValueError, match="finite"):
        ranking_metrics(["a", "b"], [math.nan, 1.0], {"a"})


def test_beyond_accuracy() -> None:
    assert top_k(list("abcd"), [0.1, 0.5, 0.5, 0.9], 3) == ["d", "b", "c"]
    assert catalog_coverage([["a", "b"], ["b", "c"]], list("abcdefgh")) == 3 / 8
    vectors = {"a": np.array([1.0, 0]), "b": np.array([0, 2.0]), "c": np.array([3.0, 0])}
    assert intra_list_diversity(["a", "b"], vectors) == pytest.approx(1.0)
    assert intra_list_diversity(["a", "c"], vectors) == pytest.approx(0.0)
    assert intra_list_diversity(["a", "b", "c"], vectors) == pytest.approx(2 / 3)
    assert math.isnan(intra_list_diversity(["a"], vectors))

    popularity = item_popularity([["a", "b", "a"], ["a"], ["c"], ["a"]])
    assert popularity == {"a": 0.75, "b": 0.25, "c": 0.25}
    assert average_popularity(["a", "b", "z"], popularity) == pytest.approx(1 / 3)
    assert popularity_lift(["a"], ["b", "c"], popularity) == pytest.approx(2.0)

    languages = {"a": "zh", "b": "en", "c": "en", "d": None}
    assert cross_lingual_exposure(["a", "b", "c", "d"], languages, "zh") == pytest.approx(2 / 3)
    assert math.isnan(cross_lingual_exposure(["a"], languages, None))

    regions = {"h1": "US", "h2": "US", "h3": "KR", "h4": "KR", "r1": "US", "r2": "US", "x": None}
    # p = (.5, .5), q = (1, 0), m = (.75, .25): JS = (KL(p||m) + KL(q||m)) / 2 in bits.
    expected = (0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(2) + math.log2(1 / 0.75)) / 2
    js = cultural_calibration(["h1", "h2", "h3", "h4"], ["r1", "r2", "x"], regions)
    assert js == pytest.approx(expected) and js == pytest.approx(0.311278, abs=1e-6)
    assert cultural_calibration(["h1"], ["r1"], regions) == 0.0
    assert math.isnan(cultural_calibration(["x"], ["r1"], regions))


def test_evaluate_averages_and_counts_undefined() -> None:
    items = {
        "a": Item(id="a", title="A", language="zh", region="CN"),
        "b": Item(id="b", title="B", language="en", region="US"),
        "c": Item(id="c", title="C", language="zh", region="CN"),
    }
    cases = [
        EvalCase(
            case_id="1",
            user_id="u",
            history=["a"],
            candidates=["b", "c"],
            positives={"c"},
            user_language="zh",
        ),
        EvalCase(
            case_id="2",
            user_id="v",
            history=["c"],
            candidates=["a", "b"],
            positives={"a", "b"},
            user_language="zh",
        ),
    ]
    scores = {"1": {"b": 0.9, "c": 0.1}, "2": [0.2, 0.1]}
    report = evaluate(cases, scores, items, k=1)
    first, second = (r.metrics for r in report.cases)
    assert first["auc"] == 0.0 and first["mrr"] == 0.5
    assert first["cross_lingual@1"] == 1.0 and second["cross_lingual@1"] == 0.0
    assert first["calibration_js@1"] == pytest.approx(1.0)
    assert report.mean["auc"] == 0.0 and report.undefined["auc"] == 1
    assert report.mean["mrr"] == pytest.approx(0.75)
    assert report.catalog_coverage == pytest.approx(2 / 3)
