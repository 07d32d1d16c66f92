"""The machine path with the real packaged GGUF through llama-cpp-python: whatever the tiny model
writes, a display is either a checked translation in the reader's language, named by its model,
or the original with the flag; never a wrong-language text presented as a translation."""

from __future__ import annotations

from pathlib import Path

import pytest

from babelrec.display import DisplayMaker, LLMTranslator, TranslationCache
from babelrec.i18n.script import matches_language
from babelrec.language_settings import DisplaySettings
from babelrec.llm.local import LlamaCppLLM
from babelrec.models import Item, UserProfile

pytestmark = [pytest.mark.slow, pytest.mark.llm]

ITEM = Item(
    id="en-dog",
    title="Dog rescued from river after three days",
    language="en",
    region="US",
    category="news",
)


def test_gemma_translation_is_checked_and_cached(local_llm: LlamaCppLLM, tmp_path: Path) -> None:
    translator = LLMTranslator(local_llm)
    cache = TranslationCache(tmp_path)
    maker = DisplayMaker(DisplaySettings(machine="request"), translator, cache)
    before = len(local_llm.calls)
    shown = maker.display(UserProfile(language="zh"), ITEM, generate=True)
    assert len(local_llm.calls) == before + 1 and not local_llm.calls[-1].cached
    assert shown.model is not None and shown.model.startswith("llama-cpp:gemma-3-270m")
    if shown.source == "machine":
        assert shown.in_user_language and not shown.fallback
        assert matches_language(shown.title, "zh-Hans", threshold=0.5), shown.title
    else:
        assert shown.source == "original" and shown.fallback and shown.fallback_reason
        assert shown.title == ITEM.title
    # cached by text hash and model identity: asked again, the model is not called
    again = DisplayMaker(DisplaySettings(machine="cached"), translator, cache)
    cached = again.display(UserProfile(language="zh"), ITEM)
    same = {"title", "source", "model", "fallback", "in_user_language"}
    assert cached.model_dump(include=same) == shown.model_dump(include=same)
    assert len(local_llm.calls) == before + 1
