from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from babelrec.errors import DatasetError
from babelrec.eval.dataset import (
    Dataset,
    ImpressionRow,
    InteractionRow,
    UserRow,
    load_dataset,
    write_dataset,
)
from babelrec.eval.protocols import (
    EvalCase,
    impression_cases,
    leave_last_out_cases,
    sample_negatives,
)
from babelrec.models import Item

from .conftest import Converted

T0 = datetime(2020, 1, 1, tzinfo=UTC)


def make(tmp_path: Path) -> Dataset:
    items = [Item(id=f"i{n}", title=f"Item {n}") for n in range(10)]

    def at(user: str, item: str, day: int) -> InteractionRow:
        return InteractionRow(user_id=user, item_id=item, timestamp=T0 + timedelta(days=day))

    interactions = [
        at("u1", "i3", 2),  # file order is not time order
        at("u1", "i1", 0),
        at("u1", "i2", 1),
        at("u2", "i5", 0),
        at("u2", "i6", 1),
        at("u2", "i5", 2),  # repeat: i5 counts at its last time, so it is u2's target
        at("u3", "i7", 0),  # a single item: too little history
    ]
    users = [UserRow(id=u, language="ko", region="KR") for u in ("u1", "u2", "u3", "u4")]
    impressions = [
        ImpressionRow(id="a", user_id="u1", history=["i1"], candidates=["i2", "i3"], labels=[0, 1]),
        ImpressionRow(id="b", user_id="u1", history=[], candidates=["i2", "i3"], labels=[0, 1]),
        ImpressionRow(id="c", user_id="u2", history=["i1"], candidates=["i2"], labels=[0]),
        ImpressionRow(id="d", user_id="u2", history=["i1"], candidates=["i2"], labels=[1]),
    ]
    write_dataset(
        tmp_path, items=items, interactions=interactions, users=users, impressions=impressions
    )
    return load_dataset(tmp_path)


def test_impression_cases(tmp_path: Path) -> None:
    result = impression_cases(make(tmp_path))
    assert [c.case_id for c in result.cases] == ["a"]
    case = result.cases[0]
    assert case.positives == {"i3"} and case.history == ["i1"]
    assert (case.user_language, case.user_region) == ("ko", "KR")
    assert result.skipped == {
        "history shorter than 1": 1,
        "no clicked candidate": 1,
        "no unclicked candidate": 1,
    }
    assert len(impression_cases(make(tmp_path), min_history=0).cases) == 2


def test_leave_last_out_full_catalog(tmp_path: Path) -> None:
    result = leave_last_out_cases(make(tmp_path), candidates="all")
    cases = {c.user_id: c for c in result.cases}
    assert set(cases) == {"u1", "u2"}
    assert cases["u1"].history == ["i1", "i2"] and cases["u1"].positives == {"i3"}
    assert cases["u1"].candidates == ["i0", "i3", "i4", "i5", "i6", "i7", "i8", "i9"]
    assert cases["u2"].history == ["i6"] and cases["u2"].positives == {"i5"}
    assert result.skipped == {"user without interactions": 1, "fewer than 2 distinct items": 1}
    assert result.notes["repeat_interactions_collapsed"] == 1
    assert result.params["negatives_sha256"] is None
    # each history item with the time it was last seen, and the case at its target's time
    assert cases["u1"].history_times == [T0, T0 + timedelta(days=1)]
    assert cases["u1"].at == T0 + timedelta(days=2)
    assert cases["u2"].history_times == [T0 + timedelta(days=1)]
    assert cases["u2"].at == T0 + timedelta(days=2)  # i5's repeat, not its first time


def test_sampled_negatives_are_stored_and_reused(tmp_path: Path) -> None:
    ds = make(tmp_path / "ds")
    file = tmp_path / "negatives.json"
    first = leave_last_out_cases(ds, n_negatives=4, seed=3, negatives_file=file)
    for case in first.cases:
        assert len(case.candidates) == 5
        negatives = set(case.candidates) - case.positives
        assert not negatives & set(case.history)
    stored = json.loads(file.read_text())
    assert stored["sha256"] == first.params["negatives_sha256"]
    assert stored["dataset_hash"] == ds.content_hash
    again = leave_last_out_cases(ds, n_negatives=4, seed=3, negatives_file=file)
    assert again.cases == first.cases
    assert leave_last_out_cases(ds, n_negatives=4, seed=3).cases == first.cases  # same draw

    with pytest.raises(DatasetError, match="delete the file"):
        leave_last_out_cases(ds, n_negatives=4, seed=4, negatives_file=file)
    stored["negatives"]["u1"][0] = "i3"
    file.write_text(json.dumps(stored))
    with pytest.raises(DatasetError, match="sha256"):
        leave_last_out_cases(ds, n_negatives=4, seed=3, negatives_file=file)


def test_sample_negatives_when_catalog_is_short() -> None:
    negatives = sample_negatives(["a", "b", "c"], {"u": {"a"}, "v": {"a", "b", "c"}}, 5, 0)
    assert negatives == {"u": ["b", "c"], "v": []}


def test_eval_case_checks_positives() -> None:
    with pytest.raises(ValueError, match="among the candidates"):
        EvalCase(case_id="x", user_id="u", history=[], candidates=["a"], positives={"b"})
    with pytest.raises(ValueError, match="1 history times for 2 history items"):
        EvalCase(
            case_id="x", user_id="u", history=["a", "b"], history_times=[T0], candidates=["c"],
            positives={"c"},
        )  # fmt: skip


@pytest.mark.data
def test_protocols_on_converted_data(converted: Converted, tmp_path: Path) -> None:
    mind = load_dataset(converted("mind-zh")[1])
    result = impression_cases(mind)
    assert len(result.cases) == 1958 and result.skipped == {}
    assert all(c.user_language == "zh" for c in result.cases)

    ml = load_dataset(converted("ml100k")[1])
    result = leave_last_out_cases(ml, seed=0, negatives_file=tmp_path / "neg.json")
    assert len(result.cases) == 754 and result.skipped == {}
    assert all(len(c.candidates) == 100 for c in result.cases)
    full = leave_last_out_cases(ml, candidates="all")
    assert {c.user_id for c in full.cases} == {c.user_id for c in result.cases}


def test_protocols_on_small_files_in_the_real_formats(
    converted_small: Converted, tmp_path: Path
) -> None:
    mind = load_dataset(converted_small("mind-zh")[1])
    result = impression_cases(mind)
    assert len(result.cases) == 18 and result.skipped == {}
    case = {c.case_id: c for c in result.cases}["205"]
    assert (case.history, case.candidates, case.positives) == (["N1"], ["N3", "N4"], {"N3"})
    assert {c.user_language for c in result.cases} == {"zh"}

    ml = load_dataset(converted_small("ml100k")[1])
    sampled = leave_last_out_cases(ml, n_negatives=5, seed=0, negatives_file=tmp_path / "n.json")
    assert len(sampled.cases) == 6 and sampled.skipped == {}
    first = {c.user_id: c for c in sampled.cases}["1"]
    assert first.history == ["5", "6", "7", "8", "9"] and first.positives == {"10"}
    assert all(len(c.candidates) == 6 for c in sampled.cases)
    assert all(not set(c.candidates) & set(c.history) for c in sampled.cases)

    kmrd = load_dataset(converted_small("kmrd")[1])
    full = leave_last_out_cases(kmrd, candidates="all")
    assert len(full.cases) == 8 and full.skipped == {}
    two = {c.user_id: c for c in full.cases}["2"]  # 10009 was dropped with its film
    assert two.history == ["10007", "10008", "10010"] and two.positives == {"10011"}
    assert len(two.candidates) == 19 - 3
