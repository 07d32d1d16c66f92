from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from babelrec.eval.dataset import Dataset
from babelrec.eval.language_penalty import (
    case_drops,
    percentile_against,
    rank_percentiles,
    summarise,
    swapped_scores,
    translation_language,
)
from babelrec.eval.protocols import EvalCase
from babelrec.eval.rankers import CosineRanker, EvalContext, RandomRanker
from babelrec.eval.spaces import SpaceVectors
from babelrec.models import Item, Translation

DIM = 12


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=1, max_size=12))
def test_rank_percentiles_are_ranks_with_ties_halved(values: list[int]) -> None:
    scores = np.array(values, dtype=float)
    pct = rank_percentiles(scores)
    assert np.all((pct >= 0) & (pct <= 1))
    if len(values) > 1:
        # percentiles sum to half the pairs: each pair gives 1 to one side (or 1/2 to each)
        assert pct.sum() == pytest.approx(len(values) / 2)
        for i in range(len(values)):
            assert percentile_against(scores, i, scores[i]) == pytest.approx(pct[i])


def item(item_id: str, language: str, other: str | None = None) -> Item:
    translations = {other: Translation(title=f"{item_id} in {other}")} if other else {}
    return Item(id=item_id, title=item_id, language=language, translations=translations)


def test_translation_language_prefers_the_users_language() -> None:
    assert translation_language(item("a", "zh", "en"), "zh") == "en"
    assert translation_language(item("a", "en", "zh"), "zh") == "zh"
    assert translation_language(item("a", "zh"), "zh") is None


def test_drops_are_oriented_toward_the_users_language() -> None:
    items = {"a": item("a", "zh", "en"), "b": item("b", "en", "zh"), "c": item("c", "zh")}
    case = EvalCase(
        case_id="1", user_id="u", history=[], candidates=["a", "b", "c"], positives={"a"},
        user_language="zh",
    )  # fmt: skip
    # a (Chinese) is first; in English it would be last: a drop of 1.
    # b (English) is last; in Chinese it would be first: the foreign version is lower by 1.
    drops = case_drops(case, items, [3.0, 1.0, 2.0], {"a": 0.0, "b": 4.0})
    assert drops == [1.0, 1.0]
    # a ranker that ignores language: no drop
    assert case_drops(case, items, [3.0, 1.0, 2.0], {"a": 3.0, "b": 1.0}) == [0.0, 0.0]


def test_summary_pools_pairs_and_bootstraps_users() -> None:
    drops = {"c1": [0.5, 0.0], "c2": [1.0], "c3": []}
    summary = summarise(drops, {"c1": "u1", "c2": "u2", "c3": "u3"}, seed=0)
    assert summary is not None
    assert summary.mean == pytest.approx(0.5)
    assert summary.share_dropped == pytest.approx(2 / 3)
    assert summary.n_pairs == 3 and summary.n_cases == 2 and summary.n_users == 2
    assert summary.ci_low <= summary.mean <= summary.ci_high
    assert summarise({"c": []}, {"c": "u"}) is None


def biased_world(n: int = 40, seed: int = 0) -> tuple[EvalContext, list[EvalCase], SpaceVectors]:
    """Topics shared by both languages; each language adds a large offset to its vectors."""
    rng = np.random.default_rng(seed)
    topics = rng.normal(size=(n, DIM))
    offsets = {"zh": 2.5 * rng.normal(size=DIM), "en": 2.5 * rng.normal(size=DIM)}
    items: dict[str, Item] = {}
    raw: dict[str, np.ndarray] = {}
    translated: dict[tuple[str, str], np.ndarray] = {}
    for i in range(n):
        shown = "zh" if i % 2 else "en"
        other = "en" if shown == "zh" else "zh"
        items[f"n{i}"] = item(f"n{i}", shown, other)
        raw[f"n{i}"] = topics[i] + offsets[shown]
        translated[f"n{i}", other] = topics[i] + offsets[other]
    for h in range(5):  # Chinese history items, near topics 0..4
        items[f"h{h}"] = item(f"h{h}", "zh")
        raw[f"h{h}"] = topics[h] + offsets["zh"] + 0.1 * rng.normal(size=DIM)
    cases = [
        EvalCase(
            case_id=str(c),
            user_id=f"u{c}",
            history=[f"h{c % 5}"],
            candidates=[f"n{j}" for j in range(c, c + 10)],
            positives={f"n{c}"},
            user_language="zh",
        )  # fmt: skip
        for c in range(20)
    ]
    dataset = Dataset(Path("."), items, [], {}, [], {}, "hash")
    spaces = SpaceVectors(raw, {i: it.language for i, it in items.items()}, translated)
    context = EvalContext(dataset=dataset, vectors=spaces.vectors("none"), train_cases=[])
    return context, cases, spaces


def penalty(ranker: CosineRanker | RandomRanker, space: str) -> float:
    context, cases, spaces = biased_world()
    context.vectors = spaces.vectors(space)
    translated = spaces.translated(space)
    swapped = swapped_scores(ranker, cases, context, translated)
    drops = {
        c.case_id: case_drops(
            c, context.dataset.items, ranker.score(c, context), swapped[c.case_id]
        )
        for c in cases
        if c.case_id in swapped
    }
    summary = summarise(drops, {c.case_id: c.user_id for c in cases})
    assert summary is not None
    return summary.mean


def test_cosine_on_raw_vectors_penalises_the_foreign_text_and_centering_removes_it() -> None:
    assert penalty(RandomRanker(), "none") == 0.0
    raw = penalty(CosineRanker(), "none")
    assert raw > 0.3
    assert abs(penalty(CosineRanker(), "center+lsar")) < 0.1 < raw


def test_a_list_ranker_is_rescored_per_candidate_on_a_sample() -> None:
    context, cases, spaces = biased_world()

    class ListCosine(CosineRanker):
        pointwise = False

    translated = spaces.translated("none")
    one_by_one = swapped_scores(ListCosine(), cases, context, translated, max_cases=3)
    together = swapped_scores(CosineRanker(), cases, context, translated)
    assert len(one_by_one) == 3
    for case_id, scores in one_by_one.items():
        assert scores == pytest.approx(together[case_id])
