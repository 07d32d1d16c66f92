from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from babelrec.errors import RankerError
from babelrec.rank import bilinear_score
from babelrec.rank.bilinear import BilinearRanker, BPRConfig, TrainingExample


def test_seed_worked_example_is_028_not_036() -> None:
    u = [0.8, 0.2, 0.1, 0.5]
    i = [0.6, 0.4, 0.3, 0.2]
    w_row = [0.5, 0.3, 0.2, 0.1]
    assert bilinear_score(u, i, w_row) == pytest.approx(0.28)
    assert "0.28" in (bilinear_score.__doc__ or "")


def test_bilinear_score_rejects_mismatched_lengths() -> None:
    with pytest.raises(RankerError):
        bilinear_score([1.0, 2.0], [1.0], [1.0, 1.0])


def test_identity_weights_equal_dot_product() -> None:
    rng = np.random.default_rng(1)
    user = rng.normal(size=16).astype(np.float32)
    items = rng.normal(size=(5, 16)).astype(np.float32)
    ranker = BilinearRanker.identity(16)
    np.testing.assert_allclose(ranker.score(user, list("abcde"), items), items @ user, rtol=1e-5)
    assert ranker.is_identity


def test_score_matches_bilinear_score_per_row() -> None:
    rng = np.random.default_rng(2)
    shared = rng.uniform(0.5, 1.5, size=8).astype(np.float32)
    ranker = BilinearRanker(shared)
    user, items = rng.normal(size=8).astype(np.float32), rng.normal(size=(3, 8)).astype(np.float32)
    expected = [bilinear_score(user, row, shared) for row in items]
    np.testing.assert_allclose(ranker.score(user, ["a", "b", "c"], items), expected, rtol=1e-5)


def _planted_problem(
    seed: int = 0,
) -> tuple[list[TrainingExample], dict[str, np.ndarray], np.ndarray]:
    """Users prefer items that agree with them on the first 4 of 16 dimensions only."""
    rng = np.random.default_rng(seed)
    dim, n_items = 16, 200
    vectors = rng.normal(size=(n_items, dim))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    items = {f"i{k}": vectors[k].astype(np.float32) for k in range(n_items)}
    true_w = np.zeros(dim)
    true_w[:4] = 1.0
    examples = []
    for _ in range(400):
        user = rng.normal(size=dim)
        user /= np.linalg.norm(user)
        scores = vectors @ (true_w * user)
        positive = f"i{int(np.argmax(scores))}"
        examples.append(TrainingExample(user_vector=user.astype(np.float32), positive=positive))
    return examples, items, true_w


def _pairwise_accuracy(
    ranker: BilinearRanker, items: dict[str, np.ndarray], true_w: np.ndarray
) -> float:
    rng = np.random.default_rng(99)
    ids = list(items)
    matrix = np.stack([items[i] for i in ids])
    correct = total = 0
    for _ in range(200):
        user = rng.normal(size=len(true_w)).astype(np.float32)
        truth = matrix @ (true_w * user)
        pred = ranker.score(user, ids, matrix)
        a, b = rng.integers(len(ids), size=2)
        if a == b:
            continue
        correct += (truth[a] > truth[b]) == (pred[a] > pred[b])
        total += 1
    return correct / total


def test_bpr_learns_planted_weights_better_than_identity() -> None:
    examples, items, true_w = _planted_problem()
    trained = BilinearRanker.fit(examples, items, BPRConfig(epochs=20, learning_rate=0.05))
    identity = BilinearRanker.identity(16)
    assert (
        _pairwise_accuracy(trained, items, true_w)
        > _pairwise_accuracy(identity, items, true_w) + 0.05
    )
    # the informative dimensions end up weighted above the noise dimensions
    assert trained.shared[:4].mean() > trained.shared[4:].mean()


def test_bpr_is_deterministic_for_a_seed() -> None:
    examples, items, _ = _planted_problem()
    a = BilinearRanker.fit(examples, items, BPRConfig(epochs=2, seed=7))
    b = BilinearRanker.fit(examples, items, BPRConfig(epochs=2, seed=7))
    c = BilinearRanker.fit(examples, items, BPRConfig(epochs=2, seed=8))
    np.testing.assert_array_equal(a.shared, b.shared)
    assert not np.array_equal(a.shared, c.shared)


def test_per_item_rows_are_regularised_toward_shared(tmp_path: Path) -> None:
    examples, items, _ = _planted_problem()
    ranker = BilinearRanker.fit(examples, items, BPRConfig(mode="per_item", epochs=3, reg_item=0.5))
    assert ranker.mode == "per_item"
    assert ranker.item_deltas.shape[0] > 0
    rows = ranker.weight_rows(["i0", "never-seen"])
    np.testing.assert_array_equal(rows[1], ranker.shared)  # unseen items use shared weights
    # offsets stay small next to the shared weights
    assert np.abs(ranker.item_deltas).mean() < np.abs(ranker.shared).mean()

    path = tmp_path / "w.npz"
    ranker.save(path)
    loaded = BilinearRanker.load(path)
    assert loaded.mode == "per_item"
    np.testing.assert_array_equal(
        loaded.weight_rows(["i0", "i5"]), ranker.weight_rows(["i0", "i5"])
    )


def test_fit_without_usable_examples_is_a_clear_error() -> None:
    with pytest.raises(RankerError, match="no training example"):
        BilinearRanker.fit([TrainingExample(np.ones(4, np.float32), "missing")], {"a": np.ones(4)})


def test_score_rejects_wrong_dimension() -> None:
    with pytest.raises(RankerError, match="do not fit"):
        BilinearRanker.identity(8).score(np.ones(8, np.float32), ["a"], np.ones((1, 4)))


def test_load_of_a_broken_file_is_a_ranker_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(RankerError):
        BilinearRanker.load(bad)
