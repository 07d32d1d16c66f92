"""What an explanation rests on: typed evidence entries, found by the ranking's own similarity.

Kept apart from `babelrec.models` only so that module stays readable (`Explanation.evidence` holds
a list of these). Like every babelrec model, unknown fields are an error. `kind` tells the entries
apart, so a JSON list of mixed entries reads back into the right classes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

#: Where a cultural note comes from: the item's region (or language) in the catalog, the share of
#: the user's own history from that region (or language), or the `holidays` library.
CultureSource = Literal["catalog region", "catalog language", "history share", "holidays"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HistoryEvidence(_Strict):
    """An item of the user's history that the pick is close to."""

    kind: Literal["history"] = "history"
    item_id: str = Field(min_length=1)
    title: str = Field(description="The history item's title, as shown to the user.")
    similarity: float = Field(ge=-1.0, le=1.0, description="Cosine of the two item vectors.")


class InterestEvidence(_Strict):
    """The phrase of the user's request or stated interests that the pick matches."""

    kind: Literal["interest"] = "interest"
    phrase: str = Field(min_length=1)
    similarity: float = Field(ge=-1.0, le=1.0, description="Cosine of phrase and item vectors.")


class CultureEvidence(_Strict):
    """A specific, checkable note about where the pick comes from, and what it rests on."""

    kind: Literal["culture"] = "culture"
    text: str = Field(min_length=1, description="What is said, in the reader's language.")
    source: CultureSource
    origin: str | None = Field(
        default=None, description="The region (ISO 3166-1) or language (ISO 639-1) meant."
    )
    share: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Share of the user's history from `origin`."
    )
    holiday: str | None = Field(default=None, description="The holiday's localised name.")


Evidence = Annotated[
    HistoryEvidence | InterestEvidence | CultureEvidence, Field(discriminator="kind")
]
