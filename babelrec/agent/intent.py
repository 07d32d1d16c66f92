"""Rules that turn one chat message into an `Intent`: no model, only the tables in `lexicon.yaml`.

Every locale's tables apply to every message, so "only English" works in a Chinese conversation.
What no rule recognises is the topic, which the embedder reads.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from babelrec.agent.lexicon import Alias, Mask, Match, compiled, lexicon, word_pattern
from babelrec.agent.state import ConstraintKind
from babelrec.i18n.chinese import Script, convert, decided, for_matching

Polarity = Literal["like", "dislike", "explain"]
#: An openness refinement: toward other cultures, or back to the user's own.
Openness = Literal["explore", "own"]
_CJK_CLASSIFIERS = "个条篇项"
_TABLE_KIND: dict[str, ConstraintKind] = {
    "languages": "languages",
    "regions": "regions",
    "categories": "categories",
}


class Reference(BaseModel):
    """'The second one': a 1-based position in the current list (-1 is the last)."""

    model_config = ConfigDict(extra="forbid")

    position: int
    polarity: Polarity


class Intent(BaseModel):
    """What a message asks for. Empty lists mean 'not mentioned'."""

    model_config = ConfigDict(extra="forbid")

    command: Literal["reset", "lang", "quit", "help"] | None = None
    command_arg: str | None = None
    answer_language: str | None = None
    answer_script: Script | None = Field(
        default=None, description="'Answer in Traditional (Simplified) script': Chinese replies."
    )
    include: dict[ConstraintKind, list[str]] = Field(default_factory=dict)
    exclude: dict[ConstraintKind, list[str]] = Field(default_factory=dict)
    clear: list[ConstraintKind] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    more: bool = False
    openness: Openness | None = Field(
        default=None, description="'More from other cultures' (explore), 'only domestic' (own)."
    )
    topic: str = Field(default="", description="Topic text for the embedder, constraints kept.")
    new_subject: bool = Field(
        default=False, description="The topic names something beyond constraint words."
    )
    disliked_topics: list[str] = Field(default_factory=list)
    locale_hint: str | None = Field(default=None, description="Locale whose words matched most.")
    script: Script | None = Field(
        default=None, description="The Chinese script the message is written in, if it tells."
    )

    def is_actionable(self) -> bool:
        """Whether there is anything to act on besides a change of answer language."""
        return bool(
            self.command
            or self.include
            or self.exclude
            or self.clear
            or self.references
            or self.more
            or self.openness
            or self.topic
            or self.disliked_topics
        )


def _spans(mask_text: str, aliases: tuple[Alias, ...]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for alias in aliases:
        for found in compiled(alias.word).finditer(mask_text):
            spans.append((found.start(), found.end()))
    return spans


def _clause(text: str, start: int, end: int, boundaries: list[tuple[int, int]]) -> tuple[int, int]:
    """The clause around [start, end): from the last boundary before to the next one after."""
    left = max((b_end for _, b_end in boundaries if b_end <= start), default=0)
    right = min((b_start for b_start, _ in boundaries if b_start >= end), default=len(text))
    return left, right


def _has(text: str, aliases: tuple[Alias, ...]) -> bool:
    return any(compiled(a.word).search(text) for a in aliases)


def _command(text: str) -> Intent | None:
    if not text.startswith("/"):
        return None
    name, _, arg = text[1:].partition(" ")
    name = name.lower()
    if name in ("reset", "lang", "quit", "exit", "help"):
        command: Literal["reset", "lang", "quit", "help"] = (
            "quit" if name == "exit" else name  # type: ignore[assignment]
        )
        return Intent(command=command, command_arg=arg.strip() or None)
    return Intent(command="help")


def parse(message: str) -> Intent:
    """The intent of one message (see the module docstring)."""
    written = message.strip()
    if (command := _command(written)) is not None:
        return command
    # Words are matched in Simplified, the tables' script; topic words are given back in the
    # user's script: cut from what they wrote when the conversion kept every offset, else
    # converted back (網際網路 was read as 互联网 and comes back as 互聯網).
    text, guess = for_matching(written)
    intent = Intent(script=decided(guess))
    aligned = len(written) == len(text)

    def as_written(start: int, word: str) -> str:
        if aligned:
            return written[start : start + len(word)]
        return convert(word, intent.script)

    lex = lexicon()
    mask = Mask(text)
    votes: Counter[str] = Counter()
    boundaries = _spans(text, lex.boundaries)

    language_names = lex.language_pattern()
    for rule in lex.answer_language:
        for found in mask.regex(rule.word.replace("{lang}", language_names)):
            intent.answer_language = lex.language_of(found.group("lang"))
            votes[rule.locale] += 2
            mask.consume(found.start(), found.end())

    for rule in lex.answer_script:
        for found in mask.regex(rule.word):
            intent.answer_language = "zh"
            intent.answer_script = "Hant" if found.group("script") == "繁体" else "Hans"
            votes[rule.locale] += 2
            mask.consume(found.start(), found.end())

    for match in mask.find(lex.clear):
        intent.clear.append(match.alias.key)  # type: ignore[arg-type]
        votes[match.alias.locale] += 1

    _references(text, mask, boundaries, intent, votes)
    for match in mask.find(lex.openness):
        left, _ = _clause(text, match.start, match.end, boundaries)
        explore = match.alias.key == "explore"
        if _has(text[left : match.start], lex.negations):  # "no foreign news": the own culture
            explore = not explore
        intent.openness = "explore" if explore else "own"
        votes[match.alias.locale] += 1

    kept: list[tuple[int, str]] = []
    mentions = mask.find([*lex.languages, *lex.regions, *lex.categories])
    tables = {id(a): t for t in _TABLE_KIND for a in getattr(lex, t)}
    for match in mentions:
        kind = _TABLE_KIND[tables[id(match.alias)]]
        votes[match.alias.locale] += 1
        left, _ = _clause(text, match.start, match.end, boundaries)
        if _has(text[left : match.start], lex.negations):
            target = intent.exclude.setdefault(kind, [])
        else:
            target = intent.include.setdefault(kind, [])
            if kind != "languages":
                kept.append((match.start, as_written(match.start, text[match.start : match.end])))
        if match.alias.key not in target:
            target.append(match.alias.key)

    for match in mask.find(lex.more_markers):
        intent.more = intent.openness is None  # "more from other cultures" is no next page
        votes[match.alias.locale] += 1
    for table in (lex.like_markers, lex.explain_markers):
        for match in mask.find(table):
            votes[match.alias.locale] += 1
    negations = mask.find(lex.negations)
    mask.find(lex.boundaries)
    for match in mask.find(lex.filler):
        votes[match.alias.locale] += 1

    leftovers = [
        (found.start(), found.group())
        for found in re.finditer(r"[^\W\d_][\w'’-]*", mask.text)
        if not found.group().isdigit()
    ]
    disliked = _negated_words(text, leftovers, negations, boundaries)
    intent.disliked_topics = [as_written(start, word) for start, word in disliked]
    topic_words = [
        (start, as_written(start, w)) for start, w in leftovers if (start, w) not in disliked
    ]
    intent.new_subject = bool(topic_words) or "categories" in intent.include
    intent.topic = " ".join(word for _, word in sorted([*kept, *topic_words]))
    if votes:
        intent.locale_hint = max(sorted(votes), key=lambda loc: votes[loc])
    return intent


def _references(
    text: str,
    mask: Mask,
    boundaries: list[tuple[int, int]],
    intent: Intent,
    votes: Counter[str],
) -> None:
    """Ordinals ('the second one', '第二个', 'el segundo') and numbers ('#2', '第2条')."""
    lex = lexicon()
    found: list[tuple[int, int, int]] = []
    for word, position in lex.ordinals.items():
        pattern = word_pattern(word)
        if not word.isascii() and not any(c.isascii() for c in word):
            pattern += f"[{_CJK_CLASSIFIERS}]?"
        for hit in mask.regex(pattern):
            found.append((hit.start(), hit.end(), position))
            votes[lex.ordinal_locale[word]] += 1
            mask.consume(hit.start(), hit.end())
    for rule in lex.numbered:
        for hit in mask.regex(rule.word):
            found.append((hit.start(), hit.end(), int(hit.group(1))))
            votes[rule.locale] += 1
            mask.consume(hit.start(), hit.end())
    for start, end, position in sorted(found):
        left, right = _clause(text, start, end, boundaries)
        polarity: Polarity = "like"
        if _has(text[left:right], lex.explain_markers):
            polarity = "explain"
        if _has(text[left:start], lex.negations):
            polarity = "dislike"
        intent.references.append(Reference(position=position, polarity=polarity))


def _negated_words(
    text: str,
    words: list[tuple[int, str]],
    negations: list[Match],
    boundaries: list[tuple[int, int]],
) -> list[tuple[int, str]]:
    """Leftover words that follow a negation in the same clause ('no politics', '不要八卦')."""
    negated: list[tuple[int, str]] = []
    for start, word in words:
        left, _ = _clause(text, start, start + len(word), boundaries)
        if any(left <= n.start and n.end <= start for n in negations):
            negated.append((start, word))
    return negated
