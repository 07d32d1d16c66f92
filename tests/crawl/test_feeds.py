from __future__ import annotations

import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from babelrec.crawl.feeds import clean_title, kind_of, parse_feed, parse_sitemap, unzip_if_gzip
from babelrec.crawl.fetch import FetchError, FetchResult
from tests.crawl.site import rss

BASE = "http://127.0.0.1:1"


def result(body: bytes, content_type: str, url: str = f"{BASE}/feed") -> FetchResult:
    return FetchResult(url, url, 200, {"content-type": content_type}, body)


@pytest.mark.parametrize(
    ("encoding", "header"),
    [("shift_jis", "application/rss+xml"), ("shift_jis", "application/rss+xml; charset=utf-8")],
)
def test_a_shift_jis_feed_reads_right_even_when_the_header_lies(encoding: str, header: str) -> None:
    body = rss([("/a", "東京で桜が満開 &amp;amp; 花見", "Thu, 28 Mar 2024 03:00:00 GMT")], encoding)
    listing = parse_feed(result(body, header))
    lead = listing.leads[0]
    assert lead.title == "東京で桜が満開 & 花見"
    assert lead.url == f"{BASE}/a"  # relative links resolve against the feed
    assert lead.published is not None and lead.published.isoformat() == "2024-03-28T03:00:00+00:00"


def test_a_gb18030_atom_feed_reads_right() -> None:
    atom = (
        '<?xml version="1.0" encoding="gb18030"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>新闻</title><id>x</id><updated>2024-05-10T02:00:00Z</updated><entry>"
        '<title type="html">北京 &lt;b&gt;图书&lt;/b&gt; 博览会 &amp;amp; 读者</title>'
        '<link href="http://h/zh"/><id>1</id><updated>2024-05-10T02:00:00Z</updated>'
        "<author><name>王小明</name></author><category term='文化'/></entry></feed>"
    )
    lead = parse_feed(result(atom.encode("gb18030"), "application/atom+xml")).leads[0]
    assert (lead.title, lead.author, lead.tags) == ("北京 图书 博览会 & 读者", "王小明", ("文化",))


def test_what_a_response_is_comes_from_its_bytes_and_type() -> None:
    assert kind_of(result(b"<?xml version='1.0'?><rss>", "text/plain")) == "feed"
    assert kind_of(result(b"<feed xmlns='http://www.w3.org/2005/Atom'>", "")) == "feed"
    assert kind_of(result(b"<urlset>", "application/xml")) == "sitemap"
    assert kind_of(result(b"<sitemapindex>", "text/xml")) == "sitemap-index"
    assert kind_of(result(b"<!DOCTYPE html><html>", "")) == "article"
    assert kind_of(result(b"%PDF-1.7", "application/pdf")) is None
    with pytest.raises(FetchError) as caught:
        kind_of(result(b'{"json": true}', "application/rss+xml"))
    assert caught.value.reason == "bad-feed"


def test_a_feed_that_is_not_xml_is_a_bad_feed() -> None:
    with pytest.raises(FetchError) as caught:
        parse_feed(result(b"<rss><channel><item><title>unclosed", "application/rss+xml"))
    assert caught.value.reason == "bad-feed"


def test_sitemaps_and_indexes_list_their_urls_without_expanding_entities() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaaaaaaaa">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>http://h/1</loc><lastmod>2024-01-02</lastmod></url>"
        b"<url><loc>http://h/&a;</loc></url></urlset>"
    )
    listing = parse_sitemap(result(bomb, "application/xml"), 10_000)
    assert [lead.url for lead in listing.leads][0] == "http://h/1"
    assert "aaaaaaaaaa" not in listing.leads[1].url
    assert listing.leads[0].updated is not None and listing.leads[0].updated.day == 2
    index = b"<sitemapindex><sitemap><loc>/s1.xml</loc></sitemap></sitemapindex>"
    assert parse_sitemap(result(index, "text/xml"), 1000).sitemaps == [f"{BASE}/s1.xml"]
    with pytest.raises(FetchError):
        parse_sitemap(result(b"<urlset><url>", "text/xml"), 1000)


def test_gzip_bombs_are_refused() -> None:
    assert unzip_if_gzip(gzip.compress(b"x" * 100), 1000) == b"x" * 100
    with pytest.raises(FetchError) as caught:
        unzip_if_gzip(gzip.compress(b"x" * 5000), 1000)
    assert caught.value.reason == "too-large"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Tom &amp;amp; Jerry", "Tom & Jerry"),
        ("Caf&eacute; <b>cr&egrave;me</b>", "Café crème"),
        ("  spaced\n out  ", "spaced out"),
        ("AT&T 5 < 6", "AT&T 5 < 6"),
        ("", None),
    ],
)
def test_titles_lose_markup_and_escaping(raw: str, clean: str | None) -> None:
    assert clean_title(raw) == clean


@given(st.text(alphabet=st.characters(blacklist_characters="&<>"), min_size=1))
def test_titles_without_markup_only_change_in_whitespace(text: str) -> None:
    assert clean_title(text) == (" ".join(text.split()) or None)
