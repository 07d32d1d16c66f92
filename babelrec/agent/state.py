"""What a conversation remembers between turns, and what one turn answers.

The state is the whole memory of a session: it is stored as JSON (see `sessions.py`), so a
restarted process continues where the last one stopped.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from babelrec.models import ChineseScript, Filters, Recommendation

#: The kinds of hard constraint a user can set or clear.
ConstraintKind = Literal["languages", "regions", "categories"]


class ChatModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Constraints(ChatModel):
    """Hard constraints on the items: each list means 'any of these' or 'none of these'."""

    languages: list[str] = Field(default_factory=list, description="Item languages (ISO 639-1).")
    exclude_languages: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list, description="Item regions (ISO 3166-1).")
    exclude_regions: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    exclude_categories: list[str] = Field(default_factory=list)

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in type(self).model_fields)

    def to_filters(self) -> Filters | None:
        """The constraints the store can apply itself; excluded regions are filtered afterwards."""
        filters = Filters(
            languages=self.languages or None,
            regions=self.regions or None,
            categories=self.categories or None,
            exclude_categories=self.exclude_categories or None,
            exclude_languages=self.exclude_languages or None,
        )
        return None if filters.is_empty() else filters

    def include(self, kind: ConstraintKind, values: list[str]) -> None:
        """Only these values from now on (a new positive mention replaces the old ones)."""
        setattr(self, kind, list(dict.fromkeys(values)))
        excluded = getattr(self, f"exclude_{kind}")
        setattr(self, f"exclude_{kind}", [v for v in excluded if v not in values])

    def exclude(self, kind: ConstraintKind, values: list[str]) -> None:
        excluded: list[str] = getattr(self, f"exclude_{kind}")
        setattr(self, f"exclude_{kind}", list(dict.fromkeys([*excluded, *values])))
        setattr(self, kind, [v for v in getattr(self, kind) if v not in values])

    def clear(self, kind: ConstraintKind) -> None:
        setattr(self, kind, [])
        setattr(self, f"exclude_{kind}", [])


class ConversationState(ChatModel):
    """A session's memory: answer language, preferences, constraints and the current list."""

    language: str | None = Field(default=None, description="The language replies are written in.")
    script: ChineseScript | None = Field(
        default=None, description="The Chinese script the user writes in; replies follow it."
    )
    region: str | None = Field(default=None, description="The user's own region, if known.")
    topics: list[str] = Field(
        default_factory=list, description="Topic texts of the current request, for the embedder."
    )
    disliked_topics: list[str] = Field(default_factory=list)
    liked_items: list[str] = Field(default_factory=list, description="Every item the user liked.")
    disliked_items: list[str] = Field(default_factory=list)
    anchors: list[str] = Field(
        default_factory=list,
        description="Liked items the current request is 'more like'; cleared by a new subject.",
    )
    constraints: Constraints = Field(default_factory=Constraints)
    openness: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Openness to other cultures the user asked for (UserProfile.openness); "
        "None: the setting calibration.openness.",
    )
    candidates: list[str] = Field(
        default_factory=list, description="The current list: 'the second one' is candidates[1]."
    )
    shown: list[str] = Field(default_factory=list, description="Every item shown so far.")
    explanations: dict[str, str] = Field(
        default_factory=dict, description="The pipeline's explanation of each current item."
    )
    explanations_language: str | None = None
    display_titles: dict[str, str] = Field(
        default_factory=dict,
        description="Each current item's title as the reader sees it (its display title), in "
        "explanations_language; replies quote these.",
    )
    awaiting_clarification: bool = False
    turns: int = 0


class ChatReply(ChatModel):
    """One answer of the agent."""

    session_id: str
    text: str
    language: str
    recommendations: list[Recommendation] = Field(default_factory=list)
    clarifying_question: bool = False
    constraints: Constraints = Field(default_factory=Constraints)
    path: Literal["rules", "tools"] = "rules"
    warnings: list[str] = Field(default_factory=list)
