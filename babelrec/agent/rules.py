"""The deterministic chat path: rules read the message (`intent.py`), the state changes, the
pipeline recommends and a per-locale sentence answers. No LLM is needed anywhere here.

Retrieval follows the state: topic texts are the user's interests (the embedder reads them),
items the user asked for "more like" are history (their vectors pull the user vector), and the
constraints are store filters.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from babelrec.agent import actions
from babelrec.agent.intent import Intent, parse
from babelrec.agent.replies import describe, for_user, name_of, reply_locale, reply_locales, say
from babelrec.agent.state import ChatReply, ConversationState
from babelrec.models import HistoryEntry, Item, Recommendation, UserProfile, split_language_tag

if TYPE_CHECKING:
    from babelrec.pipeline.protocol import RecommendationService

logger = logging.getLogger(__name__)

#: Items whose similarity to a disliked topic is above this are dropped.
DISLIKE_SIMILARITY = 0.45


def _script_language(text: str) -> str | None:
    """Han without kana is Chinese: short Chinese requests are too short for a statistical guess."""
    han = any("\u4e00" <= ch <= "\u9fff" for ch in text)
    kana = any("\u3040" <= ch <= "\u30ff" for ch in text)
    hangul = any("\uac00" <= ch <= "\ud7af" for ch in text)
    if hangul:
        return "ko"
    if kana:
        return "ja"
    return "zh" if han else None


def conversation_language(message: str, intent: Intent) -> str:
    """The language to answer a first message in: its script, the table words it used, or
    the language detector, in that order."""
    if script := _script_language(message):
        return script
    if intent.locale_hint:
        return intent.locale_hint
    from babelrec.i18n.langid import detect_language

    return detect_language(message) or "en"


def remember_script(state: ConversationState, intent: Intent) -> None:
    """Replies take the Chinese script of the first message that shows one; only asking changes
    it ("请用繁体中文回答", /lang zh-TW), so a later ambiguous or quoted word does not."""
    state.script = intent.answer_script or state.script or intent.script


def apply_constraints(state: ConversationState, intent: Intent) -> None:
    """The hard constraints a message states, applied to the state."""
    actions.constrain(state, include=intent.include, exclude=intent.exclude, clear=intent.clear)


class RulePolicy:
    """Answers one message by rules; the state is changed in place."""

    def __init__(
        self, recommender: RecommendationService, *, k: int = 5, explain: bool = True
    ) -> None:
        self.recommender = recommender
        self.k = k
        self.explain = explain

    def respond(self, session_id: str, state: ConversationState, message: str) -> ChatReply:
        intent = parse(message)
        if state.language is None:
            state.language = conversation_language(message, intent)
        remember_script(state, intent)
        state.turns += 1
        if intent.command is not None:
            return self._command(session_id, state, intent)
        if intent.answer_language:
            state.language = intent.answer_language
            if not intent.is_actionable():
                return self._reply(session_id, state, say(state.language, "language_changed"))
        if not intent.is_actionable():
            return self._clarify(session_id, state)
        return self._act(session_id, state, intent)

    # -- pieces -------------------------------------------------------------------------------

    def _reply(
        self,
        session_id: str,
        state: ConversationState,
        text: str,
        recommendations: list[Recommendation] | None = None,
        *,
        clarifying: bool = False,
        warnings: list[str] | None = None,
    ) -> ChatReply:
        state.awaiting_clarification = clarifying
        return ChatReply(
            session_id=session_id,
            text=for_user(state, text),
            language=reply_locale(state.language),
            recommendations=recommendations or [],
            clarifying_question=clarifying,
            constraints=state.constraints.model_copy(deep=True),
            warnings=warnings or [],
        )

    def _clarify(self, session_id: str, state: ConversationState) -> ChatReply:
        return self._reply(session_id, state, say(state.language, "clarify"), clarifying=True)

    def _command(self, session_id: str, state: ConversationState, intent: Intent) -> ChatReply:
        if intent.command == "reset":
            language = state.language
            fresh = ConversationState(language=language, script=state.script, region=state.region)
            for name in type(state).model_fields:
                setattr(state, name, getattr(fresh, name))
            return self._reply(session_id, state, say(language, "reset"))
        if intent.command == "lang":
            code, script = split_language_tag(intent.command_arg or "")  # zh-Hant, zh-TW
            if code not in reply_locales():
                from babelrec.agent.lexicon import lexicon

                code = lexicon().language_of(code) or code
            if code in reply_locales():
                state.language = code
                state.script = script or state.script
                return self._reply(session_id, state, say(code, "language_changed"))
            return self._reply(
                session_id,
                state,
                f"/lang {'|'.join(reply_locales())}",
                warnings=[f"no replies in {intent.command_arg!r}"],
            )
        if intent.command == "quit":
            return self._reply(session_id, state, say(state.language, "bye"))
        return self._reply(session_id, state, say(state.language, "help"))

    def _act(self, session_id: str, state: ConversationState, intent: Intent) -> ChatReply:
        apply_constraints(state, intent)
        if intent.openness is not None:
            default = self.recommender.settings.calibration.openness
            actions.refine_openness(state, intent.openness, default)
        actions.dislike_topics(state, intent.disliked_topics)

        like_title: str | None = None
        for ref in intent.references:
            item_id = actions.item_at(state, ref.position)
            if item_id is None:
                count = len(state.candidates)
                key = "bad_reference" if count else "no_list"
                return self._reply(
                    session_id, state, say(state.language, key, position=ref.position, count=count)
                )
            if ref.polarity == "explain":
                return self._explain(session_id, state, ref.position, item_id)
            if ref.polarity == "dislike":
                actions.dislike(state, item_id)
            else:
                actions.like(state, item_id)
                stored = self.recommender.get_items([item_id])
                if item_id in stored:
                    like_title = self.title(stored[item_id].item, state)

        if intent.topic:
            new_subject = intent.new_subject and not intent.references
            actions.set_topic(state, intent.topic, new_subject=new_subject)

        more = intent.more and not intent.references
        recommendations, warnings = self.recommend(state, more=more)
        constraints_text = describe(state.constraints, state.language, state.openness)
        if not recommendations:
            text = say(state.language, "no_results", constraints=constraints_text)
        elif like_title is not None:
            text = say(
                state.language,
                "results_like",
                count=len(recommendations),
                title=like_title,
                constraints=constraints_text,
            )
        else:
            key = "results_more" if more else "results"
            text = say(
                state.language, key, count=len(recommendations), constraints=constraints_text
            )
        return self._reply(session_id, state, text, recommendations, warnings=warnings)

    def _explain(
        self, session_id: str, state: ConversationState, position: int, item_id: str
    ) -> ChatReply:
        stored = self.recommender.get_items([item_id])
        if item_id not in stored:
            return self._reply(session_id, state, say(state.language, "no_list"))
        item = stored[item_id].item
        reason = self.reason(item, state)
        title = self.title(item, state)
        text = say(state.language, "explain", position=position, title=title, reason=reason)
        return self._reply(session_id, state, text)

    @staticmethod
    def title(item: Item, state: ConversationState) -> str:
        """The item's title as the reader was shown it (its display title), else its own."""
        if state.explanations_language == state.language:
            return state.display_titles.get(item.id, item.title)
        return item.title

    def reason(self, item: Item, state: ConversationState) -> str:
        """Why an item fits, in the conversation's language: the pipeline's explanation when it
        gave one, else the item's facts."""
        if item.id in state.explanations and state.explanations_language == state.language:
            return state.explanations[item.id]
        return say(
            state.language,
            "reason",
            category=name_of("categories", item.category, state.language),
            region=name_of("regions", item.region, state.language),
            language=name_of("languages", item.language, state.language),
        )

    # -- recommending -------------------------------------------------------------------------

    def profile(self, state: ConversationState) -> UserProfile:
        interests = " ; ".join(state.topics)
        if not interests and not state.anchors:
            # Constraints alone ("only English"): describe them, so there is something to embed.
            interests = describe(state.constraints, state.language).strip(" ()（）") or "news"
        language = reply_locale(state.language)
        return UserProfile(
            language=language,
            script=state.script if language == "zh" else None,
            region=state.region,
            interests=interests,
            history=[HistoryEntry(item_id=i) for i in state.anchors],
            openness=state.openness,
        )

    def recommend(
        self, state: ConversationState, *, more: bool = False, k: int | None = None
    ) -> tuple[list[Recommendation], list[str]]:
        """The next list for the state; it becomes the current candidate list."""
        k = k or self.k
        skip = set(state.disliked_items) | (set(state.shown) if more else set())
        fetch = k + min(len(skip), 40) + (20 if state.constraints.exclude_regions else 0)
        fetch += 10 if state.disliked_topics else 0
        result = self.recommender.recommend(
            self.profile(state),
            k=fetch,
            filters=state.constraints.to_filters(),
            explain=self.explain,
        )
        excluded_regions = set(state.constraints.exclude_regions)
        picks = [
            r
            for r in result.items
            if r.item.id not in skip and r.item.region not in excluded_regions
        ]
        picks = self._without_disliked_topics(picks, state.disliked_topics)
        picks = [r.model_copy(update={"rank": n}) for n, r in enumerate(picks[:k], start=1)]
        state.candidates = [r.item.id for r in picks]
        state.explanations = {
            r.item.id: r.explanation.text for r in picks if r.explanation is not None
        }
        state.explanations_language = state.language
        state.display_titles = {r.item.id: r.display.title for r in picks if r.display is not None}
        state.shown = list(dict.fromkeys([*state.shown, *state.candidates]))
        warnings = [w for w in result.warnings if "passes the filters" not in w]
        return picks, warnings

    def _without_disliked_topics(
        self, picks: list[Recommendation], topics: list[str]
    ) -> list[Recommendation]:
        """Drop items close to a topic the user rejected ("no politics"), by the embedder."""
        if not topics or not picks:
            return picks
        topic_vecs = self.recommender.embed_queries(topics)
        stored = self.recommender.get_items([r.item.id for r in picks], with_vectors=True)
        kept = []
        for pick in picks:
            vector = stored[pick.item.id].vector if pick.item.id in stored else None
            if vector is None:
                kept.append(pick)
                continue
            sims = (
                topic_vecs
                @ vector
                / (np.linalg.norm(topic_vecs, axis=1) * np.linalg.norm(vector) + 1e-9)
            )
            if float(sims.max()) < DISLIKE_SIMILARITY:
                kept.append(pick)
        return kept
