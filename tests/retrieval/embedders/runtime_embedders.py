"""Embedders the worker tests register at run time by "module:attr", as a notebook or plugin
would: a worker process registers them the same way from the path."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from babelrec.retrieval.embedders.base import Embedder, Kind
from babelrec.retrieval.embedders.hashing import HashingEmbedder
from babelrec.settings import EmbedderSettings

#: A text that `PickyEmbedder` refuses.
REFUSED = "boom"


class PickyEmbedder(HashingEmbedder):
    """The hashing embedder, slowed to `settings.model` milliseconds per text (0 by
    default), raising on any text containing `REFUSED`."""

    backend = "picky"

    def __init__(self, delay_ms: float, **kwargs: object) -> None:
        super().__init__(dimension=64, **kwargs)
        self.delay_ms = delay_ms

    @property
    def name(self) -> str:
        return "picky-64"

    def _embed_batch(self, texts: list[str], kind: Kind) -> np.ndarray:
        if any(REFUSED in text for text in texts):
            raise ValueError(f"cannot embed a text containing {REFUSED!r}")
        time.sleep(self.delay_ms / 1000 * len(texts))
        return super()._embed_batch(texts, kind)


def build_picky(settings: EmbedderSettings, cache_dir: Path | None) -> Embedder:
    return PickyEmbedder(
        float(settings.model or 0), cache_dir=cache_dir, batch_size=settings.batch_size
    )


def picky(delay_ms: float = 0, batch_size: int = 4, cache_dir: Path | None = None) -> Embedder:
    """The picky embedder, built from settings as a worker process rebuilds it (register it
    first: the `picky_registered` fixture)."""
    from babelrec.retrieval.embedders import build_embedder

    chosen = EmbedderSettings(
        name="picky", model=str(delay_ms), batch_size=batch_size, cache=cache_dir is not None
    )
    return build_embedder(chosen, cache_dir=cache_dir)


def registered() -> Iterator[None]:
    """`picky` registered by path while the caller runs (a fixture's body)."""
    from babelrec.registry import EMBEDDERS

    EMBEDDERS.register("picky", f"{__name__}:build_picky")
    yield
    EMBEDDERS.unregister("picky")
