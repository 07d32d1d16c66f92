"""A conversational recommender: rules (and optionally a tool-calling LLM) over the pipeline,
with sessions kept in SQLite under the data directory.

Names load on first use, so the CLI can register `babelrec chat` without importing the agent.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from babelrec.agent.agent import ChatAgent
    from babelrec.agent.intent import Intent, parse
    from babelrec.agent.sessions import SessionStore
    from babelrec.agent.state import ChatReply, Constraints, ConversationState

_WHERE = {
    "ChatAgent": "agent",
    "ChatReply": "state",
    "Constraints": "state",
    "ConversationState": "state",
    "Intent": "intent",
    "SessionStore": "sessions",
    "parse": "intent",
}

__all__ = [
    "ChatAgent",
    "ChatReply",
    "Constraints",
    "ConversationState",
    "Intent",
    "SessionStore",
    "parse",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"babelrec.agent.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'babelrec.agent' has no attribute {name!r}")
