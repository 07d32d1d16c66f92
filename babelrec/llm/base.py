"""The LLM interface: structured chat completion and next-token log-probabilities.

`LLM.complete_structured()` and `LLM.next_token_logprobs()` do the shared work once (caching,
validation, repair of stray text around the JSON, retries, timing, token counts); a backend
implements the two small hooks `_complete()` and `_next_token_logprobs()`.
"""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from babelrec.errors import LLMError, LLMOutputError, LLMUnavailableError
from babelrec.llm.cache import ResponseCache, cache_key

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

    kind: Literal["structured", "logprobs"]
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


def extract_json(text: str) -> str:
    """The outermost `{...}` of `text`: tiny models sometimes wrap JSON in prose or fences."""
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text


class LLM(ABC):
    """A chat model that answers in validated JSON and reports next-token log-probabilities."""

    name: ClassVar[str]

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

    # -- public API ------------------------------------------------------------------------

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
        key = cache_key(
            CACHE_VERSION,
            self.name,
            self.model_id,
            "structured",
            [m.model_dump() for m in messages],
            schema,
            params,
        )
        started = time.perf_counter()
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            self.calls.append(CallRecord(kind="structured", cached=True))
            return response_model.model_validate_json(hit["text"])
        raw = ""
        record = CallRecord(kind="structured", attempts=0)
        for attempt in range(self.retries + 1):
            # A retry samples (temperature > 0): greedy decoding would repeat the same answer.
            attempt_params = (
                params
                if attempt == 0
                else params.model_copy(
                    update={
                        "temperature": max(params.temperature, 0.7),
                        "seed": params.seed + attempt,
                    }
                )
            )
            completion = self._guarded(lambda p=attempt_params: self._complete(messages, schema, p))
            record.attempts += 1
            record.prompt_tokens += completion.prompt_tokens
            record.completion_tokens += completion.completion_tokens
            record.prefix_reused_tokens += completion.prefix_reused_tokens
            raw = completion.text
            try:
                value = response_model.model_validate_json(extract_json(raw))
            except ValidationError:
                continue
            record.seconds = time.perf_counter() - started
            self.calls.append(record)
            if self.cache is not None:
                self.cache.put(key, {"text": value.model_dump_json()})
            return value
        record.seconds = time.perf_counter() - started
        self.calls.append(record)
        raise LLMOutputError(
            f"{self.name} ({self.model_id}) gave no valid {response_model.__name__} "
            f"in {record.attempts} attempt(s)",
            attempts=record.attempts,
            raw=raw,
        )

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
        key = cache_key(
            CACHE_VERSION,
            self.name,
            self.model_id,
            "logprobs",
            [m.model_dump() for m in messages],
            list(options),
            answer_prefix,
        )
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

    def _guarded(self, call: Any) -> Any:
        """Run a backend hook under the lock; any non-babelrec failure becomes an `LLMError`."""
        with self._lock:
            try:
                return call()
            except LLMError:
                raise
            except Exception as exc:  # a backend bug or a library error must not break a result
                raise LLMUnavailableError(f"{self.name} backend failed: {exc}") from exc

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


def dump_messages(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


def schema_json(schema: JSONSchema) -> str:
    return json.dumps(schema, sort_keys=True, ensure_ascii=False)
