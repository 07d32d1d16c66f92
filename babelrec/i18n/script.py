"""Is a text written in the script of a language? The check behind accepting an LLM's sentence.

Counting letters by Unicode block is exact for the scripts that tell languages apart (Han, kana,
Hangul, Arabic); Latin-script languages are told apart by lingua when the text is long enough.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

LATIN_LANGUAGES = frozenset(
    {"en", "es", "fr", "de", "pt", "it", "nl", "id", "vi", "tr", "pl", "sv"}
)


def script_of(char: str) -> str | None:
    """The script of one letter: han, kana, hangul, arabic, latin, other; None if not a letter."""
    if not char.isalpha():
        return None
    code = ord(char)
    if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
        return "han"
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF:
        return "kana"
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return "hangul"
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFF:
        return "arabic"
    if "LATIN" in unicodedata.name(char, ""):
        return "latin"
    return "other"


def script_shares(text: str) -> dict[str, float]:
    """Each script's share of the letters of `text`."""
    counts = Counter(s for s in map(script_of, text) if s is not None)
    total = sum(counts.values())
    return {script: n / total for script, n in counts.items()} if total else {}


def matches_language(text: str, language: str, *, threshold: float = 0.6) -> bool:
    """True when `text` is written in `language`'s script (and, for Latin languages with enough
    text, lingua agrees on the language)."""
    shares = script_shares(text)
    if not shares:
        return False
    if language == "zh":
        return shares.get("han", 0.0) >= threshold and shares.get("kana", 0.0) == 0.0
    if language == "ja":
        return shares.get("han", 0.0) + shares.get("kana", 0.0) >= threshold and "kana" in shares
    if language == "ko":
        return shares.get("hangul", 0.0) >= threshold
    if language == "ar":
        return shares.get("arabic", 0.0) >= threshold
    if language in LATIN_LANGUAGES:
        if shares.get("latin", 0.0) < threshold:
            return False
        if len(text) < 20:
            return True
        from babelrec.i18n.langid import detect_language

        detected = detect_language(text)
        return detected is None or detected == language
    return True  # a script this check does not know: do not reject
