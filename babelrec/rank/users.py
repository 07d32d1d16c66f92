"""User vectors: from history (mean of item vectors, optionally time-decayed), from stated
interests (embedded as a query), or a weighted blend of both."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from babelrec.errors import EmptyProfileError
from babelrec.models import UserProfile
from babelrec.retrieval.embedders import Embedder
from babelrec.retrieval.language_space import LanguageSpace
from babelrec.retrieval.store import VectorStore


@dataclass
class UserVector:
    """A user's vector and what went into it."""

    vector: np.ndarray
    sources: list[str] = field(default_factory=list)
    used_history: list[str] = field(default_factory=list)
    unknown_history: list[str] = field(default_factory=list)


def normalise(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32) if norm > 0 else vector.astype(np.float32)


def as_utc(stamp: datetime) -> datetime:
    """`stamp`, read as UTC when it carries no time zone."""
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def history_weights(
    timestamps: list[datetime | None], half_life_days: float | None, now: datetime | None = None
) -> np.ndarray:
    """Exponential time decay: an item `half_life_days` old counts half as much as a new one.

    Entries without a timestamp count fully; with no half-life all count alike.
    """
    weights = np.ones(len(timestamps), dtype=np.float64)
    if half_life_days is None:
        return weights
    now = now or datetime.now(UTC)
    for i, ts in enumerate(timestamps):
        if ts is None:
            continue
        age_days = max(0.0, (now - as_utc(ts)).total_seconds() / 86400.0)
        weights[i] = 0.5 ** (age_days / half_life_days)
    return weights


def mean_vector(vectors: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Weighted mean of row vectors, L2-normalised."""
    if weights is None:
        weights = np.ones(len(vectors))
    mean = (vectors * weights[:, None]).sum(axis=0) / max(float(weights.sum()), 1e-12)
    return normalise(mean)


def build_user_vector(
    profile: UserProfile,
    store: VectorStore,
    embedder: Embedder,
    *,
    interest_weight: float = 0.5,
    half_life_days: float | None = None,
    now: datetime | None = None,
    space: LanguageSpace | None = None,
) -> UserVector:
    """Blend history and interests into one vector; raise `EmptyProfileError` if neither exists.

    History ids the store does not know are reported in `unknown_history`, not fatal. With a
    language `space`, each history vector is moved into it by its item's language and the
    interests by the profile's language (the request's), before they are blended.
    """
    result = UserVector(vector=np.zeros(store.dimension, dtype=np.float32))
    parts: list[tuple[float, np.ndarray]] = []
    if profile.history:
        stored = store.get(profile.history_ids, with_vectors=True)
        known = [e for e in profile.history if e.item_id in stored]
        result.unknown_history = [e.item_id for e in profile.history if e.item_id not in stored]
        if known:
            vectors = np.stack([stored[e.item_id].vector for e in known])  # type: ignore[misc]
            if space is not None:
                vectors = space.transform(vectors, [stored[e.item_id].item.language for e in known])
            weights = history_weights([e.timestamp for e in known], half_life_days, now)
            parts.append((1.0 - interest_weight, mean_vector(vectors, weights)))
            result.used_history = [e.item_id for e in known]
            result.sources.append("history")
    if profile.interests.strip():
        query = embedder.embed_query(profile.interests)
        if space is not None:
            query = space.transform_one(query, profile.language)
        parts.append((interest_weight, query))
        result.sources.append("interests")
    if not parts:
        detail = (
            f"none of its {len(profile.history)} history ids are in the catalog"
            if profile.history
            else "it has no history"
        )
        raise EmptyProfileError(
            f"cannot rank for this user: {detail} and no interests were given. "
            "Pass --interests TEXT or known --history ids."
        )
    if len(parts) == 1:
        result.vector = normalise(parts[0][1])
    else:
        result.vector = normalise(sum((w * v for w, v in parts), np.zeros(store.dimension)))
    return result
