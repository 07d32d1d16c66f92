from __future__ import annotations

import pytest

from babelrec.crawl.fetch import Fetcher, FetchError, Validators
from babelrec.crawl.options import CrawlOptions
from tests.crawl.site import Page, Site

FAST = CrawlOptions(delay=0, timeout=5)


def fetch_error(site: Site, path: str, options: CrawlOptions = FAST) -> FetchError:
    with Fetcher(options) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.get(site.base + path)
    return caught.value


def test_get_sends_a_user_agent_naming_babelrec_and_reads_robots_once(site: Site) -> None:
    with Fetcher(FAST) as fetcher:
        first = fetcher.get(f"{site.base}/articles/es-ley.html")
        fetcher.get(f"{site.base}/articles/de-bahn.html")
    assert first.status == 200 and "inteligencia artificial" in first.body.decode()
    assert site.paths().count("/robots.txt") == 1
    assert all("babelrec" in hit.headers["User-Agent"] for hit in site.hits)
    assert fetcher.requests == 3


def test_a_disallowed_page_is_never_requested(site: Site) -> None:
    error = fetch_error(site, "/private/secret.html")
    assert error.reason == "robots"
    assert site.requested("/private/secret.html") == []


def test_a_redirect_into_a_disallowed_path_is_not_followed(site: Site) -> None:
    site.pages["/go-private"] = Page(b"", status=302, headers={"Location": "/private/secret.html"})
    assert fetch_error(site, "/go-private").reason == "robots"
    assert site.requested("/private/secret.html") == []


def test_unreachable_robots_txt_disallows_the_site_and_missing_allows_it(site: Site) -> None:
    site.pages["/robots.txt"] = Page(b"down", status=503)
    error = fetch_error(site, "/articles/es-ley.html")
    assert error.reason == "robots" and "HTTP 503" in error.detail
    assert site.requested("/articles/es-ley.html") == []
    del site.pages["/robots.txt"]  # 404: everything allowed
    with Fetcher(FAST) as fetcher:
        assert fetcher.get(f"{site.base}/articles/es-ley.html").status == 200


def test_redirects_are_followed_within_the_limit(site: Site) -> None:
    with Fetcher(FAST) as fetcher:
        result = fetcher.get(f"{site.base}/moved/de-bahn")
    assert result.final_url == f"{site.base}/articles/de-bahn.html"
    assert result.url == f"{site.base}/moved/de-bahn"
    assert fetch_error(site, "/moved/de-bahn", CrawlOptions(delay=0, max_redirects=0)).reason == (
        "too-many-redirects"
    )


def test_a_redirect_loop_is_named_and_stops(site: Site) -> None:
    error = fetch_error(site, "/loop/a")
    assert error.reason == "redirect-loop"
    assert len(site.requested("/loop/a")) == 1 and len(site.requested("/loop/b")) == 1


@pytest.mark.parametrize(
    ("path", "status"), [("/articles/missing.html", 404), ("/articles/broken.html", 500)]
)
def test_http_errors_raise_with_the_status(site: Site, path: str, status: int) -> None:
    error = fetch_error(site, path)
    assert (error.reason, error.detail) == ("http-error", f"HTTP {status}")


@pytest.mark.parametrize("path", ["/articles/huge.html", "/articles/huge-stream.html"])
def test_bodies_over_the_size_limit_are_refused(site: Site, path: str) -> None:
    """Declared too large (Content-Length) or found too large while streaming."""
    assert len(site.pages[path].body) > 5 * 1024 * 1024
    error = fetch_error(site, path, CrawlOptions(delay=0, max_bytes=1024 * 1024))
    assert error.reason == "too-large"


def test_a_slow_response_times_out(site: Site) -> None:
    assert fetch_error(site, "/articles/slow.html", CrawlOptions(delay=0, timeout=0.5)).reason == (
        "timeout"
    )


def test_conditional_requests_get_304_without_a_body(site: Site) -> None:
    with Fetcher(FAST) as fetcher:
        first = fetcher.get(f"{site.base}/articles/es-ley.html")
        assert first.validators == Validators(etag='"es-ley-v1"')
        again = fetcher.get(f"{site.base}/articles/es-ley.html", first.validators)
        dated = fetcher.get(f"{site.base}/articles/ja-sakura.html")
        assert dated.validators.last_modified
        dated_again = fetcher.get(f"{site.base}/articles/ja-sakura.html", dated.validators)
    assert again.not_modified and again.body == b""
    assert dated_again.not_modified
    assert site.requested("/articles/es-ley.html")[1].headers["If-None-Match"] == '"es-ley-v1"'


def test_non_http_urls_are_refused_without_a_request(site: Site) -> None:
    with Fetcher(FAST) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.get("file:///etc/passwd")
    assert caught.value.reason == "bad-url"
    assert site.hits == []


def test_unreachable_host_is_a_network_error() -> None:
    from tests.conftest import free_port

    with Fetcher(FAST) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.get(f"http://127.0.0.1:{free_port()}/x")
    assert caught.value.reason == "robots"  # robots.txt unreachable: the site is not crawled
    assert "unreachable" in caught.value.detail
