"""`Display`: a recommended item as its reader sees it (`babelrec.display` makes one).

Apart from `babelrec.models` only to keep that module short; `Recommendation.display` holds one.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DisplaySource = Literal["original", "catalog", "machine"]


class Display(BaseModel):
    """An item's title and a one- or two-sentence summary in the reader's language and script,
    and where that text came from. When no text in the reader's language could be had, the
    original is shown (`in_user_language` is False) and `fallback` says whether a machine
    translation was made and refused by its check."""

    model_config = ConfigDict(extra="forbid")

    title: str
    summary: str = ""
    language: str = Field(description="The shown text's language; Chinese with its script.")
    in_user_language: bool = Field(description="The text is in the reader's language and script.")
    source: DisplaySource = Field(
        description="original: the item's own text; catalog: a translation the catalog supplied; "
        "machine: translated by babelrec with `model`."
    )
    model: str | None = Field(default=None, description="The translation model (source machine).")
    fallback: bool = Field(
        default=False, description="A machine translation failed its check: the original is shown."
    )
    fallback_reason: str | None = Field(default=None, description="Why it failed the check.")
