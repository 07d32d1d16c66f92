"""llama-cpp's option scoring logic (whole token sequences, shared prefixes, the KV cache) over a
toy model with the same interface, so it runs without loading weights; the real models are
tested in tests/rerank/test_packaged_models.py."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from babelrec.llm import ChatMessage
from babelrec.llm.local import LlamaCppLLM

VOCAB = 40


class ToyLlama:
    """Tokens are bytes mod VOCAB; the logits are a fixed random function of the KV contents."""

    metadata: dict[str, str] = {}

    def __init__(self) -> None:
        self.input_ids: list[int] = []
        self.n_tokens = 0
        self.evals = 0

    def n_vocab(self) -> int:
        return VOCAB

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]:
        return ([1] if add_bos else []) + [b % VOCAB for b in text]

    def eval(self, tokens: list[int]) -> None:
        self.input_ids = self.input_ids[: self.n_tokens] + list(tokens)
        self.n_tokens = len(self.input_ids)
        self.evals += 1

    def longest_token_prefix(self, a: list[int], b: list[int]) -> int:
        n = 0
        while n < min(len(a), len(b)) and a[n] == b[n]:
            n += 1
        return n

    def logits(self, context: list[int] | None = None) -> np.ndarray:
        seen = self.input_ids[: self.n_tokens] if context is None else context
        seed = int.from_bytes(hashlib.sha256(bytes(seen)).digest()[:4], "little")
        return np.random.default_rng(seed).normal(size=VOCAB) * 3


class ToyLLM(LlamaCppLLM):
    def __init__(self, state_cache_mib: int = 1) -> None:
        super().__init__(Path("toy.gguf"), n_ctx=4096, state_cache_mib=state_cache_mib)
        self.__dict__["llama"] = ToyLlama()
        self.loads = 0  # saved states restored

    def _sequence_state(self) -> Any:
        return list(self.llama.input_ids[: self.llama.n_tokens])

    def _load_sequence(self, tokens: tuple[int, ...], state: Any) -> None:
        assert tuple(state) == tokens
        self.loads += 1
        self.llama.input_ids = list(state)
        self.llama.n_tokens = len(state)

    def _logits(self) -> np.ndarray:
        result: np.ndarray = self.llama.logits()
        return result


def expected(llm: ToyLLM, prompt: list[int], option: str) -> float:
    toy: Any = llm.llama
    total = 0.0
    ids = toy.tokenize(option.encode(), add_bos=False)
    for i, token in enumerate(ids):
        logits = toy.logits(prompt + ids[:i])
        top = logits.max()
        total += float(logits[token] - (top + np.log(np.exp(logits - top).sum())))
    return total


def test_options_sharing_a_first_token_get_different_whole_sequence_scores() -> None:
    # smollm2's case: " 예" and " 아니오" start with the same byte token.
    llm = ToyLLM()
    messages = [ChatMessage(role="user", content="좋아할까요?")]
    scores = llm.next_token_logprobs(messages, [" 예", " 아니오"], answer_prefix="답:")
    assert llm.option_tokens(" 예")[0] == llm.option_tokens(" 아니오")[0]
    assert scores[" 예"] != scores[" 아니오"]
    assert llm.scoring_problem([" 예", " 아니오"]) is None
    assert llm.scoring_problem(["A", "A "]) is not None  # the same answer twice


@settings(max_examples=150, deadline=None)
@given(
    options=st.lists(
        st.text(alphabet="abé예아니오 ", min_size=1, max_size=5),
        min_size=1,
        max_size=6,
        unique=True,
    ),
    prompts=st.lists(st.sampled_from(["hello", "hello there", "other"]), min_size=1, max_size=3),
)
def test_whole_sequence_scores_match_a_direct_computation(
    options: list[str], prompts: list[str]
) -> None:
    llm = ToyLLM()
    for text in prompts:  # successive calls reuse (and must not be confused by) the KV cache
        messages = [ChatMessage(role="user", content=text)]
        scores = llm.next_token_logprobs(messages, options, answer_prefix="[")
        prompt = llm.tokens(llm.render(messages, "["))
        for option in options:
            assert abs(scores[option] - expected(llm, prompt, option)) < 1e-9, option
        assert all(v <= 0 for v in scores.values())
        toy: Any = llm.llama
        assert toy.n_tokens <= len(prompt)  # the next prompt can reuse this one's prefix


STATIC = {
    "zh": "你为一位用户排列推荐内容。" * 3,
    "en": "You rank recommendations for one user. " * 2,
}


@settings(max_examples=60, deadline=None)
@given(
    requests=st.lists(
        st.tuples(st.sampled_from(sorted(STATIC)), st.text(alphabet="ab足球 ", max_size=30)),
        min_size=1,
        max_size=6,
    ),
    capacity=st.sampled_from([0, 1]),
)
def test_saved_prompt_states_give_the_scores_of_a_fresh_evaluation(
    requests: list[tuple[str, str]], capacity: int
) -> None:
    """Requests in two locales interleave: each restores the saved state sharing its longest
    prefix (its locale's static part) and its scores are those of evaluating it from scratch."""
    llm = ToyLLM(state_cache_mib=capacity)
    for locale, user in requests:
        messages = [ChatMessage(role="user", content=STATIC[locale] + user)]
        scores = llm.next_token_logprobs(messages, ["A", "B"], answer_prefix="[")
        prompt = llm.tokens(llm.render(messages, "["))
        for option in ("A", "B"):
            assert abs(scores[option] - expected(llm, prompt, option)) < 1e-9
    if capacity == 0:
        assert llm.states is None and llm.loads == 0
    elif [locale for locale, _ in requests][:3] in (["zh", "en", "zh"], ["en", "zh", "en"]):
        assert llm.loads >= 1  # the third request found its locale's prefix in a saved state
