"""Cultural notes that say something specific and true, never a stereotype.

Two kinds: where the item comes from against the user's own data (the share of their history
from that region, or in that language, counted from the history items), and a public holiday of
the item's region that the item's own text names, from the `holidays` library, in the reader's
language where the library has it. Nothing here is a judgement about a culture.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import date
from functools import cache, lru_cache

from babelrec.evidence import CultureEvidence, CultureSource
from babelrec.i18n.chinese import Script
from babelrec.llm.prompting import clean, language_name, sanitize
from babelrec.models import Item, UserProfile
from babelrec.prompts.loader import PromptTemplate

logger = logging.getLogger(__name__)

#: Holiday names shorter than this are not looked for in item text (too easily a plain word);
#: in Chinese and Japanese characters, two are a name ("元旦", "春节").
MIN_HOLIDAY_NAME = 4
_HAN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")
#: A name's parenthesised note ("(estimated)", "（补假）"); one with a digit marks a swapped
#: working day ("休息日（由 2026-01-04 调休）"), which is no holiday name of its own.
_NOTE = re.compile(r"\s*[(（][^)）]*[)）]")
_DIGIT = re.compile(r"\d")


def mentions(text: str, phrase: str) -> bool:
    """Whether `text` names `phrase`: whole words in scripts with spaces, anywhere in others."""
    if _HAN.search(phrase):
        return phrase.casefold() in text.casefold()
    pattern = rf"(?<!\w){re.escape(phrase.casefold())}(?!\w)"
    return re.search(pattern, text.casefold()) is not None


@cache
def _localized() -> dict[str, list[str]]:
    import holidays

    return {code: list(langs) for code, langs in holidays.list_localized_countries().items()}


def _names(country: str, year: int, language: str | None) -> dict[date, list[str]]:
    import holidays

    table = holidays.country_holidays(country, years=year, language=language)
    return {day: str(name).split("; ") for day, name in sorted(table.items())}


@lru_cache(maxsize=512)
def holiday_names(country: str, year: int) -> tuple[dict[str, str], ...]:
    """Each public holiday of `country` in `year` as {library language code: name}, the names of
    one holiday lined up across languages by date; () for a country the library does not know."""
    languages = _localized().get(country)
    try:
        if not languages:
            return tuple({"": n} for names in _names(country, year, None).values() for n in names)
        tables = {lang: _names(country, year, lang) for lang in languages}
    except NotImplementedError:  # the library's word for "no such country"
        return ()
    first = tables[languages[0]]
    out = []
    for day, names in first.items():
        for index in range(len(names)):
            entry = {}
            for lang, table in tables.items():
                row = table.get(day, [])
                if len(row) != len(names):
                    continue
                if any(_DIGIT.search(note.group()) for note in _NOTE.finditer(row[index])):
                    continue
                entry[lang] = _NOTE.sub("", row[index]).strip()
            if entry:
                out.append(entry)
    return tuple(out)


def _reader_name(entry: dict[str, str], language: str, script: Script | None) -> str | None:
    """The holiday's name in the reader's language (zh: in their script's variant), if any."""
    if language == "zh":
        order = ["zh_TW", "zh_CN"] if script == "Hant" else ["zh_CN", "zh_TW"]
        return next((entry[c] for c in order if c in entry), None)
    matching = sorted(
        (c for c in entry if c.split("_")[0] == language),
        key=lambda c: (c != language, c != f"{language}_US", c),
    )
    return entry[matching[0]] if matching else None


def _long_enough(name: str) -> bool:
    return len(name) >= (2 if _HAN.search(name) else MIN_HOLIDAY_NAME)


def holiday_mentions(
    item: Item, language: str, script: Script | None = None, year: int | None = None
) -> list[tuple[str, str]]:
    """(name for the reader, name as the item wrote it) of each public holiday of the item's
    region that its title or text names, in any of the library's languages for that country."""
    if not item.region:
        return []
    text = clean(f"{item.title} {item.text}")
    year = year or date.today().year
    found: dict[str, tuple[str, str]] = {}
    for entry in (*holiday_names(item.region, year - 1), *holiday_names(item.region, year)):
        said = next((n for n in entry.values() if _long_enough(n) and mentions(text, n)), None)
        if said is None:
            continue
        reader = _reader_name(entry, language, script) or said
        found.setdefault(reader, (reader, said))
    return list(found.values())


def history_share(value: str, history: Sequence[Item], attribute: str) -> float | None:
    """The share of `history` whose `attribute` ("region" or "language") is `value`."""
    if not history:
        return None
    same = sum(1 for h in history if (h.region if attribute == "region" else h.language) == value)
    return same / len(history)


def percent(share: float) -> str:
    """A share as a whole percentage; never "0%" or "100%" for a share strictly between."""
    value = round(100 * share)
    return f"{min(max(value, 1), 99) if 0 < share < 1 else value}%"


def culture_evidence(
    user: UserProfile,
    item: Item,
    history: Sequence[Item],
    template: PromptTemplate,
    script: Script | None = None,
) -> list[CultureEvidence]:
    """The holiday the item names (if any), then where it comes from measured against the
    user's history, when it comes from another region or is written in another language."""
    notes: list[CultureEvidence] = []
    region_name = sanitize(template.regions.get(item.region or "", item.region or ""), 40)
    for reader, said in holiday_mentions(item, user.language, script):
        holiday = sanitize(reader if reader == said else f"{reader} ({said})", 80)
        text = template.sentence("holiday", holiday=holiday, origin=region_name)
        notes.append(
            CultureEvidence(text=text, source="holidays", origin=item.region, holiday=holiday)
        )
    foreign_region = bool(item.region and item.region != user.region)
    foreign_language = bool(item.language and item.language != user.language)
    seen = [h for h in history if h.id != item.id]
    if item.region and foreign_region and (user.region or foreign_language):
        attribute, value, name, key = "region", item.region, region_name, "origin"
    elif item.language and foreign_language:
        attribute, value, key = "language", item.language, "language"
        name = sanitize(template.languages.get(item.language, language_name(item.language)), 40)
    else:
        return notes
    share = history_share(value, seen, attribute)
    if share is None:
        text = template.sentence(key, **{key: name})
        source: CultureSource = "catalog region" if attribute == "region" else "catalog language"
        notes.append(CultureEvidence(text=text, source=source, origin=value))
        return notes
    if share > 0:
        text = template.sentence(f"{key}_share", **{key: name}, share=percent(share))
    else:
        text = template.sentence(f"{key}_new", **{key: name})
    notes.append(CultureEvidence(text=text, source="history share", origin=value, share=share))
    return notes
