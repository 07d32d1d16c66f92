"""A LangChain chat model over a babelrec `LLM` backend, so LangChain's agent runtime
(`langchain.agents.create_agent`) drives tool calling through the same backend, settings and
error handling as reranking.

`bind_tools` keeps the tools' schemas; each model step is one `LLM.complete_with_tools` call.
A backend that cannot call tools raises `ToolsUnsupportedError`, an `LLMUnavailableError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    InvalidToolCall,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.tool import ToolCall as LCToolCall
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field

from babelrec.llm.base import LLM, GenerationParams
from babelrec.llm.toolcalls import ToolCall, ToolChatMessage, ToolCompletion, ToolSpec


class BabelrecChatModel(BaseChatModel):
    """LangChain's view of a babelrec LLM backend, for tool-calling turns."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    llm: LLM
    max_tokens: int = Field(default=256, ge=1)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)

    @property
    def _llm_type(self) -> str:
        return f"babelrec-{self.llm.name}"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"backend": self.llm.name, "model": self.llm.model_id}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """This model with `tools` offered on every call ("any" asks for some tool call)."""
        specs = []
        for tool in tools:
            function = convert_to_openai_tool(tool)["function"]
            specs.append(
                ToolSpec(
                    name=function["name"],
                    description=function.get("description", ""),
                    parameters=function.get("parameters", {"type": "object"}),
                )
            )
        choice = {None: "auto", "any": "required"}.get(tool_choice, tool_choice)
        return super().bind(tools=specs, tool_choice=choice, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools: list[ToolSpec] = list(kwargs.get("tools") or [])
        result = self.llm.complete_with_tools(
            [to_tool_message(m) for m in messages],
            tools,
            params=GenerationParams(max_tokens=self.max_tokens, temperature=self.temperature),
            tool_choice=str(kwargs.get("tool_choice") or "auto"),
        )
        return ChatResult(generations=[ChatGeneration(message=to_ai_message(result))])


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(part if isinstance(part, str) else str(part.get("text", "")) for part in content)


def to_tool_message(message: BaseMessage) -> ToolChatMessage:
    """A LangChain message as babelrec's tool-calling message."""
    if isinstance(message, SystemMessage):
        return ToolChatMessage(role="system", content=_text(message))
    if isinstance(message, HumanMessage):
        return ToolChatMessage(role="user", content=_text(message))
    if isinstance(message, ToolMessage):
        return ToolChatMessage(
            role="tool", content=_text(message), tool_call_id=message.tool_call_id
        )
    if isinstance(message, AIMessage):
        calls = tuple(
            ToolCall(
                id=call.get("id") or f"call-{n}",
                name=call["name"],
                arguments=json.dumps(call["args"], ensure_ascii=False),
            )
            for n, call in enumerate(message.tool_calls)
        )
        return ToolChatMessage(role="assistant", content=_text(message), tool_calls=calls)
    raise TypeError(f"no babelrec role for a {type(message).__name__}")


def to_ai_message(result: ToolCompletion) -> AIMessage:
    """The backend's answer as LangChain's `AIMessage`; arguments that are not a JSON object
    become invalid tool calls (the agent runtime does not run those)."""
    calls: list[LCToolCall] = []
    invalid: list[InvalidToolCall] = []
    for call in result.tool_calls:
        error: str | None = None
        try:
            args = json.loads(call.arguments or "{}")
        except json.JSONDecodeError as exc:
            args, error = None, f"arguments are not JSON: {exc}"
        else:
            if not isinstance(args, dict):
                error = "arguments are not a JSON object"
        if error is None:
            calls.append(LCToolCall(name=call.name, args=args, id=call.id, type="tool_call"))
        else:
            invalid.append(
                InvalidToolCall(
                    name=call.name,
                    args=call.arguments,
                    id=call.id,
                    error=error,
                    type="invalid_tool_call",
                )
            )
    return AIMessage(
        content=result.text,
        tool_calls=calls,
        invalid_tool_calls=invalid,
        usage_metadata={
            "input_tokens": result.prompt_tokens,
            "output_tokens": result.completion_tokens,
            "total_tokens": result.prompt_tokens + result.completion_tokens,
        },
    )
