"""No silent no-ops: scores that cannot order the candidates make the result degraded, with the
reason, in every scoring mode and backend (issue 12, class 6)."""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from babelrec.llm import ChatMessage, FakeLLM
from babelrec.llm.base import LOGPROB_FLOOR
from babelrec.llm.hosted import OpenAICompatibleLLM
from babelrec.models import UserProfile
from babelrec.prompts.loader import PromptLoader
from babelrec.rerank import RerankConfig, build_reranker
from tests.llm.chat_server import chat_server, completion
from tests.rerank.conftest import make_candidates

USERS = {
    "ja": UserProfile(language="ja", region="JP", interests="サッカー"),
    "ko": UserProfile(language="ko", region="KR", interests="축구"),
    "zh": UserProfile(language="zh", region="CN", interests="足球"),
}
EN = UserProfile(language="en", region="US", interests="football")


@pytest.mark.parametrize("mode", ["verbalizer", "pointwise"])
def test_equal_scores_are_degraded_with_the_reason(mode: str) -> None:
    # FakeLLM() gives every option the same log-probability: nothing to order by.
    result = build_reranker(mode, FakeLLM(), RerankConfig(calibrate=False)).rerank(
        EN, make_candidates(5)
    )
    assert result.degraded and "carry no information" in (result.degraded_reason or "")
    assert [c.item.id for c in result.candidates] == [f"item-{i:02d}" for i in range(5)]
    assert result.llm_calls > 0  # the calls made are still reported


def test_first_token_scoring_of_options_sharing_a_first_token_is_degraded() -> None:
    # What smollm2 did in Korean: " 예" and " 아니오" scored by a first token they share.
    def first_token_only(
        messages: Sequence[ChatMessage], options: Sequence[str]
    ) -> dict[str, float]:
        return dict.fromkeys(options, -0.7)

    llm = FakeLLM(logprob_fn=first_token_only)
    result = build_reranker("pointwise", llm).rerank(USERS["ko"], make_candidates(4))
    assert result.degraded and "all 4 candidates scored 0.5" in (result.degraded_reason or "")


def test_options_the_backend_cannot_tell_apart_are_refused_on_first_use(tmp_path: Path) -> None:
    folder = tmp_path / "prompts"
    shutil.copytree(PromptLoader().directory, folder, ignore=shutil.ignore_patterns("*.py"))
    path = folder / "pointwise.ko.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("'no': ' 아니오'", "'no': '예 '"), encoding="utf-8"
    )
    llm = FakeLLM(logprob_fn=lambda m, o: {o[0]: -0.1, o[1]: -2.0})
    reranker = build_reranker("pointwise", llm, prompts=PromptLoader(folder))
    result = reranker.rerank(USERS["ko"], make_candidates(3))
    assert result.degraded and "' 예' and '예 ' are the same answer" in (
        result.degraded_reason or ""
    )
    assert result.llm_calls == 0  # refused before any scoring


@settings(max_examples=200, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(
            st.sampled_from([LOGPROB_FLOOR, -5.0, -1.0, -0.25, 0.0]),
            st.sampled_from([LOGPROB_FLOOR, -5.0, -1.0, -0.25, 0.0]),
        ),
        min_size=2,
        max_size=8,
    )
)
def test_pointwise_is_degraded_exactly_when_its_scores_cannot_order(
    pairs: list[tuple[float, float]],
) -> None:
    def by_item(messages: Sequence[ChatMessage], options: Sequence[str]) -> dict[str, float]:
        index = int(re.findall(r'id="item-(\d+)"', messages[-1].content)[-1])
        yes, no = pairs[index]
        return {options[0]: yes, options[1]: no}

    result = build_reranker("pointwise", FakeLLM(logprob_fn=by_item)).rerank(
        EN, make_candidates(len(pairs))
    )
    p_yes = [1 / (1 + math.exp(no - yes)) for yes, no in pairs]
    all_floor = all(max(pair) <= LOGPROB_FLOOR for pair in pairs)
    assert result.degraded == (max(p_yes) - min(p_yes) < 1e-9 or all_floor)
    assert sorted(c.item.id for c in result.candidates) == [
        f"item-{i:02d}" for i in range(len(pairs))
    ]


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.sampled_from([LOGPROB_FLOOR, -9.0, -2.0, -0.5]), min_size=2, max_size=8))
def test_verbalizer_is_degraded_exactly_when_its_scores_cannot_order(values: list[float]) -> None:
    llm = FakeLLM(logprob_fn=lambda m, options: dict(zip(options, values, strict=False)))
    result = build_reranker("verbalizer", llm, RerankConfig(calibrate=False)).rerank(
        EN, make_candidates(len(values))
    )
    assert result.degraded == (len(set(values)) == 1)


# -- a hosted endpoint that returns partial UTF-8 in top_logprobs --------------------------------


def _hosted(url: str) -> OpenAICompatibleLLM:
    return OpenAICompatibleLLM(url, "test-model", schema_mode="json_object", retries=0)


@pytest.mark.parametrize("language", ["ja", "ko", "zh"])
def test_replacement_characters_in_hosted_top_logprobs_are_degraded(language: str) -> None:
    def broken(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        # the first answer token is a lone lead byte of a CJK character, shown as U+FFFD
        return 200, completion('"\ufffd', top=[("\ufffd", -0.3), ("\ufffd\ufffd", -1.4)])

    with chat_server(broken) as (url, requests):
        result = build_reranker("pointwise", _hosted(url)).rerank(
            USERS[language], make_candidates(3)
        )
    assert requests and requests[0]["top_logprobs"] == 20
    assert result.degraded and "U+FFFD" in (result.degraded_reason or "")


def test_whole_or_first_piece_tokens_from_a_hosted_endpoint_still_score() -> None:
    # The positive control: "아니오" arriving as its first piece "아니" is still credited to "no".
    def answers(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        liked = 'id="item-01"' in body["messages"][-1]["content"]
        top = [("예", -0.1), ("아니", -2.5)] if liked else [("아니", -0.2), ("예", -1.9)]
        return 200, completion('"' + top[0][0], top=top)

    with chat_server(answers) as (url, _):
        config = RerankConfig(alpha=1.0)
        result = build_reranker("pointwise", _hosted(url), config).rerank(
            USERS["ko"], make_candidates(3)
        )
    assert not result.degraded and result.candidates[0].item.id == "item-01"
