"""Nothing an LLM does breaks the result: failures give the first-stage order, degraded."""

from __future__ import annotations

import time
from collections.abc import Sequence

from babelrec.errors import LLMUnavailableError
from babelrec.llm import ChatMessage, FakeLLM
from babelrec.models import UserProfile
from babelrec.rerank import (
    IdentityReranker,
    ListwiseReranker,
    RerankConfig,
    VerbalizerReranker,
    build_reranker,
)
from tests.rerank.conftest import make_candidates

USER = UserProfile(language="en", interests="football")


def first_stage(n: int) -> list[str]:
    return [c.item.id for c in make_candidates(n)]


def test_unreachable_llm_gives_first_stage_order_marked_degraded() -> None:
    llm = FakeLLM([LLMUnavailableError("connection refused")])
    result = ListwiseReranker(llm).rerank(USER, make_candidates(5))
    assert result.degraded and "connection refused" in (result.degraded_reason or "")
    assert [c.item.id for c in result.candidates] == first_stage(5)


def test_unusable_output_after_retries_is_degraded_with_retries_counted() -> None:
    llm = FakeLLM(["not json", '{"ranking": ["nobody"]}'], retries=1)
    result = ListwiseReranker(llm).rerank(USER, make_candidates(3))
    assert result.degraded and result.repairs.retries == 1
    llm = FakeLLM(['{"ranking": ["nobody", "else"]}'], retries=0)
    result = ListwiseReranker(llm).rerank(USER, make_candidates(3))
    assert result.degraded and "none of the candidates" in (result.degraded_reason or "")


def test_no_label_probability_is_degraded() -> None:
    llm = FakeLLM(logprob_fn=lambda messages, options: {})
    result = VerbalizerReranker(llm).rerank(USER, make_candidates(3))
    assert result.degraded


def test_timeout_is_degraded() -> None:
    def slow(messages: Sequence[ChatMessage], options: Sequence[str]) -> dict[str, float]:
        time.sleep(0.05)
        return dict.fromkeys(options, -1.0)

    config = RerankConfig(top=60, timeout=0.01)
    result = VerbalizerReranker(FakeLLM(logprob_fn=slow), config).rerank(USER, make_candidates(60))
    assert result.degraded and "timed out" in (result.degraded_reason or "")


def test_missing_llm_and_identity_baseline() -> None:
    assert VerbalizerReranker(None).rerank(USER, make_candidates(3)).degraded
    result = build_reranker("identity", None).rerank(USER, make_candidates(4))
    assert not result.degraded and [c.item.id for c in result.candidates] == first_stage(4)
    assert isinstance(build_reranker("identity", None), IdentityReranker)


def test_history_items_never_come_back() -> None:
    cands = make_candidates(4)
    user = UserProfile(language="en", interests="x", history=["item-01"])
    result = VerbalizerReranker(FakeLLM()).rerank(user, cands)
    assert "item-01" not in [c.item.id for c in result.candidates]
    assert result.repairs.history_removed == 1
