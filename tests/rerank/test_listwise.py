from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from babelrec.llm import ChatMessage, FakeLLM
from babelrec.models import UserProfile
from babelrec.rerank import ListwiseReranker, RerankConfig
from babelrec.rerank.listwise import windows
from tests.rerank.conftest import make_candidates

USER = UserProfile(language="zh", region="CN", interests="足球")


def reverse(messages: Sequence[ChatMessage], schema: dict[str, Any]) -> str:
    ids = schema["properties"]["ranking"]["items"]["enum"]
    return json.dumps({"ranking": list(reversed(ids))})


def ids(result: Any) -> list[str]:
    return [c.item.id for c in result.candidates]


def test_windows_slide_from_the_bottom_to_the_top() -> None:
    assert windows(20, 10, 5) == [(10, 20), (5, 15), (0, 10)]
    assert windows(4, 10, 5) == [(0, 4)]
    assert windows(12, 10, 5) == [(2, 12), (0, 7)]


def test_full_llm_weight_follows_the_llm_with_enum_constrained_schema() -> None:
    llm = FakeLLM(responder=reverse)
    cands = make_candidates(5)
    result = ListwiseReranker(llm, RerankConfig(alpha=1.0)).rerank(USER, cands)
    assert ids(result) == [c.item.id for c in reversed(cands)]
    assert result.llm_calls == 1 and not result.degraded and result.repairs.total == 0
    assert result.candidates[0].scores.llm == 1.0


def test_sliding_window_lets_the_last_item_climb_to_the_top() -> None:
    cands = make_candidates(12)
    result = ListwiseReranker(
        FakeLLM(responder=reverse), RerankConfig(alpha=1.0, window=6, step=3)
    ).rerank(USER, cands)
    assert ids(result)[0] == "item-11"
    assert result.llm_calls == len(windows(12, 6, 3))


def test_zero_alpha_keeps_the_first_stage_order() -> None:
    cands = make_candidates(6)
    result = ListwiseReranker(FakeLLM(responder=reverse), RerankConfig(alpha=0.0)).rerank(
        USER, cands
    )
    assert ids(result) == [c.item.id for c in cands]


def test_repairs_are_counted_and_the_result_is_a_permutation() -> None:
    cands = make_candidates(4)
    answer = json.dumps({"ranking": ["item-02", "item-02", "made-up", "hist-1", "item-00"]})
    user = UserProfile(language="en", interests="x", history=["hist-1"])
    result = ListwiseReranker(FakeLLM([answer]), RerankConfig(alpha=1.0)).rerank(user, cands)
    assert ids(result) == ["item-02", "item-00", "item-01", "item-03"]
    r = result.repairs
    assert (r.duplicates, r.invalid_ids, r.history_removed, r.missing_appended) == (1, 1, 1, 2)


def test_candidates_beyond_top_follow_in_first_stage_order() -> None:
    cands = make_candidates(8)
    result = ListwiseReranker(FakeLLM(responder=reverse), RerankConfig(top=4, alpha=1.0)).rerank(
        USER, cands
    )
    assert ids(result)[:4] == ["item-03", "item-02", "item-01", "item-00"]
    assert ids(result)[4:] == [c.item.id for c in cands[4:]]
    assert all(c.scores.llm is None for c in result.candidates[4:])
    assert result.candidates[3].scores.final >= result.candidates[4].scores.final


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 12),
    answer=st.lists(st.sampled_from([f"item-{i:02d}" for i in range(14)] + ["zzz"]), max_size=20),
    alpha=st.floats(0, 1),
)
def test_whatever_the_llm_says_the_output_is_the_input_reordered(
    n: int, answer: list[str], alpha: float
) -> None:
    cands = make_candidates(n)
    run = [json.dumps({"ranking": answer})] * 10
    config = RerankConfig(alpha=alpha, window=5, step=2)
    first = ListwiseReranker(FakeLLM(run), config).rerank(USER, cands)
    again = ListwiseReranker(FakeLLM(run), config).rerank(USER, cands)
    assert sorted(ids(first)) == sorted(c.item.id for c in cands)
    assert len(set(ids(first))) == n
    assert ids(first) == ids(again)
