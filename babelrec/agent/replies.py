"""Reply sentences in the conversation's language, from the per-locale table `replies.yaml`."""

from __future__ import annotations

import string
from functools import lru_cache
from importlib import resources

import yaml

from babelrec.agent.lexicon import lexicon
from babelrec.agent.state import Constraints, ConversationState
from babelrec.errors import PromptError
from babelrec.i18n.chinese import convert

FALLBACK_LOCALE = "en"


@lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, str]]:
    text = (resources.files("babelrec.agent") / "replies.yaml").read_text(encoding="utf-8")
    table: dict[str, dict[str, str]] = yaml.safe_load(text)
    keys = set(table[FALLBACK_LOCALE])
    for locale, entries in table.items():
        if set(entries) != keys:
            raise PromptError(
                f"replies.yaml: locale {locale!r} differs in keys: {sorted(set(entries) ^ keys)}"
            )
        for key, sentence in entries.items():
            for _, field, _, _ in string.Formatter().parse(sentence):
                if field is not None and not field.isidentifier():
                    raise PromptError(f"replies.yaml: {locale}.{key} has bad field {field!r}")
    return table


def reply_locales() -> list[str]:
    """Languages replies can be written in."""
    return sorted(_table())


def reply_locale(language: str | None) -> str:
    """The locale replies use for `language` (English when there is no table for it)."""
    return language if language in _table() else FALLBACK_LOCALE


def say(language: str | None, key: str, /, **values: object) -> str:
    return _table()[reply_locale(language)][key].format(**values)


def for_user(state: ConversationState, text: str) -> str:
    """`text` as the user reads it: a Chinese reply in the user's script, titles included (as
    Chinese Wikipedia shows a whole page in the reader's variant); other languages unchanged."""
    return convert(text, state.script) if reply_locale(state.language) == "zh" else text


def describe(constraints: Constraints, language: str | None, openness: float | None = None) -> str:
    """The constraints (and an openness the user asked for) as a short parenthesis in
    `language` ("" when there are none)."""
    locale = reply_locale(language)
    lex = lexicon()
    table = {"languages": "languages", "regions": "regions", "categories": "categories"}
    parts: list[str] = []
    for kind, lexicon_table in table.items():
        for prefix, values in (
            ("only", getattr(constraints, kind)),
            ("exclude", getattr(constraints, f"exclude_{kind}")),
        ):
            if values:
                names = say(locale, "list_separator").join(
                    lex.display(lexicon_table, v, locale) for v in values
                )
                parts.append(say(locale, f"{prefix}_{kind}", values=names))
    if openness is not None:
        parts.append(say(locale, "openness", value=f"{openness:g}"))
    if not parts:
        return ""
    return say(locale, "constraints_wrap", items=say(locale, "separator").join(parts))


def name_of(table: str, key: str | None, language: str | None) -> str:
    """A category, language or region code as a word in `language`."""
    if not key:
        return say(language, "unknown")
    return lexicon().display(table, key, reply_locale(language))
