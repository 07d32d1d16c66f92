"""The domain: items, users, candidates and ranked results, as strict pydantic models.

Every model forbids unknown fields, so a typo in a catalog row or a user file fails loudly.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MetadataValue = str | int | float | bool


class Strict(BaseModel):
    """Base for babelrec's models: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


def _lower_code(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value.lower() or None


class Item(Strict):
    """A catalog item (news story, film, product) with text in any language."""

    id: str = Field(min_length=1, max_length=256)
    title: str = Field(min_length=1)
    text: str = ""
    language: str | None = Field(default=None, description="ISO 639-1 code, e.g. 'zh'.")
    region: str | None = Field(default=None, description="ISO 3166-1 alpha-2 code of origin.")
    category: str | None = None
    tags: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(
        default_factory=list,
        description="Key phrases of the item's text, computed at ingest when not given.",
    )
    metadata: dict[str, MetadataValue] = Field(default_factory=dict)

    @field_validator("id", "title")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    @field_validator("language", "category")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return _lower_code(value)

    @field_validator("region")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        lowered = _lower_code(value)
        return lowered.upper() if lowered else None

    def embedding_text(self) -> str:
        """The text that represents the item to an embedder: title, then the body if any."""
        return f"{self.title}. {self.text}".strip() if self.text else self.title

    def content_hash(self) -> str:
        """A hash of everything stored for the item; unchanged items are not re-embedded."""
        payload = self.model_dump_json(exclude={"id"})
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


class HistoryEntry(Strict):
    """One item a user interacted with, optionally with when."""

    item_id: str = Field(min_length=1)
    timestamp: datetime | None = None


class UserProfile(Strict):
    """What babelrec knows of a user: locale, stated interests and interaction history."""

    id: str | None = None
    language: str = Field(default="en", description="The user's language (ISO 639-1).")
    region: str | None = None
    interests: str = Field(default="", description="Free text, in any language.")
    history: list[HistoryEntry] = Field(default_factory=list)

    @field_validator("history", mode="before")
    @classmethod
    def _accept_bare_ids(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"item_id": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("language")
    @classmethod
    def _lower_language(cls, value: str) -> str:
        lowered = _lower_code(value)
        if not lowered:
            raise ValueError("must not be blank")
        return lowered

    @field_validator("region")
    @classmethod
    def _upper_region(cls, value: str | None) -> str | None:
        lowered = _lower_code(value)
        return lowered.upper() if lowered else None

    @property
    def history_ids(self) -> list[str]:
        return [entry.item_id for entry in self.history]


class Filters(Strict):
    """Hard constraints on candidates; each list means 'any of these'."""

    languages: list[str] | None = None
    regions: list[str] | None = None
    categories: list[str] | None = None
    exclude_categories: list[str] | None = None
    exclude_languages: list[str] | None = None

    @model_validator(mode="after")
    def _normalise(self) -> Filters:
        for name in ("languages", "categories", "exclude_categories", "exclude_languages"):
            values = getattr(self, name)
            if values is not None:
                setattr(self, name, [v.strip().lower() for v in values if v.strip()])
        if self.regions is not None:
            self.regions = [v.strip().upper() for v in self.regions if v.strip()]
        return self

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in type(self).model_fields)


class StageScores(Strict):
    """A candidate's score at each stage; `final` decides the order."""

    retrieval: float = Field(description="Cosine similarity of user and item vectors.")
    bilinear: float | None = Field(default=None, description="R(u,i) = sum_j w_ij u_j i_j.")
    hybrid: float | None = Field(
        default=None, description="Fused content, collaborative and popularity score."
    )
    llm: float | None = Field(default=None, description="Normalised LLM reranker score.")
    final: float


class Candidate(Strict):
    """An item that came back from retrieval, with its scores so far."""

    item: Item
    scores: StageScores


class Explanation(Strict):
    """Why an item was recommended, in the user's language."""

    text: str
    language: str
    source: Literal["llm", "template"]
    matched_interests: list[str] = Field(default_factory=list)
    matched_history: list[str] = Field(default_factory=list)
    cultural_note: str | None = None


class Recommendation(Strict):
    """One ranked pick."""

    rank: int = Field(ge=1)
    item: Item
    scores: StageScores
    explanation: Explanation | None = None


class RepairCounts(Strict):
    """How much an LLM's output had to be fixed before use."""

    invalid_ids: int = 0
    duplicates: int = 0
    missing_appended: int = 0
    history_removed: int = 0
    retries: int = 0

    @property
    def total(self) -> int:
        return (
            self.invalid_ids
            + self.duplicates
            + self.missing_appended
            + self.history_removed
            + self.retries
        )


class RecommendationResult(Strict):
    """A ranked list for one user, with how it was made and anything that went wrong."""

    user: UserProfile
    items: list[Recommendation]
    ranker: str = Field(description="The stages that produced the order, e.g. 'bilinear'.")
    degraded: bool = False
    degraded_reason: str | None = None
    warnings: list[str] = Field(default_factory=list)
    unknown_history: list[str] = Field(default_factory=list)
    repairs: RepairCounts | None = None
    timings: dict[str, float] = Field(default_factory=dict, description="Seconds per stage.")
