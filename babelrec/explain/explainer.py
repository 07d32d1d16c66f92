"""Explanations of the final top k, in the user's language, that are right even when the LLM is not.

Every explanation starts from evidence (`babelrec.evidence`), found by the same vectors that
ranked the pick: the phrase of the user's words it matches, the history items it is close to
(`babelrec.explain.evidence`), and a specific, true cultural note (`babelrec.explain.culture`).
Per-locale template sentences state that evidence. The LLM may word an explanation instead, from
the same evidence, but its sentence is used only if it is written in the user's script and
mentions something real about the item or the match. A locale without templates gets the LLM's
sentence in its own language when one passes, else the English templates, and the explanation's
`language` says "en". Chinese readers get their own script (Simplified or Traditional, from their
profile or their own words), whatever script the templates, the titles or the LLM used.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from babelrec.errors import LLMError
from babelrec.evidence import CultureEvidence, Evidence, HistoryEvidence, InterestEvidence
from babelrec.explain.culture import culture_evidence, mentions
from babelrec.explain.evidence import (
    EmbeddedVectors,
    VectorSource,
    history_evidence,
    interest_evidence,
    phrases,
)
from babelrec.i18n.chinese import SCRIPT_NAMES, Script, convert, reader_script
from babelrec.i18n.script import matches_language
from babelrec.llm.base import LLM, GenerationParams
from babelrec.llm.prompting import chat, item_block, sanitize, user_fields
from babelrec.models import Explanation, Item, UserProfile
from babelrec.prompts.loader import FALLBACK_LOCALE, PromptLoader, PromptTemplate
from babelrec.retrieval.embedders import Embedder

logger = logging.getLogger(__name__)

_REFUSED = ("ignore", "instruction", "<", "忽略", "指令")
#: Longest explanation shown; every explanation passes `sanitize` (no markup, controls or
#: invisible reordering characters from catalog text or the LLM).
EXPLANATION_LIMIT = 600


def find_evidence(
    user: UserProfile,
    items: Sequence[Item],
    history: Sequence[Item],
    template: PromptTemplate,
    vectors: VectorSource | None,
    script: Script | None = None,
) -> list[list[Evidence]]:
    """Per item: the matching phrase of the user's words, the closest history items (both by
    cosine of the vectors that ranked it; none without `vectors`), then the cultural notes."""
    said = phrases(user.interests) if vectors is not None else []
    found: dict[str, np.ndarray] = {}
    said_vectors = np.zeros((0, 1))
    if vectors is not None and items:
        found = vectors.item_vectors([*items, *history])
        if said:
            said_vectors = vectors.phrase_vectors(said, user.language)
    out: list[list[Evidence]] = []
    for item in items:
        entries: list[Evidence] = [
            *interest_evidence(item, found, said, said_vectors),
            *history_evidence(item, found, history),
        ]
        for note in culture_evidence(user, item, history, template, script):
            holiday = convert(note.holiday, script) if note.holiday else None
            entries.append(
                note.model_copy(update={"text": convert(note.text, script), "holiday": holiday})
            )
        out.append(entries)
    return out


def _join(template: PromptTemplate, sentences: Sequence[str]) -> str:
    """Sentences as one text: no space between them in Chinese and Japanese."""
    return ("" if template.locale in ("zh", "ja") else " ").join(sentences)


def _of(kind: type[Any], evidence: Sequence[Evidence]) -> list[Any]:
    return [entry for entry in evidence if isinstance(entry, kind)]


def category_name(template: PromptTemplate, item: Item) -> str | None:
    """The item's category in the template's language (catalog text, cleaned), if it has one."""
    if not item.category:
        return None
    return sanitize(template.categories.get(item.category, item.category), 40)


class ExplanationDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    text: str = Field(max_length=400)


class ExplanationsAnswer(BaseModel):
    """The LLM's answer: one sentence per item."""

    model_config = ConfigDict(extra="forbid")

    explanations: list[ExplanationDraft]


class Explainer:
    """Explains picks: from templates, or in the LLM's words when those pass the checks.

    Evidence comes from the `vectors` passed to `explain` (the pipeline passes the store's); an
    explainer built with an `embedder` embeds the texts itself when none are passed; with
    neither, explanations rest on the cultural notes and the category alone."""

    def __init__(
        self,
        llm: LLM | None = None,
        prompts: PromptLoader | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.llm = llm
        self.prompts = prompts or PromptLoader()
        self.embedder = embedder

    def explain(
        self,
        user: UserProfile,
        items: Sequence[Item],
        history: Sequence[Item] = (),
        vectors: VectorSource | None = None,
        quotable: Collection[str] | None = None,
    ) -> list[Explanation]:
        """One explanation per item, in order, each recording its language, source and evidence.
        Every history item counts as evidence; a template sentence quotes only the titles of
        those in `quotable` (default: all), the ones the reader can read."""
        template = self.prompts.load("explain", user.language)
        script = reader_script(user.language, user.script, user.interests)
        if vectors is None and self.embedder is not None:
            vectors = EmbeddedVectors(self.embedder)
        evidence = find_evidence(user, items, history, template, vectors, script)
        drafts = self.drafts(user, items, history, template, evidence) if self.llm and items else {}
        explanations = []
        for item, found in zip(items, evidence, strict=True):
            notes = [note.text for note in _of(CultureEvidence, found)]
            draft = drafts.get(item.id)
            draft = convert(draft, script) if draft is not None else None
            language = FALLBACK_LOCALE if template.fallback else user.language
            if draft is not None and self.acceptable(draft, user, item, found, template):
                text, source, language = draft.strip(), "llm", user.language
                if template.fallback:  # English notes stay in the evidence, out of the sentence
                    notes = []
                text = _join(
                    template, [text, *(n for n in notes if not self._said(text, n, found))]
                )
            else:
                text = self.from_template(template, user, item, found, quotable)
                source = "template"
            explanations.append(
                Explanation(
                    text=sanitize(convert(text, script), EXPLANATION_LIMIT),
                    language=language,
                    source=source,
                    matched_interests=[
                        convert(e.phrase, script) for e in _of(InterestEvidence, found)
                    ],
                    matched_history=[sanitize(e.title, 40) for e in _of(HistoryEvidence, found)],
                    cultural_note=" ".join(notes) or None,
                    evidence=found,
                )
            )
        return explanations

    @staticmethod
    def _said(text: str, note: str, evidence: Sequence[Evidence]) -> bool:
        """Whether the LLM's sentence already names what a cultural note says."""
        for entry in _of(CultureEvidence, evidence):
            if entry.text == note and entry.holiday:
                return mentions(text, entry.holiday.split(" (")[0])
        return False

    @staticmethod
    def from_template(
        template: PromptTemplate,
        user: UserProfile,
        item: Item,
        evidence: Sequence[Evidence],
        quotable: Collection[str] | None = None,
    ) -> str:
        """The match (a phrase of the user's words, else a history item, else the category),
        the closest history item when a phrase came first, then the cultural notes."""
        interests: list[InterestEvidence] = _of(InterestEvidence, evidence)
        seen: list[HistoryEvidence] = [
            e for e in _of(HistoryEvidence, evidence) if quotable is None or e.item_id in quotable
        ]
        sentences = []
        if interests:
            sentences.append(template.sentence("interest", interests=interests[0].phrase))
        if seen:
            sentences.append(template.sentence("history", history=sanitize(seen[0].title, 40)))
        if not sentences:
            sentences.append(
                template.sentence("category", category=category_name(template, item) or "-")
            )
        sentences += [note.text for note in _of(CultureEvidence, evidence)]
        return _join(template, sentences)

    @staticmethod
    def acceptable(
        text: str,
        user: UserProfile,
        item: Item,
        evidence: Sequence[Evidence],
        template: PromptTemplate | None = None,
    ) -> bool:
        """The LLM's sentence passes when it is in the user's script and names a real fact:
        a matched phrase, a matched history title, the item's category or its title."""
        text = text.strip()
        if not 4 <= len(text) <= 300 or any(word in text.lower() for word in _REFUSED):
            return False
        script = reader_script(user.language, user.script, user.interests)
        if not matches_language(text, f"zh-{script}" if script else user.language):
            return False
        anchors = [e.phrase for e in _of(InterestEvidence, evidence)]
        anchors += [e.title[:8] for e in _of(HistoryEvidence, evidence)]
        if template is not None and (category := category_name(template, item)):
            anchors.append(category)
        title = item.title
        if item.language in ("zh", "ja"):
            anchors += [title[i : i + 2] for i in range(len(title) - 1)]
        else:
            anchors += [word for word in re.findall(r"\w+", title) if len(word) >= 5]
        return any(anchor and mentions(text, anchor) for anchor in anchors)

    def drafts(
        self,
        user: UserProfile,
        items: Sequence[Item],
        history: Sequence[Item],
        template: PromptTemplate,
        evidence: Sequence[Sequence[Evidence]] = (),
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
        fields = user_fields(user, history)
        script: Script | None = reader_script(user.language, user.script, user.interests)
        if script is not None:  # "繁體中文": the prompt names the script to write in
            fields["user_language"] = SCRIPT_NAMES[script]
        found = list(evidence) or [[] for _ in items]
        blocks = [
            f"{item_block(item)}\n<evidence>{evidence_line(entries)}</evidence>"
            for item, entries in zip(items, found, strict=True)
        ]
        messages = chat(template, **fields, candidates="\n".join(blocks))
        try:
            answer = self.llm.complete_structured(
                messages,
                ExplanationsAnswer,
                schema=schema,
                params=GenerationParams(max_tokens=16 + 80 * len(ids)),
            )
        except LLMError as exc:
            logger.warning("LLM explanations unavailable, using templates: %s", exc)
            return {}
        drafts: dict[str, str] = {}
        for draft in answer.explanations:
            drafts.setdefault(draft.id, draft.text)
        return drafts


def evidence_line(evidence: Sequence[Evidence]) -> str:
    """The evidence of one item as one data line for the LLM (text from others: sanitised)."""
    parts = []
    for entry in evidence:
        if isinstance(entry, InterestEvidence):
            parts.append(f"matches the user's words: {sanitize(entry.phrase, 60)}")
        elif isinstance(entry, HistoryEvidence):
            parts.append(f"close to history item: {sanitize(entry.title, 60)}")
        else:
            parts.append(f"{entry.source}: {sanitize(entry.text, 120)}")
    return "; ".join(parts) or "-"
