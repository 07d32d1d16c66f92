"""The openai backend against a real `python -m llama_cpp.server` on 127.0.0.1."""

from __future__ import annotations

import json

import httpx
import pytest
from pydantic import BaseModel, ConfigDict
from typer.testing import CliRunner

from babelrec.cli import app
from babelrec.i18n.script import matches_language
from babelrec.llm import ChatMessage, GenerationParams
from babelrec.llm.hosted import OpenAICompatibleLLM

pytestmark = [pytest.mark.slow, pytest.mark.llm, pytest.mark.server]

MESSAGES = [ChatMessage(role="user", content="What colour is the sky? Answer in JSON.")]
SCHEMA = {
    "type": "object",
    "properties": {"colour": {"type": "string", "enum": ["zq-7-unlikely"]}},
    "required": ["colour"],
    "additionalProperties": False,
}


class Colour(BaseModel):
    model_config = ConfigDict(extra="forbid")

    colour: str


def test_the_server_rejects_the_json_schema_form(llama_server: str) -> None:
    body = {
        "model": "smollm2",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 4,
        "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": SCHEMA}},
    }
    assert httpx.post(f"{llama_server}/chat/completions", json=body, timeout=60).status_code >= 400


@pytest.mark.parametrize("mode", ["auto", "json_schema"])
def test_structured_output_through_the_server_is_constrained(llama_server: str, mode: str) -> None:
    llm = OpenAICompatibleLLM(llama_server, "smollm2", schema_mode=mode, timeout=120)  # type: ignore[arg-type]
    answer = llm.complete_structured(
        MESSAGES, Colour, schema=SCHEMA, params=GenerationParams(max_tokens=24)
    )
    assert answer.colour == "zq-7-unlikely" and llm.schema_mode == "json_object"


@pytest.mark.parametrize("reranker", ["listwise", "verbalizer"])
def test_cli_recommends_through_the_server(
    llama_server: str, agent_store: str, reranker: str
) -> None:
    args = ["recommend", "--interests", "我喜欢足球", "--lang", "zh", "-k", "3", "--json"]
    args += ["--llm", "openai", "--llm-url", llama_server, "--llm-model", "smollm2"]
    args += ["--reranker", reranker, "--data-dir", agent_store, "--embedder", "hashing"]
    run = CliRunner().invoke(app, args, env={"BABELREC_RERANK_TOP": "5", "BABELREC_LLM_CACHE": "0"})
    assert run.exit_code == 0, run.output
    payload = json.loads(run.stdout)
    assert not payload["degraded"], payload["degraded_reason"]
    assert reranker in payload["ranker"] and len(payload["items"]) == 3
    for item in payload["items"]:
        assert item["scores"]["llm"] is not None
        assert matches_language(item["explanation"]["text"], "zh")
