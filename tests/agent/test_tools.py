"""The tool-calling path against a real OpenAI-compatible server (`python -m llama_cpp.server`
with the packaged SmolLM2 on 127.0.0.1). So small a model does not call tools correctly: the
agent must send the tool schemas, then answer by rules, correctly."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import openai
import pytest

from babelrec.agent.agent import ChatAgent
from babelrec.pipeline.recommender import Recommender

pytestmark = [pytest.mark.slow, pytest.mark.server]

TOOLS = {"search_catalog", "recommend", "explain_item", "update_preferences"}


def test_tiny_model_gets_the_tools_and_the_rules_answer(
    llama_server: str, demo_recommender: Recommender
) -> None:
    sent: list[dict[str, Any]] = []

    def record(request: httpx.Request) -> None:
        if request.url.path.endswith("/chat/completions"):
            sent.append(json.loads(request.read()))

    client = openai.OpenAI(
        base_url=llama_server,
        api_key="not-needed",
        max_retries=0,
        timeout=120,
        http_client=httpx.Client(event_hooks={"request": [record]}, timeout=120),
    )
    agent = ChatAgent(demo_recommender, mode="tools", client=client, model="smollm2")

    first = agent.respond("server-t1", "推荐一些足球新闻")
    second = agent.respond("server-t1", "只要英文的")

    assert sent, "no request reached the server"
    for body in sent:
        assert {tool["function"]["name"] for tool in body["tools"]} == TOOLS
        assert body["tool_choice"] == "auto"
        schema = next(t for t in body["tools"] if t["function"]["name"] == "update_preferences")
        assert "item_languages" in schema["function"]["parameters"]["properties"]
    assert body["messages"][-1] == {"role": "user", "content": "只要英文的"}

    assert first.path == "rules" and second.path == "rules"
    for reply in (first, second):
        assert reply.language == "zh" and re.search(r"[\u4e00-\u9fff]", reply.text)
        assert reply.recommendations
    assert {r.item.language for r in second.recommendations} == {"en"}
    assert agent.state("server-t1").constraints.languages == ["en"]
