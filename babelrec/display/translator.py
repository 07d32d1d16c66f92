"""Machine translation of display text: through the configured LLM backend (any `LLM`, local
llama.cpp or an OpenAI-compatible endpoint), cached by text hash and model identity.

The cache lives under CACHE_DIR/translations (default ~/.cache/babelrec), not in the store: a
translation depends on the text and the model, not on the catalog it sits in, so clones and
re-ingested stores share it; writing it into the items would change their content hash and
re-embed the catalog, and would make a machine text look like one the catalog supplied. Raw
answers are cached, refused ones included, and checked when read: a stricter check applies to
old answers too, and a slow model is never asked twice for the same text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

from babelrec.errors import LLMOutputError, LLMUnavailableError
from babelrec.i18n.chinese import SCRIPT_NAMES, Script
from babelrec.llm.base import LLM, GenerationParams
from babelrec.llm.cache import ResponseCache, cache_key
from babelrec.llm.prompting import chat, language_name, sanitize
from babelrec.models import Strict
from babelrec.prompts.loader import PromptLoader

#: Bumped when the prompt or the answer's form changes: part of every cache key.
TRANSLATION_VERSION = 1
#: Longest input sent to a model (the packaged models have 4k-token contexts and are slow).
MAX_INPUT_CHARS = 600


@runtime_checkable
class Translator(Protocol):
    """Translates one short text; `model_id` names the weights (part of the cache key)."""

    @property
    def model_id(self) -> str: ...

    def translate(self, text: str, source: str | None, target: str) -> str:
        """`text` (in language `source`, None when unknown) in language `target`, unchecked;
        raises `babelrec.errors.LLMError` when the model cannot answer."""
        ...


class TranslationAnswer(Strict):
    """What the LLM must answer."""

    translation: str


def target_name(target: str, script: Script | None = None) -> str:
    """The target language by its own name; Chinese names its script (简体中文, 繁體中文)."""
    return SCRIPT_NAMES[script] if target == "zh" and script else language_name(target)


class LLMTranslator:
    """A `Translator` over an `LLM`: the `translate` prompt, answered in structured JSON."""

    def __init__(self, llm: LLM, prompts: PromptLoader | None = None) -> None:
        self.llm = llm
        self.prompts = prompts or PromptLoader()

    @property
    def model_id(self) -> str:
        return f"{self.llm.name}:{self.llm.model_id}"

    def translate(self, text: str, source: str | None, target: str) -> str:
        template = self.prompts.load("translate", "en")
        clipped = sanitize(text, MAX_INPUT_CHARS)
        messages = chat(
            template,
            source_language=language_name(source) if source else "its language",
            target_language=target_name(target, "Hans" if target == "zh" else None),
            text=clipped,
        )
        params = GenerationParams(max_tokens=min(320, 40 + 2 * len(clipped)))
        answer = self.llm.complete_structured(messages, TranslationAnswer, params=params)
        return answer.translation.strip()


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TranslationCache:
    """Raw translations by (model identity, source and target language, hash of the text)."""

    def __init__(self, directory: Path) -> None:
        self.responses = ResponseCache(directory)

    @staticmethod
    def key(model_id: str, text: str, source: str | None, target: str) -> str:
        return cache_key(TRANSLATION_VERSION, model_id, source or "", target, text_hash(text))

    def get(self, model_id: str, text: str, source: str | None, target: str) -> str | None:
        hit = self.responses.get(self.key(model_id, text, source, target))
        value = hit.get("translation") if hit else None
        return value if isinstance(value, str) else None

    def put(self, model_id: str, text: str, source: str | None, target: str, out: str) -> None:
        self.responses.put(self.key(model_id, text, source, target), {"translation": out})


def translate_cached(
    translator: Translator,
    cache: TranslationCache | None,
    text: str,
    source: str | None,
    target: str,
) -> str:
    """`translator.translate`, answered from `cache` when the same model translated the same
    text before; raises as `translate` does."""
    if cache is not None:
        hit = cache.get(translator.model_id, text, source, target)
        if hit is not None:
            return hit
    try:
        out = translator.translate(text, source, target)
    except LLMOutputError:
        if cache is not None:  # no valid answer: kept as an empty one, not asked again
            cache.put(translator.model_id, text, source, target, "")
        raise
    if cache is not None:
        cache.put(translator.model_id, text, source, target, out)
    return out


def build_translator(llm: LLM | None) -> Translator | None:
    """The translator of the configured backend, or None without an LLM."""
    return LLMTranslator(llm) if llm is not None else None


class LazyTranslator:
    """An `LLMTranslator` over the LLM that `build` returns, built on first use (a request
    whose picks are all readable builds nothing); raises `LLMUnavailableError` without one."""

    def __init__(self, build: Callable[[], LLM | None]) -> None:
        self.build = build
        self._translator: LLMTranslator | None = None

    def _get(self) -> LLMTranslator:
        llm = self.build()
        if llm is None:
            raise LLMUnavailableError("no LLM is configured for machine translation")
        if self._translator is None or self._translator.llm is not llm:
            self._translator = LLMTranslator(llm)
        return self._translator

    @property
    def model_id(self) -> str:
        return self._get().model_id

    def translate(self, text: str, source: str | None, target: str) -> str:
        return self._get().translate(text, source, target)
