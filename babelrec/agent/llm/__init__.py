"""LLM backends behind one interface: structured output and next-token log-probabilities."""

from __future__ import annotations

from babelrec.agent.llm.base import (
    LLM,
    CallRecord,
    ChatMessage,
    Completion,
    GenerationParams,
    TokenLogprobs,
)
from babelrec.agent.llm.cache import ResponseCache, cache_key
from babelrec.agent.llm.fake import FakeLLM
from babelrec.agent.llm.registry import build_llm, llm_names, register_llm

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
    "register_llm",
]
