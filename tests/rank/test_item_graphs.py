"""RP3beta and sequence rules on interaction sets with a known structure (the shared contract of
every collaborative model is in test_collaborative.py)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from babelrec.rank.collaborative import build_collaborative
from babelrec.rank.item_graphs import RP3Beta, SequenceRules


def test_sequence_rules_score_what_users_took_next() -> None:
    # Everyone watches a season in order; the rest is noise in random order.
    rng = np.random.default_rng(0)
    lists = []
    for _ in range(30):
        noise = [f"n{i}" for i in rng.permutation(6)[:3]]
        lists.append([*noise[:2], "s1", "s2", "s3", "s4", noise[2]])
    model = SequenceRules(window=2, recent=1).fit(lists, threads=1)
    candidates = ["s1", "s2", "s3", "s4", "n0"]
    after_s1 = model.score(["n1", "s1"], candidates)
    assert candidates[int(np.argmax(after_s1))] == "s2"
    assert after_s1[0] == 0.0  # nobody took s1 after s1
    after_s3 = model.score(["s1", "s2", "s3"], candidates)
    assert candidates[int(np.argmax(after_s3))] == "s4"
    # window 2: s4 is not counted after s1 (3 places on)
    assert model.score(["s1"], ["s4"]).tolist() == [0.0]


def test_sequence_rules_fold_in_the_last_items_with_a_repeat_at_its_last_place() -> None:
    lists = [["a", "b"], ["c", "d"], ["a", "b"], ["c", "d"]]
    model = SequenceRules(window=1, recent=1).fit(lists, threads=1)
    # c is the last item (a repeated a counts at its last place, before c).
    assert model.score(["a", "c"], ["b", "d"]).tolist() == [0.0, 2.0]
    assert model.score(["c", "a"], ["b", "d"]).tolist() == [2.0, 0.0]
    assert model.score(["c", "a", "c"], ["b", "d"]).tolist() == [0.0, 2.0]


def test_rp3beta_beta_discounts_popular_neighbours() -> None:
    # Everyone took "hit"; "niche" goes with "x" only, and less often than "hit" does. With
    # beta > 0 the walk from x to the popular item is discounted below the walk to the niche one.
    lists = [["hit", "x", "niche"]] * 2 + [["hit", "x"]] * 3
    lists += [["hit", f"other{u}"] for u in range(20)]
    plain = RP3Beta(alpha=1.0, beta=0.0).fit(lists, threads=1)
    discounted = RP3Beta(alpha=1.0, beta=0.8).fit(lists, threads=1)
    assert plain.score(["x"], ["hit", "niche"])[0] > plain.score(["x"], ["hit", "niche"])[1]
    scores = discounted.score(["x"], ["hit", "niche"])
    assert scores[1] > scores[0]


@settings(max_examples=30, deadline=None)
@given(
    lists=st.lists(
        st.lists(st.sampled_from([f"i{n}" for n in range(10)]), min_size=1, max_size=8),
        min_size=1,
        max_size=10,
    ),
    neighbours=st.integers(1, 5),
)
def test_rp3beta_keeps_at_most_its_neighbours_and_no_self_loops(
    lists: list[list[str]], neighbours: int
) -> None:
    model = build_collaborative("rp3beta", {"neighbours": neighbours}).fit(lists, threads=1)
    assert isinstance(model, RP3Beta)
    similarity = model.similarity.tocsr()
    assert np.all(np.diff(similarity.indptr) <= neighbours)
    assert np.all(similarity.diagonal() == 0.0)
    assert np.all(similarity.data >= 0.0)


@settings(max_examples=30, deadline=None)
@given(
    lists=st.lists(
        st.lists(st.sampled_from([f"i{n}" for n in range(8)]), min_size=1, max_size=8),
        min_size=1,
        max_size=10,
    ),
    history=st.lists(st.sampled_from([f"i{n}" for n in range(10)]), max_size=10),
    recent=st.integers(1, 4),
)
def test_sequence_rules_depend_only_on_the_last_known_items(
    lists: list[list[str]], history: list[str], recent: int
) -> None:
    model = SequenceRules(window=3, recent=recent).fit(lists, threads=1)
    candidates = [f"i{n}" for n in range(10)]
    distinct = list(dict.fromkeys(reversed(history)))[::-1]
    tail = [i for i in distinct if i in model.item_index][-recent:]
    scores = model.score(history, candidates)
    np.testing.assert_array_equal(scores, model.score(tail, candidates))
    assert np.all(scores >= 0.0) and np.all(np.isfinite(scores))
