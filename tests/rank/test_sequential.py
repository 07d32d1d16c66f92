"""The GRU next-item model: it learns what comes next, in order, and keeps it when saved."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from babelrec.errors import ConfigError
from babelrec.rank.collaborative import CollaborativeModel, build_collaborative
from babelrec.rank.sequential import GRU4Rec, _windows

SMALL = {"dim": 16, "epochs": 60, "batch_size": 16, "learning_rate": 0.02}


def cycles(users: int = 60, length: int = 8) -> list[list[str]]:
    """Every user walks the same cycle c0 -> c1 -> ... -> c7 -> c0 from a random start: what
    comes next depends only on the last item, not on which items the user has."""
    rng = np.random.default_rng(1)
    lists = []
    for _ in range(users):
        start = int(rng.integers(length))
        lists.append([f"c{(start + step) % length}" for step in range(length - 1)])
    return lists


def test_windows_make_every_next_item_a_target_once() -> None:
    inputs, targets = _windows([[1, 2, 3, 4, 5, 6, 7]], length=3)
    pairs = {
        (int(x), int(y))
        for row in range(len(inputs))
        for x, y in zip(inputs[row], targets[row], strict=True)
        if y
    }
    assert pairs == {(1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7)}
    assert (targets > 0).sum() == 6
    assert _windows([[1]], length=3)[0].shape == (0, 3)


def test_the_next_item_of_the_cycle_ranks_first_whatever_the_history_holds() -> None:
    model = GRU4Rec(**SMALL).fit(cycles(), threads=1)
    items = [f"c{n}" for n in range(8)]
    for last in range(8):
        history = [f"c{(last - 2) % 8}", f"c{(last - 1) % 8}", f"c{last}"]
        scores = model.score(history, items)
        unseen = [i for i in items if i not in history]
        best = max(unseen, key=lambda i: scores[items.index(i)])
        assert best == f"c{(last + 1) % 8}", (history, scores)
    # order matters: the same items, another last item, another next item
    a = model.score(["c1", "c2", "c3"], ["c4", "c2"])
    b = model.score(["c2", "c3", "c1"], ["c4", "c2"])
    assert a[0] > a[1] and b[1] > b[0]


def test_training_is_deterministic_and_saving_keeps_the_scores(tmp_path: Path) -> None:
    first = GRU4Rec(**SMALL, seed=3).fit(cycles(), threads=1)
    second = GRU4Rec(**SMALL, seed=3).fit(cycles(), threads=1)
    items = ["c0", "c4", "new"]
    np.testing.assert_array_equal(
        first.score(["c2", "c3"], items), second.score(["c2", "c3"], items)
    )
    first.save(tmp_path / "gru.npz")
    loaded = CollaborativeModel.load(tmp_path / "gru.npz")
    assert isinstance(loaded, GRU4Rec) and loaded.params == first.params
    np.testing.assert_allclose(
        loaded.score(["c2", "c3"], items), first.score(["c2", "c3"], items), rtol=1e-5
    )
    assert loaded.score(["c2", "c3"], items)[2] == 0.0


def test_a_log_without_any_transition_gives_no_signal_rather_than_noise(tmp_path: Path) -> None:
    model = GRU4Rec(**SMALL).fit([["a"], ["b"], ["a"]], threads=1)
    assert model.score(["a"], ["a", "b", "new"]).tolist() == [0.0, 0.0, 0.0]
    model.save(tmp_path / "gru.npz")
    loaded = CollaborativeModel.load(tmp_path / "gru.npz")
    assert loaded.score(["b"], ["a", "b"]).tolist() == [0.0, 0.0]


def test_an_ensemble_sums_its_members_and_saving_keeps_every_member(tmp_path: Path) -> None:
    items = ["c0", "c3", "c4", "new"]
    history = ["c1", "c2", "c3"]
    members = [GRU4Rec(**SMALL, seed=seed).fit(cycles(), threads=1) for seed in (5, 6)]
    ensemble = GRU4Rec(**SMALL, seed=5, members=2).fit(cycles(), threads=1)
    np.testing.assert_allclose(
        ensemble.score(history, items),
        members[0].score(history, items) + members[1].score(history, items),
        rtol=1e-5,
        atol=1e-5,
    )
    ensemble.save(tmp_path / "gru.npz")
    loaded = CollaborativeModel.load(tmp_path / "gru.npz")
    np.testing.assert_allclose(
        loaded.score(history, items), ensemble.score(history, items), rtol=1e-5
    )


def test_an_ensemble_needs_a_member() -> None:
    with pytest.raises(ConfigError, match="gru4rec.*members must be at least 1"):
        build_collaborative("gru4rec", {"members": 0})
