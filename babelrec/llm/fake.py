"""`fake`: a scripted LLM, shipped as a test double and as a baseline for evaluation.

With no script it answers every schema with the first-stage order (each enum in order) and gives
every option the same log-probability, so a scoring reranker over it keeps the first-stage
order and says it is degraded (equal scores carry no information).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from babelrec.llm.base import (
    LLM,
    ChatMessage,
    Completion,
    GenerationParams,
    JSONSchema,
    TokenLogprobs,
)
from babelrec.llm.cache import ResponseCache
from babelrec.llm.toolcalls import ToolChatMessage, ToolChoice, ToolCompletion, ToolSpec

Responder = Callable[[Sequence[ChatMessage], JSONSchema], str]
LogprobFn = Callable[[Sequence[ChatMessage], Sequence[str]], dict[str, float]]


def default_answer(schema: JSONSchema) -> Any:
    """A minimal value that satisfies simple schemas: enums in order, empty strings, zeros."""
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        props = schema.get("properties", {})
        return {name: default_answer(sub) for name, sub in props.items()}
    if kind == "array":
        items = schema.get("items", {})
        if "enum" in items:
            return list(items["enum"])[: schema.get("maxItems")]
        return []
    return {"string": "", "integer": 0, "number": 0.0, "boolean": False}.get(str(kind))


class FakeLLM(LLM):
    """Answers from a script: each entry is raw text, a tool-calling turn (`ToolCompletion`) or
    an exception to raise; then `responder`, or the schema's default answer.

    It stands in for a backend whose library fails with `OSError` (connections, timeouts) or
    `RuntimeError`: those become `LLMUnavailableError`, any other scripted exception is a bug
    and propagates, as with the real backends."""

    name = "fake"
    stable_model_id = False  # its answers come from its script, not from its model id

    def __init__(
        self,
        responses: Iterable[str | ToolCompletion | Exception] = (),
        *,
        responder: Responder | None = None,
        logprob_fn: LogprobFn | None = None,
        model: str = "fake",
        cache: ResponseCache | None = None,
        retries: int = 1,
    ) -> None:
        super().__init__(cache=cache, retries=retries)
        self.script = list(responses)
        self.responder = responder
        self.logprob_fn = logprob_fn
        self.model = model
        self.prompts: list[list[ChatMessage]] = []
        self.tool_requests: list[tuple[list[ToolChatMessage], list[ToolSpec], ToolChoice]] = []

    @property
    def model_id(self) -> str:
        return self.model

    def _complete(
        self, messages: Sequence[ChatMessage], schema: JSONSchema, params: GenerationParams
    ) -> Completion:
        self.prompts.append(list(messages))
        if self.script:
            entry = self.script.pop(0)
            if isinstance(entry, Exception):
                raise entry
            text = entry.text if isinstance(entry, ToolCompletion) else entry
        elif self.responder is not None:
            text = self.responder(messages, schema)
        else:
            text = json.dumps(default_answer(schema), ensure_ascii=False)
        words = sum(len(m.content.split()) for m in messages)
        return Completion(text=text, prompt_tokens=words, completion_tokens=len(text.split()))

    def _is_backend_error(self, exc: Exception) -> bool:
        return isinstance(exc, OSError | RuntimeError)

    def _complete_with_tools(
        self,
        messages: Sequence[ToolChatMessage],
        tools: Sequence[ToolSpec],
        params: GenerationParams,
        tool_choice: ToolChoice,
    ) -> ToolCompletion:
        self.tool_requests.append((list(messages), list(tools), tool_choice))
        if not self.script:
            return ToolCompletion()  # nothing more to say: ends the turn
        entry = self.script.pop(0)
        if isinstance(entry, Exception):
            raise entry
        return entry if isinstance(entry, ToolCompletion) else ToolCompletion(text=entry)

    def _next_token_logprobs(
        self, messages: Sequence[ChatMessage], options: Sequence[str], answer_prefix: str
    ) -> TokenLogprobs:
        self.prompts.append(list(messages))
        if self.script and isinstance(self.script[0], Exception):
            raise self.script.pop(0)  # type: ignore[misc]
        if self.logprob_fn is not None:
            return TokenLogprobs(logprobs=self.logprob_fn(messages, options))
        return TokenLogprobs(logprobs={option: -1.0 for option in options})
