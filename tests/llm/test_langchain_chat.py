"""`BabelrecChatModel`: LangChain's chat-model interface over a babelrec backend."""

from __future__ import annotations

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool

from babelrec.errors import LLMUnavailableError
from babelrec.llm import FakeLLM
from babelrec.llm.langchain_chat import BabelrecChatModel, to_tool_message
from babelrec.llm.toolcalls import ToolCall, ToolCompletion


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def _turn(*calls: tuple[str, str], text: str = "") -> ToolCompletion:
    return ToolCompletion(
        text=text,
        tool_calls=[
            ToolCall(id=f"c{n}", name=name, arguments=args) for n, (name, args) in enumerate(calls)
        ],
    )


def test_bound_tools_reach_the_backend_and_calls_come_back() -> None:
    llm = FakeLLM([_turn(("add", '{"a": 1, "b": 2}'), ("add", '{"a": 1'))])
    model = BabelrecChatModel(llm=llm).bind_tools([add], tool_choice="any")
    answer = model.invoke([SystemMessage("sum"), HumanMessage("1+2?")])
    assert isinstance(answer, AIMessage)
    assert answer.tool_calls == [
        {"name": "add", "args": {"a": 1, "b": 2}, "id": "c0", "type": "tool_call"}
    ]
    assert [bad["name"] for bad in answer.invalid_tool_calls] == ["add"]
    messages, specs, choice = llm.tool_requests[0]
    assert [m.role for m in messages] == ["system", "user"] and choice == "required"
    assert specs[0].name == "add" and set(specs[0].parameters["properties"]) == {"a", "b"}


def test_messages_keep_their_roles_and_tool_call_ids() -> None:
    call = {"name": "add", "args": {"a": 1}, "id": "x1", "type": "tool_call"}
    ai = to_tool_message(AIMessage("", tool_calls=[call]))
    assert ai.role == "assistant" and ai.tool_calls == (
        ToolCall(id="x1", name="add", arguments='{"a": 1}'),
    )
    result = to_tool_message(ToolMessage("3", tool_call_id="x1"))
    assert result.role == "tool" and result.tool_call_id == "x1" and result.content == "3"


def test_langchains_agent_runtime_runs_the_tools_through_the_backend() -> None:
    llm = FakeLLM([_turn(("add", '{"a": 40, "b": 2}')), "It is 42."])
    agent = create_agent(BabelrecChatModel(llm=llm), [add])
    result = agent.invoke({"messages": [HumanMessage("40+2?")]})
    assert result["messages"][-1].content == "It is 42."
    tool_results = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert [m.content for m in tool_results] == ["42"]
    assert [m.role for m in llm.tool_requests[1][0]] == ["user", "assistant", "tool"]


def test_backend_failures_surface_as_llm_errors() -> None:
    model = BabelrecChatModel(llm=FakeLLM([ConnectionRefusedError("refused")]))
    with pytest.raises(LLMUnavailableError, match="refused"):
        model.invoke([HumanMessage("hi")])
