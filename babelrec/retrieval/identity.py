"""Which embedder made a collection's vectors, and refusing to mix vector spaces.

A collection's metadata records the embedder identity (`name@fingerprint`) and dimension it was
created with. Opening it with another embedder raises `EmbeddingMismatchError`; a collection
written under an embedder's older identity (the same name without its `@fingerprint`) takes the
full identity on open.
"""

from __future__ import annotations

import logging
from typing import Any

from babelrec.errors import EmbeddingMismatchError, StoreError

logger = logging.getLogger(__name__)


def legacy_identity(name: str) -> str:
    """The identity an embedder had before it carried a fingerprint (`st:model@ab12` ->
    `st:model`); names without one are their own legacy identity."""
    return name.split("@", 1)[0]


def bind_embedder(
    collection: Any, embedder_name: str, dimension: int, name: str, location: str
) -> None:
    """Check that `collection` (called `name`, at `location`) holds vectors of this embedder,
    upgrading a legacy identity; `EmbeddingMismatchError` when it does not."""
    meta = collection.metadata or {}
    stored_name = meta.get("babelrec_embedder")
    stored_dim = meta.get("babelrec_dimension")
    if stored_name is None:
        raise EmbeddingMismatchError(
            f"collection {name!r} at {location} was not made by babelrec; "
            "choose another collection name"
        )
    if (
        stored_dim == dimension
        and stored_name != embedder_name
        and stored_name == legacy_identity(embedder_name)
    ):
        _upgrade_identity(collection, meta, embedder_name, name, location)
        return
    if stored_name != embedder_name or stored_dim != dimension:
        raise EmbeddingMismatchError(
            f"collection {name!r} at {location} holds vectors of "
            f"{stored_name} ({stored_dim}-d), but this run embeds with {embedder_name} "
            f"({dimension}-d). Use the same embedder, or another --store or collection."
        )


def _upgrade_identity(
    collection: Any, meta: dict[str, Any], embedder_name: str, name: str, location: str
) -> None:
    """A collection written before identities carried a fingerprint takes this embedder's
    full identity (`babelrec check` re-embeds a sample to confirm the vectors are its)."""
    logger.warning(
        "collection %r at %s: embedder identity upgraded from %s to %s; run `babelrec "
        "check` to confirm its vectors were made by this model",
        name,
        location,
        meta.get("babelrec_embedder"),
        embedder_name,
    )
    try:
        collection.modify(metadata={**meta, "babelrec_embedder": embedder_name})
    except Exception as exc:
        raise StoreError(f"cannot record the embedder identity at {location}: {exc}") from exc
