"""A stand-in vector source for fast property tests (beside the real-embedder tests): every item
and phrase has the same vector, so every history item and phrase is as close as can be."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from babelrec.models import Item


class SameVectors:
    def item_vectors(self, items: Sequence[Item]) -> dict[str, np.ndarray]:
        return {item.id: np.ones(4) for item in items}

    def phrase_vectors(self, phrases: Sequence[str], language: str) -> np.ndarray:
        return np.ones((len(phrases), 4))
