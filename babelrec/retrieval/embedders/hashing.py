"""A deterministic character n-gram hashing embedder: a fast stand-in for unit tests.

It knows no semantics across languages; it exists so tests of the store, ingest and ranking
logic run in milliseconds. Every capability is also tested with a real model.
"""

from __future__ import annotations

import hashlib

import numpy as np

from babelrec.retrieval.embedders.base import Embedder, Kind


class HashingEmbedder(Embedder):
    backend = "hashing"

    def __init__(self, dimension: int = 64, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._dimension = dimension

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def name(self) -> str:
        return f"hashing-{self._dimension}"

    def _embed_batch(self, texts: list[str], kind: Kind) -> np.ndarray:
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            lowered = text.lower()
            grams = [lowered[i : i + 3] for i in range(max(1, len(lowered) - 2))]
            for gram in grams:
                digest = hashlib.blake2b(gram.encode(), digest_size=8).digest()
                index = int.from_bytes(digest[:4], "little") % self._dimension
                sign = 1.0 if digest[4] & 1 else -1.0
                out[row, index] += sign
            if not out[row].any():
                out[row, 0] = 1.0
        return out
