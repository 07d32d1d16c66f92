from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from babelrec.errors import EmptyProfileError
from babelrec.models import HistoryEntry, Item, UserProfile
from babelrec.rank.users import build_user_vector, history_weights
from babelrec.retrieval.embedders import build_embedder
from babelrec.retrieval.store import VectorStore


@pytest.fixture
def store(tmp_path: Path) -> VectorStore:
    store = VectorStore.open(embedder_name="e", dimension=3, store_path=tmp_path)
    store.upsert(
        [Item(id="x", title="x"), Item(id="y", title="y")],
        np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32),
    )
    return store


def test_history_mean_and_unknown_ids(store: VectorStore) -> None:
    user = UserProfile(history=["x", "y", "ghost"])
    vec = build_user_vector(user, store, build_embedder("hashing", "3"))
    np.testing.assert_allclose(vec.vector, np.array([1, 1, 0]) / np.sqrt(2), rtol=1e-5)
    assert vec.unknown_history == ["ghost"]
    assert vec.sources == ["history"]


def test_time_decay_weights_recent_items_more(store: VectorStore) -> None:
    now = datetime(2026, 1, 31, tzinfo=UTC)
    user = UserProfile(
        history=[
            HistoryEntry(item_id="x", timestamp=now - timedelta(days=30)),
            HistoryEntry(item_id="y", timestamp=now),
        ]
    )
    vec = build_user_vector(user, store, build_embedder("hashing", "3"), half_life_days=10, now=now)
    assert vec.vector[1] > 5 * vec.vector[0]
    assert history_weights([now - timedelta(days=10), None], 10, now).tolist() == [0.5, 1.0]


def test_interests_and_history_blend(store: VectorStore) -> None:
    embedder = build_embedder("hashing", "3")
    only_history = build_user_vector(UserProfile(history=["x"]), store, embedder)
    both = build_user_vector(
        UserProfile(history=["x"], interests="something"), store, embedder, interest_weight=0.5
    )
    assert both.sources == ["history", "interests"]
    assert not np.allclose(both.vector, only_history.vector)
    assert np.linalg.norm(both.vector) == pytest.approx(1.0, rel=1e-5)


def test_empty_profile_is_a_clear_error(store: VectorStore) -> None:
    embedder = build_embedder("hashing", "3")
    with pytest.raises(EmptyProfileError, match="no history"):
        build_user_vector(UserProfile(), store, embedder)
    with pytest.raises(EmptyProfileError, match="none of its 1 history ids"):
        build_user_vector(UserProfile(history=["ghost"]), store, embedder)
