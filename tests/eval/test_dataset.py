from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from babelrec.errors import DatasetError
from babelrec.eval.dataset import (
    ImpressionRow,
    InteractionRow,
    UserRow,
    load_dataset,
    write_dataset,
)
from babelrec.io.catalog import read_catalog
from babelrec.models import Item

T0 = datetime(2020, 1, 1, tzinfo=UTC)


def small(tmp_path: Path) -> tuple[Path, str]:
    items = [
        Item(id="a", title="甲", language="zh", region="cn", tags=["x"], metadata={"n": 1}),
        Item(id="b", title="Bee", language="en"),
        Item(id="c", title="씨", language="ko", region="KR"),
    ]
    interactions = [
        InteractionRow(user_id="u1", item_id="a", timestamp=T0, rating=4.0),
        InteractionRow(user_id="u1", item_id="b", timestamp=T0, rating=None),
        InteractionRow(user_id="u2", item_id="c", timestamp=T0, rating=3.5),
    ]
    users = [UserRow(id="u1", language="ZH"), UserRow(id="u2", language="ko", region="kr")]
    impressions = [
        ImpressionRow(id="i1", user_id="u1", history=["a"], candidates=["b", "c"], labels=[1, 0])
    ]
    digest = write_dataset(
        tmp_path, items=items, interactions=interactions, users=users, impressions=impressions
    )
    return tmp_path, digest


def test_round_trip_keeps_rows_and_hash(tmp_path: Path) -> None:
    path, digest = small(tmp_path)
    ds = load_dataset(path)
    assert list(ds.items) == ["a", "b", "c"]
    assert ds.items["a"].region == "CN" and ds.items["a"].metadata == {"n": 1}
    assert [r.rating for r in ds.interactions] == [4.0, None, 3.5]
    assert ds.interactions[0].timestamp == T0
    assert ds.users["u1"].language == "zh" and ds.users["u2"].region == "KR"
    assert ds.impressions[0].positives == {"b"}
    assert ds.content_hash == digest and len(digest) == 64
    assert set(ds.file_hashes) == {
        "items.jsonl",
        "interactions.csv",
        "users.jsonl",
        "impressions.jsonl",
    }
    assert ds.problems == []
    assert ds.user_locale("u2") == ("ko", "KR")


def test_hash_changes_with_content(tmp_path: Path) -> None:
    path, digest = small(tmp_path)
    with (path / "interactions.csv").open("a") as f:
        f.write("u2,a,2021-01-01T00:00:00Z,\n")
    assert load_dataset(path).content_hash != digest


def test_csv_accepts_unix_naive_and_no_rating_column(tmp_path: Path) -> None:
    path, _ = small(tmp_path)
    (path / "interactions.csv").write_text(
        "user_id,item_id,timestamp\nu1,a,1577836800\nu2,b,2020-01-01T00:00:00\n"
    )
    rows = load_dataset(path).interactions
    assert [r.timestamp for r in rows] == [T0, T0]
    assert all(r.rating is None for r in rows)


def test_bad_rows_are_reported_by_file_and_line(tmp_path: Path) -> None:
    path, _ = small(tmp_path)
    with (path / "items.jsonl").open("a") as f:
        f.write('{"id": "d", "title": "  "}\n')  # line 4: blank title
        f.write('{"id": "e", "title": "E", "colour": "red"}\n')  # line 5: unknown field
        f.write("not json\n")  # line 6
    with (path / "interactions.csv").open("a") as f:
        f.write("u1,zzz,2020-01-01T00:00:00Z,1\n")  # line 5: unknown item
        f.write("u1,a,yesterday,1\n")  # line 6: bad time
    with (path / "impressions.jsonl").open("a") as f:
        row = {"id": "i2", "user_id": "u1", "candidates": ["a", "b"], "labels": [1]}
        f.write(json.dumps(row) + "\n")  # line 2: label count
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    message = str(info.value)
    assert "6 bad rows" in message
    assert "items.jsonl:4: title" in message
    assert "items.jsonl:5: colour" in message
    assert "and 1 more" in message

    ds = load_dataset(path, strict=False)
    where = {(p.file, p.line) for p in ds.problems}
    assert where == {
        ("items.jsonl", 4),
        ("items.jsonl", 5),
        ("items.jsonl", 6),
        ("interactions.csv", 5),
        ("interactions.csv", 6),
        ("impressions.jsonl", 2),
    }
    assert len(ds.items) == 3 and len(ds.interactions) == 3 and len(ds.impressions) == 1


def test_users_file_must_list_every_user(tmp_path: Path) -> None:
    path, _ = small(tmp_path)
    with (path / "interactions.csv").open("a") as f:
        f.write("ghost,a,2020-01-01T00:00:00Z,\n")
    ds = load_dataset(path, strict=False)
    assert [str(p) for p in ds.problems] == ["interactions.csv:5: user 'ghost' not in users.jsonl"]


def test_duplicate_ids_and_candidates(tmp_path: Path) -> None:
    path, _ = small(tmp_path)
    with (path / "items.jsonl").open("a") as f:
        f.write('{"id": "a", "title": "again"}\n')
    with (path / "impressions.jsonl").open("a") as f:
        row = {"id": "i9", "user_id": "u1", "candidates": ["a", "a"], "labels": [1, 0]}
        f.write(json.dumps(row) + "\n")
    messages = [p.message for p in load_dataset(path, strict=False).problems]
    assert "duplicate item id 'a'" in messages
    assert any("duplicates" in m for m in messages)


def test_missing_files_and_bad_header(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found"):
        load_dataset(tmp_path / "nope")
    path, _ = small(tmp_path)
    (path / "interactions.csv").write_text("user,item,time\n")
    with pytest.raises(DatasetError, match="interactions.csv:1: header"):
        load_dataset(path)
    (path / "items.jsonl").unlink()
    with pytest.raises(DatasetError, match="items.jsonl is missing"):
        load_dataset(path)


def test_writer_removes_stale_optional_files(tmp_path: Path) -> None:
    path, _ = small(tmp_path)
    write_dataset(path, items=[Item(id="a", title="A")], interactions=[])
    assert not (path / "users.jsonl").exists()
    assert not (path / "impressions.jsonl").exists()
    ds = load_dataset(path)
    assert list(ds.items) == ["a"] and ds.interactions == [] and ds.users == {}


@pytest.mark.parametrize(
    "row",
    [
        {"id": "d"},
        {"id": "d", "title": "  "},
        {"id": "d", "title": "D", "colour": "red"},
        {"id": "d", "title": "D", "language": 7},
        ["d", "D"],
    ],
)
def test_items_follow_the_catalog_rules_of_ingest(tmp_path: Path, row: object) -> None:
    """One reader for catalog rows: the eval loader rejects what ingest rejects, with the
    same message."""
    catalog = tmp_path / "catalog.jsonl"
    catalog.write_text(json.dumps(row) + "\n", encoding="utf-8")
    [ingest_error] = read_catalog(catalog, detect_language=False).errors
    path, _ = small(tmp_path / "ds")
    with (path / "items.jsonl").open("a") as f:
        f.write(json.dumps(row) + "\n")
    [problem] = load_dataset(path, strict=False).problems
    assert (problem.file, problem.line) == ("items.jsonl", 4)
    assert problem.message == ingest_error.message
