"""Request and response bodies of the HTTP API (documented in /openapi.json)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from babelrec.models import Filters, Item, UserProfile


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RecommendRequest(_Body):
    """A user profile or free text, and what to return."""

    user: UserProfile | None = Field(default=None, description="Who to recommend for.")
    text: str | None = Field(default=None, description="Or a free-text request, any language.")
    language: str | None = Field(default=None, description="Language of `text`; default: detected.")
    k: int = Field(default=10, ge=1, le=100, description="How many items.")
    filters: Filters | None = None
    explain: bool = Field(default=True, description="Add explanations in the user's language.")
    use_llm: bool | None = Field(
        default=None, description="Let the LLM rerank; default: when one is configured."
    )

    @model_validator(mode="after")
    def _one_subject(self) -> RecommendRequest:
        if (self.user is None) == (self.text is None):
            raise ValueError("give exactly one of `user` and `text`")
        return self


class ChatRequest(_Body):
    """One user message of a conversation."""

    message: str = Field(min_length=1, max_length=2000)


class ItemsRequest(_Body):
    """A batch of catalog items, ingested all or nothing."""

    items: list[Item] = Field(min_length=1, max_length=5000)


class Health(_Body):
    status: str = "ok"
    items: int = Field(description="Items in the store.")
    llm: str = Field(description="The configured LLM backend.")
