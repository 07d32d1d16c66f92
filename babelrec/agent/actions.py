"""Every change a chat turn makes to a conversation's state, in one place.

The rules (`rules.py`) and the tool-calling model (`tools.py`) read a message differently, but
both change the state only through these functions, so "dislike" or "only English" means the
same thing whichever path understood it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from babelrec.agent.replies import reply_locales
from babelrec.agent.state import ConstraintKind, ConversationState

#: How many topic texts of the current request are kept (oldest dropped first).
MAX_TOPICS = 3
#: How far one "more from other cultures" raises the openness (capped at 1).
OPENNESS_STEP = 0.25
#: The openness a first "more from other cultures" reaches at least.
OPENNESS_EXPLORE = 0.75


def item_at(state: ConversationState, position: int) -> str | None:
    """The id at a 1-based position of the current list (-1 is the last), or None."""
    if not state.candidates:
        return None
    index = len(state.candidates) - 1 if position == -1 else position - 1
    return state.candidates[index] if 0 <= index < len(state.candidates) else None


def like(state: ConversationState, item_id: str) -> None:
    """The user liked an item: it is remembered, and the current request is 'more like' it."""
    state.disliked_items = [i for i in state.disliked_items if i != item_id]
    state.liked_items = list(dict.fromkeys([*state.liked_items, item_id]))
    state.anchors = list(dict.fromkeys([*state.anchors, item_id]))


def dislike(state: ConversationState, item_id: str) -> None:
    """The user disliked an item: it is never shown again and no longer pulls the user vector."""
    state.disliked_items = list(dict.fromkeys([*state.disliked_items, item_id]))
    state.liked_items = [i for i in state.liked_items if i != item_id]
    state.anchors = [i for i in state.anchors if i != item_id]


def _normal(kind: ConstraintKind, values: Iterable[str]) -> list[str]:
    case = str.upper if kind == "regions" else str.lower
    return [case(v.strip()) for v in values if v.strip()]


def constrain(
    state: ConversationState,
    *,
    include: Mapping[ConstraintKind, Iterable[str]] | None = None,
    exclude: Mapping[ConstraintKind, Iterable[str]] | None = None,
    clear: Iterable[ConstraintKind] = (),
) -> None:
    """Hard constraints: clear kinds first, then 'only these', then 'none of these'."""
    for kind in clear:
        state.constraints.clear(kind)
    for kind, values in (include or {}).items():
        if wanted := _normal(kind, values):
            state.constraints.include(kind, wanted)
    for kind, values in (exclude or {}).items():
        if unwanted := _normal(kind, values):
            state.constraints.exclude(kind, unwanted)


def set_topic(state: ConversationState, topic: str, *, new_subject: bool) -> None:
    """A topic of interest. A new subject starts a new request: its topic replaces the old ones
    and earlier 'more like' anchors are dropped (they would drag it back); otherwise the topic
    joins the current request's."""
    topic = topic.strip()
    if not topic:
        return
    if new_subject:
        state.topics = [topic]
        state.anchors = []
    elif topic not in state.topics:
        state.topics = [*state.topics, topic][-MAX_TOPICS:]


def dislike_topics(state: ConversationState, topics: Iterable[str]) -> None:
    """Topics whose items are dropped from now on ("no politics")."""
    state.disliked_topics = list(dict.fromkeys([*state.disliked_topics, *topics]))


def set_language(state: ConversationState, code: str | None) -> bool:
    """Answer in `code` from now on, when there are replies in it; True if it changed."""
    code = (code or "").strip().lower()
    if code not in reply_locales():
        return False
    state.language = code
    return True


def set_openness(state: ConversationState, openness: float) -> None:
    """Openness to other cultures from now on (0: the user's own languages and regions)."""
    if not 0.0 <= openness <= 1.0:
        raise ValueError(f"openness must be within [0, 1], not {openness}")
    state.openness = openness


def refine_openness(state: ConversationState, direction: str, default: float) -> float:
    """'More from other cultures' raises the openness (to OPENNESS_EXPLORE at least, then by
    OPENNESS_STEP); 'only domestic' sets it to 0. `default` is the openness before any ask."""
    current = default if state.openness is None else state.openness
    if direction == "explore":
        set_openness(state, min(1.0, max(OPENNESS_EXPLORE, current + OPENNESS_STEP)))
    elif direction == "own":
        set_openness(state, 0.0)
    else:
        raise ValueError(f"unknown openness direction {direction!r}: explore or own")
    return current
