"""Recommended items in the reader's language and script: the item's own text, a translation the
catalog supplied, or a checked machine translation (`Display`, `DisplayMaker`)."""

from babelrec.display.checks import check_translation
from babelrec.display.shown import DisplayMaker, as_shown, quotes_unreadable, summary_of
from babelrec.display.translator import (
    LLMTranslator,
    TranslationCache,
    Translator,
    build_translator,
)

__all__ = [
    "DisplayMaker",
    "LLMTranslator",
    "TranslationCache",
    "Translator",
    "as_shown",
    "build_translator",
    "check_translation",
    "quotes_unreadable",
    "summary_of",
]
