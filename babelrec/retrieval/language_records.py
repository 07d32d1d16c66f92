"""Where a store keeps its `LanguageStats`: a small side collection beside the items.

One record per language (``lang:<code>``, ``lang:`` for unknown) holds its count and its exact
float64 sum as JSON in the metadata, and a ``meta`` record says the stats are tracked and for
which embedder. A side collection, not a local file, so the embedded store and a Chroma server
(shared by several processes) work alike; not the items collection's own metadata, whose size
would grow with the number of languages on every read of the collection.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from babelrec.errors import EmbeddingMismatchError, StoreError
from babelrec.models import Item
from babelrec.retrieval.language_space import LanguageStats

#: A stored record as the store snapshots it: (vector, metadata).
RawRecord = tuple[Any, Any]

META_ID = "meta"
PREFIX = "lang:"
FORMAT = 1
# Chroma needs an embedding per record; these records are read by id only.
_PLACEHOLDER = [1.0]


def side_collection_name(collection: str) -> str:
    """The side collection's name: the items collection's plus a suffix (Chroma's limit is 512)."""
    suffix = "-langstats"
    return collection[: 512 - len(suffix)] + suffix


class LanguageRecords:
    """Read and write one store's language statistics."""

    def __init__(self, client: Any, collection: str, embedder_name: str, dimension: int) -> None:
        self.embedder_name = embedder_name
        self.dimension = dimension
        try:
            self.collection = client.get_or_create_collection(
                name=side_collection_name(collection),
                metadata={"babelrec_language_stats": FORMAT},
                embedding_function=None,
            )
        except Exception as exc:
            raise StoreError(
                f"cannot open the language statistics of {collection!r}: {exc}"
            ) from exc

    def load(self, *, start: bool = False) -> LanguageStats | None:
        """The stats, or None when this store never tracked them (run `babelrec migrate`);
        with `start` (an empty store), empty stats to track from the first write."""
        got = self.collection.get(include=["metadatas"])
        records = dict(zip(got["ids"], got["metadatas"], strict=True))
        meta = records.pop(META_ID, None)
        if meta is None:
            return LanguageStats(self.dimension) if start else None
        same_model = str(meta.get("embedder")).split("@")[0] == self.embedder_name.split("@")[0]
        if not same_model or meta.get("dimension") != self.dimension:
            raise EmbeddingMismatchError(
                f"language statistics were made for {meta.get('embedder')} "
                f"({meta.get('dimension')}-d), not {self.embedder_name}; run `babelrec migrate`"
            )
        stats = LanguageStats(self.dimension)
        for record_id, data in records.items():
            key = record_id.removeprefix(PREFIX)
            stats.counts[key] = int(data["count"])
            stats.sums[key] = np.asarray(json.loads(str(data["sum"])), dtype=np.float64)
        return stats

    def save(self, stats: LanguageStats, *, previous: LanguageStats | None = None) -> None:
        """Write the languages whose numbers changed (all of them without `previous`)."""
        changed = [
            key
            for key in stats.counts
            if previous is None
            or previous.counts.get(key) != stats.counts[key]
            or key not in previous.sums
            or not np.array_equal(previous.sums[key], stats.sums[key])
        ]
        gone = [k for k in (previous.counts if previous else {}) if k not in stats.counts]
        ids = [META_ID] + [PREFIX + k for k in changed]
        metadatas: list[dict[str, Any]] = [
            {"embedder": self.embedder_name, "dimension": self.dimension, "format": FORMAT}
        ]
        metadatas += [
            {"count": stats.counts[k], "sum": json.dumps(stats.sums[k].tolist())} for k in changed
        ]
        self.collection.upsert(ids=ids, embeddings=[_PLACEHOLDER] * len(ids), metadatas=metadatas)
        if gone:
            self.collection.delete(ids=[PREFIX + k for k in gone])

    def update(
        self,
        stats: LanguageStats | None,
        removed: Iterable[RawRecord],
        vectors: Any,
        items: Sequence[Item],
    ) -> LanguageStats | None:
        """Take `removed` records out of `stats`, add `items` with their `vectors`, save, and
        return the new stats (nothing when the store does not track its languages yet)."""
        if stats is None:
            return None
        updated = LanguageStats(self.dimension, dict(stats.counts), dict(stats.sums))
        old = [(vector, (meta or {}).get("language") or "") for vector, meta in removed]
        if old:
            updated.remove(np.asarray([v for v, _ in old]), [str(lang) for _, lang in old])
        if items:
            updated.add(np.asarray(vectors), [item.language for item in items])
        self.save(updated, previous=stats)
        return updated

    def rebuild(self, parts: Iterable[Iterable[RawRecord]]) -> LanguageStats:
        """Stats recomputed from every stored record (given in parts), replacing the old."""
        stats = LanguageStats(self.dimension)
        for part in parts:
            rows = [(vector, (meta or {}).get("language") or "") for vector, meta in part]
            if rows:
                stats.add(np.asarray([v for v, _ in rows]), [str(lang) for _, lang in rows])
        self.clear()
        self.save(stats)
        return stats

    def clear(self) -> None:
        ids = self.collection.get(include=[])["ids"]
        if ids:
            self.collection.delete(ids=list(ids))
