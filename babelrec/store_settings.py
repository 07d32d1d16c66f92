"""The store group of `Settings` (`babelrec.retrieval.store`).

Kept apart from `babelrec.settings` only so that module stays readable; it reads and sets as
``settings.store`` and ``BABELREC_STORE__<FIELD>``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: HNSW search breadth for 100 neighbours: recall@100 0.97 at a million items (README, Scale).
DEFAULT_EF_SEARCH = 400


class StoreSettings(BaseModel):
    """Where items and vectors live, and how Chroma's index searches them."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    path: Path | None = Field(
        default=None, description="Embedded Chroma directory; default: DATA_DIR/chroma."
    )
    chroma_url: str | None = Field(
        default=None, description="A Chroma server, e.g. http://127.0.0.1:8000 (not with path)."
    )
    collection: str = Field(default="babelrec-items", min_length=3, max_length=512)
    ef_search: int = Field(
        default=DEFAULT_EF_SEARCH,
        ge=1,
        description="HNSW search breadth (Chroma's `ef_search`): higher finds more of the true "
        "nearest items, slower. 400 keeps recall@100 at 0.97 at a million items (README, Scale).",
    )

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        if not set(value) <= allowed or not (value[0].isalnum() and value[-1].isalnum()):
            raise ValueError(
                "a Chroma collection name is 3-512 characters of [a-zA-Z0-9._-], "
                "starting and ending with a letter or digit"
            )
        return value

    @model_validator(mode="after")
    def _one_store(self) -> StoreSettings:
        if self.path is not None and self.chroma_url:
            raise ValueError("store.path and store.chroma_url are both set: set only one")
        return self
