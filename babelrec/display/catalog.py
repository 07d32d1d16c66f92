"""`babelrec translate`: machine translations of a whole store, made once, before requests.

Every piece (an item's title and its summary) is cached by text hash and model identity the
moment it is made, so an interrupted run resumes where it stopped and a second run costs nothing;
at request time `display.machine = "cached"` (the default) shows them without generating. Items
already in a target language, or whose catalog row supplies that translation, are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from babelrec.display.checks import check_translation
from babelrec.display.shown import summary_of
from babelrec.display.translator import TranslationCache, Translator
from babelrec.errors import LLMError
from babelrec.language_settings import DisplaySettings
from babelrec.models import Item
from babelrec.retrieval.store import VectorStore

_PAGE = 1000


@dataclass
class TranslateSummary:
    """What one run did, per piece of text (a title or a summary) and target language."""

    items: int = 0
    translated: int = 0
    cached: int = 0
    skipped: int = 0
    refused: int = 0
    failed: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def stored_items(store: VectorStore) -> list[Item]:
    """Every readable item of `store`, in id order."""
    ids: list[str] = []
    while True:
        got = store.collection.get(include=[], limit=_PAGE, offset=len(ids))
        if not got["ids"]:
            break
        ids += [str(i) for i in got["ids"]]
    found = store.get(sorted(ids))
    return [found[i].item for i in sorted(found)]


def pieces(item: Item, settings: DisplaySettings) -> list[str]:
    summary = summary_of(item.text, settings.summary_sentences, settings.summary_chars)
    return [item.title, summary] if summary else [item.title]


def translate_items(
    items: Sequence[Item],
    targets: Sequence[str],
    translator: Translator,
    cache: TranslationCache,
    settings: DisplaySettings,
    *,
    progress: bool = False,
) -> TranslateSummary:
    """Translate each item into each of `targets` where neither the item nor its catalog row
    has that language, caching every piece as it is made."""
    started = time.perf_counter()
    summary = TranslateSummary(items=len(items))
    work = [(item, target) for item in items for target in targets]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(work), desc="translating", unit="item")
    model = translator.model_id
    for item, target in work:
        if item.language == target or target in item.translations:
            summary.skipped += 1
        else:
            for piece in pieces(item, settings):
                _one(item, piece, target, translator, cache, model, summary)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _one(
    item: Item,
    piece: str,
    target: str,
    translator: Translator,
    cache: TranslationCache,
    model: str,
    summary: TranslateSummary,
) -> None:
    if cache.get(model, piece, item.language, target) is not None:
        summary.cached += 1
        return
    try:
        out = translator.translate(piece, item.language, target)
    except LLMError as exc:
        summary.failed += 1
        summary.errors.append(f"{item.id} ({target}): {exc}")
        return
    cache.put(model, piece, item.language, target, out)
    if check_translation(piece, out, target) is None:
        summary.translated += 1
    else:
        summary.refused += 1  # kept in the cache (not asked again), never shown
