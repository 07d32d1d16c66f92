"""LLM backends by name. Built-ins register exactly as a plugin would, through `register_llm`."""

from __future__ import annotations

import os
from collections.abc import Callable

from pydantic import SecretStr

from babelrec.agent.llm.base import LLM
from babelrec.agent.llm.cache import ResponseCache
from babelrec.errors import ConfigError
from babelrec.settings import Settings

Factory = Callable[[Settings], LLM]
_REGISTRY: dict[str, Factory] = {}


def register_llm(name: str) -> Callable[[Factory], Factory]:
    """Register a factory that builds a backend from `Settings` under `name`."""

    def decorate(factory: Factory) -> Factory:
        _REGISTRY[name] = factory
        return factory

    return decorate


def llm_names() -> list[str]:
    return sorted(_REGISTRY)


def build_llm(settings: Settings) -> LLM | None:
    """The backend `settings.llm` names, or None for "none". Nothing heavy loads until first use."""
    if settings.llm == "none":
        return None
    try:
        factory = _REGISTRY[settings.llm]
    except KeyError:
        raise ConfigError(
            f"unknown LLM backend {settings.llm!r}; choose one of {', '.join(llm_names())}"
        ) from None
    return factory(settings)


def _response_cache(settings: Settings) -> ResponseCache | None:
    return ResponseCache(settings.cache_dir / "llm") if settings.llm_cache else None


@register_llm("llama-cpp")
def _llama_cpp(settings: Settings) -> LLM:
    from babelrec.agent.llm.local import DEFAULT_PACKAGED_MODEL, LlamaCppLLM, packaged_model_path

    path = settings.llm_model_path
    if path is None:
        name = settings.llm_model if settings.llm_model in ("gemma3", "smollm2") else None
        path = packaged_model_path(name or DEFAULT_PACKAGED_MODEL, settings.cache_dir)  # type: ignore[arg-type]
    return LlamaCppLLM(
        path,
        n_ctx=settings.llm_context,
        n_threads=settings.llm_threads,
        cache=_response_cache(settings),
        retries=settings.llm_retries,
    )


@register_llm("openai")
def _openai(settings: Settings) -> LLM:
    from babelrec.agent.llm.hosted import OpenAICompatibleLLM

    key = settings.openai_api_key
    if key is None and os.environ.get("OPENAI_API_KEY"):
        key = SecretStr(os.environ["OPENAI_API_KEY"])
    return OpenAICompatibleLLM(
        settings.llm_url,
        settings.llm_model,
        api_key=key,
        timeout=settings.llm_timeout,
        retries=settings.llm_retries,
        schema_mode=settings.llm_schema_mode,
        cache=_response_cache(settings),
    )


@register_llm("fake")
def _fake(settings: Settings) -> LLM:
    from babelrec.agent.llm.fake import FakeLLM

    return FakeLLM(retries=settings.llm_retries)
