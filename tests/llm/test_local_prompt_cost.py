"""What a scoring prompt costs on the real default model (slow): candidate text cut to a token
budget in the model's own tokens, and saved prompt states that give the scores of a fresh
evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from babelrec.llm import ChatMessage
from babelrec.llm.local import LlamaCppLLM

pytestmark = [pytest.mark.slow, pytest.mark.llm]

#: letters of the scripts babelrec's users write in, and some that tokenize badly
SCRIPTS = [
    (0x41, 0x7A),  # Latin
    (0xC0, 0x24F),  # Latin with diacritics
    (0x400, 0x4FF),  # Cyrillic
    (0x600, 0x6FF),  # Arabic
    (0x900, 0x97F),  # Devanagari
    (0xE00, 0xE7F),  # Thai
    (0x3040, 0x30FF),  # kana
    (0x4E00, 0x9FFF),  # CJK
    (0xAC00, 0xD7A3),  # Hangul
    (0x1F300, 0x1F6FF),  # emoji
]
texts = st.lists(
    st.sampled_from(SCRIPTS).flatmap(
        lambda r: st.text(st.characters(min_codepoint=r[0], max_codepoint=r[1]), max_size=40)
    ),
    max_size=4,
).map(" ".join)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=texts, budget=st.integers(0, 40))
def test_a_cut_text_never_exceeds_its_budget_in_the_models_tokens(
    local_llm: LlamaCppLLM, text: str, budget: int
) -> None:
    cut = local_llm.truncate_tokens(text, budget)
    assert len(local_llm.option_tokens(cut)) <= budget
    if len(local_llm.option_tokens(text)) <= budget:
        assert cut == text  # what fits is left alone
    assert local_llm.truncate_tokens(text, budget) == cut  # and asked again, the same (cached)


def prompt(static: str, user: str) -> list[ChatMessage]:
    return [
        ChatMessage(role="system", content=static),
        ChatMessage(role="user", content=f"<interests>{user}</interests> Answer A, B or C."),
    ]


def test_a_restored_prompt_state_gives_the_scores_of_the_prompt_kept_in_place(
    local_llm: LlamaCppLLM, gemma_path: Path
) -> None:
    """With saved states, a zh prompt after an en one gets the scores it gets with no state
    cache right after the previous zh prompt (llama.cpp's own prefix reuse): bit for bit."""
    zh = "你为一位用户排列推荐内容。请衡量每条内容与用户兴趣和历史的契合程度。" * 2
    en = "You rank recommendations for one user, weighing interests and history. " * 2
    options = ["A", "B", "C"]
    local_llm.next_token_logprobs(prompt(zh, "足球"), options, answer_prefix="[")
    local_llm.next_token_logprobs(prompt(en, "electric cars"), options, answer_prefix="[")
    restored = local_llm.next_token_logprobs(prompt(zh, "篮球和电影"), options, answer_prefix="[")
    reused = local_llm.calls[-1].prefix_reused_tokens
    assert reused > 30  # the zh static part came back from a saved state

    plain = LlamaCppLLM(gemma_path, n_ctx=2048, n_threads=2, state_cache_mib=0)
    try:
        plain.next_token_logprobs(prompt(zh, "足球"), options, answer_prefix="[")
        in_place = plain.next_token_logprobs(prompt(zh, "篮球和电影"), options, answer_prefix="[")
        assert plain.calls[-1].prefix_reused_tokens == reused
    finally:
        plain.close()
    assert restored == in_place
