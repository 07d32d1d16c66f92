"""Filling prompt templates with untrusted text: items and user words go in delimited data fields.

Angle brackets in data are replaced by look-alikes, so no item can close its `<item>` field or the
`<data>` block and speak as the instruction; line breaks, control characters and invisible
reordering characters are removed, so data cannot start a line of its own or hide text, and long
text is cut before it is processed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from babelrec.llm.base import ChatMessage
from babelrec.models import Item, UserProfile
from babelrec.prompts.loader import PromptTemplate

#: Languages by their own names, so a template in any locale can name the user's language.
LANGUAGE_NAMES = {
    "zh": "中文",
    "en": "English",
    "es": "español",
    "ja": "日本語",
    "ko": "한국어",
    "ar": "العربية",
    "fr": "français",
    "de": "Deutsch",
    "pt": "português",
    "it": "italiano",
    "ru": "русский",
}
TEXT_LIMIT = 160


def language_name(code: str | None) -> str:
    return LANGUAGE_NAMES.get(code or "", code or "?")


#: Invisible characters that reorder or hide text: bidirectional embeddings, overrides and
#: isolates, direction marks, the BOM, and Unicode tags (a known way to smuggle hidden ASCII).
_INVISIBLE = re.compile(
    "[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]"
)


def clean(text: str) -> str:
    """`text` without control characters (line breaks become spaces) or invisible reordering
    and tag characters, with runs of whitespace collapsed."""
    text = _INVISIBLE.sub("", text)
    text = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch) != "Cc"
    )
    return " ".join(text.split())


def sanitize(text: str, limit: int = TEXT_LIMIT) -> str:
    """Data-safe text: no angle brackets, no control or invisible reordering characters, no
    line breaks, at most `limit` characters (a 100 KB description costs what `limit` costs)."""
    text = clean(text[: limit * 8 + 64])
    text = text.replace("<", "‹").replace(">", "›")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def attribute(text: str, limit: int) -> str:
    """A data-safe attribute value: also no double quote, which would end the attribute."""
    return sanitize(text, limit).replace('"', "＂")


def item_block(item: Item, label: str | None = None, *, shown_id: str | None = None) -> str:
    """One candidate as a delimited data field with its language and region of origin.

    `shown_id` replaces the item's id in the prompt (a short ASCII alias the caller maps back)."""
    attrs = [f'id="{attribute(shown_id if shown_id is not None else item.id, 256)}"']
    if label is not None:
        attrs.insert(0, f'label="{attribute(label, 8)}"')
    attrs += [
        f'language="{attribute(item.language or "?", 16)}"',
        f'region="{attribute(item.region or "?", 16)}"',
        f'category="{attribute(item.category or "?", 40)}"',
    ]
    body = sanitize(item.title, 120)
    if item.text:
        body += " — " + sanitize(item.text)
    return f"<item {' '.join(attrs)}>{body}</item>"


def compact_block(item: Item, label: str, snippet: str = "") -> str:
    """One candidate of a scoring prompt: its label, language, region and category, the title
    and `snippet` (the caller cuts it to a token budget). No id: the label names the candidate,
    and every token here is paid once per candidate."""
    attrs = [
        f'label="{attribute(label, 8)}"',
        f'language="{attribute(item.language or "?", 16)}"',
        f'region="{attribute(item.region or "?", 16)}"',
        f'category="{attribute(item.category or "?", 40)}"',
    ]
    body = sanitize(item.title, 120)
    if snippet:
        body += " — " + sanitize(snippet)
    return f"<item {' '.join(attrs)}>{body}</item>"


def user_fields(user: UserProfile, history: Sequence[Item]) -> dict[str, str]:
    """The user placeholders shared by every purpose."""
    lines = [f"<seen>{sanitize(item.title, 100)}</seen>" for item in history[-5:]]
    return {
        "user_language": sanitize(language_name(user.language), 32),
        "user_region": sanitize(user.region or "?", 16),
        "interests": sanitize(user.interests, 300) or "-",
        "history": "\n".join(lines) or "-",
    }


def chat(template: PromptTemplate, **values: str) -> list[ChatMessage]:
    system, user = template.render(**values)
    return [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]
