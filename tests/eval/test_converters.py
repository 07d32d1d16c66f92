"""Converters on the real shared data (BABELREC_EVAL_DATA, default ../shared/data)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from babelrec.errors import DatasetError
from babelrec.eval.converters import available_converters, convert
from babelrec.eval.converters.base import REPORT_FILE
from babelrec.eval.converters.mind import shown_in_english
from babelrec.eval.dataset import load_dataset

from .conftest import Converted

pytestmark = pytest.mark.data


def test_registry() -> None:
    assert available_converters() == ["kmrd", "mind-mixed", "mind-zh", "ml100k"]
    with pytest.raises(DatasetError, match="unknown dataset 'nope'; choose one of: kmrd"):
        convert("nope", ".", ".")


def test_missing_data_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=re.escape(str(tmp_path / "absent"))):
        convert("kmrd", tmp_path / "absent", tmp_path / "out")
    (tmp_path / "partial").mkdir()
    missing = tmp_path / "partial" / "xmind_zh" / "xMINDsmall_dev.zip"
    with pytest.raises(DatasetError, match=re.escape(f"not found: {missing}")):
        convert("mind-zh", tmp_path / "partial", tmp_path / "out")


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
    original = {line.split("\t")[0] for line in (eval_data_dir / "mind/behaviors.tsv").open()}
    assert {row.id for row in ds.impressions} <= original
    saved = json.loads((path / REPORT_FILE).read_text())
    assert saved["counts"] == report.counts


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
    again = convert("mind-mixed", report.data_dir, tmp_path / "again", seed=0)
    assert again.content_hash == report.content_hash
    other = convert("mind-mixed", report.data_dir, tmp_path / "other", seed=1)
    assert other.content_hash != report.content_hash


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
