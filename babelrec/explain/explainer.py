"""Explanations of the final top k, in the user's language, that are right even when the LLM is not.

Every explanation starts from grounded facts: the user's interests that the item matches (through
a small multilingual concept lexicon), history items of the same kind, and where the item comes
from. Per-locale template sentences state those facts. The LLM may word an explanation instead,
but its sentence is used only if it is written in the user's script and mentions something real
about the item or the match.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from babelrec.errors import LLMError
from babelrec.i18n.script import matches_language
from babelrec.llm.base import LLM, GenerationParams
from babelrec.llm.prompting import chat, item_block, language_name, sanitize, user_fields
from babelrec.models import Explanation, Item, UserProfile
from babelrec.prompts.loader import PromptLoader, PromptTemplate

logger = logging.getLogger(__name__)

_SEPARATORS = {"zh": "、", "ja": "、", "ar": "، "}
_REFUSED = ("ignore", "instruction", "<", "忽略", "指令")


@dataclass(frozen=True)
class Concept:
    name: str
    tags: frozenset[str]
    words: tuple[str, ...]


@lru_cache(maxsize=1)
def concepts() -> tuple[Concept, ...]:
    """The concept lexicon shipped in `concepts.yaml`."""
    text = (resources.files("babelrec.explain") / "concepts.yaml").read_text(encoding="utf-8")
    data: dict[str, dict[str, list[str]]] = yaml.safe_load(text)
    return tuple(
        Concept(name, frozenset(t.lower() for t in spec["tags"]), tuple(spec["words"]))
        for name, spec in data.items()
    )


def _mentions(text: str, word: str) -> bool:
    if word.isascii():  # Latin words match whole words only ("ai" is not in "said")
        return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE) is not None
    return word.lower() in text.lower()


@dataclass
class Facts:
    """What an explanation may claim about one item."""

    interests: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    category: str | None = None
    origin: str | None = None


def item_concepts(item: Item) -> set[str]:
    keys = {t.lower() for t in item.tags} | {item.category or ""}
    return {c.name for c in concepts() if c.tags & keys or c.name == item.category}


def ground(
    user: UserProfile, item: Item, history: Sequence[Item], template: PromptTemplate
) -> Facts:
    """The facts that link `item` to `user`, worded for the template's locale."""
    wanted = item_concepts(item)
    facts = Facts()
    for concept in concepts():
        if concept.name in wanted:
            word = next((w for w in concept.words if _mentions(user.interests, w)), None)
            if word and word not in facts.interests:
                facts.interests.append(word)
    for seen in history:
        if seen.id != item.id and item_concepts(seen) & wanted:
            facts.history.append(sanitize(seen.title, 40))
    if item.category:
        facts.category = template.categories.get(item.category, item.category)
    foreign_region = user.region and item.region and item.region != user.region
    foreign_language = item.language and item.language != user.language
    if foreign_region or foreign_language:
        facts.origin = (
            template.regions.get(item.region or "", item.region or "")
            if item.region
            else language_name(item.language)
        )
    return facts


class ExplanationDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    text: str = Field(max_length=400)


class ExplanationsAnswer(BaseModel):
    """The LLM's answer: one sentence per item."""

    model_config = ConfigDict(extra="forbid")

    explanations: list[ExplanationDraft]


class Explainer:
    """Explains picks: from templates, or in the LLM's words when those pass the checks."""

    def __init__(self, llm: LLM | None = None, prompts: PromptLoader | None = None) -> None:
        self.llm = llm
        self.prompts = prompts or PromptLoader()

    def explain(
        self, user: UserProfile, items: Sequence[Item], history: Sequence[Item] = ()
    ) -> list[Explanation]:
        """One explanation per item, in order, each recording its language and source."""
        template = self.prompts.load("explain", user.language)
        all_facts = [ground(user, item, history, template) for item in items]
        drafts = self.drafts(user, items, history, template) if self.llm and items else {}
        explanations = []
        for item, facts in zip(items, all_facts, strict=True):
            draft = drafts.get(item.id)
            if draft is not None and self.acceptable(draft, user, item, facts):
                text, source = draft.strip(), "llm"
                if facts.origin and facts.origin not in text:
                    text += " " + template.sentence("cultural", origin=facts.origin)
            else:
                text, source = self.from_template(template, user, facts), "template"
            explanations.append(
                Explanation(
                    text=text,
                    language=user.language,
                    source=source,
                    matched_interests=facts.interests,
                    matched_history=facts.history[:2],
                    cultural_note=(
                        template.sentence("cultural", origin=facts.origin) if facts.origin else None
                    ),
                )
            )
        return explanations

    @staticmethod
    def from_template(template: PromptTemplate, user: UserProfile, facts: Facts) -> str:
        """One or two grounded sentences: the match, then the cultural note (or the history)."""
        sep = _SEPARATORS.get(user.language, ", ")
        sentences = []
        if facts.interests:
            sentences.append(template.sentence("interest", interests=sep.join(facts.interests)))
        elif facts.history:
            sentences.append(template.sentence("history", history=facts.history[0]))
        else:
            sentences.append(template.sentence("category", category=facts.category or "-"))
        if facts.origin:
            sentences.append(template.sentence("cultural", origin=facts.origin))
        elif facts.interests and facts.history:
            sentences.append(template.sentence("history", history=facts.history[0]))
        return " ".join(sentences) if user.language not in ("zh", "ja") else "".join(sentences)

    @staticmethod
    def acceptable(text: str, user: UserProfile, item: Item, facts: Facts) -> bool:
        """The LLM's sentence passes when it is in the user's script and names a real fact."""
        text = text.strip()
        if not 4 <= len(text) <= 300 or any(word in text.lower() for word in _REFUSED):
            return False
        if not matches_language(text, user.language):
            return False
        anchors = list(facts.interests) + [h[:8] for h in facts.history]
        if facts.category:
            anchors.append(facts.category)
        title = item.title
        if item.language in ("zh", "ja"):
            anchors += [title[i : i + 2] for i in range(len(title) - 1)]
        else:
            anchors += [word for word in re.findall(r"\w+", title) if len(word) >= 5]
        return any(anchor and _mentions(text, anchor) for anchor in anchors)

    def drafts(
        self,
        user: UserProfile,
        items: Sequence[Item],
        history: Sequence[Item],
        template: PromptTemplate,
    ) -> dict[str, str]:
        """The LLM's own sentence per item id, unchecked; {} when the LLM fails."""
        assert self.llm is not None
        ids = [item.id for item in items]
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {
                "explanations": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string", "enum": ids},
                            "text": {"type": "string", "minLength": 4, "maxLength": 90},
                        },
                        "required": ["id", "text"],
                        "additionalProperties": False,
                    },
                    "minItems": len(ids),
                    "maxItems": len(ids),
                },
            },
            "required": ["explanations"],
            "additionalProperties": False,
        }
        messages = chat(
            template,
            **user_fields(user, history),
            candidates="\n".join(item_block(item) for item in items),
        )
        try:
            answer = self.llm.complete_structured(
                messages,
                ExplanationsAnswer,
                schema=schema,
                params=GenerationParams(max_tokens=16 + 80 * len(ids)),
            )
        except LLMError as exc:
            logger.info("LLM explanations unavailable, using templates: %s", exc)
            return {}
        drafts: dict[str, str] = {}
        for draft in answer.explanations:
            drafts.setdefault(draft.id, draft.text)
        return drafts
