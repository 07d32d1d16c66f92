"""LLM backends behind one interface: structured output and next-token log-probabilities."""

from __future__ import annotations

from babelrec.llm.base import (
    LLM,
    CallRecord,
    ChatMessage,
    Completion,
    GenerationParams,
    TokenLogprobs,
)
from babelrec.llm.cache import ResponseCache, cache_key
from babelrec.llm.fake import FakeLLM
from babelrec.llm.registry import build_llm, llm_names

__all__ = [
    "LLM",
    "CallRecord",
    "ChatMessage",
    "Completion",
    "FakeLLM",
    "GenerationParams",
    "ResponseCache",
    "TokenLogprobs",
    "build_llm",
    "cache_key",
    "llm_names",
]
