"""`ChatAgent`: one conversation turn, with the state loaded from and saved to the sessions file.

A turn goes to the tool-calling path when the settings ask for it (`chat.agent`, or `auto` with
an `openai` LLM) and to the rules otherwise, or whenever the tool-calling turn fails (logged at
WARNING). The tool-calling model is the `llm` settings group's backend (url, api_key, model,
timeout), the same one reranking uses.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from babelrec.agent.rules import RulePolicy
from babelrec.agent.sessions import SessionStore
from babelrec.agent.state import ChatReply, ConversationState
from babelrec.errors import ConfigError, LLMError
from babelrec.llm.registry import build_llm

if TYPE_CHECKING:
    from babelrec.agent.tools import ToolCallingPolicy
    from babelrec.llm.base import LLM
    from babelrec.pipeline.protocol import RecommendationService

logger = logging.getLogger(__name__)

Mode = Literal["rules", "tools"]
#: Earlier turns the tool-calling model sees.
HISTORY_TURNS = 6


class ChatAgent:
    """A conversational recommender over a `RecommendationService`, in the style of InteRecAgent."""

    def __init__(
        self,
        recommender: RecommendationService,
        sessions: SessionStore | None = None,
        *,
        mode: Mode | None = None,
        k: int = 5,
        explain: bool = True,
        llm: LLM | None = None,
    ) -> None:
        settings = recommender.settings
        self.recommender = recommender
        self.sessions = sessions or SessionStore.in_dir(settings.data_dir)
        if mode is None:
            wants_tools = settings.chat.agent == "tools" or (
                settings.chat.agent == "auto" and settings.llm.backend == "openai"
            )
            mode = "tools" if wants_tools else "rules"
        self.mode: Mode = mode
        self.rules = RulePolicy(recommender, k=k, explain=explain)
        self._llm = llm
        self._tools: ToolCallingPolicy | None = None

    @property
    def tools(self) -> ToolCallingPolicy:
        """The tool-calling path over the `llm` settings' backend (built on first use)."""
        if self._tools is None:
            from babelrec.agent.tools import ToolCallingPolicy

            self._tools = ToolCallingPolicy(self.rules, self._llm or self._build_llm())
        return self._tools

    def _build_llm(self) -> LLM:
        settings = self.recommender.settings
        llm = settings.llm
        if llm.backend == "none" or (llm.backend == "openai" and not (llm.url or llm.api_key)):
            raise ConfigError(
                "the tool-calling chat needs an LLM that calls tools: set BABELREC_LLM__BACKEND="
                "openai with BABELREC_LLM__URL (or BABELREC_LLM__API_KEY / OPENAI_API_KEY for "
                "api.openai.com), or BABELREC_CHAT__AGENT=rules"
            )
        built = build_llm(llm, settings.cache_dir)
        assert built is not None  # the backend is not "none"
        return built

    def state(self, session_id: str) -> ConversationState:
        """The session's state (a fresh one for a new id)."""
        return self.sessions.load(session_id) or ConversationState()

    def respond(self, session_id: str, message: str) -> ChatReply:
        """Answer one message of a session and remember what it changed."""
        state = self.state(session_id)
        reply: ChatReply | None = None
        if self.mode == "tools" and not message.strip().startswith("/"):
            history = self.sessions.turns(session_id, last=HISTORY_TURNS)
            try:
                tools = self.tools
            except LLMError as exc:  # e.g. the packaged model is missing
                logger.warning("no tool-calling model (%s); answering by rules", exc)
            else:
                reply = tools.respond(session_id, state, message, history)
        if reply is None:
            reply = self.rules.respond(session_id, state, message)
        self.sessions.save(session_id, state)
        self.sessions.log(session_id, "user", message)
        self.sessions.log(session_id, "assistant", reply.text)
        return reply
