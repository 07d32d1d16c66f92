"""`fake`: a scripted LLM, shipped as a test double and as a baseline for evaluation.

With no script it answers every schema with the first-stage order (each enum in order) and gives
every option the same log-probability, so a reranker over it is the identity.
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
    """Answers from a script: each entry is raw text or an exception to raise, then `responder`."""

    name = "fake"

    def __init__(
        self,
        responses: Iterable[str | Exception] = (),
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
            text = entry
        elif self.responder is not None:
            text = self.responder(messages, schema)
        else:
            text = json.dumps(default_answer(schema), ensure_ascii=False)
        words = sum(len(m.content.split()) for m in messages)
        return Completion(text=text, prompt_tokens=words, completion_tokens=len(text.split()))

    def _next_token_logprobs(
        self, messages: Sequence[ChatMessage], options: Sequence[str], answer_prefix: str
    ) -> TokenLogprobs:
        self.prompts.append(list(messages))
        if self.script and isinstance(self.script[0], Exception):
            raise self.script.pop(0)  # type: ignore[misc]
        if self.logprob_fn is not None:
            return TokenLogprobs(logprobs=self.logprob_fn(messages, options))
        return TokenLogprobs(logprobs={option: -1.0 for option in options})
