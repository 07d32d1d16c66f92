"""`VectorStore`: babelrec's one door to ChromaDB, embedded or over HTTP.

The collection records which embedder made its vectors (name and dimension); opening it with a
different embedder raises `EmbeddingMismatchError` instead of mixing vector spaces; a collection
written under an embedder's older identity (the same name without its `@fingerprint`) is upgraded
on open (`babelrec.retrieval.identity`). Writes are all-or-nothing: a failed upsert restores the
records it touched. A stored item that cannot be read back (written by an older babelrec, or by
hand) is skipped with a warning naming it, never failing the request; re-ingesting its row
repairs it. Chroma keeps the raw vectors; every write also updates the per-language statistics
of the language-agnostic space (`babelrec.retrieval.language_records`), so nothing is re-read to
keep them current unless they disagree with the records (an interrupted write, two writers).
After each write to an embedded store the unused slots of its HNSW files are zeroed, since Chroma
fills them with whatever this process had freed (`babelrec.retrieval.hnsw_files`).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from babelrec.errors import EmbeddingMismatchError, StoredItemError, StoreError
from babelrec.models import Filters, Item
from babelrec.retrieval.chroma import connect, where_clause
from babelrec.retrieval.hnsw_files import scrub_unused_slots, store_lock
from babelrec.retrieval.identity import bind_embedder
from babelrec.retrieval.language_records import LanguageRecords
from babelrec.retrieval.language_space import LanguageStats
from babelrec.retrieval.records import (
    Hit,
    StoredItem,
    decode_item,
    item_metadata,
    raw_records,
)
from babelrec.store_settings import DEFAULT_EF_SEARCH

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1


def _chunks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


class VectorStore:
    """A Chroma collection of items and their vectors, bound to one embedder."""

    def __init__(
        self,
        client: Any,
        *,
        collection: str,
        embedder_name: str,
        dimension: int,
        artifact_dir: Path,
        location: str,
        ef_search: int = DEFAULT_EF_SEARCH,
        store_dir: Path | None = None,
    ) -> None:
        """`store_dir`: the folder of an embedded store (None for a server)."""
        self.client = client
        self.store_dir = store_dir
        self.embedder_name = embedder_name
        self.dimension = dimension
        self.artifact_dir = artifact_dir
        self.location = location
        self.collection_name = collection
        self._warned: set[str] = set()
        try:
            self.collection = client.get_or_create_collection(
                name=collection,
                metadata={
                    "babelrec_embedder": embedder_name,
                    "babelrec_dimension": dimension,
                    "babelrec_schema": SCHEMA_VERSION,
                },
                configuration={"hnsw": {"space": "cosine", "ef_search": ef_search}},
                embedding_function=None,
            )
            if (self.collection.configuration_json.get("hnsw") or {}).get("ef_search") != ef_search:
                # an existing collection keeps its creation settings: ef_search may change
                self.collection.modify(configuration={"hnsw": {"ef_search": ef_search}})
        except Exception as exc:
            raise StoreError(f"cannot open collection {collection!r} at {location}: {exc}") from exc
        bind_embedder(self.collection, embedder_name, dimension, collection, location)

    @classmethod
    def open(
        cls,
        *,
        embedder_name: str,
        dimension: int,
        store_path: Path | None = None,
        chroma_url: str | None = None,
        collection: str = "babelrec-items",
        data_dir: Path = Path(".babelrec"),
        ef_search: int = DEFAULT_EF_SEARCH,
    ) -> VectorStore:
        """Open (creating if needed) a store: a Chroma server when `chroma_url` is set, else
        an embedded `PersistentClient` at `store_path`."""
        client, artifact_dir, location = connect(
            store_path=store_path, chroma_url=chroma_url, collection=collection, data_dir=data_dir
        )
        return cls(
            client,
            collection=collection,
            embedder_name=embedder_name,
            dimension=dimension,
            artifact_dir=artifact_dir,
            location=location,
            ef_search=ef_search,
            store_dir=None if chroma_url else Path(location),
        )

    def item_or_none(self, item_id: str, meta: Any) -> Item | None:
        """The record's item, or None (with one warning naming it) when it cannot be read."""
        try:
            return decode_item(item_id, meta, self.location)
        except StoredItemError as exc:
            if item_id not in self._warned:
                self._warned.add(item_id)
                logger.warning("skipping %s", exc)
            return None

    # -- reads -----------------------------------------------------------------------------

    def count(self) -> int:
        return int(self.collection.count())

    def get(self, ids: Sequence[str], *, with_vectors: bool = False) -> dict[str, StoredItem]:
        """The stored items among `ids` (missing ids are simply absent from the result)."""
        if not ids:
            return {}
        include = ["metadatas", "embeddings"] if with_vectors else ["metadatas"]
        found: dict[str, StoredItem] = {}
        unique = list(dict.fromkeys(ids))
        for part in _chunks(len(unique), self._batch_size()):
            got = self.collection.get(ids=unique[part], include=include)
            vectors = got.get("embeddings") if with_vectors else None
            for pos, (item_id, meta) in enumerate(zip(got["ids"], got["metadatas"], strict=True)):
                item = self.item_or_none(item_id, meta)
                if item is None:
                    continue
                vector = None
                if vectors is not None:
                    vector = np.asarray(vectors[pos], dtype=np.float32)
                found[item_id] = StoredItem(
                    item=item, content_hash=str(meta.get("content_hash", "")), vector=vector
                )
        return found

    def query(
        self,
        vector: np.ndarray,
        n: int,
        *,
        filters: Filters | None = None,
        exclude_ids: Sequence[str] = (),
        language: str | None = None,
        with_vectors: bool = False,
    ) -> list[Hit]:
        """The `n` items nearest to `vector` (cosine) that pass `filters`, minus `exclude_ids`;
        only items of `language` ("" = unknown) when it is given."""
        vector = self._checked_vectors(np.asarray(vector, dtype=np.float32).reshape(1, -1))[0]
        if n <= 0:
            return []
        excluded = set(exclude_ids)
        # Chroma returns fewer than n_results when the collection is smaller, so no count()
        # round trip is needed (it would double the latency against a server).
        want = n + len(excluded)
        result = self.collection.query(
            query_embeddings=[vector.tolist()],
            n_results=want,
            where=where_clause(filters, language),
            include=["metadatas", "distances", *(["embeddings"] if with_vectors else [])],
        )
        found = result.get("embeddings") if with_vectors else None
        embeddings = found[0] if found is not None else None
        hits: list[Hit] = []
        for pos, (item_id, meta, distance) in enumerate(
            zip(result["ids"][0], result["metadatas"][0], result["distances"][0], strict=True)
        ):
            item = None if item_id in excluded else self.item_or_none(item_id, meta)
            if item is None:
                continue
            raw = None if embeddings is None else np.asarray(embeddings[pos], dtype=np.float32)
            hits.append(Hit(item=item, similarity=1.0 - float(distance), vector=raw))
            if len(hits) == n:
                break
        return hits

    # -- writes ----------------------------------------------------------------------------

    def upsert(
        self,
        items: Sequence[Item],
        vectors: np.ndarray,
        *,
        existing: Collection[str] | None = None,
    ) -> None:
        """Insert or replace `items` with their `vectors`, all or nothing.

        `existing` (the ids among `items` already stored, when the caller knows them) spares a
        look-up of the new ones: only records that exist need saving for a rollback."""
        if len(items) != len(vectors):
            raise StoreError(f"{len(items)} items but {len(vectors)} vectors")
        self.upsert_parts([(items, vectors)], existing=existing)

    def upsert_parts(
        self,
        parts: Iterable[tuple[Sequence[Item], np.ndarray]],
        *,
        existing: Collection[str] | None = None,
    ) -> int:
        """Insert or replace items arriving in parts of (items, vectors), each written as it
        comes (while the caller makes the next), all or nothing: when a write fails, or the
        parts themselves do (an embedder's error), every record written is put back as it was,
        the language statistics with them, and the error goes on. Returns the items written.

        `existing` as for `upsert`. An id may come once in all the parts."""
        with self._writing():
            before: dict[str, tuple[Any, Any]] = {}
            written: list[str] = []
            seen: set[str] = set()
            start = self.language_records.current(writing=True)
            stats = start
            try:
                for items, raw in parts:
                    ids = [item.id for item in items]
                    if len(items) != len(raw):
                        raise StoreError(f"{len(items)} items but {len(raw)} vectors")
                    if not items:
                        continue
                    vectors = self._checked_vectors(np.asarray(raw, dtype=np.float32))
                    if len(set(ids)) != len(ids) or not seen.isdisjoint(ids):
                        raise StoreError("duplicate item ids in one upsert")
                    seen.update(ids)
                    replaced = self._snapshot(
                        ids if existing is None else [i for i in ids if i in existing]
                    )
                    before.update(replaced)
                    written += ids
                    stats = self._write(ids, items, vectors, replaced, stats)
            except BaseException:  # a KeyboardInterrupt too: the store goes back as it was
                self._restore(written, before, start if written else None)
                raise
            if written and stats is not None:
                self._settle_language_stats()
            return len(written)

    def _write(
        self,
        ids: list[str],
        items: Sequence[Item],
        vectors: np.ndarray,
        replaced: dict[str, tuple[Any, Any]],
        stats: LanguageStats | None,
    ) -> LanguageStats | None:
        """One part's records, then the language statistics they change (the new stats)."""
        try:
            for part in _chunks(len(items), self._batch_size()):
                self.collection.upsert(
                    ids=ids[part],
                    embeddings=vectors[part],
                    metadatas=[item_metadata(item) for item in items[part]],
                )
            return self.language_records.update(stats, replaced.values(), vectors, items)
        except Exception as exc:
            raise StoreError(f"upsert failed and was rolled back: {exc}") from exc

    def delete(self, ids: Sequence[str]) -> None:
        """Remove items (and their share of the language statistics)."""
        with self._writing():
            stats = self.language_records.current(writing=True)
            gone = self._snapshot(ids) if stats is not None else {}
            self._delete_records(ids)
            if self.language_records.update(stats, gone.values(), None, ()) is not None:
                self._settle_language_stats()

    def _settle_language_stats(self) -> None:
        """After a write: recompute the statistics if another writer raced this one. The write
        itself is done, so a failure here is a warning, not the write's error."""
        try:
            self.language_records.current(writing=True)
        except Exception as exc:
            logger.warning(
                "the write to %r at %s is complete, but checking its language statistics "
                "failed (%s); the next write or `babelrec migrate` recomputes them",
                self.collection_name,
                self.location,
                exc,
            )

    def _delete_records(self, ids: Sequence[str]) -> None:
        for part in _chunks(len(ids), self._batch_size()):
            self.collection.delete(ids=list(ids[part]))

    @property
    def language_records(self) -> LanguageRecords:
        if "_languages" not in self.__dict__:
            self.__dict__["_languages"] = LanguageRecords(
                self.client,
                self.collection,
                self.collection_name,
                self.embedder_name,
                self.dimension,
            )
        return self.__dict__["_languages"]  # type: ignore[no-any-return]

    def language_stats(self, *, repair: bool = False) -> LanguageStats | None:
        """Per-language count and sum of the vectors; None until `babelrec migrate` (old store).
        `repair`: recompute them first if they disagree with the records (as writes do)."""
        if not repair:
            return self.language_records.current(writing=False)
        with self._writing():
            return self.language_records.current(writing=True)

    def rebuild_language_stats(self) -> LanguageStats:
        """Recompute the statistics from every stored vector (the one full read: migration)."""
        with self._writing():
            return self.language_records.rebuild_from_items()

    def _snapshot(self, ids: Sequence[str]) -> dict[str, tuple[Any, Any]]:
        """The raw records (vector, metadata) among `ids`, readable or not, for a rollback."""
        raw: dict[str, tuple[Any, Any]] = {}
        for part in raw_records(self.collection, ids, self._batch_size()):
            for item_id, vector, meta in part:
                raw[item_id] = (np.asarray(vector, dtype=np.float32).tolist(), meta)
        return raw

    def _restore(
        self,
        ids: Sequence[str],
        before: dict[str, tuple[Any, Any]],
        stats: LanguageStats | None = None,
    ) -> None:
        """Put the records touched by a failed write back exactly as they were (and the
        language statistics, when given, all of them: a failed save may have written some)."""
        new_ids = [i for i in ids if i not in before]
        try:
            if stats is not None:
                self.language_records.clear()
                if stats.counts:  # empty stats start again with the next write to an empty store
                    self.language_records.save(stats)
            if new_ids:
                self._delete_records(new_ids)
            if before:
                self.collection.upsert(
                    ids=list(before),
                    embeddings=[vector for vector, _ in before.values()],
                    metadatas=[meta for _, meta in before.values()],
                )
        except Exception:  # the original error is the one the user needs to see
            logger.exception("rollback of a failed upsert also failed")

    # -- helpers ---------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Around a write to an embedded store: this process's lock on it, then the unused
        HNSW slots Chroma filled with freed memory zeroed, whether the write held or not."""
        if self.store_dir is None:
            yield
            return
        with store_lock(self.store_dir):
            try:
                yield
            finally:
                scrub_unused_slots(self.store_dir)

    def _checked_vectors(self, vectors: np.ndarray) -> np.ndarray:
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise EmbeddingMismatchError(
                f"vectors of shape {vectors.shape} do not fit this store, whose vectors are "
                f"{self.dimension}-d ({self.embedder_name})"
            )
        if not np.all(np.isfinite(vectors)):
            raise StoreError("vectors contain NaN or infinity")
        return vectors

    def _batch_size(self) -> int:
        try:
            return max(1, min(int(self.client.get_max_batch_size()), 4000))
        except Exception:
            return 1000
