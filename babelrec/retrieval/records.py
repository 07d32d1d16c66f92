"""What one Chroma record of an item holds: its filterable fields, content hash and JSON in the
metadata, and how that reads back into an `Item` (or a `StoredItemError` naming the record); and
the two shapes a record is read back as, `StoredItem` and a search's `Hit`; and reading records
raw, page by page."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError

from babelrec.errors import StoredItemError
from babelrec.models import Item


@dataclass(frozen=True)
class StoredItem:
    item: Item
    content_hash: str
    vector: np.ndarray | None = None


@dataclass(frozen=True)
class Hit:
    """One retrieval result: the item and its cosine similarity to the query vector."""

    item: Item
    similarity: float
    vector: np.ndarray | None = None


def item_metadata(item: Item) -> dict[str, str | int | float | bool]:
    """The record's metadata: the fields filters use, the content hash and the item's JSON."""
    return {
        "language": item.language or "",
        "region": item.region or "",
        "category": item.category or "",
        "content_hash": item.content_hash(),
        "item_json": item.model_dump_json(),
    }


def decode_item(item_id: str, meta: Any, location: str) -> Item:
    """The `Item` a record's metadata holds; `StoredItemError` (naming it) when it cannot be
    read back."""
    raw = (meta or {}).get("item_json")
    if not isinstance(raw, str):
        raise StoredItemError(item_id, location, "its record has no item_json")
    try:
        item = Item.model_validate_json(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'item'}: "
            f"{err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors()
        )
        raise StoredItemError(item_id, location, problems) from None
    if item.id != item_id:
        raise StoredItemError(item_id, location, f"its item_json holds item {item.id!r}")
    return item


def raw_records(
    collection: Any, ids: Sequence[str], page: int
) -> Iterator[list[tuple[str, Any, Any]]]:
    """The records of `collection` among `ids` as (id, vector, metadata), readable or not, read
    `page` ids at a time."""
    for start in range(0, len(ids), page):
        got = collection.get(
            ids=list(ids[start : start + page]), include=["embeddings", "metadatas"]
        )
        yield list(zip(got["ids"], got["embeddings"], got["metadatas"], strict=True))
