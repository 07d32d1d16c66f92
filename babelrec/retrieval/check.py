"""`check_store`: read every stored item and vector of a collection and say what is wrong.

Reads the collection directly (not through `VectorStore.open`, which refuses a mismatched
embedder and upgrades an old identity), so it can report on any store: unreadable items,
missing, mis-sized or non-finite vectors, a count that disagrees with what can be read, and an
embedder identity that does not match. With an embedder it also re-embeds a sample of items
and compares them with the stored vectors, which tells a store written by another model under
the same name (an identity from before fingerprints) from one written by this model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from babelrec.errors import EmbeddingMismatchError, StoredItemError, StoreError
from babelrec.models import Item, Strict
from babelrec.retrieval.chroma import connect
from babelrec.retrieval.embedders import Embedder
from babelrec.retrieval.identity import legacy_identity
from babelrec.retrieval.language_records import LanguageRecords, vectors_and_languages
from babelrec.retrieval.language_space import LanguageStats
from babelrec.retrieval.records import decode_item

ProblemKind = Literal[
    "missing_collection",
    "foreign_collection",
    "embedder_mismatch",
    "unreadable_item",
    "missing_vector",
    "vector_dimension",
    "vector_not_finite",
    "count_mismatch",
    "vectors_differ",
    "language_stats_stale",
]

#: Sampled vectors whose cosine to a fresh embedding falls below this were made by another model.
SAME_MODEL_COSINE = 0.99


class Problem(Strict):
    kind: ProblemKind
    message: str
    item_id: str | None = None


class CheckReport(Strict):
    """What `check_store` found; `ok` when there is no problem."""

    location: str
    collection: str
    items: int = Field(default=0, description="Records read.")
    readable: int = 0
    count: int = Field(default=0, description="What the collection says it holds.")
    stored_embedder: str | None = None
    stored_dimension: int | None = None
    embedder: str | None = None
    sampled: int = 0
    lowest_cosine: float | None = None
    problems: list[Problem] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_store(
    *,
    embedder: Embedder | None = None,
    store_path: Path | None = None,
    chroma_url: str | None = None,
    collection: str = "babelrec-items",
    data_dir: Path = Path(".babelrec"),
    sample: int = 16,
    page: int = 1000,
) -> CheckReport:
    """Check one collection; `embedder` (optional) is the one the store is meant to be used with."""
    client, _, location = connect(
        store_path=store_path, chroma_url=chroma_url, collection=collection, data_dir=data_dir
    )
    report = CheckReport(location=location, collection=collection)
    try:
        coll = client.get_collection(collection)
    except Exception:
        report.problems.append(
            Problem(
                kind="missing_collection",
                message=f"no collection {collection!r} at {location}: ingest a catalog first",
            )
        )
        return report
    _check_identity(report, coll.metadata or {}, embedder)
    report.count = int(coll.count())
    samples: list[tuple[Item, np.ndarray]] = []
    found = LanguageStats(report.stored_dimension or 0)
    for offset in range(0, max(report.count, 1), page):
        got = coll.get(include=["metadatas", "embeddings"], limit=page, offset=offset)
        vectors = got.get("embeddings")
        usable: list[tuple[Any, Any]] = []
        for pos, (item_id, meta) in enumerate(zip(got["ids"], got["metadatas"], strict=True)):
            report.items += 1
            vector = None if vectors is None else vectors[pos]
            item, sound = _check_record(report, item_id, meta, vector, location)
            if item is not None and vector is not None and len(samples) < sample:
                samples.append((item, np.asarray(vector, dtype=np.float32)))
            if sound and found.dimension:
                usable.append((vector, meta))
        page_vectors, languages = vectors_and_languages(usable)
        if languages:
            found.add(page_vectors, languages)
        if len(got["ids"]) < page:
            break
    if report.items != report.count:
        report.problems.append(
            Problem(
                kind="count_mismatch",
                message=f"the collection counts {report.count} records but {report.items} "
                "could be read",
            )
        )
    _check_language_stats(report, client, coll, found)
    if embedder is not None and samples and report.stored_dimension == embedder.dimension:
        _compare_sample(report, embedder, samples)
    return report


def _check_language_stats(
    report: CheckReport, client: Any, coll: Any, found: LanguageStats
) -> None:
    """The stored language statistics against those of the records just read."""
    if report.stored_embedder is None or not found.dimension:
        return
    try:
        records = LanguageRecords(
            client, coll, report.collection, report.stored_embedder, found.dimension, create=False
        )
        stored = records.load()
    except (StoreError, EmbeddingMismatchError):
        stored = None
    if stored is None:
        report.notes.append(
            "the store keeps no language statistics: `babelrec migrate` computes them (the "
            "language-agnostic space needs them)"
        )
        return
    same_counts = {k: v for k, v in stored.counts.items() if v} == found.counts
    tolerance = 1e-6 * max(1, found.total)
    if same_counts and all(
        np.allclose(stored.sums[k], found.sums[k], atol=tolerance) for k in found.counts
    ):
        return
    report.problems.append(
        Problem(
            kind="language_stats_stale",
            message=f"the language statistics ({_counts(stored)}) disagree with the records "
            f"({_counts(found)}): run `babelrec migrate`, or ingest again, to recompute them",
        )
    )


def _counts(stats: LanguageStats) -> str:
    return ", ".join(f"{k or 'unknown'} {v}" for k, v in sorted(stats.counts.items())) or "none"


def _check_identity(report: CheckReport, meta: dict[str, Any], embedder: Embedder | None) -> None:
    stored = meta.get("babelrec_embedder")
    dimension = meta.get("babelrec_dimension")
    report.stored_embedder = None if stored is None else str(stored)
    report.stored_dimension = None if dimension is None else int(dimension)
    if stored is None:
        report.problems.append(
            Problem(
                kind="foreign_collection",
                message=f"collection {report.collection!r} was not made by babelrec",
            )
        )
        return
    if embedder is None:
        return
    report.embedder = embedder.name
    if embedder.dimension != report.stored_dimension:
        report.problems.append(
            Problem(
                kind="embedder_mismatch",
                message=f"the store holds {dimension}-d vectors of {stored}, but the embedder "
                f"{embedder.name} makes {embedder.dimension}-d ones",
            )
        )
    elif stored == legacy_identity(embedder.name) and stored != embedder.name:
        report.notes.append(
            f"the store records the identity {stored}, from before identities carried a model "
            f"fingerprint; the next babelrec command run with this embedder records "
            f"{embedder.name} (the sampled vectors below say whether they are this model's)"
        )
    elif stored != embedder.name:
        report.problems.append(
            Problem(
                kind="embedder_mismatch",
                message=f"the store holds vectors of {stored}, but the configured embedder is "
                f"{embedder.name}: use that embedder, or rebuild the store with this one",
            )
        )


def _check_record(
    report: CheckReport, item_id: str, meta: Any, vector: Any, location: str
) -> tuple[Item | None, bool]:
    """The record's item (None when unreadable) and whether its vector is sound: present, of
    the store's dimension and finite. Each fault found is added to `report`."""
    item: Item | None = None
    try:
        item = decode_item(item_id, meta, location)
        report.readable += 1
    except StoredItemError as exc:
        report.problems.append(Problem(kind="unreadable_item", message=str(exc), item_id=item_id))
    if vector is None:
        report.problems.append(
            Problem(
                kind="missing_vector", message=f"item {item_id!r} has no vector", item_id=item_id
            )
        )
        return item, False
    array = np.asarray(vector, dtype=np.float64)
    if report.stored_dimension is not None and array.shape != (report.stored_dimension,):
        report.problems.append(
            Problem(
                kind="vector_dimension",
                message=f"item {item_id!r} has a vector of shape {array.shape}, the store's are "
                f"{report.stored_dimension}-d",
                item_id=item_id,
            )
        )
        return item, False
    if not np.all(np.isfinite(array)):
        report.problems.append(
            Problem(
                kind="vector_not_finite",
                message=f"item {item_id!r} has NaN or infinity in its vector",
                item_id=item_id,
            )
        )
        return item, False
    return item, True


def _compare_sample(
    report: CheckReport, embedder: Embedder, samples: list[tuple[Item, np.ndarray]]
) -> None:
    fresh = embedder.embed_documents([item.embedding_text() for item, _ in samples])
    stored = np.stack([vector for _, vector in samples])
    norms = np.linalg.norm(stored, axis=1)
    norms[norms == 0] = 1.0
    cosines = np.sum(fresh * stored, axis=1) / norms
    report.sampled = len(samples)
    report.lowest_cosine = float(np.min(cosines))
    if report.lowest_cosine < SAME_MODEL_COSINE:
        report.problems.append(
            Problem(
                kind="vectors_differ",
                message=f"re-embedding {len(samples)} stored items with {embedder.name} gives "
                f"vectors unlike the stored ones (lowest cosine {report.lowest_cosine:.3f}): "
                "another model wrote them. Rebuild the store (a new --store, then ingest) with "
                "this embedder, or use the one that wrote it",
            )
        )
