"""The tool-calling chat path: a capable model reads the message and calls LangChain tools
(search the catalog, recommend, explain an item, update preferences) over the same state, state
changes (`actions.py`) and pipeline as the rules. The turn runs on LangChain's agent runtime
(`langchain.agents.create_agent`) over the configured LLM backend (`BabelrecChatModel`).

Small local models rarely call tools correctly, so every turn is checked: an unavailable LLM
or one that cannot call tools, an unknown tool, arguments that do not validate, or a turn that
called no tool at all makes `respond` return None (logged at WARNING) and the caller answers by
rules instead. Nothing the model did is kept then: the tools work on a copy of the state.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml
from langchain.agents import create_agent
from langchain.agents.middleware import ModelCallLimitMiddleware, ToolCallRequest, wrap_tool_call
from langchain.agents.middleware.model_call_limit import ModelCallLimitExceededError
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage
from langchain_core.tools import ToolException
from langgraph.types import Command
from pydantic import BaseModel, ConfigDict, Field

from babelrec.agent import actions
from babelrec.agent.replies import describe, for_user, name_of, reply_locale, say
from babelrec.agent.rules import (
    RulePolicy,
    apply_constraints,
    conversation_language,
    remember_script,
)
from babelrec.agent.state import ChatReply, ConversationState
from babelrec.errors import LLMError
from babelrec.llm.base import LLM
from babelrec.llm.langchain_chat import BabelrecChatModel
from babelrec.models import Recommendation

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

logger = logging.getLogger(__name__)


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchArgs(_Args):
    query: str = Field(description="What to look for, in any language.")
    k: int = Field(default=5, ge=1, le=20)


class RecommendArgs(_Args):
    k: int = Field(default=5, ge=1, le=20)
    more: bool = Field(default=False, description="True for further items, skipping shown ones.")


class ExplainArgs(_Args):
    position: int = Field(ge=1, description="1-based position in the current list.")


class PreferenceArgs(_Args):
    item_languages: list[str] = Field(default_factory=list, description="Only these (ISO 639-1).")
    exclude_item_languages: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list, description="Only these (ISO 3166-1).")
    exclude_regions: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list, description="Only these categories.")
    exclude_categories: list[str] = Field(default_factory=list)
    liked_positions: list[int] = Field(default_factory=list, description="'More like #2' -> [2].")
    disliked_positions: list[int] = Field(default_factory=list)
    topic: str = Field(default="", description="A new topic of interest, in the user's words.")
    reply_language: str | None = Field(default=None, description="ISO 639-1 reply language.")
    openness: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Openness to other cultures: 0 only the user's own languages and regions "
        "('only domestic'), 1 explore ('more from other cultures'); null: unchanged.",
    )


class ToolOutcome(BaseModel):
    """What the tools did in one turn."""

    model_config = ConfigDict(extra="forbid")

    calls: list[str] = Field(default_factory=list)
    recommendations: list[Recommendation] | None = None
    explanation: str | None = None
    warnings: list[str] = Field(default_factory=list)


def _rules_instead(reason: str) -> None:
    logger.warning("%s; answering by rules", reason)


@wrap_tool_call
def _strict_tools(
    request: ToolCallRequest, handler: Callable[[ToolCallRequest], ToolMessage | Command[Any]]
) -> ToolMessage | Command[Any]:
    """A tool call the runtime answered with an error (unknown tool, arguments that do not
    validate) ends the turn: the rules answer instead of a model that misuses its tools."""
    result = handler(request)
    if isinstance(result, ToolMessage) and result.status == "error":
        raise ToolException(str(result.content))
    return result


@lru_cache(maxsize=1)
def system_template() -> str:
    text = (resources.files("babelrec.agent") / "prompts.yaml").read_text(encoding="utf-8")
    template: str = yaml.safe_load(text)["system"]
    return template


def build_tools(
    rules: RulePolicy, state: ConversationState, outcome: ToolOutcome
) -> list[BaseTool]:
    """The four tools, bound to one turn's working state and outcome."""
    from langchain_core.tools import StructuredTool

    def search_catalog(query: str, k: int = 5) -> str:
        outcome.calls.append("search_catalog")
        result = rules.recommender.recommend(
            query, k=k, filters=state.constraints.to_filters(), explain=False
        )
        return json.dumps([_item_row(r) for r in result.items], ensure_ascii=False)

    def recommend(k: int = 5, more: bool = False) -> str:
        outcome.calls.append("recommend")
        picks, warnings = rules.recommend(state, more=more, k=k)
        outcome.recommendations, outcome.warnings = picks, warnings
        return json.dumps([_item_row(r) for r in picks], ensure_ascii=False)

    def explain_item(position: int) -> str:
        outcome.calls.append("explain_item")
        if not 1 <= position <= len(state.candidates):
            raise ToolException(f"no item {position} in a list of {len(state.candidates)}")
        item_id = state.candidates[position - 1]
        item = rules.recommender.get_items([item_id])[item_id].item
        outcome.explanation = say(
            state.language,
            "explain",
            position=position,
            title=rules.title(item, state),
            reason=rules.reason(item, state),
        )
        return outcome.explanation

    def update_preferences(**values: Any) -> str:
        outcome.calls.append("update_preferences")
        _apply(state, PreferenceArgs(**values))
        return describe(state.constraints, "en") or "no constraints"

    return [
        StructuredTool.from_function(
            func=search_catalog,
            name="search_catalog",
            description="Search the catalog for items about a query, within the constraints.",
            args_schema=SearchArgs,
        ),
        StructuredTool.from_function(
            func=recommend,
            name="recommend",
            description="Recommend items for the current preferences; they become the list.",
            args_schema=RecommendArgs,
        ),
        StructuredTool.from_function(
            func=explain_item,
            name="explain_item",
            description="Explain why the item at a position of the current list fits the user.",
            args_schema=ExplainArgs,
        ),
        StructuredTool.from_function(
            func=update_preferences,
            name="update_preferences",
            description="Record constraints and preferences the user stated.",
            args_schema=PreferenceArgs,
        ),
    ]


def _item_row(rec: Recommendation) -> dict[str, Any]:
    item = rec.item
    return {
        "position": rec.rank,
        "id": item.id,
        "title": rec.display.title if rec.display is not None else item.title,
        "title_source": rec.display.source if rec.display is not None else "original",
        "language": item.language,
        "region": item.region,
        "category": item.category,
    }


def _apply(state: ConversationState, args: PreferenceArgs) -> None:
    """What `update_preferences` asked for, through the same state changes as the rules."""
    actions.constrain(
        state,
        include={
            "languages": args.item_languages,
            "regions": args.regions,
            "categories": args.categories,
        },
        exclude={
            "languages": args.exclude_item_languages,
            "regions": args.exclude_regions,
            "categories": args.exclude_categories,
        },
    )
    marks = [(p, True) for p in args.liked_positions] + [
        (p, False) for p in args.disliked_positions
    ]
    for position, liked in marks:
        item_id = actions.item_at(state, position) if position >= 1 else None
        if item_id is None:
            raise ToolException(f"no item {position} in a list of {len(state.candidates)}")
        (actions.like if liked else actions.dislike)(state, item_id)
    # As in the rules: a topic stated together with a reference refines the request.
    actions.set_topic(state, args.topic, new_subject=not marks)
    actions.set_language(state, args.reply_language)
    if args.openness is not None:
        actions.set_openness(state, args.openness)


def _same_way(direction: str, before: ConversationState, after: ConversationState) -> bool:
    """Whether the model moved the openness the way the message asked (or left it at the end
    of the scale the message asked for)."""
    old = before.openness
    if direction == "own":
        return after.openness == 0.0 or (
            after.openness is not None and old is not None and after.openness < old
        )
    return after.openness is not None and (
        after.openness == 1.0 or old is None or after.openness > old
    )


class ToolCallingPolicy:
    """One turn on LangChain's agent runtime (`create_agent`) over a babelrec LLM backend;
    None means 'use the rules' (the reason is logged at WARNING)."""

    def __init__(
        self, rules: RulePolicy, llm: LLM, *, max_rounds: int = 3, max_tokens: int = 160
    ) -> None:
        self.rules = rules
        self.llm = llm
        self.max_rounds = max_rounds
        self.max_tokens = max_tokens

    def respond(
        self,
        session_id: str,
        state: ConversationState,
        message: str,
        history: list[tuple[str, str]],
    ) -> ChatReply | None:
        from babelrec.agent.intent import parse

        working = state.model_copy(deep=True)
        if working.language is None:
            working.language = conversation_language(message, parse(message))
        remember_script(working, parse(message))  # replies follow the user's Chinese script
        outcome = ToolOutcome()
        try:
            text = self._run(working, outcome, message, history)
        except (LLMError, ToolException) as exc:
            _rules_instead(f"the tool-calling turn failed: {exc}")
            return None
        if not outcome.calls:
            _rules_instead("the model called no tool")
            return None
        # Hard constraints the rules can read are facts of the message: a model that missed
        # or invented one is wrong, however fluent.
        intent = parse(message)
        expected = state.model_copy(deep=True)
        apply_constraints(expected, intent)
        stated = intent.include or intent.exclude or intent.clear
        if stated and expected.constraints != working.constraints:
            _rules_instead("the model's constraints differ from the message's")
            return None
        if intent.openness is not None and not _same_way(intent.openness, state, working):
            _rules_instead("the model's openness differs from the message's")
            return None
        if intent.new_subject and intent.topic and working.topics == state.topics:
            _rules_instead("the model missed the message's topic")
            return None
        return self._finish(session_id, state, working, outcome, text)

    def _run(
        self,
        working: ConversationState,
        outcome: ToolOutcome,
        message: str,
        history: list[tuple[str, str]],
    ) -> str:
        """The agent runtime's turn; the final text. Raises `ToolException` when a tool call
        failed (unknown tool, bad arguments), `LLMError` when the backend did."""
        system = system_template().format(
            language=name_of("languages", reply_locale(working.language), "en"),
            state=working.model_dump_json(exclude={"shown", "explanations", "display_titles"}),
        )
        # At most `max_rounds` model calls. A model still calling tools then has had its calls
        # run (the tools changed `working`); the reply is worded from what they did.
        limit = ModelCallLimitMiddleware(run_limit=self.max_rounds, exit_behavior="error")
        middleware: list[Any] = [limit, _strict_tools]
        agent = create_agent(
            BabelrecChatModel(llm=self.llm, max_tokens=self.max_tokens, temperature=0.0),
            build_tools(self.rules, working, outcome),
            system_prompt=system,
            middleware=middleware,
        )
        turns: list[AnyMessage] = [
            HumanMessage(text) if role == "user" else AIMessage(text) for role, text in history
        ]
        try:
            result = agent.invoke({"messages": [*turns, HumanMessage(message)]})
        except ModelCallLimitExceededError:
            return ""
        answers = [m for m in result["messages"][len(turns) + 1 :] if isinstance(m, AIMessage)]
        for answer in answers:
            if answer.invalid_tool_calls:
                bad = answer.invalid_tool_calls[0]
                raise ToolException(f"invalid call of {bad.get('name')!r}: {bad.get('error')}")
        return answers[-1].text.strip() if answers else ""

    def _finish(
        self,
        session_id: str,
        state: ConversationState,
        working: ConversationState,
        outcome: ToolOutcome,
        text: str,
    ) -> ChatReply:
        from babelrec.i18n.script import matches_language

        if outcome.explanation is None and outcome.recommendations is None:
            outcome.recommendations, outcome.warnings = self.rules.recommend(working)
        recommendations = outcome.recommendations or []
        if not text or not matches_language(text, reply_locale(working.language)):
            if outcome.explanation is not None and not recommendations:
                text = outcome.explanation
            elif recommendations:
                text = say(
                    working.language,
                    "results",
                    count=len(recommendations),
                    constraints=describe(working.constraints, working.language, working.openness),
                )
            else:
                text = say(
                    working.language,
                    "no_results",
                    constraints=describe(working.constraints, working.language, working.openness),
                )
        working.turns += 1
        for name in type(state).model_fields:
            setattr(state, name, getattr(working, name))
        return ChatReply(
            session_id=session_id,
            text=for_user(state, text),
            language=reply_locale(state.language),
            recommendations=recommendations,
            constraints=state.constraints.model_copy(deep=True),
            path="tools",
            warnings=outcome.warnings,
        )
