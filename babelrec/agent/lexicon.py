"""The chat path's word tables (`lexicon.yaml`) and how words are found in a message.

Latin-script words match whole words, case-insensitively ("ai" is not in "said"); CJK words match
as substrings, since Chinese has no spaces. Matching works on a mask: what one rule consumed is
blanked out so that no later rule reads it again. Chinese messages are matched in Simplified
(`babelrec.i18n.chinese.for_matching`); each Chinese word is also known in the form a
Traditional-script user's spelling of it takes after that conversion (資訊 is read as 信息).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import yaml

from babelrec.i18n.chinese import matching_forms

#: Locales the tables cover; every table has entries for each.
LOCALES = ("zh", "en", "es")


@dataclass(frozen=True)
class Alias:
    """One word of a table: what it stands for (`key`) and which locale it belongs to."""

    word: str
    key: str
    locale: str


@dataclass(frozen=True)
class Match:
    alias: Alias
    start: int
    end: int


@cache
def compiled(word: str) -> re.Pattern[str]:
    """`word_pattern(word)`, compiled once (the tables hold more words than `re` caches)."""
    return re.compile(word_pattern(word), re.IGNORECASE)


def word_pattern(word: str) -> str:
    """A regex for `word`: whole-word for Latin script, a plain substring otherwise."""
    escaped = re.escape(word).replace(r"\ ", r"\s+")
    if word.isascii() or any(ch.isascii() and ch.isalpha() for ch in word):
        return rf"(?<!\w){escaped}(?!\w)"
    return escaped


class Mask:
    """A message with consumed spans blanked out; offsets stay those of the original."""

    def __init__(self, text: str) -> None:
        self.original = text
        self.text = text

    def consume(self, start: int, end: int) -> None:
        self.text = self.text[:start] + " " * (end - start) + self.text[end:]

    def find(self, aliases: Iterable[Alias], *, consume: bool = True) -> list[Match]:
        """Every occurrence of the aliases, longest first, without overlaps."""
        matches: list[Match] = []
        for alias in sorted(aliases, key=lambda a: -len(a.word)):
            for found in compiled(alias.word).finditer(self.text):
                if self.text[found.start() : found.end()].strip():
                    matches.append(Match(alias, found.start(), found.end()))
                    if consume:
                        self.consume(found.start(), found.end())
        return sorted(matches, key=lambda m: m.start)

    def regex(self, pattern: str) -> Iterator[re.Match[str]]:
        yield from re.finditer(pattern, self.text, re.IGNORECASE)


@dataclass(frozen=True)
class Lexicon:
    """All tables, loaded once."""

    categories: tuple[Alias, ...]
    languages: tuple[Alias, ...]
    regions: tuple[Alias, ...]
    negations: tuple[Alias, ...]
    boundaries: tuple[Alias, ...]
    answer_language: tuple[Alias, ...]
    answer_script: tuple[Alias, ...]
    clear: tuple[Alias, ...]
    ordinals: dict[str, int]
    ordinal_locale: dict[str, str]
    numbered: tuple[Alias, ...]
    like_markers: tuple[Alias, ...]
    explain_markers: tuple[Alias, ...]
    more_markers: tuple[Alias, ...]
    openness: tuple[Alias, ...]
    filler: tuple[Alias, ...]

    def display(self, table: str, key: str, locale: str) -> str:
        """The name of `key` in `locale` (the first word of its list), else the key itself."""
        for alias in getattr(self, table):
            if alias.key == key and alias.locale == locale:
                return str(alias.word)
        fallback = [a.word for a in getattr(self, table) if a.key == key and a.locale == "en"]
        return fallback[0] if fallback else key

    def language_pattern(self) -> str:
        """An alternation of every language name, longest first, for `answer_language` rules."""
        words = sorted({a.word for a in self.languages}, key=len, reverse=True)
        return "(?P<lang>" + "|".join(re.escape(w) for w in words) + ")"

    def language_of(self, word: str) -> str | None:
        for alias in self.languages:
            if alias.word.lower() == word.lower():
                return alias.key
        return None


def _forms(locale: str, words: list[Any]) -> list[str]:
    """The words of a list, each followed by its other matching forms (Chinese only)."""
    if locale != "zh":
        return [str(w) for w in words]
    return list(dict.fromkeys(form for w in words for form in matching_forms(str(w))))


def _keyed(table: dict[str, dict[str, list[str]]]) -> tuple[Alias, ...]:
    """`{key: {locale: [words]}}` -> aliases, first word of each locale first."""
    return tuple(
        Alias(word, str(key), locale)
        for key, per_locale in table.items()
        for locale, words in per_locale.items()
        for word in _forms(locale, words)
    )


def _flat(table: dict[str, list[Any]], key: str = "") -> tuple[Alias, ...]:
    return tuple(
        Alias(w, key, locale) for locale, words in table.items() for w in _forms(locale, words)
    )


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    text = (resources.files("babelrec.agent") / "lexicon.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    ordinals: dict[str, int] = {}
    ordinal_locale: dict[str, str] = {}
    for locale, table in data["ordinals"].items():
        for word, number in table.items():
            ordinals[str(word).lower()] = int(number)
            ordinal_locale[str(word).lower()] = locale
    clear = tuple(
        alias for kind, table in data["clear"].items() for alias in _flat(table, key=kind)
    )
    return Lexicon(
        categories=_keyed(data["categories"]),
        languages=_keyed(data["languages"]),
        regions=_keyed(data["regions"]),
        negations=_flat(data["negations"]),
        boundaries=_flat(data["boundaries"]),
        answer_language=_flat(data["answer_language"]),
        answer_script=tuple(Alias(str(w), "", "zh") for w in data["answer_script"]["zh"]),
        clear=clear,
        ordinals=ordinals,
        ordinal_locale=ordinal_locale,
        numbered=_flat(data["numbered"]),
        like_markers=_flat(data["like_markers"]),
        explain_markers=_flat(data["explain_markers"]),
        more_markers=_flat(data["more_markers"]),
        openness=_keyed(data["openness"]),
        filler=_flat(data["filler"]),
    )
