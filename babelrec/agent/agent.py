"""`ChatAgent`: one conversation turn, with the state loaded from and saved to the sessions file.

A turn goes to the tool-calling path when the settings ask for it (`chat_agent`, or `auto` with
an `openai` LLM) and to the rules otherwise, or whenever the tool-calling turn fails.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

from babelrec.agent.rules import RulePolicy
from babelrec.agent.sessions import SessionStore
from babelrec.agent.state import ChatReply, ConversationState
from babelrec.errors import ConfigError

if TYPE_CHECKING:
    from babelrec.agent.tools import ToolCallingPolicy
    from babelrec.pipeline.protocol import RecommendationService

logger = logging.getLogger(__name__)

Mode = Literal["rules", "tools"]
#: Earlier turns the tool-calling model sees.
HISTORY_TURNS = 6


def _client(recommender: RecommendationService) -> Any:
    import openai

    settings = recommender.settings.llm
    key = settings.api_key.get_secret_value() if settings.api_key else "not-needed"
    return openai.OpenAI(
        base_url=settings.url, api_key=key, timeout=settings.timeout, max_retries=0
    )


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
        client: Any = None,
        model: str | None = None,
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
        self._client = client
        self._model = model or settings.llm.model
        self._tools: ToolCallingPolicy | None = None

    @property
    def tools(self) -> ToolCallingPolicy:
        if self._tools is None:
            from babelrec.agent.tools import ToolCallingPolicy

            llm = self.recommender.settings.llm
            if self._client is None and not (llm.url or llm.api_key):
                raise ConfigError(
                    "the tool-calling chat needs an OpenAI-compatible endpoint: set "
                    "BABELREC_LLM__URL (or BABELREC_LLM__API_KEY / OPENAI_API_KEY), or "
                    "BABELREC_CHAT__AGENT=rules"
                )
            client = self._client if self._client is not None else _client(self.recommender)
            self._tools = ToolCallingPolicy(self.rules, client, self._model)
        return self._tools

    def state(self, session_id: str) -> ConversationState:
        """The session's state (a fresh one for a new id)."""
        return self.sessions.load(session_id) or ConversationState()

    def respond(self, session_id: str, message: str) -> ChatReply:
        """Answer one message of a session and remember what it changed."""
        state = self.state(session_id)
        reply: ChatReply | None = None
        if self.mode == "tools" and not message.strip().startswith("/"):
            history = self.sessions.turns(session_id, last=HISTORY_TURNS)
            reply = self.tools.respond(session_id, state, message, history)
        if reply is None:
            reply = self.rules.respond(session_id, state, message)
        self.sessions.save(session_id, state)
        self.sessions.log(session_id, "user", message)
        self.sessions.log(session_id, "assistant", reply.text)
        return reply
