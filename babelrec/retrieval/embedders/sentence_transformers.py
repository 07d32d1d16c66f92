"""Any sentence-transformers model from a local directory or the local Hugging Face cache.

Never downloads: `HF_HUB_OFFLINE` is set before loading, so a model that is not on disk fails
with a clear `EmbedderError` instead of a network time-out.

The embedder's identity (`name`, stored with a collection and part of every embedding-cache key)
is `st:<folder name>@<fingerprint>`, the fingerprint hashing the model folder's files (see
`fingerprint.py`), so two models in folders of the same name never share vectors.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from babelrec.errors import EmbedderError
from babelrec.retrieval.embedders.base import Embedder, Kind
from babelrec.retrieval.embedders.fingerprint import SHORT, fingerprint


class SentenceTransformerEmbedder(Embedder):
    backend = "sentence-transformers"

    def __init__(
        self,
        model: str,
        *,
        query_prefix: str = "",
        document_prefix: str = "",
        device: str = "cpu",
        fingerprint_cache: Path | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.fingerprint_cache = fingerprint_cache
        self._name: str | None = None
        self.model_name = model
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        self.device = device
        self._model: Any = None
        self._dimension: int | None = None

    @property
    def name(self) -> str:
        if self._name is None:
            base = f"st:{Path(self.model_name).name}"
            folder = self._model_folder()
            if folder is None:
                self._name = base
            else:
                self._name = f"{base}@{fingerprint(folder, cache=self.fingerprint_cache)[:SHORT]}"
        return self._name

    def _model_folder(self) -> Path | None:
        """The folder the model loads from: a local path, or a hub id's snapshot in the local
        Hugging Face cache (None when neither exists: loading will fail with its own error)."""
        path = Path(self.model_name).expanduser()
        if path.is_dir():
            return path
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(self.model_name, local_files_only=True))
        except Exception:  # not cached, or not a hub id: nothing to fingerprint
            return None

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
