"""The collaborative models on small interaction sets with a known structure (real `implicit`)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from babelrec.errors import ConfigError, RankerError
from babelrec.rank.collaborative import (
    COLLABORATIVE_MODELS,
    EASE,
    CollaborativeModel,
    build_collaborative,
)

SMALL = {
    "itemknn": {"neighbours": 10},
    "ease": {"l2": 1.0},
    "als": {"factors": 4, "alpha": 10.0},
    "rp3beta": {"neighbours": 10},
    "sequence": {"window": 3, "recent": 5},
    "gru4rec": {"dim": 8, "epochs": 40, "batch_size": 8, "learning_rate": 0.02},
}


def two_tastes(users: int = 40) -> list[list[str]]:
    """Half the users take items a0..a5, half b0..b5; each user takes four of their six."""
    rng = np.random.default_rng(0)
    lists = []
    for u in range(users):
        group = "a" if u % 2 else "b"
        picked = rng.choice(6, size=4, replace=False)
        lists.append([f"{group}{i}" for i in picked])
    return lists


@pytest.fixture(scope="module", params=sorted(COLLABORATIVE_MODELS))
def fitted(request: pytest.FixtureRequest) -> CollaborativeModel:
    name = str(request.param)
    return build_collaborative(name, SMALL[name]).fit(two_tastes(), threads=1)


def test_a_new_user_is_folded_in_and_gets_their_taste_first(fitted: CollaborativeModel) -> None:
    candidates = ["a4", "a5", "b4", "b5"]
    scores = fitted.score(["a0", "a1", "a2"], candidates)
    assert min(scores[:2]) > max(scores[2:])
    scores = fitted.score(["b0", "b1"], candidates)
    assert min(scores[2:]) > max(scores[:2])


def test_unknown_items_and_users_without_known_items_score_zero(
    fitted: CollaborativeModel,
) -> None:
    assert fitted.knows(["a0", "new"]).tolist() == [True, False]
    assert fitted.score(["a0", "a1"], ["new"]).tolist() == [0.0]
    assert fitted.score(["nobody-knows-this"], ["a0", "b0"]).tolist() == [0.0, 0.0]
    assert fitted.score([], ["a0"]).tolist() == [0.0]
    assert fitted.popularity(["new"]).tolist() == [0.0]


def test_popularity_counts_users(fitted: CollaborativeModel) -> None:
    lists = two_tastes()
    expected = sum("a0" in items for items in lists)
    assert fitted.popularity(["a0"]).tolist() == [expected]


def test_save_and_load_give_the_same_scores(fitted: CollaborativeModel, tmp_path: Path) -> None:
    path = tmp_path / "cf.npz"
    fitted.save(path)
    loaded = CollaborativeModel.load(path)
    assert type(loaded) is type(fitted) and loaded.params == fitted.params
    items = ["a0", "a3", "b1", "b5", "new"]
    np.testing.assert_allclose(
        loaded.score(["a1", "b2"], items), fitted.score(["a1", "b2"], items), rtol=1e-6
    )


def test_ease_beyond_max_items_scores_zero() -> None:
    lists = [["p", "q"], ["p", "q"], ["p", "r"], ["q", "p"]]
    model = EASE(l2=1.0, max_items=2).fit(lists, threads=1)
    assert model.knows(["r"]).tolist() == [True]
    assert model.score(["p"], ["q", "r"])[1] == 0.0
    assert model.score(["p"], ["q", "r"])[0] > 0.0


def test_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="choose one of"):
        build_collaborative("svd++")
    with pytest.raises(ConfigError, match="unexpected keyword"):
        build_collaborative("ease", {"lambda": 1.0})
    with pytest.raises(RankerError, match="no interactions"):
        EASE().fit([[], []])
    with pytest.raises(RankerError, match="fit"):
        EASE().score(["a"], ["b"])
    (tmp_path / "bad.npz").write_bytes(b"not numpy")
    with pytest.raises(RankerError, match="cannot load"):
        CollaborativeModel.load(tmp_path / "bad.npz")


items = st.sampled_from([f"i{n}" for n in range(12)])


@settings(max_examples=25, deadline=None)
@given(
    lists=st.lists(st.lists(items, min_size=1, max_size=6), min_size=2, max_size=12),
    history=st.lists(items, max_size=5),
    candidates=st.lists(st.sampled_from([f"i{n}" for n in range(15)]), min_size=1, max_size=8),
    name=st.sampled_from(["itemknn", "ease", "rp3beta", "sequence", "gru4rec"]),
)
def test_scores_are_finite_one_per_candidate_and_deterministic(
    lists: list[list[str]], history: list[str], candidates: list[str], name: str
) -> None:
    params = {**SMALL[name], "epochs": 2} if name == "gru4rec" else SMALL[name]
    first = build_collaborative(name, params).fit(lists, threads=1)
    second = build_collaborative(name, params).fit(lists, threads=1)
    scores = first.score(history, candidates)
    assert scores.shape == (len(candidates),)
    assert np.all(np.isfinite(scores))
    np.testing.assert_array_equal(scores, second.score(history, candidates))
    unknown = ~first.knows(candidates)
    assert np.all(scores[unknown] == 0.0)


def test_fitting_is_the_same_in_every_process_whatever_the_hash_seed(tmp_path: Path) -> None:
    """Item indices follow first appearance, not a set's per-process hash order."""
    import subprocess
    import sys

    script = (
        "from babelrec.rank.collaborative import build_collaborative\n"
        "from tests.rank.test_collaborative import SMALL, two_tastes\n"
        "m = build_collaborative('gru4rec', SMALL['gru4rec']).fit(two_tastes(), threads=1)\n"
        "print(m.item_ids, m.score(['a0', 'b1'], ['a3', 'b4']).tolist())\n"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(runs) == 1, runs
