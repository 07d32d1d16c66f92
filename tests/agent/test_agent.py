"""`ChatAgent` on a small hashing-embedded store (fast)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from babelrec.agent.agent import ChatAgent
from babelrec.agent.sessions import SessionStore
from babelrec.agent.state import ConversationState
from babelrec.errors import ConfigError
from babelrec.llm import FakeLLM
from babelrec.llm.toolcalls import ToolCompletion
from babelrec.pipeline.recommender import Recommender
from babelrec.settings import Settings
from tests.agent.conftest import OpenAIStub, completion
from tests.conftest import free_port


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


def _tool_agent(settings: Settings, llm: FakeLLM) -> ChatAgent:
    rec = Recommender.from_settings(settings)
    return ChatAgent(rec, SessionStore.in_dir(settings.data_dir), mode="tools", llm=llm)


def test_tool_calls_of_a_capable_model_drive_the_turn(small_settings: Settings) -> None:
    llm = FakeLLM(
        [
            completion(
                calls=[("update_preferences", {"item_languages": ["en"], "topic": "chips"})]
            ),
            completion(calls=[("recommend", {"k": 3})]),
            completion("Here are English picks about chips."),
        ]
    )
    agent = _tool_agent(small_settings, llm)
    reply = agent.respond("t", "only English")
    assert reply.path == "tools"
    assert reply.text == "Here are English picks about chips."
    assert reply.recommendations and {r.item.language for r in reply.recommendations} == {"en"}
    assert agent.state("t").constraints.languages == ["en"]
    names = {tool.name for tool in llm.tool_requests[0][1]}
    assert names == {"search_catalog", "recommend", "explain_item", "update_preferences"}
    # the tool results went back to the model
    assert any(m.role == "tool" for m in llm.tool_requests[1][0])
    assert [c.kind for c in llm.calls] == ["tools", "tools", "tools"]


@pytest.mark.parametrize(
    "script",
    [
        [completion("Sure! Here you go.")],  # no tool call
        [completion(calls=[("delete_everything", {})])],  # unknown tool
        [completion(calls=[("update_preferences", {"item_languages": "en", "x": 1})])],  # bad args
        [completion(calls=[("update_preferences", '{"item_languages": ["en"')])],  # bad JSON
        [completion(calls=[("explain_item", {"position": 9})])],  # no such item
        [completion(calls=[("recommend", {})]), completion("好")],  # ignored "only English"
        [ConnectionRefusedError("refused")],  # the fake's stand-in for a dead endpoint
    ],
)
def test_a_failed_tool_turn_falls_back_to_the_rules(
    small_settings: Settings, script: list[object], caplog: pytest.LogCaptureFixture
) -> None:
    agent = _tool_agent(small_settings, FakeLLM(script))  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger="babelrec.agent"):
        reply = agent.respond("f", "只要英文的")
    assert any(
        r.levelno == logging.WARNING and "answering by rules" in r.getMessage()
        for r in caplog.records
    )
    assert reply.path == "rules"
    assert reply.language == "zh" and "只看英文内容" in reply.text
    assert {r.item.language for r in reply.recommendations} == {"en"}
    assert agent.state("f").constraints.languages == ["en"]


def test_disliking_an_anchor_through_the_tools_stops_it_pulling_the_user_vector(
    small_settings: Settings,
) -> None:
    # Regression: the tool path added the item to the dislikes but left it an anchor, so the
    # history it gives the user vector still pulled toward the item the user rejected.
    llm = FakeLLM(
        [
            completion(calls=[("update_preferences", {"disliked_positions": [1]})]),
            completion(calls=[("recommend", {"k": 3})]),
            completion("Fine, other picks."),
        ]
    )
    agent = _tool_agent(small_settings, llm)
    liked = ConversationState(
        language="en",
        topics=["chips"],
        candidates=["en-chip", "zh-chip"],
        liked_items=["en-chip"],
        anchors=["en-chip"],
    )
    agent.sessions.save("d", liked)
    reply = agent.respond("d", "I don't like the first one")
    assert reply.path == "tools"
    state = agent.state("d")
    assert state.disliked_items == ["en-chip"]
    assert "en-chip" not in state.anchors and "en-chip" not in state.liked_items
    assert all(h.item_id != "en-chip" for h in agent.rules.profile(state).history)
    assert "en-chip" not in [r.item.id for r in reply.recommendations]


def _settings(base: Settings, **llm: object) -> Settings:
    return Settings(
        data_dir=base.data_dir,
        embedder={"name": "hashing", "cache": False},
        llm=llm,
        rerank={"name": "identity"},  # the endpoint serves the chat turn only
        chat={"agent": "auto"},
    )


def test_only_openai_api_key_is_enough_for_the_tool_chat(
    small_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    openai_stub: Callable[[Sequence[ToolCompletion]], OpenAIStub],
) -> None:
    # Regression: the chat raised ConfigError when only OPENAI_API_KEY was set, while reranking
    # accepted it. The tool path is built from the `llm` group: url, api_key, model, timeout.
    server = openai_stub(
        [
            completion(calls=[("update_preferences", {"item_languages": ["en"]})]),
            completion(calls=[("recommend", {"k": 3})]),
            completion("English picks."),
        ]
    )
    monkeypatch.delenv("BABELREC_LLM__API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-only-this")
    settings = _settings(
        small_settings, backend="openai", url=server.url, model="gpt-stub", timeout=7
    )
    agent = ChatAgent(Recommender.from_settings(settings))
    reply = agent.respond("k", "only English")
    assert agent.mode == "tools" and reply.path == "tools"
    assert reply.text == "English picks." and agent.state("k").constraints.languages == ["en"]
    assert len(server.requests) == 3
    for headers, body in server.requests:
        assert headers["authorization"] == "Bearer sk-only-this"
        assert body["model"] == "gpt-stub" and body["tool_choice"] == "auto"
    assert agent.tools.llm.timeout == 7  # type: ignore[attr-defined]


def test_a_dead_endpoint_answers_by_rules_with_a_warning(
    small_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    agent = ChatAgent(
        Recommender.from_settings(_settings(small_settings, backend="openai", url=url, timeout=5))
    )
    with caplog.at_level(logging.WARNING):
        reply = agent.respond("dead", "only English tech news")
    assert agent.mode == "tools" and reply.path == "rules"
    assert {r.item.language for r in reply.recommendations} == {"en"}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("cannot reach" in w and "answering by rules" in w for w in warnings)


def test_a_backend_that_cannot_call_tools_leaves_the_turn_to_the_rules(
    small_settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings(small_settings, backend="llama-cpp", model_path=tmp_path / "none.gguf")
    agent = ChatAgent(Recommender.from_settings(settings), mode="tools")
    with caplog.at_level(logging.WARNING, logger="babelrec.agent"):
        reply = agent.respond("l", "recommend some tech news")
    assert reply.path == "rules" and reply.recommendations
    assert any("cannot call tools" in r.getMessage() for r in caplog.records)


def test_the_tool_chat_without_an_llm_is_a_config_error(small_settings: Settings) -> None:
    agent = ChatAgent(Recommender.from_settings(small_settings), mode="tools")
    with pytest.raises(ConfigError, match="BABELREC_CHAT__AGENT=rules"):
        agent.respond("n", "only English")


def test_a_model_that_keeps_calling_tools_is_stopped_after_max_rounds(
    small_settings: Settings,
) -> None:
    topic = completion(calls=[("update_preferences", {"topic": "chips"})])
    llm = FakeLLM([topic, *[completion(calls=[("recommend", {"k": 2})]) for _ in range(4)]])
    agent = _tool_agent(small_settings, llm)
    reply = agent.respond("m", "something about chips")
    assert len(llm.tool_requests) == agent.tools.max_rounds == 3
    assert reply.path == "tools" and len(reply.recommendations) == 2
    assert reply.text.startswith("Here are 2")  # worded from the tools' outcome


def test_the_tool_path_answers_in_the_script_the_user_wrote_in(small_settings: Settings) -> None:
    llm = FakeLLM(
        [
            completion(calls=[("update_preferences", {"item_languages": ["en"]})]),
            completion(calls=[("recommend", {"k": 3})]),
            completion("这是为你挑选的英文新闻。"),  # the model answered in Simplified
        ]
    )
    agent = _tool_agent(small_settings, llm)
    reply = agent.respond("hant", "只要英文的新聞")
    assert reply.path == "tools"
    assert reply.text == "這是為你挑選的英文新聞。"
    assert agent.state("hant").script == "Hant"


def test_the_tools_set_openness_and_it_persists(small_settings: Settings) -> None:
    llm = FakeLLM(
        [
            completion(calls=[("update_preferences", {"openness": 1.0, "topic": "chips"})]),
            completion(calls=[("recommend", {"k": 3})]),
            completion("Here are picks from other cultures."),
        ]
    )
    agent = _tool_agent(small_settings, llm)
    reply = agent.respond("o", "show me chips from other cultures")
    assert reply.path == "tools" and agent.state("o").openness == 1.0
    # the rules read the next turn; the openness stays until asked otherwise
    rules = ChatAgent(Recommender.from_settings(small_settings), mode="rules")
    rules.respond("o", "recommend some sports news")
    assert rules.state("o").openness == 1.0
    rules.respond("o", "only local stuff")
    assert rules.state("o").openness == 0.0


def test_a_model_that_ignores_an_openness_ask_leaves_the_turn_to_the_rules(
    small_settings: Settings,
) -> None:
    llm = FakeLLM([completion(calls=[("recommend", {})]), completion("ok")])
    agent = _tool_agent(small_settings, llm)
    reply = agent.respond("i", "más de otros países")
    assert reply.path == "rules" and reply.language == "es"
    assert agent.state("i").openness == 0.75  # by the rules: raised to explore
    assert "apertura a otras culturas 0.75" in reply.text
