"""Language identification for items and requests that do not say their language.

py3langid (the maintained fork of langid.py) restricted to the languages babelrec's embedders
cover, after a script check that settles Japanese (kana) and Korean (hangul) outright. Chosen by
measurement on short titles (`bench/langid.py`; README, "Language identification"): as accurate
as lingua here (0.996 both) and ten times faster to load, which matters for a CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

#: ISO 639-1 codes that can be detected.
SUPPORTED = (
    "ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh",
    "vi", "id", "hi", "he", "sv",
)  # fmt: skip

#: Below this normalised probability the answer is None rather than a guess.
MIN_CONFIDENCE = 0.2


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(SUPPORTED))
    return identifier


def _script_hint(text: str) -> str | None:
    """Scripts that settle the question on their own (kana -> ja, hangul -> ko)."""
    kana = sum(1 for ch in text if "\u3040" <= ch <= "\u30ff")
    hangul = sum(1 for ch in text if "\uac00" <= ch <= "\ud7af" or "\u1100" <= ch <= "\u11ff")
    if hangul >= 2:
        return "ko"
    if kana >= 2:
        return "ja"
    return None


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of `text`, or None when it cannot be told (empty, digits, too unsure)."""
    hint = _script_hint(text)
    if hint is not None:
        return hint
    if not any(ch.isalpha() for ch in text):
        return None
    language, probability = _identifier().classify(text)
    return str(language) if probability >= MIN_CONFIDENCE else None


def detect_languages(texts: Sequence[str]) -> list[str | None]:
    return [detect_language(text) for text in texts]
