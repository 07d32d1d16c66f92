"""Is a machine translation fit to show? The check every machine-made display text passes.

A translation is refused when it is empty, a copy of its input, far shorter than it, not
written in the target language and script (`babelrec.i18n.script.matches_language`), or when it
carries instruction text: words of the prompt or a chat model's preamble ("Here is the
translation") that the input itself does not contain. A refused translation is never shown: the
original is, flagged.
"""

from __future__ import annotations

import re
import unicodedata

from babelrec.i18n.script import matches_language, script_of

#: What leaks from a translation prompt or a chat model's habits into its answer, in groups of one
#: meaning. A group counts only when the input has none of its words: a title about translation
#: may well be translated as one (Translation app tops chart -> 翻译应用登顶).
LEAK_MARKERS: tuple[tuple[str, ...], ...] = (
    ("translat", "traduc", "traduz", "übersetz", "翻译", "翻譯", "번역", "翻訳", "ترجم"),
    ("instruction", "指令", "指示", "instrucci"),
    ("ignore", "忽略", "ignora"),
    ("here is", "here's", "sure,", "以下是", "aquí está"),
    ("the text in english", "the text in chinese", "in english:", "in chinese:", "英文如下"),
    ("<data", "</data", "<item", "</"),
    ("json", '"translation"', "{", "}"),
)
#: An answer that holds a whole input of at least this many letters echoes it.
_COPY_MIN = 8
#: Chinese titles keep Latin names (iPhone, NBA): half the letters in Han is Chinese enough.
_THRESHOLD = {"zh": 0.5, "ja": 0.5}


#: A translation carries at least this share of its input's weight (letters; a CJK character
#: weighs three, about what a word-letter ratio gives): "The" is no translation of a long title.
_MIN_SHARE = 0.25
_WIDE = ("han", "kana", "hangul")


def _weight(text: str) -> int:
    return sum(3 if script_of(ch) in _WIDE else 1 for ch in text if ch.isalpha())


def _normal(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\W_]+", "", text)


def is_copy(source: str, output: str) -> bool:
    """`output` repeats `source`: equal once case, spacing and punctuation are ignored, or it
    contains the whole input (a model that echoes the text and then adds to it)."""
    a, b = _normal(source), _normal(output)
    if not a or not b:
        return False
    if a == b:
        return True
    return len(a) >= _COPY_MIN and a in b


def leaked(source: str, output: str) -> str | None:
    """The first instruction marker in `output` whose group `source` has no word of, or None."""
    said, written = source.casefold(), output.casefold()
    for group in LEAK_MARKERS:
        if any(m in said for m in group):
            continue
        found = next((m for m in group if m in written), None)
        if found is not None:
            return found
    return None


def check_translation(source: str, output: str, target: str) -> str | None:
    """Why `output` is no acceptable translation of `source` into `target` (a language tag;
    zh-Hant and zh-Hans also check the Chinese script), or None when it passes."""
    text = output.strip()
    if not text:
        return "the translation is empty"
    if is_copy(source, text):
        return "the translation is a copy of the original"
    if _weight(text) < _MIN_SHARE * _weight(source):
        return "the translation is too short for its original"
    if (marker := leaked(source, text)) is not None:
        return f"instruction text leaked into the translation ({marker!r})"
    language = target.split("-")[0].lower()
    threshold = _THRESHOLD.get(language, 0.6)
    if not matches_language(text, target, threshold=threshold):
        return f"the translation is not written in {target}"
    return None
