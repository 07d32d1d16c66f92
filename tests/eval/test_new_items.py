"""The new-item protocol: every candidate is an item the rankers' data never mentions."""

from __future__ import annotations

from pathlib import Path

import pytest

from babelrec.eval.dataset import Dataset, load_dataset
from babelrec.eval.new_items import new_item_cases
from tests.eval.test_cf_rankers import two_taste_dataset

from .conftest import Converted


def check(dataset: Dataset, share: float) -> None:
    protocol, warm = new_item_cases(dataset, share=share, n_negatives=10, seed=3)
    new = {r.item_id for r in dataset.interactions} - {r.item_id for r in warm.interactions}
    assert protocol.notes["new_items"] == len(new) > 0
    taken: dict[str, set[str]] = {}
    for row in dataset.interactions:
        taken.setdefault(row.user_id, set()).add(row.item_id)
    assert protocol.cases
    for case in protocol.cases:
        assert set(case.candidates) <= new
        assert len(set(case.candidates)) == len(case.candidates)
        assert case.positives <= taken[case.user_id]
        assert not (set(case.candidates) - case.positives) & taken[case.user_id]
        assert case.history and not set(case.history) & new
    again, _ = new_item_cases(dataset, share=share, n_negatives=10, seed=3)
    assert [c.candidates for c in again.cases] == [c.candidates for c in protocol.cases]


def test_new_items_on_a_small_dataset(tmp_path: Path) -> None:
    check(two_taste_dataset(tmp_path), 0.3)


@pytest.mark.data
def test_new_items_on_movielens(converted: Converted) -> None:
    _, path = converted("ml100k")
    check(load_dataset(path), 0.2)
