"""The tool-calling turn of an LLM backend: the messages it reads, the tools it may call and
what it answers (text and/or tool calls, which the caller runs).

The shapes follow the OpenAI chat-completions wire format, which `to_wire` writes, since that is
what every tool-calling endpoint babelrec talks to (OpenAI, vLLM, llama.cpp's server) reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from babelrec.errors import LLMUnavailableError

#: "auto" (the model decides), "required" (must call one), "none", or the name of one tool.
ToolChoice = str


class ToolsUnsupportedError(LLMUnavailableError):
    """The backend cannot call tools (the chat answers by rules instead)."""


class _ToolModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolSpec(_ToolModel):
    """One tool the model may call: its name, what it does, its arguments' JSON schema."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})


class ToolCall(_ToolModel):
    """A call the model asked for; `arguments` is the JSON text exactly as the model wrote it."""

    id: str
    name: str
    arguments: str = "{}"


class ToolChatMessage(_ToolModel):
    """One message of a tool-calling conversation."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = Field(default=None, description="The call a tool result answers.")


class ToolCompletion(BaseModel):
    """The model's turn: text, tool calls to run, or both."""

    model_config = ConfigDict(extra="forbid")

    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0


def to_wire(messages: Sequence[ToolChatMessage]) -> list[dict[str, Any]]:
    """The messages in the OpenAI chat-completions form."""
    wire: list[dict[str, Any]] = []
    for message in messages:
        entry: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.tool_calls:
            entry["content"] = message.content or None
            entry["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in message.tool_calls
            ]
        if message.role == "tool":
            entry["tool_call_id"] = message.tool_call_id or ""
        wire.append(entry)
    return wire


def tools_to_wire(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    """The tools in the OpenAI chat-completions form."""
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            },
        }
        for tool in tools
    ]


def choice_to_wire(choice: ToolChoice) -> str | dict[str, Any]:
    """`tool_choice` in the OpenAI form: a mode, or one named function."""
    if choice in ("auto", "required", "none"):
        return choice
    return {"type": "function", "function": {"name": choice}}
