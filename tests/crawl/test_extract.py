from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from babelrec.crawl.extract import extract_article, item_id, normalize_url
from babelrec.crawl.feeds import Lead
from babelrec.crawl.fetch import FetchResult
from tests.crawl.site import ARTICLES, article_html

BASE = "http://127.0.0.1:8"


def test_normalize_url_drops_what_does_not_name_the_article() -> None:
    assert (
        normalize_url("HTTP://Example.ORG:80/a?utm_source=x&id=3#top")
        == "http://example.org/a?id=3"
    )
    assert normalize_url("https://example.org:443") == "https://example.org/"
    assert normalize_url("http://127.0.0.1:8080/x?fbclid=1") == "http://127.0.0.1:8080/x"


@given(
    path=st.text(alphabet="abcxyz/-_.", max_size=20),
    query=st.dictionaries(st.sampled_from(["id", "p", "utm_medium"]), st.text("ab12", max_size=3)),
)
def test_ids_are_stable_and_ignore_tracking_and_fragments(path: str, query: dict[str, str]) -> None:
    url = f"http://h.example/{path}"
    plain = url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    assert (
        item_id(plain) == item_id(plain + "#frag") == item_id(plain.replace("http://h", "HTTP://H"))
    )
    assert normalize_url(normalize_url(plain)) == normalize_url(plain)
    assert item_id(plain).startswith("web-") and len(item_id(plain)) == 28


def test_extraction_finds_text_and_metadata_and_prefers_the_canonical_url() -> None:
    html = article_html("de-bahn", BASE).encode()
    fetched = FetchResult(
        f"{BASE}/moved",
        f"{BASE}/articles/de-bahn.html?utm_source=x",
        200,
        {"content-type": "text/html"},
        html,
    )
    lead = Lead(url=f"{BASE}/moved", source=f"{BASE}/feed", tags=("Verkehr",))
    article = extract_article(fetched, lead)
    item = article.item
    assert item.id == item_id(f"{BASE}/articles/de-bahn.html")
    assert item.language == "de" and item.tags == ["Verkehr"]
    assert item.title == ARTICLES["de-bahn"]["title"]
    assert item.text.startswith("Die Deutsche Bahn") and "Home" not in item.text
    assert item.metadata["author"] == "Jürgen Müller" and item.metadata["source"] == f"{BASE}/feed"
