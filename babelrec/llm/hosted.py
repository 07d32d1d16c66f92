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
        except openai.AuthenticationError as exc:
            raise LLMUnavailableError(
                "the LLM endpoint refused the API key: set BABELREC_LLM__API_KEY or OPENAI_API_KEY"
            ) from exc
        except openai.APIStatusError as exc:
            raise _StatusError(exc.status_code, str(exc)) from exc

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
        for entry in position.top_logprobs:
            token = _bare(entry.token)
            seen[token] = max(seen.get(token, LOGPROB_FLOOR), float(entry.logprob))
        usage = response.usage
        return TokenLogprobs(
            logprobs={opt: seen.get(opt.strip(), LOGPROB_FLOOR) for opt in options},
            prompt_tokens=usage.prompt_tokens if usage else 0,
        )


def _bare(token: str) -> str:
    return token.strip().strip("\"'[](){}:：")


class _StatusError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
