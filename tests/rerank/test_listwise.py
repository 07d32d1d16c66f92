from __future__ import annotations

import json
import re
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
    assert windows(0, 10, 5) == []


def test_a_step_larger_than_the_window_never_skips_or_overflows() -> None:
    # Regression (issue 12): window=4, step=7 over 20 candidates sent a 19-candidate window
    # (a 0:-1 slice) and left 9 candidates unseen; window=5, step=10 added an empty window.
    assert windows(20, 4, 7) == [(16, 20), (12, 16), (8, 12), (4, 8), (0, 4)]
    assert windows(20, 5, 10) == [(15, 20), (10, 15), (5, 10), (0, 5)]
    # Settings refuse such a pair; a config built without validation is still safe.
    config = RerankConfig.model_construct(**{**RerankConfig().model_dump(), "window": 4, "step": 7})
    llm = FakeLLM(responder=reverse)
    ListwiseReranker(llm, config).rerank(USER, make_candidates(20))
    shown = [re.findall(r'<item id="', p[-1].content) for p in llm.prompts]
    assert [len(s) for s in shown] == [4, 4, 4, 4, 4]


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


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 30),
    window=st.integers(2, 12),
    step_fraction=st.floats(0.0, 1.0),
)
def test_every_candidate_is_shown_in_windows_no_larger_than_the_window(
    n: int, window: int, step_fraction: float
) -> None:
    step = max(1, round(step_fraction * window))
    llm = FakeLLM(responder=reverse)
    config = RerankConfig(top=30, window=window, step=step, alpha=1.0)
    result = ListwiseReranker(llm, config).rerank(USER, make_candidates(n))
    sent = [len(re.findall(r"<item ", p[-1].content)) for p in llm.prompts]
    assert all(1 <= size <= window for size in sent)
    assert len(sent) == len(windows(n, window, step)) and not result.degraded
    assert sorted(ids(result)) == sorted(c.item.id for c in make_candidates(n))


@settings(max_examples=100, deadline=None)
@given(
    ids=st.lists(
        st.text(min_size=1, max_size=24).filter(lambda s: s.strip() == s and s.isprintable()),
        min_size=1,
        max_size=12,
        unique=True,
    )
)
def test_any_ids_are_shown_as_ascii_aliases_and_mapped_back(ids: list[str]) -> None:
    # Ids in any script (스포츠-기사-000, 体育新闻-0000, رياضة-مقال-000) cost the answer nothing:
    # the prompt and the schema use c1, c2, ... and the budget is their answer's byte length.
    cands = make_candidates(len(ids))
    cands = [
        c.model_copy(update={"item": c.item.model_copy(update={"id": i})})
        for c, i in zip(cands, ids, strict=True)
    ]
    llm = FakeLLM(responder=reverse)
    result = ListwiseReranker(llm, RerankConfig(top=12, window=12, alpha=1.0)).rerank(USER, cands)
    assert [c.item.id for c in result.candidates] == ids[::-1]
    assert not result.degraded and result.repairs.total == 0
    prompt = llm.prompts[0][-1].content
    assert re.findall(r'<item id="(c\d+)"', prompt) == [f"c{i + 1}" for i in range(len(ids))]
