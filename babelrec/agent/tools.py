"""The tool-calling chat path: a capable hosted model reads the message and calls LangChain
tools (search the catalog, recommend, explain an item, update preferences) over the same state
and pipeline as the rules.

Small local models rarely call tools correctly, so every turn is checked: an API error, an
unknown tool, arguments that do not validate, or a turn that called no tool at all makes
`respond` return None and the caller answers by rules instead. Nothing the model did is kept
then: the tools work on a copy of the state.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from babelrec.agent.replies import describe, name_of, reply_locale, reply_locales, say
from babelrec.agent.rules import RulePolicy, apply_constraints, conversation_language
from babelrec.agent.state import ChatReply, ConstraintKind, ConversationState
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


class ToolOutcome(BaseModel):
    """What the tools did in one turn."""

    model_config = ConfigDict(extra="forbid")

    calls: list[str] = Field(default_factory=list)
    recommendations: list[Recommendation] | None = None
    explanation: str | None = None
    warnings: list[str] = Field(default_factory=list)


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
            raise ValueError(f"no item {position} in a list of {len(state.candidates)}")
        item_id = state.candidates[position - 1]
        item = rules.recommender.get_items([item_id])[item_id].item
        outcome.explanation = say(
            state.language,
            "explain",
            position=position,
            title=item.title,
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
        "title": item.title,
        "language": item.language,
        "region": item.region,
        "category": item.category,
    }


def _apply(state: ConversationState, args: PreferenceArgs) -> None:
    pairs: list[tuple[ConstraintKind, list[str], list[str]]] = [
        ("languages", args.item_languages, args.exclude_item_languages),
        ("regions", args.regions, args.exclude_regions),
        ("categories", args.categories, args.exclude_categories),
    ]
    for kind, include, exclude in pairs:
        case = str.upper if kind == "regions" else str.lower
        if include:
            state.constraints.include(kind, [case(v) for v in include])
        if exclude:
            state.constraints.exclude(kind, [case(v) for v in exclude])
    marks = [(p, True) for p in args.liked_positions] + [
        (p, False) for p in args.disliked_positions
    ]
    for position, liked in marks:
        if not 1 <= position <= len(state.candidates):
            raise ValueError(f"no item {position} in a list of {len(state.candidates)}")
        item_id = state.candidates[position - 1]
        if liked:
            state.liked_items = list(dict.fromkeys([*state.liked_items, item_id]))
            state.anchors = list(dict.fromkeys([*state.anchors, item_id]))
        else:
            state.disliked_items = list(dict.fromkeys([*state.disliked_items, item_id]))
    if args.topic.strip():
        state.topics = [args.topic.strip()]
    if args.reply_language and args.reply_language.lower() in reply_locales():
        state.language = args.reply_language.lower()


class ToolCallingPolicy:
    """One turn through an OpenAI-compatible chat model with tools; None means 'use the rules'."""

    def __init__(
        self,
        rules: RulePolicy,
        client: Any,
        model: str,
        *,
        max_rounds: int = 3,
        max_tokens: int = 160,
    ) -> None:
        self.rules = rules
        self.client = client
        self.model = model
        self.max_rounds = max_rounds
        self.max_tokens = max_tokens

    def respond(
        self,
        session_id: str,
        state: ConversationState,
        message: str,
        history: list[tuple[str, str]],
    ) -> ChatReply | None:
        from langchain_core.utils.function_calling import convert_to_openai_tool

        from babelrec.agent.intent import parse

        working = state.model_copy(deep=True)
        if working.language is None:
            working.language = conversation_language(message, parse(message))
        outcome = ToolOutcome()
        tools = {tool.name: tool for tool in build_tools(self.rules, working, outcome)}
        specs = [convert_to_openai_tool(tool) for tool in tools.values()]
        system = system_template().format(
            language=name_of("languages", reply_locale(working.language), "en"),
            state=working.model_dump_json(exclude={"shown", "explanations"}),
        )
        messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
        messages += [{"role": role, "content": text} for role, text in history]
        messages.append({"role": "user", "content": message})
        text = ""
        try:
            for _ in range(self.max_rounds):
                response = self.client.chat.completions.create(
                    model=self.model,
                    messages=messages,
                    tools=specs,
                    tool_choice="auto",
                    temperature=0.0,
                    max_tokens=self.max_tokens,
                )
                choice = response.choices[0].message
                text = (choice.content or "").strip()
                if not choice.tool_calls:
                    break
                messages.append(choice.model_dump(exclude_none=True))
                for call in choice.tool_calls:
                    tool = tools.get(call.function.name)
                    if tool is None:
                        raise ValueError(f"unknown tool {call.function.name!r}")
                    result = tool.invoke(json.loads(call.function.arguments or "{}"))
                    messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
        except Exception as exc:  # any failure of the model's turn means: answer by rules
            logger.info("tool-calling turn failed, answering by rules: %s", exc)
            return None
        if not outcome.calls:
            logger.info("the model called no tool, answering by rules")
            return None
        # Hard constraints the rules can read are facts of the message: a model that missed
        # or invented one is wrong, however fluent.
        intent = parse(message)
        expected = state.model_copy(deep=True)
        apply_constraints(expected, intent)
        stated = intent.include or intent.exclude or intent.clear
        if stated and expected.constraints != working.constraints:
            logger.info("the model's constraints differ from the message's, answering by rules")
            return None
        if intent.new_subject and intent.topic and working.topics == state.topics:
            logger.info("the model missed the message's topic, answering by rules")
            return None
        return self._finish(session_id, state, working, outcome, text)

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
                    constraints=describe(working.constraints, working.language),
                )
            else:
                text = say(
                    working.language,
                    "no_results",
                    constraints=describe(working.constraints, working.language),
                )
        working.turns += 1
        for name in type(state).model_fields:
            setattr(state, name, getattr(working, name))
        return ChatReply(
            session_id=session_id,
            text=text,
            language=reply_locale(state.language),
            recommendations=recommendations,
            constraints=state.constraints.model_copy(deep=True),
            path="tools",
            warnings=outcome.warnings,
        )
