"""Any sentence-transformers model from a local directory or the local Hugging Face cache.

Never downloads: `HF_HUB_OFFLINE` is set before loading, so a model that is not on disk fails
with a clear `EmbedderError` instead of a network time-out.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from babelrec.errors import EmbedderError
from babelrec.retrieval.embedders.base import Embedder, Kind


class SentenceTransformerEmbedder(Embedder):
    backend = "sentence-transformers"

    def __init__(
        self,
        model: str,
        *,
        query_prefix: str = "",
        document_prefix: str = "",
        device: str = "cpu",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.model_name = model
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        self.device = device
        self._model: Any = None
        self._dimension: int | None = None

    @property
    def name(self) -> str:
        return f"st:{Path(self.model_name).name}"

    def _load(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            try:
                self._model = SentenceTransformer(self.model_name, device=self.device)
            except Exception as exc:  # the library raises many kinds; all mean "cannot load"
                raise EmbedderError(
                    f"cannot load sentence-transformers model {self.model_name!r} offline: "
                    f"{type(exc).__name__}: {exc}. Point --embedder-model at a local model "
                    "directory."
                ) from exc
            get_dimension = getattr(self._model, "get_embedding_dimension", None)
            if get_dimension is None:  # sentence-transformers before the rename
                get_dimension = self._model.get_sentence_embedding_dimension
            self._dimension = int(get_dimension())
        return self._model

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._load()
        assert self._dimension is not None
        return self._dimension

    def _embed_batch(self, texts: list[str], kind: Kind) -> np.ndarray:
        prefix = self.query_prefix if kind == "query" else self.document_prefix
        vectors = self._load().encode(
            [prefix + t for t in texts],
            batch_size=len(texts),
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
