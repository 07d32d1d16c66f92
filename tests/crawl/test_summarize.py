from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from babelrec.crawl import CrawlOptions, crawl
from babelrec.crawl.extract import item_id
from babelrec.crawl.summarize import Summaries, summarize
from babelrec.errors import ConfigError, LLMUnavailableError
from babelrec.llm.base import ChatMessage, JSONSchema
from babelrec.llm.cache import ResponseCache
from babelrec.llm.fake import FakeLLM
from babelrec.llm.local import LlamaCppLLM
from babelrec.llm.prompting import language_name
from babelrec.models import Item
from babelrec.pipeline.recommender import Recommender
from babelrec.settings import Settings
from tests.crawl.site import ARTICLES, Site

FAST = CrawlOptions(delay=0, summarize=True, pivot_language="en")


def answer(messages: Sequence[ChatMessage], schema: JSONSchema) -> str:
    title = messages[-1].content.split("<title>")[1].split("</title>")[0]
    return json.dumps({"summary": f"S: {title}", "pivot_summary": f"EN: {title}"})


def test_summaries_in_the_items_language_and_the_pivot_are_stored_and_cached(
    site: Site, hashing_settings: Settings, tmp_path: Path
) -> None:
    rec = Recommender.from_settings(hashing_settings)
    llm = FakeLLM(responder=answer, cache=ResponseCache(tmp_path / "llm"))
    urls = [f"{site.base}/feeds/ja.xml", f"{site.base}/articles/es-ley.html"]
    report = crawl(urls, rec.store, rec.embedder, FAST, llm=llm)
    assert report.summaries == 2 and report.summary_errors == []
    stored = rec.store.get([item_id(f"{site.base}/articles/ja-sakura.html")])
    meta = next(iter(stored.values())).item.metadata
    assert meta["summary"] == f"S: {ARTICLES['ja-sakura']['title']}"
    assert meta["summary_en"] == f"EN: {ARTICLES['ja-sakura']['title']}"
    prompt = next(p[-1].content for p in llm.prompts if "上野公園" in p[-1].content)
    assert f"once in {language_name('ja')} and once in English" in prompt
    assert "<data>" in prompt
    # The same texts again, in a fresh store: answers come from the cache, no generation.
    other = Recommender.from_settings(
        hashing_settings.model_copy(update={"data_dir": tmp_path / "b"})
    )
    generated = len(llm.prompts)
    crawl(urls, other.store, other.embedder, FAST, llm=llm)
    assert len(llm.prompts) == generated and all(call.cached for call in llm.calls[-2:])


def test_an_unchanged_item_keeps_its_summary_without_asking_again(
    site: Site, hashing_settings: Settings
) -> None:
    rec = Recommender.from_settings(hashing_settings)
    llm = FakeLLM(responder=answer)
    url = [f"{site.base}/articles/es-ley.html"]
    crawl(url, rec.store, rec.embedder, FAST, llm=llm)
    (rec.store.artifact_dir / "crawl_state.json").unlink()  # forget the ETag: refetch
    report = crawl(url, rec.store, rec.embedder, FAST, llm=llm)
    assert len(llm.prompts) == 1 and report.ingest.unchanged == 1


def test_a_failed_summary_leaves_the_item_and_the_crawl_goes_on() -> None:
    items = [Item(id="a", title="A", text="x", language="fr"), Item(id="b", title="B", text="y")]
    llm = FakeLLM([LLMUnavailableError("down")], responder=answer, retries=0)
    done, errors = summarize(items, llm, "en")
    assert "summary" not in done[0].metadata and errors == ["a: down"]
    assert done[1].metadata["summary_en"] == "S: B"  # no language: the pivot's summary


def test_summaries_need_an_llm(site: Site, hashing_settings: Settings) -> None:
    rec = Recommender.from_settings(hashing_settings)
    with pytest.raises(ConfigError):
        crawl([f"{site.base}/feeds/ja.xml"], rec.store, rec.embedder, FAST)


@pytest.mark.slow
@pytest.mark.llm
def test_the_packaged_local_model_writes_a_valid_summary(local_llm: LlamaCppLLM) -> None:
    a = ARTICLES["es-ley"]
    item = Item(id="es", title=a["title"], text=a["body"], language="es")
    done, errors = summarize([item], local_llm, "en")
    assert errors == [], errors
    Summaries(
        summary=str(done[0].metadata["summary"]), pivot_summary=str(done[0].metadata["summary_en"])
    )
    assert local_llm.calls[-1].completion_tokens > 0
