"""Converters on small files in the real formats (always), and on the real shared data
(BABELREC_EVAL__DATA_DIR, default ../shared/data; skipped when absent unless
BABELREC_EVAL__REQUIRE_DATA=1)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from babelrec.errors import DatasetError
from babelrec.eval.converters import available_converters, convert
from babelrec.eval.converters.base import REPORT_FILE
from babelrec.eval.converters.mind import shown_in_english
from babelrec.eval.dataset import load_dataset

from .conftest import Converted


def test_registry() -> None:
    assert available_converters() == ["kmrd", "mind-mixed", "mind-paired", "mind-zh", "ml100k"]
    with pytest.raises(DatasetError, match="unknown dataset 'nope'; choose one of: kmrd"):
        convert("nope", ".", ".")


def test_missing_data_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=re.escape(str(tmp_path / "absent"))):
        convert("kmrd", tmp_path / "absent", tmp_path / "out")
    (tmp_path / "partial").mkdir()
    missing = tmp_path / "partial" / "xmind_zh" / "xMINDsmall_dev.zip"
    with pytest.raises(DatasetError, match=re.escape(f"not found: {missing}")):
        convert("mind-zh", tmp_path / "partial", tmp_path / "out")


@pytest.mark.data
def test_mind_zh(converted: Converted, eval_data_dir: Path) -> None:
    report, path = converted("mind-zh")
    assert report.counts == {"impressions": 1958, "users": 1884, "items": 12587, "interactions": 0}
    assert report.dropped["impression: no clicked candidate with Chinese text"] == 1868
    assert report.dropped["impression: empty history"] == 86
    assert report.dropped["impression: no unclicked candidate with Chinese text"] == 85
    assert report.dropped["history entry: no Chinese text"] == 1188
    ds = load_dataset(path)
    assert ds.content_hash == report.content_hash
    assert len(ds.impressions) == 1958 and len(ds.items) == 12587
    assert {i.language for i in ds.items.values()} == {"zh"}
    assert {u.language for u in ds.users.values()} == {"zh"}
    assert all(row.positives and len(row.positives) < len(row.candidates) for row in ds.impressions)
    assert sum(1 for i in ds.items.values() if i.category) == 447
    translated = [i for i in ds.items.values() if i.translations]
    assert len(translated) == report.notes["items_with_translation"] == 447
    assert all(set(i.translations) == {"en"} for i in translated)
    original = {line.split("\t")[0] for line in (eval_data_dir / "mind/behaviors.tsv").open()}
    assert {row.id for row in ds.impressions} <= original
    saved = json.loads((path / REPORT_FILE).read_text())
    assert saved["counts"] == report.counts


@pytest.mark.data
def test_mind_mixed(converted: Converted, tmp_path: Path) -> None:
    zh_report, zh_path = converted("mind-zh")
    report, path = converted("mind-mixed")
    assert report.counts == zh_report.counts and report.dropped == zh_report.dropped
    assert (path / "impressions.jsonl").read_bytes() == (zh_path / "impressions.jsonl").read_bytes()
    items = load_dataset(path).items
    english = {i for i, item in items.items() if item.language == "en"}
    paired = {i for i, item in items.items() if item.metadata["paired"]}
    assert len(paired) == 447 and len(english) == report.notes["items_en"] == 239
    assert english == {i for i in paired if shown_in_english(i, 0)}
    assert all(items[i].metadata["source"] == "mind" for i in english)
    assert all(set(items[i].translations) == {"zh"} for i in english)
    assert all(set(items[i].translations) == {"en"} for i in paired - english)
    again = convert("mind-mixed", report.data_dir, tmp_path / "again", seed=0)
    assert again.content_hash == report.content_hash
    other = convert("mind-mixed", report.data_dir, tmp_path / "other", seed=1)
    assert other.content_hash != report.content_hash


@pytest.mark.data
def test_mind_paired(converted: Converted) -> None:
    zh_report, _ = converted("mind-zh")
    report, path = converted("mind-paired")
    ds = load_dataset(path)
    assert report.counts["impressions"] == zh_report.counts["impressions"]
    histories = {i for row in ds.impressions for i in row.history}
    candidates = {i for row in ds.impressions for i in row.candidates}
    # readers keep Chinese histories; only candidates may be English
    assert {ds.items[i].language for i in histories} == {"zh"}
    english = {i for i in candidates if ds.items[i].language == "en"}
    assert len(english) == report.notes["items_en"] > 0
    paired = {i for i in candidates if ds.items[i].metadata["paired"]}
    assert english == {i for i in paired if shown_in_english(i.removesuffix(".en"), 0)}
    renamed = {i for i in english if i.endswith(".en")}
    assert len(renamed) == report.notes["english_candidates_with_own_id"]
    assert all(i.removesuffix(".en") in histories for i in renamed)
    assert all(ds.items[i].translations["zh"].title for i in english)
    assert all("en" in ds.items[i].translations for i in paired - english)


@pytest.mark.data
def test_kmrd(converted: Converted) -> None:
    report, path = converted("kmrd")
    assert report.counts == {"items": 992, "users": 41396, "interactions": 111885, "impressions": 0}
    assert report.dropped == {
        "rating: film dropped or not described": 759,
        "film: no title at all": 7,
    }
    assert report.notes["matched_films"] == 125
    ds = load_dataset(path)
    assert {u.language for u in ds.users.values()} == {"ko"}
    assert {u.region for u in ds.users.values()} == {"KR"}
    cinema = ds.items["10001"]
    assert cinema.title == "시네마 천국" and cinema.language == "ko" and cinema.region == "IT"
    assert cinema.metadata["countries"] == "IT,FR" and cinema.metadata["year"] == 1988
    assert cinema.metadata["ml100k_id"] == "170"
    assert all(len(i.region) == 2 for i in ds.items.values() if i.region)


@pytest.mark.data
def test_ml100k_shares_films_with_kmrd(converted: Converted) -> None:
    report, path = converted("ml100k")
    assert report.counts == {"items": 1682, "users": 754, "interactions": 79577, "impressions": 0}
    assert report.dropped == {"user: no ratings (held-out user)": 189}
    ml = load_dataset(path)
    kmrd = load_dataset(converted("kmrd")[1])
    assert {(u.language, u.region) for u in ml.users.values()} == {("en", "US")}
    ml_shared = {i.metadata["shared_id"]: i for i in ml.items.values() if "shared_id" in i.metadata}
    kmrd_shared = {
        i.metadata["shared_id"]: i for i in kmrd.items.values() if "shared_id" in i.metadata
    }
    assert set(ml_shared) == set(kmrd_shared) and len(ml_shared) == 125
    for shared_id, item in ml_shared.items():
        assert item.metadata["kmrd_id"] == kmrd_shared[shared_id].id
        assert item.region == kmrd_shared[shared_id].region
    future = ml.items["204"]
    assert future.metadata["shared_id"] == "back-to-the-future-1985"
    assert future.metadata["kmrd_id"] == "10002" and future.region == "US"
    assert ml.items["11"].metadata.get("shared_id") is None  # Seven (1995): not in KMRD


MIND_DROPPED = {
    "candidate entry (unclicked): no Chinese text": 17,
    "candidate entry (clicked): no Chinese text": 2,
    "candidate entry: duplicate in impression": 1,
    "history entry: no Chinese text": 4,
    "impression: empty history": 1,
    "impression: no history news with Chinese text": 1,
    "impression: no clicked candidate with Chinese text": 1,
    "impression: no unclicked candidate with Chinese text": 1,
    "impression: malformed candidate entry": 1,
    "impression: malformed line": 1,
    "impression: invalid id, user or time": 1,
    "xmind row malformed or without title": 1,
    "mind news row malformed or without title": 1,
}


def test_mind_zh_on_small_files(converted_small: Converted) -> None:
    report, path = converted_small("mind-zh")
    assert report.counts == {"impressions": 18, "users": 8, "items": 30, "interactions": 0}
    assert report.dropped == MIND_DROPPED
    ds = load_dataset(path)
    assert ds.content_hash == report.content_hash
    assert list(ds.items)[:7] == [f"N{n}" for n in (1, 2, 21, 11, 3, 22, 12)]  # first seen
    assert set(ds.items) == {f"N{n}" for n in range(1, 31)}
    assert {i.language for i in ds.items.values()} == {"zh"}
    assert ds.items["N2"].title == "本地球隊贏得冠軍 (2)"
    assert ds.items["N2"].text == '"我們會繼續努力," 他說.'  # quotes inside a TSV field
    assert ds.items["N1"].text == ""  # an empty xMIND abstract stays empty
    paired = ds.items["N22"]
    assert (paired.category, paired.tags, paired.metadata) == (
        "sports",
        ["football_nfl"],
        {"source": "xmind_zh", "paired": True},
    )
    assert ds.items["N3"].category is None and ds.items["N3"].metadata["paired"] is False
    by_id = {row.id: row for row in ds.impressions}
    assert sorted(by_id) == [str(100 + k) for k in range(16)] + ["205", "208"]
    assert (by_id["205"].history, by_id["205"].candidates, by_id["205"].labels) == (
        ["N1"],
        ["N3", "N4"],
        [1, 0],
    )
    assert (by_id["208"].history, by_id["208"].candidates) == (["N5"], ["N6", "N7"])
    assert by_id["100"].timestamp == datetime(2019, 11, 9, 13, 0, 51, tzinfo=UTC)  # 1 PM
    assert {u.language for u in ds.users.values()} == {"zh"} and len(ds.users) == 8


def test_mind_mixed_on_small_files(converted_small: Converted, small_data_dir: Path) -> None:
    zh_report, zh_path = converted_small("mind-zh")
    report, path = converted_small("mind-mixed")
    assert report.counts == zh_report.counts and report.dropped == zh_report.dropped
    assert (path / "impressions.jsonl").read_bytes() == (zh_path / "impressions.jsonl").read_bytes()
    items = load_dataset(path).items
    english = {i for i, item in items.items() if item.language == "en"}
    paired = {f"N{n}" for n in range(21, 31)}
    assert english == {i for i in paired if shown_in_english(i, 0)} and 0 < len(english) < 10
    assert report.notes["items_en"] == len(english)
    for nid in english:
        assert items[nid].title == f"Story {nid[1:]}: a headline | PHOTOS"
        assert items[nid].metadata == {"source": "mind", "paired": True}
    other = convert("mind-mixed", small_data_dir, path.parent / "mixed-seed1", seed=1)
    assert other.content_hash != report.content_hash


def test_kmrd_on_small_files(converted_small: Converted) -> None:
    report, path = converted_small("kmrd")
    assert report.counts == {"items": 19, "users": 8, "interactions": 39, "impressions": 0}
    assert report.dropped == {
        "rating: film dropped or not described": 2,
        "country not mapped to ISO code: 아이슬란드": 1,
        "film: no title at all": 1,
    }
    assert report.notes == {
        "matched_films": 5,
        "items_with_region": 18,
        "rated_items": 19,
        "rated_matched_items": 5,
    }
    ds = load_dataset(path)
    assert "10009" not in ds.items
    days = ds.items["10002"]
    assert (days.title, days.language, days.region, days.text) == (
        "작은 나날",
        "ko",
        "FR",
        "드라마",
    )
    assert days.metadata == {
        "title_en": "Small Days",
        "grade": "NR",
        "year": 1987,
        "ml100k_id": "2",
        "shared_id": "small-days-1987",
        "countries": "FR,IT",
    }
    assert ds.items["10001"].metadata["release_year_kr"] == 1992
    assert ds.items["10001"].tags == ["드라마", "멜로/로맨스"]
    assert ds.items["10008"].title == "Only English Title" and ds.items["10008"].region == "US"
    assert ds.items["10007"].region is None and "year" not in ds.items["10007"].metadata
    matched = {i for i, item in ds.items.items() if "shared_id" in item.metadata}
    assert matched == {"10001", "10002", "10003", "10004", "10010"}  # not twins, not rivals
    first = ds.interactions[0]
    assert (first.user_id, first.item_id, first.rating) == ("0", "10001", 1.0)
    assert first.timestamp == datetime.fromtimestamp(1494128040, tz=UTC)
    assert {(u.language, u.region) for u in ds.users.values()} == {("ko", "KR")}


def test_ml100k_on_small_files(converted_small: Converted) -> None:
    report, path = converted_small("ml100k")
    assert report.counts == {"items": 20, "users": 6, "interactions": 36, "impressions": 0}
    assert report.dropped == {
        "user: no ratings (held-out user)": 2,
        "rating: film dropped or not described": 1,
    }
    assert report.notes["matched_films"] == 5 and report.notes["items_with_region"] == 5
    ml = load_dataset(path)
    kmrd = load_dataset(converted_small("kmrd")[1])
    keeper = ml.items["3"]
    assert keeper.metadata["shared_id"] == "the-lighthouse-keeper-1990"
    assert keeper.metadata["kmrd_id"] == "10003"
    assert (keeper.region, keeper.metadata["region_source"]) == ("US", "kmrd")
    assert ml.items["4"].metadata["kmrd_id"] == "10004"  # accents folded: Rivières = Rivieres
    assert ml.items["8"].region == "HK"  # KMRD's alias after the original title
    for twin in ("5", "6", "9", "7"):  # ambiguous, claimed twice, other year
        assert "shared_id" not in ml.items[twin].metadata and ml.items[twin].region is None
    assert ml.items["10"].title == "Misérables Again, Les"
    assert ml.items["11"].tags == ["Children's", "Comedy"]
    assert ml.items["12"].title == "unkonwn" and "year" not in ml.items["12"].metadata
    shared = {i.metadata["shared_id"] for i in ml.items.values() if "shared_id" in i.metadata}
    assert shared == {
        i.metadata["shared_id"] for i in kmrd.items.values() if "shared_id" in i.metadata
    }
    assert {(u.language, u.region) for u in ml.users.values()} == {("en", "US")}
    assert ml.interactions[0].timestamp == datetime.fromtimestamp(881251000, tz=UTC)
