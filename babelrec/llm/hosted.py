"""`openai`: any OpenAI-compatible endpoint (OpenAI, vLLM, `python -m llama_cpp.server`).

Structured output has two wire forms: OpenAI and vLLM take
`{"type": "json_schema", "json_schema": {...}}`, while llama.cpp's server answers that with HTTP 500
and wants `{"type": "json_object", "schema": ...}`. `schema_mode="auto"` uses `json_schema` for
api.openai.com and `json_object` elsewhere, and switches form once if the server rejects it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import SecretStr

from babelrec.errors import LLMOutputError, LLMUnavailableError
from babelrec.llm.base import (
    LLM,
    LOGPROB_FLOOR,
    ChatMessage,
    Completion,
    GenerationParams,
    JSONSchema,
    TokenLogprobs,
    dump_messages,
)
from babelrec.llm.cache import ResponseCache
from babelrec.llm.toolcalls import (
    ToolCall,
    ToolChatMessage,
    ToolChoice,
    ToolCompletion,
    ToolSpec,
    choice_to_wire,
    to_wire,
    tools_to_wire,
)

SchemaMode = Literal["auto", "json_schema", "json_object"]


class OpenAICompatibleLLM(LLM):
    """A hosted chat model behind the `openai` client (imported when the first call is made)."""

    name = "openai"

    def __init__(
        self,
        base_url: str | None,
        model: str,
        *,
        api_key: SecretStr | None = None,
        timeout: float = 60.0,
        retries: int = 1,
        schema_mode: SchemaMode = "auto",
        cache: ResponseCache | None = None,
    ) -> None:
        super().__init__(cache=cache, retries=retries)
        self.base_url = base_url
        self.model = model
        self._api_key = api_key
        self.timeout = timeout
        if schema_mode == "auto":
            host = urlparse(base_url or "https://api.openai.com/v1").hostname or ""
            schema_mode = "json_schema" if host.endswith("openai.com") else "json_object"
        self.schema_mode: Literal["json_schema", "json_object"] = schema_mode
        self._switched = False

    def _redact(self, text: str) -> str:
        """`text` with the API key (which an endpoint's error body may echo) masked."""
        key = self._api_key.get_secret_value() if self._api_key else ""
        return text.replace(key, "**********") if len(key) >= 4 else text

    def __repr__(self) -> str:
        return f"OpenAICompatibleLLM(base_url={self.base_url!r}, model={self.model!r})"

    @property
    def model_id(self) -> str:
        return f"{self.base_url or 'openai'}#{self.model}"

    @cached_property
    def client(self) -> Any:
        import openai

        # Local servers need no key, but the client insists on one.
        key = self._api_key.get_secret_value() if self._api_key else "not-needed"
        # Connection retries are the client's; output retries are ours (LLM.retries).
        return openai.OpenAI(
            base_url=self.base_url, api_key=key, timeout=self.timeout, max_retries=0
        )

    def _is_backend_error(self, exc: Exception) -> bool:
        import httpx
        import openai

        # openai.APIError covers APIConnectionError, APITimeoutError and APIStatusError.
        return isinstance(exc, openai.APIError | httpx.HTTPError)

    def _response_format(self, schema: JSONSchema) -> dict[str, Any]:
        if self.schema_mode == "json_schema":
            return {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": schema, "strict": False},
            }
        return {"type": "json_object", "schema": schema}

    def _create(self, **kwargs: Any) -> Any:
        import openai

        try:
            return self.client.chat.completions.create(model=self.model, **kwargs)
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise LLMUnavailableError(
                f"cannot reach the LLM at {self.base_url or 'api.openai.com'} ({exc}); "
                "start the server or pass --no-llm"
            ) from exc
        except openai.AuthenticationError:
            # Not chained: the server's error body may echo the key (tracebacks show causes).
            raise LLMUnavailableError(
                "the LLM endpoint refused the API key: set BABELREC_LLM__API_KEY or OPENAI_API_KEY"
            ) from None
        except openai.APIStatusError as exc:
            raise _StatusError(exc.status_code, self._redact(str(exc))) from None

    def _complete(
        self, messages: Sequence[ChatMessage], schema: JSONSchema, params: GenerationParams
    ) -> Completion:
        kwargs: dict[str, Any] = {
            "messages": dump_messages(messages),
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "seed": params.seed,
        }
        try:
            response = self._create(response_format=self._response_format(schema), **kwargs)
        except _StatusError as exc:
            if self._switched or exc.status not in (400, 422, 500):
                raise LLMUnavailableError(f"the LLM endpoint failed: {exc}") from exc
            # The other structured-output form: remember it for the rest of the session.
            self.schema_mode = "json_object" if self.schema_mode == "json_schema" else "json_schema"
            self._switched = True
            try:
                response = self._create(response_format=self._response_format(schema), **kwargs)
            except _StatusError as again:
                raise LLMUnavailableError(f"the LLM endpoint failed: {again}") from again
        choice = response.choices[0]
        usage = response.usage
        return Completion(
            text=choice.message.content or "",
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )

    def _complete_with_tools(
        self,
        messages: Sequence[ToolChatMessage],
        tools: Sequence[ToolSpec],
        params: GenerationParams,
        tool_choice: ToolChoice,
    ) -> ToolCompletion:
        kwargs: dict[str, Any] = {
            "messages": to_wire(messages),
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "seed": params.seed,
        }
        if tools:
            kwargs["tools"] = tools_to_wire(tools)
            kwargs["tool_choice"] = choice_to_wire(tool_choice)
        try:
            response = self._create(**kwargs)
        except _StatusError as exc:
            raise LLMUnavailableError(f"the LLM endpoint failed a tool turn: {exc}") from exc
        message = response.choices[0].message
        usage = response.usage
        return ToolCompletion(
            text=(message.content or "").strip(),
            tool_calls=[
                ToolCall(
                    id=call.id, name=call.function.name, arguments=call.function.arguments or "{}"
                )
                for call in message.tool_calls or []
            ],
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )

    def _next_token_logprobs(
        self, messages: Sequence[ChatMessage], options: Sequence[str], answer_prefix: str
    ) -> TokenLogprobs:
        # A chat endpoint cannot continue a partial answer: the prefix closes the prompt and the
        # answer is constrained to one of the options (a JSON string). The scores are the top
        # log-probabilities at the first answer token that is not punctuation.
        sent = dump_messages(messages)
        if answer_prefix:
            sent[-1]["content"] += "\n" + answer_prefix
        choices = sorted({opt.strip() for opt in options})
        kwargs: dict[str, Any] = {
            "messages": sent,
            "max_tokens": 4,
            "temperature": 0.0,
            "logprobs": True,
            "top_logprobs": 20,
        }
        try:
            response = self._create(
                response_format=self._response_format({"type": "string", "enum": choices}),
                **kwargs,
            )
        except _StatusError as exc:
            raise LLMUnavailableError(f"the endpoint gives no log-probabilities: {exc}") from exc
        content = response.choices[0].logprobs and response.choices[0].logprobs.content
        if not content:
            raise LLMOutputError("the endpoint returned no log-probabilities", raw=str(response))
        position = next((p for p in content if _bare(p.token)), content[0])
        seen: dict[str, float] = {}
        broken = 0
        for entry in position.top_logprobs:
            if "\ufffd" in entry.token:  # part of a character's UTF-8 bytes: unattributable
                broken += 1
                continue
            option = _attribute(_bare(entry.token), choices)
            if option is not None:
                seen[option] = max(seen.get(option, LOGPROB_FLOOR), float(entry.logprob))
        if broken and not seen:
            raise LLMOutputError(
                f"the endpoint's top log-probability tokens are partial UTF-8 ({broken} of "
                f"{len(position.top_logprobs)} are U+FFFD), so no option among {choices} can be "
                "scored; use a server that returns whole characters, or the listwise reranker",
                raw=str([entry.token for entry in position.top_logprobs]),
            )
        usage = response.usage
        return TokenLogprobs(
            logprobs={opt: seen.get(opt.strip(), LOGPROB_FLOOR) for opt in options},
            prompt_tokens=usage.prompt_tokens if usage else 0,
        )


def _bare(token: str) -> str:
    return token.strip().strip("\"'[](){}:：")


def _attribute(token: str, choices: Sequence[str]) -> str | None:
    """The option a returned token stands for: the one it equals, else the only one it starts
    (a multi-token option such as "아니오" shows up as its first piece); None when ambiguous."""
    if not token:
        return None
    if token in choices:
        return token
    starts = [choice for choice in choices if choice.startswith(token)]
    return starts[0] if len(starts) == 1 else None


class _StatusError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
