"""The vectors rankers see in each language space, and the vectors of items' translations.

A space is fitted once per run on the raw vectors of the items the run uses (the catalog as the
run sees it, no labels) and applied alike to items and to their translations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from babelrec.models import Item
from babelrec.retrieval.embedders import Embedder
from babelrec.retrieval.language_space import (
    STORED_METHODS,
    LanguageSpace,
    Method,
    fit_from_vectors,
)


def embed_translations(
    embedder: Embedder, items: Sequence[Item], *, progress: bool = False
) -> dict[tuple[str, str], np.ndarray]:
    """The vector of each item's text in each of its translation languages."""
    from babelrec.retrieval.ingest import embed_in_batches

    keys = [(item.id, lang) for item in items for lang in sorted(item.translations)]
    if not keys:
        return {}
    by_id = {item.id: item for item in items}
    texts = [by_id[i].translations[lang].embedding_text() for i, lang in keys]
    matrix = embed_in_batches(embedder, texts, progress=progress, desc="embedding translations")
    return dict(zip(keys, matrix, strict=True))


class SpaceVectors:
    """Raw item and translation vectors, transformed on demand into each method's space."""

    def __init__(
        self,
        raw: dict[str, np.ndarray],
        languages: Mapping[str, str | None],
        translations: dict[tuple[str, str], np.ndarray],
    ) -> None:
        self.raw = raw
        self.languages = dict(languages)
        self.raw_translations = translations
        self._spaces: dict[str, LanguageSpace] = {}
        self._vectors: dict[str, dict[str, np.ndarray]] = {}
        self._translated: dict[str, dict[tuple[str, str], np.ndarray]] = {}

    def space(self, method: str) -> LanguageSpace:
        if method not in self._spaces:
            ids = list(self.raw)
            matrix = np.stack([self.raw[i] for i in ids])
            languages = [self.languages.get(i) for i in ids]
            self._spaces[method] = fit_from_vectors(matrix, languages, _method(method))
        return self._spaces[method]

    def vectors(self, method: str) -> dict[str, np.ndarray]:
        if method == "none":
            return self.raw
        if method not in self._vectors:
            ids = list(self.raw)
            matrix = self.space(method).transform(
                np.stack([self.raw[i] for i in ids]), [self.languages.get(i) for i in ids]
            )
            self._vectors[method] = dict(zip(ids, matrix, strict=True))
        return self._vectors[method]

    def translated(self, method: str) -> dict[tuple[str, str], np.ndarray]:
        if method == "none" or not self.raw_translations:
            return self.raw_translations
        if method not in self._translated:
            keys = list(self.raw_translations)
            matrix = self.space(method).transform(
                np.stack([self.raw_translations[k] for k in keys]), [lang for _, lang in keys]
            )
            self._translated[method] = dict(zip(keys, matrix, strict=True))
        return self._translated[method]


def _method(name: str) -> Method:
    allowed: tuple[Method, ...] = (*STORED_METHODS, "abtt", "lir")
    for method in allowed:
        if method == name:
            return method
    raise ValueError(f"unknown language space {name!r}; choose one of {allowed}")
