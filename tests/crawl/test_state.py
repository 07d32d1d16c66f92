from __future__ import annotations

from pathlib import Path

from babelrec.crawl.fetch import Validators
from babelrec.crawl.state import CrawlState


def test_state_round_trips_and_keeps_item_ids(tmp_path: Path) -> None:
    state = CrawlState()
    state.remember("http://h/a", Validators(etag='"1"'), "web-1")
    state.remember("http://h/a", Validators(last_modified="Mon, 01 Jan 2024 00:00:00 GMT"))
    path = tmp_path / "deep" / "crawl_state.json"
    state.save(path)
    loaded = CrawlState.load(path)
    assert loaded.urls["http://h/a"].item_id == "web-1"
    assert loaded.validators("http://h/a") == Validators(None, "Mon, 01 Jan 2024 00:00:00 GMT")
    assert loaded.validators("http://h/b") is None
    assert list(path.parent.iterdir()) == [path]  # no temporary file left


def test_an_unreadable_state_file_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "crawl_state.json"
    path.write_text("{not json", encoding="utf-8")
    assert CrawlState.load(path).urls == {}
