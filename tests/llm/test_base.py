from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from babelrec.errors import LLMOutputError, LLMUnavailableError
from babelrec.llm import ChatMessage, FakeLLM, GenerationParams, ResponseCache
from babelrec.llm.local import LlamaCppLLM
from babelrec.llm.toolcalls import ToolChatMessage, ToolsUnsupportedError

MESSAGES = [ChatMessage(role="user", content="pick one")]


class Pick(BaseModel):
    model_config = ConfigDict(extra="forbid")

    choice: str


def test_answer_is_validated_and_json_is_dug_out_of_prose() -> None:
    llm = FakeLLM(['Sure! {"choice": "a"} hope that helps'])
    assert llm.complete_structured(MESSAGES, Pick).choice == "a"
    assert llm.calls[-1].attempts == 1


def test_invalid_output_is_retried_then_reported_with_attempts_and_raw_text() -> None:
    llm = FakeLLM(['{"wrong": 1}', '{"choice": "b"}'], retries=1)
    assert llm.complete_structured(MESSAGES, Pick).choice == "b"
    assert llm.calls[-1].attempts == 2

    llm = FakeLLM(["nope", '{"choice": 1, "extra": 2}'], retries=1)
    with pytest.raises(LLMOutputError) as info:
        llm.complete_structured(MESSAGES, Pick)
    assert info.value.attempts == 2 and info.value.raw == '{"choice": 1, "extra": 2}'


def test_backend_failures_become_llm_errors() -> None:
    llm = FakeLLM([RuntimeError("segfault-ish")])
    with pytest.raises(LLMUnavailableError, match="segfault-ish"):
        llm.complete_structured(MESSAGES, Pick)


def test_disk_cache_makes_reruns_free_and_keys_on_params(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "llm")
    first = FakeLLM(['{"choice": "a"}'], cache=cache)
    assert first.complete_structured(MESSAGES, Pick).choice == "a"
    rerun = FakeLLM([RuntimeError("must not be called")], cache=cache)
    assert rerun.complete_structured(MESSAGES, Pick).choice == "a"
    assert rerun.calls[-1].cached
    other = FakeLLM(['{"choice": "c"}'], cache=cache)
    params = GenerationParams(max_tokens=7)
    assert other.complete_structured(MESSAGES, Pick, params=params).choice == "c"
    assert len(list((tmp_path / "llm").rglob("*.json"))) == 2


def test_tokens_and_seconds_are_recorded_per_call() -> None:
    llm = FakeLLM(['{"choice": "a"}'])
    llm.complete_structured(MESSAGES, Pick)
    llm.next_token_logprobs(MESSAGES, ["A", "B"])
    kinds = [c.kind for c in llm.calls]
    assert kinds == ["structured", "logprobs"]
    assert llm.calls[0].prompt_tokens > 0 and llm.calls[0].seconds >= 0
    assert llm.usage()["calls"] == 2


def test_logprobs_of_unreported_options_get_the_floor() -> None:
    llm = FakeLLM(logprob_fn=lambda messages, options: {"A": -0.1})
    scores = llm.next_token_logprobs(MESSAGES, ["A", "B"], answer_prefix="[")
    assert scores["A"] == -0.1 and scores["B"] < -10


def test_default_fake_answers_the_schema_in_given_order() -> None:
    schema = {
        "type": "object",
        "properties": {"ranking": {"type": "array", "items": {"enum": ["x", "y"]}}},
    }

    class Ranking(BaseModel):
        ranking: list[str]

    assert FakeLLM().complete_structured(MESSAGES, Ranking, schema=schema).ranking == ["x", "y"]


def test_as_runnable_is_a_langchain_runnable() -> None:
    runnable = FakeLLM([json.dumps({"choice": "z"})]).as_runnable(Pick)
    assert runnable.invoke(MESSAGES).choice == "z"


def test_a_reask_carries_the_validation_error() -> None:
    llm = FakeLLM(['{"choice": 7}', '{"choice": "b"}'], retries=1)
    assert llm.complete_structured(MESSAGES, Pick).choice == "b"
    first, second = llm.prompts
    assert first == MESSAGES
    assert second[: len(MESSAGES)] == MESSAGES
    assert second[-2] == ChatMessage(role="assistant", content='{"choice": 7}')
    assert (
        second[-1].role == "user" and "choice: Input should be a valid string" in second[-1].content
    )


def test_no_reask_without_retries_and_the_error_says_why() -> None:
    llm = FakeLLM(['{"choice": 7}', '{"choice": "b"}'], retries=0)
    with pytest.raises(LLMOutputError, match="valid string") as info:
        llm.complete_structured(MESSAGES, Pick)
    assert info.value.attempts == 1 and len(llm.prompts) == 1


@pytest.mark.parametrize("bug", [TypeError("bad call"), AttributeError("x"), KeyError("k")])
def test_programming_errors_in_a_backend_hook_propagate(bug: Exception) -> None:
    with pytest.raises(type(bug)):
        FakeLLM([bug]).complete_structured(MESSAGES, Pick)
    with pytest.raises(type(bug)):
        FakeLLM([bug]).next_token_logprobs(MESSAGES, ["A"])
    with pytest.raises(type(bug)):
        FakeLLM([bug]).complete_with_tools([ToolChatMessage(role="user", content="hi")], [])


@settings(max_examples=30, deadline=None)
@given(
    answers=st.lists(
        st.sampled_from(['{"choice": "a"}', '{"choice": 1}', "no json", '{"x": "y"}']),
        min_size=1,
        max_size=4,
    ),
    retries=st.integers(min_value=0, max_value=3),
)
def test_attempts_stop_at_the_first_valid_answer_or_after_the_retries(
    answers: list[str], retries: int
) -> None:
    llm = FakeLLM(answers, retries=retries, responder=lambda m, s: "never valid")
    valid = [n for n, a in enumerate(answers) if a == '{"choice": "a"}']
    if valid and valid[0] <= retries:
        assert llm.complete_structured(MESSAGES, Pick).choice == "a"
        assert llm.calls[-1].attempts == valid[0] + 1
    else:
        with pytest.raises(LLMOutputError) as info:
            llm.complete_structured(MESSAGES, Pick)
        assert info.value.attempts == retries + 1
    assert len(llm.prompts) == llm.calls[-1].attempts


def test_a_backend_without_tool_calling_says_so(tmp_path: Path) -> None:
    llm = LlamaCppLLM(tmp_path / "never-loaded.gguf")
    with pytest.raises(ToolsUnsupportedError, match="cannot call tools") as info:
        llm.complete_with_tools([ToolChatMessage(role="user", content="hi")], [])
    assert isinstance(info.value, LLMUnavailableError)


def test_only_llama_cpps_own_errors_mean_unavailable(tmp_path: Path) -> None:
    from llama_cpp import Llama

    llm = LlamaCppLLM(tmp_path / "x.gguf")
    with pytest.raises(ValueError, match="does not exist") as info:
        Llama(model_path=str(tmp_path / "x.gguf"), verbose=False)
    assert llm._is_backend_error(info.value)
    assert not llm._is_backend_error(ValueError("raised by babelrec's own code"))
    assert not llm._is_backend_error(TypeError("bug"))
