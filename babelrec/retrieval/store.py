"""`VectorStore`: babelrec's one door to ChromaDB, embedded or over HTTP.

The collection records which embedder made its vectors (name and dimension); opening it with a
different embedder raises `EmbeddingMismatchError` instead of mixing vector spaces. Writes are
all-or-nothing: a failed upsert restores the records it touched.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from babelrec.errors import EmbeddingMismatchError, StoreError
from babelrec.models import Filters, Item

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1


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


def where_clause(filters: Filters | None) -> dict[str, Any] | None:
    """Translate `Filters` into a Chroma `where` document (None when nothing is filtered)."""
    if filters is None:
        return None
    conditions: list[dict[str, Any]] = []
    for field, values, op in (
        ("language", filters.languages, "$in"),
        ("region", filters.regions, "$in"),
        ("category", filters.categories, "$in"),
        ("category", filters.exclude_categories, "$nin"),
        ("language", filters.exclude_languages, "$nin"),
    ):
        if values:
            conditions.append({field: {op: list(values)}})
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def _item_metadata(item: Item) -> dict[str, str | int | float | bool]:
    return {
        "language": item.language or "",
        "region": item.region or "",
        "category": item.category or "",
        "content_hash": item.content_hash(),
        "item_json": item.model_dump_json(),
    }


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
    ) -> None:
        self.client = client
        self.embedder_name = embedder_name
        self.dimension = dimension
        self.artifact_dir = artifact_dir
        self.location = location
        self.collection_name = collection
        try:
            self.collection = client.get_or_create_collection(
                name=collection,
                metadata={
                    "babelrec_embedder": embedder_name,
                    "babelrec_dimension": dimension,
                    "babelrec_schema": SCHEMA_VERSION,
                },
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        except Exception as exc:
            raise StoreError(f"cannot open collection {collection!r} at {location}: {exc}") from exc
        self._check_embedder()

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
    ) -> VectorStore:
        """Open (creating if needed) a store: a Chroma server when `chroma_url` is set, else
        an embedded `PersistentClient` at `store_path`."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if chroma_url:
            parsed = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
            if not parsed.hostname:
                raise StoreError(
                    f"cannot parse Chroma URL {chroma_url!r}; expected http://HOST:PORT"
                )
            port = parsed.port or (443 if parsed.scheme == "https" else 8000)
            try:
                client = chromadb.HttpClient(
                    host=parsed.hostname,
                    port=port,
                    ssl=parsed.scheme == "https",
                    settings=chroma_settings,
                )
                client.heartbeat()
            except Exception as exc:
                raise StoreError(
                    f"cannot reach the Chroma server at {chroma_url}: {exc}. Is `chroma run` up?"
                ) from exc
            safe = f"{parsed.hostname}_{port}_{collection}".replace(":", "_")
            artifact_dir = data_dir / "artifacts" / safe
            location = chroma_url
        else:
            path = store_path or data_dir / "chroma"
            try:
                path.mkdir(parents=True, exist_ok=True)
                client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
            except Exception as exc:
                raise StoreError(f"cannot open the Chroma store at {path}: {exc}") from exc
            artifact_dir = path / "babelrec-artifacts" / collection
            location = str(path)
        return cls(
            client,
            collection=collection,
            embedder_name=embedder_name,
            dimension=dimension,
            artifact_dir=artifact_dir,
            location=location,
        )

    def _check_embedder(self) -> None:
        meta = self.collection.metadata or {}
        stored_name = meta.get("babelrec_embedder")
        stored_dim = meta.get("babelrec_dimension")
        if stored_name is None:
            raise EmbeddingMismatchError(
                f"collection {self.collection_name!r} at {self.location} was not made by babelrec; "
                "choose another collection name"
            )
        if stored_name != self.embedder_name or stored_dim != self.dimension:
            raise EmbeddingMismatchError(
                f"collection {self.collection_name!r} at {self.location} holds vectors of "
                f"{stored_name} ({stored_dim}-d), but this run embeds with {self.embedder_name} "
                f"({self.dimension}-d). Use the same embedder, or another --store or collection."
            )

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
                vector = None
                if vectors is not None:
                    vector = np.asarray(vectors[pos], dtype=np.float32)
                found[item_id] = StoredItem(
                    item=Item.model_validate_json(str(meta["item_json"])),
                    content_hash=str(meta["content_hash"]),
                    vector=vector,
                )
        return found

    def query(
        self,
        vector: np.ndarray,
        n: int,
        *,
        filters: Filters | None = None,
        exclude_ids: Sequence[str] = (),
    ) -> list[Hit]:
        """The `n` items nearest to `vector` (cosine) that pass `filters`, minus `exclude_ids`."""
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
            where=where_clause(filters),
            include=["metadatas", "distances"],
        )
        hits: list[Hit] = []
        for item_id, meta, distance in zip(
            result["ids"][0], result["metadatas"][0], result["distances"][0], strict=True
        ):
            if item_id in excluded:
                continue
            item = Item.model_validate_json(str(meta["item_json"]))
            hits.append(Hit(item=item, similarity=1.0 - float(distance)))
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
        if not items:
            return
        vectors = self._checked_vectors(np.asarray(vectors, dtype=np.float32))
        ids = [item.id for item in items]
        if len(set(ids)) != len(ids):
            raise StoreError("duplicate item ids in one upsert")
        before = self.get(
            ids if existing is None else [i for i in ids if i in existing], with_vectors=True
        )
        try:
            for part in _chunks(len(items), self._batch_size()):
                self.collection.upsert(
                    ids=ids[part],
                    embeddings=vectors[part].tolist(),
                    metadatas=[_item_metadata(item) for item in items[part]],
                )
        except Exception as exc:
            self._restore(ids, before)
            raise StoreError(f"upsert failed and was rolled back: {exc}") from exc

    def delete(self, ids: Sequence[str]) -> None:
        for part in _chunks(len(ids), self._batch_size()):
            self.collection.delete(ids=list(ids[part]))

    def _restore(self, ids: Sequence[str], before: dict[str, StoredItem]) -> None:
        """Put the records touched by a failed write back as they were."""
        new_ids = [i for i in ids if i not in before]
        try:
            if new_ids:
                self.delete(new_ids)
            if before:
                old = list(before.values())
                self.collection.upsert(
                    ids=[s.item.id for s in old],
                    embeddings=[s.vector.tolist() for s in old if s.vector is not None],
                    metadatas=[_item_metadata(s.item) for s in old],
                )
        except Exception:  # the original error is the one the user needs to see
            logger.exception("rollback of a failed upsert also failed")

    # -- helpers ---------------------------------------------------------------------------

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
