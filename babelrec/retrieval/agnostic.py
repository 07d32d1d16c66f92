"""Retrieval in the language-agnostic space over a store that keeps raw vectors.

Chroma indexes the raw vectors. For a query already in the agnostic space, one nearest-neighbour
query per language (a `language` filter) returns that language's best items: within a language,
the dot product with a raw vector differs from the one with its centred, projected vector by a
constant (the query has no component along the removed directions), so each language's order is
the agnostic order up to the items' norms. The union is then scored exactly in the agnostic
space and cut to `n`. Stored vectors never change when the statistics move, so a store needs no
rewrite as items arrive, and a new language is searched as soon as it has items.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from babelrec.models import Filters
from babelrec.retrieval.language_space import (
    DEFAULT_SHRINKAGE,
    LanguageSpace,
    LanguageStats,
    Method,
    fit_space,
)
from babelrec.retrieval.records import Hit
from babelrec.retrieval.store import VectorStore

logger = logging.getLogger(__name__)


def store_space(
    store: VectorStore, method: Method, *, shrinkage: float = DEFAULT_SHRINKAGE
) -> tuple[LanguageSpace, LanguageStats | None]:
    """The store's current space, fitted from its running statistics (identity without them)."""
    if method == "none":
        return LanguageSpace.identity(store.dimension), None
    stats = store.language_stats()
    if stats is None:
        return LanguageSpace.identity(store.dimension), None
    return fit_space(stats, method, shrinkage=shrinkage), stats


def agnostic_query(
    store: VectorStore,
    space: LanguageSpace,
    languages: Sequence[str],
    vector: np.ndarray,
    n: int,
    *,
    filters: Filters | None = None,
    exclude_ids: Sequence[str] = (),
) -> list[Hit]:
    """The `n` best items for an agnostic-space `vector`, searched language by language.

    Each hit's `similarity` is the exact cosine in the agnostic space and its `vector` the
    item's agnostic vector."""
    if n <= 0:
        return []
    pooled: dict[str, Hit] = {}
    search = space.search_vector(vector)
    # Twice n per language: the exact agnostic cosine divides by norms the index cannot see.
    for language in languages:
        for hit in store.query(
            search,
            2 * n,
            filters=filters,
            exclude_ids=exclude_ids,
            language=language,
            with_vectors=True,
        ):
            pooled.setdefault(hit.item.id, hit)
    if not pooled:
        return []
    hits = list(pooled.values())
    raw = np.stack([h.vector for h in hits if h.vector is not None])
    if len(raw) != len(hits):  # a server that returned no embeddings: read them
        stored = store.get([h.item.id for h in hits], with_vectors=True)
        raw = np.stack([stored[h.item.id].vector for h in hits])  # type: ignore[misc]
    agnostic = space.transform(raw, [h.item.language for h in hits])
    query = np.asarray(vector, dtype=np.float32)
    scores = agnostic @ query
    order = sorted(range(len(hits)), key=lambda i: (-float(scores[i]), hits[i].item.id))[:n]
    return [Hit(item=hits[i].item, similarity=float(scores[i]), vector=agnostic[i]) for i in order]


def searched_languages(stats: LanguageStats | None) -> list[str]:
    """The languages to search: every one with items ("" = unknown language)."""
    return sorted(stats.counts) if stats is not None else []
