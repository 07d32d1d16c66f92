"""Where a store keeps its `LanguageStats`: a small side collection beside the items.

One record per language (``lang:<code>``, ``lang:`` for unknown) holds its count and its exact
float64 sum as JSON in the metadata, and a ``meta`` record says the stats are tracked and for
which embedder. A side collection, not a local file, so the embedded store and a Chroma server
(shared by several processes) work alike; not the items collection's own metadata, whose size
would grow with the number of languages on every read of the collection.

Records and statistics are two writes, so they can fall out of step: a process killed between
them, or two processes writing one server collection at once (each adds its items to the
statistics it read, and the last save wins). `current` compares the statistics' item count with
the collection's: a writer recomputes them from the records before and after it writes when
they disagree, so the last writer to finish leaves them right; a reader uses them as they are,
with one warning. A lost write that only replaced records leaves the count as it was: `babelrec
check`, which compares the statistics with every record, reports it, and `babelrec migrate`
recomputes them (so does a later write that replaces or deletes a record they never counted).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from babelrec.errors import EmbeddingMismatchError, StoreError
from babelrec.models import Item
from babelrec.retrieval.language_space import LanguageStats
from babelrec.retrieval.records import raw_records

logger = logging.getLogger(__name__)

#: A stored record as the store snapshots it: (vector, metadata).
RawRecord = tuple[Any, Any]

META_ID = "meta"
PREFIX = "lang:"
FORMAT = 1
#: Rebuilds a writer tries while other writers keep changing the collection under it.
REBUILD_TRIES = 3
# Chroma needs an embedding per record; these records are read by id only.
_PLACEHOLDER = [1.0]


def vectors_and_languages(records: Iterable[RawRecord]) -> tuple[np.ndarray, list[str]]:
    """Stored records' vectors and the language each counts under ("" when it has none), as
    `LanguageStats.add` and `remove` take them."""
    rows = list(records)
    languages = [str((meta or {}).get("language") or "") for _, meta in rows]
    return np.asarray([vector for vector, _ in rows]), languages


def side_collection_name(collection: str) -> str:
    """The side collection's name: the items collection's plus a suffix (Chroma's limit is 512)."""
    suffix = "-langstats"
    return collection[: 512 - len(suffix)] + suffix


class LanguageRecords:
    """Read and write the language statistics of one store's `items` collection."""

    def __init__(
        self,
        client: Any,
        items: Any,
        collection: str,
        embedder_name: str,
        dimension: int,
        *,
        create: bool = True,
    ) -> None:
        """`create`: make the side collection when it is missing (else `StoreError`)."""
        self.items = items
        self.name = collection
        self.embedder_name = embedder_name
        self.dimension = dimension
        self._warned = False
        try:
            if not create:
                self.collection = client.get_collection(name=side_collection_name(collection))
                return
            self.collection = client.get_or_create_collection(
                name=side_collection_name(collection),
                metadata={"babelrec_language_stats": FORMAT},
                embedding_function=None,
            )
        except Exception as exc:
            raise StoreError(
                f"cannot open the language statistics of {collection!r}: {exc}"
            ) from exc

    def current(self, *, writing: bool = False) -> LanguageStats | None:
        """The stats, checked against the number of item records (None when this store never
        tracked them). `writing`: an empty store starts tracking, and stats out of step with
        the records are recomputed from them and saved; a reader gets them as they are."""
        count = int(self.items.count())
        stats = self.load(start=writing and count == 0)
        if writing and count == 0 and stats is not None and not stats.total:
            # tracked from before the first record: a write killed after its records leaves
            # stats that disagree (repaired), never a store that looks as if it predates them
            self.save(stats)
        if stats is None or stats.total == count:
            return stats
        why = (
            f"the language statistics of {self.name!r} describe {stats.total} items but it "
            f"holds {count} (a write interrupted between its records and its statistics, or "
            "another process writing at the same time)"
        )
        if writing:
            logger.warning("%s; recomputing them from the records", why)
            return self._rebuild_until_steady()
        if not self._warned:
            self._warned = True
            logger.warning("%s; the next write or `babelrec migrate` recomputes them", why)
        return stats

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
        return the new stats (nothing when the store does not track its languages yet). Called
        once the records are written: stats that cannot give up the replaced records are
        recomputed from the records instead."""
        if stats is None:
            return None
        updated = LanguageStats(self.dimension, dict(stats.counts), dict(stats.sums))
        old, languages = vectors_and_languages(removed)
        try:
            if languages:
                updated.remove(old, languages)
        except ValueError as exc:  # they never counted what this write replaced: a lost write
            logger.warning(
                "the language statistics of %r do not hold the records this write replaced "
                "(%s); recomputing them from the records",
                self.name,
                exc,
            )
            return self._rebuild_until_steady()
        if items:
            updated.add(np.asarray(vectors), [item.language for item in items])
        self.save(updated, previous=stats)
        return updated

    def rebuild(self, parts: Iterable[Iterable[RawRecord]]) -> LanguageStats:
        """Stats recomputed from every stored record (given in parts), replacing the old."""
        stats = LanguageStats(self.dimension)
        for part in parts:
            part_vectors, languages = vectors_and_languages(part)
            if languages:
                stats.add(part_vectors, languages)
        self.clear()
        self.save(stats)
        return stats

    def _rebuild_until_steady(self) -> LanguageStats:
        """`rebuild_from_items` until the stats describe as many items as the collection then
        holds: another writer may have written during the read (or saved its stale stats over
        ours), and each process that saves stale stats tries again, so the last save is right."""
        for _ in range(REBUILD_TRIES - 1):
            stats = self.rebuild_from_items()
            if stats.total == int(self.items.count()):
                return stats
        return self.rebuild_from_items()

    def rebuild_from_items(self, page: int = 1000) -> LanguageStats:
        """`rebuild` from every record of the items collection (one full read)."""
        return self.rebuild(self._item_records(page))

    def _item_records(self, page: int) -> Iterator[list[RawRecord]]:
        ids = list(self.items.get(include=[])["ids"])
        for part in raw_records(self.items, ids, page):
            yield [(vector, meta) for _, vector, meta in part]

    def clear(self) -> None:
        ids = self.collection.get(include=[])["ids"]
        if ids:
            self.collection.delete(ids=list(ids))
