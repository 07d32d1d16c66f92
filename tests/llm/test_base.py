from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from babelrec.errors import LLMOutputError, LLMUnavailableError
from babelrec.llm import ChatMessage, FakeLLM, GenerationParams, ResponseCache

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
