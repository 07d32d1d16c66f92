"""The real default GGUF through llama-cpp-python (slow: loads the model once per session)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from babelrec.llm import ChatMessage, GenerationParams
from babelrec.llm.local import LlamaCppLLM

pytestmark = [pytest.mark.slow, pytest.mark.llm]

MESSAGES = [ChatMessage(role="user", content="What colour is the sky? Answer in JSON.")]


class Colour(BaseModel):
    model_config = ConfigDict(extra="forbid")

    colour: str


def test_json_schema_grammar_is_really_applied(local_llm: LlamaCppLLM) -> None:
    # No model says "zq-7-unlikely" about the sky unprompted: only the grammar can make it.
    schema = {
        "type": "object",
        "properties": {"colour": {"type": "string", "enum": ["zq-7-unlikely"]}},
        "required": ["colour"],
        "additionalProperties": False,
    }
    params = GenerationParams(max_tokens=24)
    answer = local_llm.complete_structured(MESSAGES, Colour, schema=schema, params=params)
    assert answer.colour == "zq-7-unlikely"
    assert local_llm.calls[-1].completion_tokens > 0 and local_llm.calls[-1].seconds > 0


def test_next_token_logprobs_reuse_the_prompt_prefix(local_llm: LlamaCppLLM) -> None:
    base = "Items: [A] football [B] cooking [C] chess. The user loves football. Best item: ["
    first = local_llm.next_token_logprobs(
        [ChatMessage(role="user", content=base)], ["A", "B", "C"], answer_prefix="["
    )
    assert all(-50 < v <= 0 for v in first.values())
    local_llm.next_token_logprobs(
        [ChatMessage(role="user", content=base + " ")], ["A", "B", "C"], answer_prefix="["
    )
    assert local_llm.calls[-1].prefix_reused_tokens > 10
