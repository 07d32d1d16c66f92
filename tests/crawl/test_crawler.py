from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from babelrec.crawl import CrawlOptions, CrawlReport, crawl
from babelrec.crawl.extract import item_id
from babelrec.models import Item
from babelrec.pipeline.recommender import Recommender
from babelrec.retrieval.embedders import Embedder
from babelrec.retrieval.store import VectorStore
from babelrec.settings import Settings
from tests.crawl.site import ARTICLES, Page, Site, rfc822, rss

FAST = CrawlOptions(delay=0, max_bytes=2 * 1024 * 1024, timeout=5)
SOURCES = [
    "/feeds/main.xml",
    "/feeds/ja.xml",
    "/feeds/zh.xml",
    "/feeds/broken.xml",
    "/sitemap_index.xml",
    "/articles/ar-kitab.html",
]
INGESTED = ["en-football", "es-ley", "fr-chateau", "de-bahn", "zh-beijing", "ja-sakura"]
INGESTED += ["ko-festival", "ru-metro", "ar-kitab", "old-news"]


def run(
    site: Site, rec: Recommender, paths: list[str], options: CrawlOptions = FAST
) -> CrawlReport:
    return crawl([site.base + p for p in paths], rec.store, rec.embedder, options)


def all_ids(store: VectorStore) -> list[str]:
    return list(store.collection.get(include=[])["ids"])


def stored(rec: Recommender) -> dict[str, Item]:
    return {s.item.id: s.item for s in rec.store.get(all_ids(rec.store)).values()}


@pytest.fixture
def rec(hashing_settings: Settings) -> Recommender:
    return Recommender.from_settings(hashing_settings)


def test_feeds_sitemaps_and_pages_in_ten_languages_become_items(
    site: Site, rec: Recommender
) -> None:
    report = run(site, rec, SOURCES)
    items = stored(rec)
    assert report.ingest.added == len(INGESTED) == len(items)
    by_slug = {slug: items[item_id(f"{site.base}/articles/{slug}.html")] for slug in INGESTED}
    languages = {slug: item.language for slug, item in by_slug.items()}
    assert languages == {slug: ARTICLES[slug]["lang"] for slug in INGESTED}
    for slug, item in by_slug.items():
        article = ARTICLES[slug]
        assert item.title == article.get("plain_title", article["title"])
        assert item.metadata["author"] == article["author"]
        assert item.metadata["url"] == f"{site.base}/articles/{slug}.html"
        published = datetime.fromisoformat(str(item.metadata["published"]))
        assert published.date() == datetime.fromisoformat(article["date"]).date()
        assert article["body"][:20] in item.text, slug  # main text, without nav or footer
        assert "Copyright" not in item.text and "About" not in item.text
        assert item.keywords, slug
    assert report.sources == len(SOURCES) + 1  # the sitemap index's child
    assert (report.feeds, report.sitemaps) == (3, 2)


def test_every_bad_case_is_skipped_with_its_reason_and_the_run_goes_on(
    site: Site, rec: Recommender
) -> None:
    report = run(site, rec, SOURCES)
    reasons = {s.url.removeprefix(site.base): s.reason for s in report.skipped}
    assert reasons == {
        "/private/secret.html": "robots",
        "/articles/missing.html": "http-error",
        "/articles/broken.html": "http-error",
        "/loop/a": "redirect-loop",
        "/articles/huge.html": "too-large",
        "/feeds/broken.xml": "bad-feed",
        "/articles/en-football.html?utm_source=feed": "duplicate",
        "/articles/en-football.html": "duplicate",  # listed twice by the same feed
    }
    assert site.requested("/private/secret.html") == []
    assert report.skipped_by_reason()["duplicate"] == 2


def test_mislabelled_and_legacy_charsets_come_out_right(site: Site, rec: Recommender) -> None:
    run(site, rec, ["/feeds/main.xml", "/feeds/ja.xml", "/feeds/zh.xml"])
    items = stored(rec)
    french = items[item_id(f"{site.base}/articles/fr-chateau.html")]  # UTF-8 sent as Latin-1
    assert "d'été" in french.title and "Renaissance française" in french.text
    japanese = items[item_id(f"{site.base}/articles/ja-sakura.html")]  # Shift_JIS sent as UTF-8
    assert japanese.title == "東京で桜が満開、上野公園に花見客" and "上野公園" in japanese.text
    chinese = items[item_id(f"{site.base}/articles/zh-beijing.html")]  # GB18030 via a GB2312 meta
    assert chinese.title == "北京举办国际图书博览会" and "博览会" in chinese.keywords
    english = items[item_id(f"{site.base}/articles/en-football.html")]
    assert english.title == "Tom & Jerry's football final postponed by rain"


def test_a_second_run_over_unchanged_feeds_fetches_no_article(site: Site, rec: Recommender) -> None:
    sources = ["/feeds/ja.xml", "/feeds/zh.xml", "/sitemap_index.xml", "/articles/ar-kitab.html"]
    first = run(site, rec, sources)
    assert first.ingest.added == 5
    before = len(site.hits)
    second = run(site, rec, sources)
    again = [hit.path for hit in site.hits[before:]]
    # robots.txt, then each source once, conditionally; no article, no child sitemap.
    assert again == ["/robots.txt", *sources]
    assert all(hit.status == 304 for hit in site.hits[before + 1 :])
    assert second.not_modified == len(sources) and second.ingest.added == 0
    assert (rec.store.artifact_dir / "crawl_state.json").exists()


def test_known_articles_are_left_alone_and_updated_ones_refetched(
    site: Site, rec: Recommender
) -> None:
    base = site.base
    items = [
        (f"{base}/articles/{s}.html", ARTICLES[s]["title"], rfc822(s))
        for s in ("es-ley", "de-bahn")
    ]
    site.pages["/feeds/two.xml"] = Page(rss(items), "application/rss+xml", etag='"v1"')
    run(site, rec, ["/feeds/two.xml"])
    # The feed changes: a new story, and es-ley says it was updated (and its page changed).
    newer = "Mon, 01 Jul 2030 10:00:00 GMT"
    items = [(items[0][0], "Ley actualizada", newer), items[1]]
    items.append((f"{base}/articles/ru-metro.html", "Metro", rfc822("ru-metro")))
    site.pages["/feeds/two.xml"] = Page(rss(items), "application/rss+xml", etag='"v2"')
    page = site.pages["/articles/es-ley.html"]
    site.pages["/articles/es-ley.html"] = Page(
        page.body.replace(b"ayer", b"hoy"), page.content_type, etag='"es-ley-v2"'
    )
    before = len(site.hits)
    report = run(site, rec, ["/feeds/two.xml"])
    fetched = [hit.path for hit in site.hits[before:]]
    assert "/articles/de-bahn.html" not in fetched
    assert (report.ingest.added, report.ingest.updated, report.unchanged) == (1, 1, 1)


def test_an_article_that_failed_for_a_passing_reason_is_retried(
    site: Site, rec: Recommender
) -> None:
    items = [(f"{site.base}/articles/broken.html", "B", rfc822("es-ley"))]
    items.append((f"{site.base}/articles/es-ley.html", "E", rfc822("es-ley")))
    site.pages["/feeds/f.xml"] = Page(rss(items), "application/rss+xml", etag='"f"')
    assert run(site, rec, ["/feeds/f.xml"]).ingest.added == 1
    site.pages["/articles/broken.html"] = site.pages["/articles/ru-metro.html"]  # fixed
    before = len(site.hits)
    report = run(site, rec, ["/feeds/f.xml"])
    assert [h.path for h in site.hits[before + 1 :]] == ["/feeds/f.xml", "/articles/broken.html"]
    assert (report.ingest.added, report.unchanged, report.skipped) == (1, 1, [])
    assert run(site, rec, ["/feeds/f.xml"]).not_modified == 1  # now read in full: 304


def test_ids_come_from_the_canonical_url_and_are_stable_across_stores(
    site: Site, tmp_path: Path
) -> None:
    ids = []
    for name in ("one", "two"):
        rec = Recommender.from_settings(
            Settings(data_dir=tmp_path / name, embedder={"name": "hashing", "cache": False})
        )
        run(site, rec, ["/feeds/main.xml"])
        ids.append(sorted(all_ids(rec.store)))
    assert ids[0] == ids[1]
    # /moved/de-bahn redirects to the page whose canonical URL names it.
    assert item_id(f"{site.base}/articles/de-bahn.html") in ids[0]


def test_max_items_and_since_limit_what_is_fetched(site: Site, rec: Recommender) -> None:
    options = FAST.model_copy(update={"max_items": 2, "since": datetime(2024, 4, 1, tzinfo=UTC)})
    report = run(site, rec, ["/feeds/main.xml"], options)
    assert report.ingest.added == 2
    assert report.skipped_by_reason() == {
        "duplicate": 2,
        "older-than-since": 2,  # de-bahn (March 2024) and old-news (2010), never requested
        "over-max-items": 6,
    }
    articles = {h.path for h in site.hits if h.path.startswith(("/articles/", "/moved/"))}
    assert articles == {"/articles/en-football.html", "/articles/es-ley.html"}


def test_the_delay_spaces_requests_to_a_host(site: Site, rec: Recommender) -> None:
    options = FAST.model_copy(update={"delay": 0.2, "concurrency": 4})
    run(site, rec, ["/feeds/zh.xml", "/feeds/ja.xml", "/sitemap_index.xml"], options)
    times = [hit.at for hit in site.hits]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    # Starts are spaced on the client; the server sees them with a few ms of jitter.
    assert len(times) >= 7 and min(gaps) >= 0.15, gaps
    assert times[-1] - times[0] >= 0.2 * (len(times) - 1) - 0.03


def test_a_page_that_is_not_html_is_skipped(site: Site, rec: Recommender) -> None:
    site.pages["/files/report.pdf"] = Page(b"%PDF-1.7 binary", content_type="application/pdf")
    items = [(f"{site.base}/files/report.pdf", "Report", rfc822("es-ley"))]
    site.pages["/feeds/pdf.xml"] = Page(rss(items), "application/rss+xml")
    report = run(site, rec, ["/feeds/pdf.xml"])
    assert [s.reason for s in report.skipped] == ["unsupported-type"]


@pytest.mark.slow
def test_crawled_items_are_found_across_languages_with_the_default_embedder(
    site: Site, usem3_embedder: Embedder, tmp_path: Path
) -> None:
    store = VectorStore.open(
        embedder_name=usem3_embedder.name,
        dimension=usem3_embedder.dimension,
        store_path=tmp_path / "chroma",
    )
    report = crawl(
        [f"{site.base}/feeds/ja.xml", f"{site.base}/feeds/zh.xml", f"{site.base}/feeds/main.xml"],
        store,
        usem3_embedder,
        FAST,
    )
    assert report.ingest.added == 7
    for query, slug in [
        ("cherry blossoms in a Tokyo park", "ja-sakura"),
        ("international book fair", "zh-beijing"),
        ("ley sobre inteligencia artificial", "es-ley"),
    ]:
        hits = store.query(usem3_embedder.embed_query(query), 1)
        assert hits[0].item.id == item_id(f"{site.base}/articles/{slug}.html"), query
