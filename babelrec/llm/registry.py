"""LLM backends by name, from the `llm` settings group.

Each is an entry point of group ``babelrec.llms`` naming a factory
``(settings: LLMSettings, cache_dir: Path) -> LLM``; the built-ins below register the same way.
"""

from __future__ import annotations

from pathlib import Path

from babelrec.errors import LLMUnavailableError
from babelrec.llm.base import LLM
from babelrec.llm.cache import ResponseCache
from babelrec.llm.catalog import known_models
from babelrec.registry import LLMS
from babelrec.settings import DEFAULT_CACHE_DIR, LLMSettings


def llm_names() -> list[str]:
    return LLMS.names()


def build_llm(settings: LLMSettings, cache_dir: Path = DEFAULT_CACHE_DIR) -> LLM | None:
    """The backend `settings.backend` names, or None for "none". Nothing heavy loads until
    first use."""
    if settings.backend == "none":
        return None
    factory = LLMS.get(settings.backend)
    llm: LLM = factory(settings, cache_dir)
    return llm


def response_cache(settings: LLMSettings, cache_dir: Path) -> ResponseCache | None:
    return ResponseCache(cache_dir / "llm") if settings.cache else None


def known_model_path(name: str, cache_dir: Path) -> Path:
    """The installed file of a known model (`babelrec models install NAME`)."""
    from babelrec.llm.install import installed_model

    path = installed_model(known_models()[name], cache_dir / "models")
    if path is None:
        raise LLMUnavailableError(
            f"the model {name!r} is not installed: run `babelrec models install {name}`"
        )
    return path


def build_llama_cpp(settings: LLMSettings, cache_dir: Path) -> LLM:
    from babelrec.llm.local import DEFAULT_PACKAGED_MODEL, LlamaCppLLM, packaged_model_path

    path = settings.model_path
    if path is None and settings.model in known_models():
        path = known_model_path(settings.model, cache_dir)
    if path is None:
        name = settings.model if settings.model in ("gemma3", "smollm2") else None
        path = packaged_model_path(name or DEFAULT_PACKAGED_MODEL, cache_dir)  # type: ignore[arg-type]
    return LlamaCppLLM(
        path,
        n_ctx=settings.context,
        n_threads=settings.threads,
        cache=response_cache(settings, cache_dir),
        retries=settings.retries,
    )


def build_openai(settings: LLMSettings, cache_dir: Path) -> LLM:
    from babelrec.llm.hosted import OpenAICompatibleLLM

    return OpenAICompatibleLLM(
        settings.url,
        settings.model,
        api_key=settings.api_key,
        timeout=settings.timeout,
        retries=settings.retries,
        schema_mode=settings.schema_mode,
        cache=response_cache(settings, cache_dir),
    )


def build_fake(settings: LLMSettings, cache_dir: Path) -> LLM:
    from babelrec.llm.fake import FakeLLM

    return FakeLLM(retries=settings.retries)
