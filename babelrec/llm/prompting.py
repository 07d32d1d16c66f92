"""Filling prompt templates with untrusted text: items and user words go in delimited data fields.

Angle brackets in data are replaced by look-alikes, so no item can close its `<item>` field or the
`<data>` block and speak as the instruction.
"""

from __future__ import annotations

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


def sanitize(text: str, limit: int = TEXT_LIMIT) -> str:
    """Data-safe text: no angle brackets, no line breaks, at most `limit` characters."""
    text = text.replace("<", "‹").replace(">", "›")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def item_block(item: Item, label: str | None = None) -> str:
    """One candidate as a delimited data field with its language and region of origin."""
    attrs = [f'id="{sanitize(item.id, 256)}"']
    if label is not None:
        attrs.insert(0, f'label="{label}"')
    attrs += [
        f'language="{item.language or "?"}"',
        f'region="{item.region or "?"}"',
        f'category="{sanitize(item.category or "?", 40)}"',
    ]
    body = sanitize(item.title, 120)
    if item.text:
        body += " — " + sanitize(item.text)
    return f"<item {' '.join(attrs)}>{body}</item>"


def user_fields(user: UserProfile, history: Sequence[Item]) -> dict[str, str]:
    """The user placeholders shared by every purpose."""
    lines = [f"<seen>{sanitize(item.title, 100)}</seen>" for item in history[-5:]]
    return {
        "user_language": language_name(user.language),
        "user_region": user.region or "?",
        "interests": sanitize(user.interests, 300) or "-",
        "history": "\n".join(lines) or "-",
    }


def chat(template: PromptTemplate, **values: str) -> list[ChatMessage]:
    system, user = template.render(**values)
    return [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]
