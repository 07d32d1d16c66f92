"""The LLM interface: structured chat completion and next-token log-probabilities.

`LLM.complete_structured()`, `LLM.next_token_logprobs()` and `LLM.complete_with_tools()` do the
shared work once (caching, validation, repair of stray text around the JSON, re-asking with the
validation error under tenacity, timing, token counts); a backend implements the small hooks
`_complete()`, `_next_token_logprobs()` and, when it can call tools, `_complete_with_tools()`.

Only the backend library's own failures (a refused connection, a timeout, an HTTP status, a
llama.cpp load or eval error; each backend says which in `_is_backend_error`) become
`LLMUnavailableError`; anything else raised inside a hook is a bug and propagates.
"""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from babelrec.errors import LLMError, LLMOutputError, LLMUnavailableError
from babelrec.llm.cache import ResponseCache, cache_key
from babelrec.llm.toolcalls import (
    ToolChatMessage,
    ToolChoice,
    ToolCompletion,
    ToolSpec,
    ToolsUnsupportedError,
)

T = TypeVar("T", bound=BaseModel)
JSONSchema = dict[str, Any]


class ChatMessage(BaseModel):
    """One chat turn."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


class GenerationParams(BaseModel):
    """Sampling parameters; part of the cache key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_tokens: int = Field(default=256, ge=1)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    seed: int = 0


class Completion(BaseModel):
    """What a backend returns for one generation."""

    model_config = ConfigDict(extra="forbid")

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prefix_reused_tokens: int = 0


class TokenLogprobs(BaseModel):
    """Next-token log-probabilities of a few options (the first token of each)."""

    model_config = ConfigDict(extra="forbid")

    logprobs: dict[str, float]
    prompt_tokens: int = 0
    prefix_reused_tokens: int = 0


class CallRecord(BaseModel):
    """Tokens and seconds of one public call (a cache hit costs nothing and says so)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["structured", "logprobs", "tools"]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prefix_reused_tokens: int = 0
    seconds: float = 0.0
    attempts: int = 1
    cached: bool = False


#: Bumped when what a backend returns for the same request changes; part of every cache key.
CACHE_VERSION = 2

#: Log-probability given to an option the backend did not report (e.g. not in a hosted top-k).
LOGPROB_FLOOR = -30.0


#: What a re-ask tells the model after an answer that did not validate.
REASK = (
    "Your answer was not valid: {errors}. Answer again with only the JSON object, "
    "following the schema exactly."
)
R = TypeVar("R")


def extract_json(text: str) -> str:
    """The outermost `{...}` of `text`: tiny models sometimes wrap JSON in prose or fences."""
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text


class LLM(ABC):
    """A chat model that answers in validated JSON and reports next-token log-probabilities."""

    name: ClassVar[str]
    #: Whether `model_id` determines the answers (what may be kept across processes by it).
    stable_model_id: ClassVar[bool] = True

    def __init__(self, *, cache: ResponseCache | None = None, retries: int = 1) -> None:
        self.cache = cache
        self.retries = retries
        self.calls: list[CallRecord] = []
        self._lock = threading.Lock()

    @property
    @abstractmethod
    def model_id(self) -> str:
        """Identifies the weights (file name, hosted model name); part of the cache key."""

    @abstractmethod
    def _complete(
        self, messages: Sequence[ChatMessage], schema: JSONSchema, params: GenerationParams
    ) -> Completion:
        """One answer constrained to `schema`; raise `LLMUnavailableError` when unreachable."""

    @abstractmethod
    def _next_token_logprobs(
        self, messages: Sequence[ChatMessage], options: Sequence[str], answer_prefix: str
    ) -> TokenLogprobs:
        """Log-probabilities of each option's first token right after `answer_prefix`."""

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release the model or connection."""

    def truncate_tokens(self, text: str, budget: int) -> str:
        """`text` cut to at most `budget` tokens of this model (so a prompt's size is known
        before it is sent). Backends without a tokenizer here cut at 3 characters a token, an
        over-estimate for every script; llama-cpp counts with the model's own tokenizer."""
        return text[: max(0, budget) * 3].rstrip()

    def scoring_problem(self, options: Sequence[str]) -> str | None:
        """Why `next_token_logprobs` could not tell `options` apart, or None when it can.

        Backends with a tokenizer check the options' tokens; this default catches options that
        are equal once stripped (what every backend compares)."""
        seen: dict[str, str] = {}
        for option in options:
            bare = option.strip()
            if not bare:
                return f"the option {option!r} is blank"
            if bare in seen:
                return f"the options {seen[bare]!r} and {option!r} are the same answer"
            seen[bare] = option
        return None

    # -- public API ------------------------------------------------------------------------

    def _cache_key(self, kind: str, messages: Sequence[ChatMessage], *request: Any) -> str:
        """What an answer depends on: this backend and model, the call kind, the messages and
        the rest of the request."""
        chat = [m.model_dump() for m in messages]
        return cache_key(CACHE_VERSION, self.name, self.model_id, kind, chat, *request)

    def complete_structured(
        self,
        messages: Sequence[ChatMessage],
        response_model: type[T],
        *,
        schema: JSONSchema | None = None,
        params: GenerationParams | None = None,
    ) -> T:
        """An instance of `response_model`, generated under `schema` (default: the model's own).

        Pass a tighter `schema` (enums of real ids, bounded arrays) to constrain decoding further;
        the answer is still validated by `response_model`. Raises `LLMOutputError` with the
        attempts and the last raw output when no attempt validates.
        """
        schema = schema or response_model.model_json_schema()
        params = params or GenerationParams()
        key = self._cache_key("structured", messages, schema, params)
        started = time.perf_counter()
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            self.calls.append(CallRecord(kind="structured", cached=True))
            return response_model.model_validate_json(hit["text"])
        record = CallRecord(kind="structured", attempts=0)
        asked = list(messages)

        def attempt() -> T:
            nonlocal asked
            n = record.attempts
            # A re-ask also samples (temperature > 0): greedy decoding tends to repeat itself.
            attempt_params = (
                params
                if n == 0
                else params.model_copy(
                    update={"temperature": max(params.temperature, 0.7), "seed": params.seed + n}
                )
            )
            completion = self._guarded(lambda: self._complete(asked, schema, attempt_params))
            record.attempts += 1
            record.prompt_tokens += completion.prompt_tokens
            record.completion_tokens += completion.completion_tokens
            record.prefix_reused_tokens += completion.prefix_reused_tokens
            try:
                return response_model.model_validate_json(extract_json(completion.text))
            except ValidationError as exc:
                invalid = _Invalid(completion.text, exc)
                asked = [
                    *messages,
                    ChatMessage(role="assistant", content=completion.text),
                    ChatMessage(role="user", content=REASK.format(errors=invalid)),
                ]
                raise invalid from exc

        retrying = Retrying(
            stop=stop_after_attempt(self.retries + 1),
            retry=retry_if_exception_type(_Invalid),
            reraise=True,
        )
        try:
            value = retrying(attempt)
        except _Invalid as exc:
            record.seconds = time.perf_counter() - started
            self.calls.append(record)
            raise LLMOutputError(
                f"{self.name} ({self.model_id}) gave no valid {response_model.__name__} "
                f"in {record.attempts} attempt(s): {exc}",
                attempts=record.attempts,
                raw=exc.raw,
            ) from exc
        record.seconds = time.perf_counter() - started
        self.calls.append(record)
        if self.cache is not None:
            self.cache.put(key, {"text": value.model_dump_json()})
        return value

    def next_token_logprobs(
        self,
        messages: Sequence[ChatMessage],
        options: Sequence[str],
        *,
        answer_prefix: str = "",
    ) -> dict[str, float]:
        """Log-probability of each option (its first token) as the next token of the answer.

        One forward pass, no generation: the scoring primitive of the verbalizer and pointwise
        rerankers. `answer_prefix` is the start of the assistant's answer (e.g. "Answer: [").
        """
        if not options:
            return {}
        key = self._cache_key("logprobs", messages, list(options), answer_prefix)
        started = time.perf_counter()
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            self.calls.append(CallRecord(kind="logprobs", cached=True))
            return {str(k): float(v) for k, v in hit["logprobs"].items()}
        result = self._guarded(lambda: self._next_token_logprobs(messages, options, answer_prefix))
        logprobs = {opt: float(result.logprobs.get(opt, LOGPROB_FLOOR)) for opt in options}
        self.calls.append(
            CallRecord(
                kind="logprobs",
                prompt_tokens=result.prompt_tokens,
                prefix_reused_tokens=result.prefix_reused_tokens,
                seconds=time.perf_counter() - started,
            )
        )
        if self.cache is not None and any(v > LOGPROB_FLOOR for v in logprobs.values()):
            self.cache.put(key, {"logprobs": logprobs})  # an empty answer is not worth keeping
        return logprobs

    def as_runnable(self, response_model: type[T]) -> Any:
        """This LLM as a LangChain `Runnable` from a list of `ChatMessage` to `response_model`."""
        from langchain_core.runnables import RunnableLambda

        def invoke(messages: Sequence[ChatMessage]) -> T:
            return self.complete_structured(messages, response_model)

        return RunnableLambda(invoke, name=f"babelrec-{self.name}")

    def complete_with_tools(
        self,
        messages: Sequence[ToolChatMessage],
        tools: Sequence[ToolSpec],
        *,
        params: GenerationParams | None = None,
        tool_choice: ToolChoice = "auto",
    ) -> ToolCompletion:
        """One chat turn that may call `tools`: text and/or tool calls, not run here.

        Raises `ToolsUnsupportedError` (an `LLMUnavailableError`) when the backend cannot call
        tools. Not cached: a tool-calling turn depends on what the tools returned.
        """
        params = params or GenerationParams()
        started = time.perf_counter()
        result = self._guarded(
            lambda: self._complete_with_tools(messages, tools, params, tool_choice)
        )
        self.calls.append(
            CallRecord(
                kind="tools",
                prompt_tokens=result.prompt_tokens,
                completion_tokens=result.completion_tokens,
                seconds=time.perf_counter() - started,
            )
        )
        return result

    def _complete_with_tools(
        self,
        messages: Sequence[ToolChatMessage],
        tools: Sequence[ToolSpec],
        params: GenerationParams,
        tool_choice: ToolChoice,
    ) -> ToolCompletion:
        """A backend that can call tools overrides this."""
        raise ToolsUnsupportedError(
            f"the {self.name} backend cannot call tools; use an OpenAI-compatible endpoint "
            "(BABELREC_LLM__BACKEND=openai, BABELREC_LLM__URL) for the tool-calling chat"
        )

    def _is_backend_error(self, exc: Exception) -> bool:
        """True when `exc` is the backend library's own failure (unreachable, timed out,
        refused, cannot load or evaluate), i.e. the LLM is unavailable; a backend overrides
        this. Everything else raised inside a hook is a bug and propagates."""
        return False

    def _guarded(self, call: Callable[[], R]) -> R:
        """Run a backend hook under the lock; the library's own failures become
        `LLMUnavailableError`, anything else (a bug) propagates unchanged."""
        with self._lock:
            try:
                return call()
            except LLMError:
                raise
            except Exception as exc:
                if not self._is_backend_error(exc):
                    raise
                raise LLMUnavailableError(
                    f"{self.name} backend failed: {type(exc).__name__}: {exc}"
                ) from exc

    def usage(self) -> dict[str, float]:
        """Totals over every call so far: calls, cache hits, tokens and seconds."""
        return {
            "calls": len(self.calls),
            "cached": sum(c.cached for c in self.calls),
            "prompt_tokens": sum(c.prompt_tokens for c in self.calls),
            "completion_tokens": sum(c.completion_tokens for c in self.calls),
            "prefix_reused_tokens": sum(c.prefix_reused_tokens for c in self.calls),
            "seconds": sum(c.seconds for c in self.calls),
        }


def raised_in(exc: BaseException, package: str) -> bool:
    """True when `exc` was raised by code of `package` (its innermost frame is there)."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    module = str(tb.tb_frame.f_globals.get("__name__", ""))
    return module == package or module.startswith(package + ".")


def validation_summary(exc: ValidationError, limit: int = 400) -> str:
    """A validation error in one short line, for a re-ask."""
    parts = [
        f"{'.'.join(str(p) for p in err['loc']) or 'answer'}: {err['msg']}"
        for err in exc.errors(include_url=False)
    ]
    return "; ".join(parts)[:limit]


class _Invalid(Exception):
    """One answer that did not validate (internal: drives tenacity's re-asks)."""

    def __init__(self, raw: str, error: ValidationError) -> None:
        super().__init__(validation_summary(error))
        self.raw = raw


def dump_messages(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


def schema_json(schema: JSONSchema) -> str:
    return json.dumps(schema, sort_keys=True, ensure_ascii=False)
