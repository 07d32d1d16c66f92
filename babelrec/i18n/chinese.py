"""Chinese in two scripts: which one a text is written in, and conversion between them.

Simplified (``Hans``) and Traditional (``Hant``) Chinese are one language: babelrec reads both
(chat words are matched after conversion to Simplified) and answers in the script the user wrote
in. Conversion is OpenCC's, through the project's own wheels on PyPI (``opencc``: the C++ library
with its dictionaries inside the wheel, released with OpenCC itself). Without it, text is used as
written and a warning says what to install: nothing fails, Traditional input is just not matched.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any, Literal

from babelrec.models import ChineseScript, split_language_tag

logger = logging.getLogger(__name__)

Script = ChineseScript
#: What a text looks like: one script, both at once, or None (no character tells them apart).
ScriptGuess = Literal["Hans", "Hant", "mixed"]

#: Each script's name in itself, for prompts that must say which one to write.
SCRIPT_NAMES: dict[Script, str] = {"Hans": "简体中文", "Hant": "繁體中文"}

#: OpenCC configurations. Text written for a reader changes characters only (Taiwan standard
#: forms), never words, so titles keep their wording. Text read for matching is converted with
#: Taiwan vocabulary too (軟體 -> 软件), so a table written in Simplified meets a Taiwanese user.
_TO: dict[Script, str] = {"Hans": "tw2s", "Hant": "s2tw"}
_MATCH = "tw2sp"
#: Detection compares a text with its plain character conversions.
_DETECT: dict[Script, str] = {"Hans": "t2s", "Hant": "s2t"}
#: Characters that Traditional writing uses as they are, though OpenCC's s2t rewrites them in
#: some words (台灣, 了解, 皇后): they are no sign of Simplified script.
_SHARED = frozenset("台了后里干于只面系")
#: A script wins a text with marks of both when it has at least this many times more.
_MAJORITY = 2

INSTALL_HINT = (
    "Chinese script conversion is unavailable: install OpenCC with `pip install opencc`. "
    "Until then Traditional and Simplified Chinese are used as written"
)


@cache
def _converter(config: str) -> Any:
    try:
        import opencc
    except ImportError:
        _warn_missing()
        return None
    return opencc.OpenCC(f"{config}.json")


@cache
def _warn_missing() -> None:
    logger.warning(INSTALL_HINT)


def available() -> bool:
    """Whether conversion works here (OpenCC and its dictionaries are installed)."""
    return _converter(_MATCH) is not None


def _convert(text: str, config: str) -> str:
    converter = _converter(config)
    return text if converter is None or not text else str(converter.convert(text))


def _has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


def convert(text: str, script: Script | None) -> str:
    """`text` written in `script` (unchanged for None, for text without Han, or without OpenCC)."""
    if script is None or not _has_han(text):
        return text
    return _convert(text, _TO[script])


def to_simplified(text: str) -> str:
    return convert(text, "Hans")


def to_traditional(text: str) -> str:
    return convert(text, "Hant")


def _marks(text: str, of: Script) -> int:
    """How many characters of `text` are written in script `of`: those that conversion to the
    other script changes (less the ones Traditional writing shares)."""
    config = _DETECT["Hant" if of == "Hans" else "Hans"]
    converted = _convert(text, config)
    if len(converted) != len(text):  # a phrase changed length: compare character by character
        converted = "".join(_convert(ch, config) for ch in text)
    marks = [a for a, b in zip(text, converted, strict=False) if a != b]
    if of == "Hans":
        marks = [ch for ch in marks if ch not in _SHARED]
    return len(marks)


def detect_script(text: str) -> ScriptGuess | None:
    """The script of the Chinese in `text`: "Hans", "Hant", "mixed", or None when no character
    tells them apart (中文, 日本), when there is no Han at all, or without OpenCC."""
    if not _has_han(text) or not available():
        return None
    traditional = _marks(text, "Hant")
    simplified = _marks(text, "Hans")
    if not traditional and not simplified:
        return None
    if traditional >= _MAJORITY * simplified:
        return "Hant"
    if simplified >= _MAJORITY * traditional:
        return "Hans"
    return "mixed"


def decided(guess: ScriptGuess | None) -> Script | None:
    """A script to write in from a guess: mixed and unknown decide nothing."""
    if guess == "Hans" or guess == "Hant":
        return guess
    return None


def for_matching(text: str) -> tuple[str, ScriptGuess | None]:
    """`text` in Simplified, the script the word tables are written in, and its script guess.
    Simplified text goes through the same conversion, so both scripts meet the same words."""
    guess = detect_script(text)
    return (text if guess is None else _convert(text, _MATCH)), guess


def matching_forms(word: str) -> tuple[str, ...]:
    """`word` and, when it differs, what `for_matching` makes of the word written in Traditional:
    a table of Simplified words that lists both meets either script (资讯 -> 資訊 -> 信息)."""
    if not _has_han(word):
        return (word,)
    return tuple(dict.fromkeys([word, _convert(to_traditional(word), _MATCH)]))


def reader_script(language: str, script: Script | None, sample: str = "") -> Script | None:
    """The script to write for a reader of `language`: the one they asked for, else the one
    their own words (`sample`) are in; None for other languages or when nothing tells."""
    base, tagged = split_language_tag(language)
    if base != "zh":
        return None
    return script or tagged or decided(detect_script(sample))
