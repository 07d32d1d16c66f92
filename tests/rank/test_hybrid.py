"""The hybrid's fusion and cold-start logic, with a real collaborative model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from babelrec.errors import RankerError
from babelrec.rank.collaborative import EASE
from babelrec.rank.hybrid import (
    FEATURES,
    HELPER_MODELS,
    FusionWeights,
    HybridRanker,
    bridge_history,
    candidate_features,
    fusion_features,
    helper_specs,
    hits_at,
    last_items_score,
    learn_fusion,
    learn_tuned_fusion,
)
from babelrec.rank.item_graphs import RP3Beta
from tests.rank.test_collaborative import two_tastes

# Content, collaborative and popularity all count; cold items lean a little more on content.
WEIGHTS = FusionWeights(weights=[0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.3, 0.0, 0.5])


@pytest.fixture(scope="module")
def model() -> EASE:
    lists = two_tastes()
    lists += [["a0"]] * 30  # a0 is the most popular item
    return EASE(l2=1.0).fit(lists, threads=1)  # type: ignore[return-value]


def test_cold_items_get_neutral_collaborative_features_and_a_flag() -> None:
    features = fusion_features(
        content=np.array([0.1, 0.5, 0.9]),
        collaborative=np.array([2.0, 0.0, 0.0]),
        recent=np.array([1.0, 0.0, 0.0]),
        popularity=np.array([10.0, 3.0, 0.0]),
        known=np.array([True, True, False]),
        sequence=np.array([0.0, 4.0, 0.0]),
    )
    column = dict(zip(FEATURES, features.T, strict=True))
    assert column["cold"].tolist() == [0.0, 0.0, 1.0]
    assert column["collaborative"][2] == column["collaborative_recent"][2] == 0.0
    assert column["collaborative_last"].tolist() == column["collaborative_recent"].tolist()
    assert column["sequence"][2] == 0.0 and column["sequence"][1] > 0 > column["sequence"][0]
    assert column["popularity"][2] == 0.0
    assert column["collaborative"][0] > 0 > column["collaborative"][1]
    assert column["content_cold"][:2].tolist() == [0.0, 0.0]
    assert column["content_cold"][2] == column["content"][2] > 0


def test_an_item_without_interactions_is_ranked_by_content(model: EASE) -> None:
    ranker = HybridRanker(model, WEIGHTS)
    candidates = ["new-far", "new-near", "new-middle"]
    scores = ranker.score(np.array([0.1, 0.9, 0.5]), ["a0", "a1"], candidates)
    assert [candidates[i] for i in np.argsort(-scores)] == ["new-near", "new-middle", "new-far"]


def test_a_cold_item_close_in_content_beats_warm_items_far_in_taste(model: EASE) -> None:
    ranker = HybridRanker(model, WEIGHTS)
    candidates = ["b4", "b5", "new"]
    scores = ranker.score(np.array([0.0, 0.0, 1.0]), ["a0", "a1", "a2"], candidates)
    assert int(np.argmax(scores)) == 2


def test_a_user_without_history_is_ranked_by_interests_and_popularity(model: EASE) -> None:
    ranker = HybridRanker(model, WEIGHTS)
    candidates = ["a0", "a3", "b3"]
    # Equal interest match: the popular item first.
    scores = ranker.score(np.array([0.5, 0.5, 0.5]), [], candidates)
    assert int(np.argmax(scores)) == 0
    features = candidate_features(model, np.zeros(3), [], candidates)
    assert np.all(features[:, 1:5] == 0.0)  # collaborative, recent, last and sequence
    # A clear interest match wins over popularity.
    scores = ranker.score(np.array([0.0, 0.0, 1.0]), [], candidates)
    assert int(np.argmax(scores)) == 2


def test_learn_fusion_finds_the_source_that_predicts_the_labels() -> None:
    rng = np.random.default_rng(0)
    lists = []
    for _ in range(200):
        content, cf, pop = rng.normal(size=(3, 20))
        labels = np.zeros(20, dtype=bool)
        labels[int(np.argmax(cf + 0.3 * rng.normal(size=20)))] = True
        known = np.ones(20, dtype=bool)
        lists.append((fusion_features(content, cf, cf, np.exp(pop), known), labels))
    fusion = learn_fusion(lists)
    weights = dict(zip(fusion.features, fusion.weights, strict=True))
    collaborative = ("collaborative", "collaborative_recent", "collaborative_last")
    assert sum(weights[f] for f in collaborative) > 1.0
    assert abs(weights["content"]) < 0.3 and abs(weights["popularity"]) < 0.3
    assert fusion.lists == 200 and fusion.pairs == 200 * 19


def _noisy_lists(n: int, noise: float, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    lists = []
    for _ in range(n):
        content, cf, pop = rng.normal(size=(3, 20))
        labels = np.zeros(20, dtype=bool)
        labels[int(np.argmax(content + noise * rng.normal(size=20)))] = True
        lists.append((fusion_features(content, cf, cf, np.exp(pop), np.ones(20, bool)), labels))
    return lists


def test_tuned_fusion_picks_its_l2_from_the_grid_and_refits_on_every_list() -> None:
    lists = _noisy_lists(160, noise=0.5, seed=1)
    fusion = learn_tuned_fusion(lists, grid=(1e-3, 1e-1, 10.0))
    assert fusion.l2 in (1e-3, 1e-1, 10.0)
    assert learn_fusion(lists, l2=fusion.l2).weights == fusion.weights
    assert fusion.lists == 160
    only = learn_tuned_fusion(lists, grid=(0.5,))
    assert only.l2 == 0.5 and only.weights == learn_fusion(lists, l2=0.5).weights


def test_hits_at_counts_ties_against_the_positive() -> None:
    features = np.ones((4, len(WEIGHTS.weights)))
    labels = np.array([False, False, True, False])
    assert hits_at(WEIGHTS, [(features, labels)], 3) == 0.0
    assert hits_at(WEIGHTS, [(features, labels)], 4) == 1.0


def test_learn_fusion_needs_a_positive_and_a_negative() -> None:
    features = np.zeros((3, len(FEATURES)))
    with pytest.raises(RankerError, match="positive and a negative"):
        learn_fusion([(features, np.array([True, True, True]))])


def test_bridge_maps_other_language_history_to_known_twins(model: EASE) -> None:
    rng = np.random.default_rng(1)
    vectors = {}
    for item in model.item_ids:
        v = rng.normal(size=16)
        vectors[item] = v / np.linalg.norm(v)
        twin = vectors[item] + 0.05 * rng.normal(size=16)  # the same film, catalogued in Korean
        vectors[f"ko-{item}"] = twin / np.linalg.norm(twin)
    vectors["ko-unrelated"] = -vectors["a0"]
    history = ["ko-a0", "ko-a1", "ko-unrelated", "no-vector"]
    bridged = bridge_history(history, model, vectors, threshold=0.9)
    assert sorted(bridged) == ["a0", "a1"]
    candidates = ["a4", "b4"]
    assert model.score(history, candidates).tolist() == [0.0, 0.0]
    scores = model.score(bridged, candidates)
    assert scores[0] > scores[1]


@settings(max_examples=50, deadline=None)
@given(
    content=arrays(np.float64, st.integers(2, 30), elements=st.floats(-5, 5)),
    w_content=st.floats(0.01, 3),
    w_other=st.lists(st.floats(-3, 3), min_size=len(FEATURES) - 2, max_size=len(FEATURES) - 2),
)
def test_with_only_cold_candidates_the_order_is_the_content_order(
    content: np.ndarray, w_content: float, w_other: list[float]
) -> None:
    n = len(content)
    zeros = np.zeros(n)
    features = fusion_features(content, zeros, zeros, zeros, np.zeros(n, dtype=bool))
    weights = FusionWeights(weights=[w_content, *w_other, 0.0])
    scores = weights.score(features)
    assert np.all(np.isfinite(scores))
    order = np.argsort(-content, kind="stable")
    assert np.all(np.diff(scores[order]) <= 1e-9)


def test_the_last_items_count_most_halving_with_age(model: EASE) -> None:
    candidates = ["a4", "b4", "new"]
    newest_b = last_items_score(model, ["a0", "a1", "b0"], candidates)
    expected = (
        model.score(["b0"], candidates)
        + 0.5 * model.score(["a1"], candidates)
        + 0.25 * model.score(["a0"], candidates)
    )
    np.testing.assert_allclose(newest_b, expected, rtol=1e-6)
    assert newest_b[2] == 0.0
    # the same two items in the other order: the newest one's taste counts more
    assert (
        last_items_score(model, ["a0", "b0"], ["b4"])[0]
        > last_items_score(model, ["b0", "a0"], ["b4"])[0]
    )
    # unknown items are skipped and a repeat counts at its last place
    np.testing.assert_allclose(
        last_items_score(model, ["b0", "a0", "a1", "unknown", "b0"], candidates), newest_b
    )


def test_graph_last_is_the_item_graphs_last_items_score(model: EASE) -> None:
    graph = RP3Beta(alpha=1.0, beta=0.5, neighbours=10).fit(two_tastes(), threads=1)
    candidates, history = ["a4", "b4", "b3"], ["a0", "b0", "b1"]
    features = candidate_features(model, np.zeros(3), history, candidates, helpers={"graph": graph})
    column = dict(zip(FEATURES, features.T, strict=True))
    expected = last_items_score(graph, history, candidates)
    assert np.argsort(column["graph_last"]).tolist() == np.argsort(expected).tolist()
    assert column["graph_last"][0] < 0 < column["graph_last"][1]  # b-taste last: b4 over a4
    without = candidate_features(model, np.zeros(3), history, candidates)
    assert not without[:, FEATURES.index("graph_last")].any()


def test_helper_specs_turn_models_off_override_parameters_and_refuse_unknown_names() -> None:
    specs = helper_specs({"recurrent": False, "graph": {"neighbours": 5}})
    assert set(specs) == set(HELPER_MODELS) - {"recurrent"}
    assert specs["graph"] == ("rp3beta", {**HELPER_MODELS["graph"][1], "neighbours": 5})
    assert set(helper_specs()) == set(HELPER_MODELS)
    with pytest.raises(RankerError, match="unknown helper models"):
        helper_specs({"svd": True})


def test_candidate_features_refuse_an_unknown_helper(model: EASE) -> None:
    with pytest.raises(RankerError, match="unknown helper models"):
        candidate_features(model, np.zeros(1), ["a0"], ["a1"], helpers={"gru": model})
