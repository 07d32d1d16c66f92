"""`ChatAgent` on a small hashing-embedded store (fast)."""

from __future__ import annotations

import openai
import pytest

from babelrec.agent.agent import ChatAgent
from babelrec.agent.sessions import SessionStore
from babelrec.pipeline.recommender import Recommender
from babelrec.settings import Settings
from tests.agent.conftest import ScriptedClient, completion


def test_a_restarted_process_continues_the_conversation(small_settings: Settings) -> None:
    first = Recommender.from_settings(small_settings)
    reply = ChatAgent(first).respond("s", "推荐一些关于科技的新闻")
    assert reply.language == "zh" and reply.recommendations
    assert {r.item.category for r in reply.recommendations} == {"technology"}
    reply = ChatAgent(first).respond("s", "只要英文的")
    assert [r.item.id for r in reply.recommendations] == ["en-chip"]
    assert (small_settings.data_dir / "sessions.sqlite").exists()

    restarted = Recommender.from_settings(small_settings)
    reply = ChatAgent(restarted).respond("s", "来点韩国的")
    assert reply.language == "zh"
    assert reply.constraints.languages == ["en"] and reply.constraints.regions == ["KR"]
    assert reply.recommendations == []  # English items from Korea: none in this catalog
    reply = ChatAgent(restarted).respond("s", "不限语言")
    assert [r.item.id for r in reply.recommendations] == ["ko-chip"]
    assert "韩国" in reply.text


def test_vague_request_asks_one_question_then_acts_on_the_answer(
    small_settings: Settings,
) -> None:
    rec = Recommender.from_settings(small_settings)
    reply = ChatAgent(rec).respond("v", "recomiéndame algo")
    assert reply.clarifying_question and reply.language == "es"
    assert reply.text.count("?") == 1 and not reply.recommendations
    reply = ChatAgent(rec).respond("v", "deportes")
    assert not reply.clarifying_question
    assert {r.item.category for r in reply.recommendations} == {"sports"}


def test_commands_change_language_and_reset(small_settings: Settings) -> None:
    rec = Recommender.from_settings(small_settings)
    ChatAgent(rec).respond("c", "recommend some tech news")
    reply = ChatAgent(rec).respond("c", "/lang es")
    assert reply.language == "es" and "español" in reply.text
    reply = ChatAgent(rec).respond("c", "请用中文回答")
    assert reply.language == "zh"
    reply = ChatAgent(rec).respond("c", "no sports")
    assert reply.language == "zh" and "不要体育" in reply.text
    reply = ChatAgent(rec).respond("c", "/reset")
    assert reply.language == "zh" and reply.constraints.is_empty()


def test_references_need_a_list(small_settings: Settings) -> None:
    rec = Recommender.from_settings(small_settings)
    assert "no list" in ChatAgent(rec).respond("r", "more like the second one").text.lower()
    ChatAgent(rec).respond("r", "recommend some tech news")
    assert "no item 9" in ChatAgent(rec).respond("r", "more like the ninth one").text


def _tool_agent(settings: Settings, client: ScriptedClient) -> ChatAgent:
    rec = Recommender.from_settings(settings)
    return ChatAgent(rec, SessionStore.in_dir(settings.data_dir), mode="tools", client=client)


def test_tool_calls_of_a_capable_model_drive_the_turn(small_settings: Settings) -> None:
    client = ScriptedClient(
        [
            completion(
                calls=[("update_preferences", {"item_languages": ["en"], "topic": "chips"})]
            ),
            completion(calls=[("recommend", {"k": 3})]),
            completion("Here are English picks about chips."),
        ]
    )
    agent = _tool_agent(small_settings, client)
    reply = agent.respond("t", "only English")
    assert reply.path == "tools"
    assert reply.text == "Here are English picks about chips."
    assert reply.recommendations and {r.item.language for r in reply.recommendations} == {"en"}
    assert agent.state("t").constraints.languages == ["en"]
    names = {tool["function"]["name"] for tool in client.requests[0]["tools"]}
    assert names == {"search_catalog", "recommend", "explain_item", "update_preferences"}
    # the tool results went back to the model
    assert any(m["role"] == "tool" for m in client.requests[1]["messages"])


@pytest.mark.parametrize(
    "script",
    [
        [completion("Sure! Here you go.")],  # no tool call
        [completion(calls=[("delete_everything", {})])],  # unknown tool
        [completion(calls=[("update_preferences", {"item_languages": "en", "x": 1})])],  # bad args
        [completion(calls=[("recommend", {})]), completion("好")],  # ignored "only English"
        [openai.APIConnectionError(request=None)],  # type: ignore[arg-type]
    ],
)
def test_a_failed_tool_turn_falls_back_to_the_rules(
    small_settings: Settings, script: list[object]
) -> None:
    agent = _tool_agent(small_settings, ScriptedClient(script))
    reply = agent.respond("f", "只要英文的")
    assert reply.path == "rules"
    assert reply.language == "zh" and "只看英文内容" in reply.text
    assert {r.item.language for r in reply.recommendations} == {"en"}
    assert agent.state("f").constraints.languages == ["en"]
