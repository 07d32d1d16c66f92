from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from babelrec.crawl.fetch import Fetcher
from babelrec.crawl.options import USER_AGENT, CrawlOptions
from babelrec.crawl.robots import HostGate, RobotsRules, origin
from tests.crawl.site import Page, Site

ROBOTS = b"""User-agent: *
Disallow: /private/
Disallow: /*.pdf$
Allow: /private/open.html
Crawl-delay: 0.25

User-agent: OtherBot
Disallow: /
"""


def test_rules_follow_rfc_9309_with_wildcards_allow_and_crawl_delay() -> None:
    rules = RobotsRules.from_response(200, ROBOTS)
    base = "http://127.0.0.1:1"
    assert rules.allowed(f"{base}/articles/a.html", USER_AGENT)
    assert not rules.allowed(f"{base}/private/x.html", USER_AGENT)
    assert rules.allowed(f"{base}/private/open.html", USER_AGENT)
    assert not rules.allowed(f"{base}/docs/report.pdf", USER_AGENT)
    assert rules.allowed(f"{base}/docs/report.pdf?x=1", USER_AGENT)
    assert not rules.allowed(f"{base}/articles/a.html", "OtherBot/1.0")
    assert rules.crawl_delay(USER_AGENT) == 0.25


def test_missing_robots_allows_and_unreachable_robots_disallows() -> None:
    assert RobotsRules.from_response(404, b"").allowed("http://h/x", USER_AGENT)
    assert RobotsRules.from_response(403, b"").allowed("http://h/x", USER_AGENT)
    down = RobotsRules.from_response(500, b"")
    assert not down.allowed("http://h/x", USER_AGENT) and "HTTP 500" in down.why_not
    assert not RobotsRules.from_response(None, b"", note="refused").allowed("http://h/x", "b")


def test_origin_keeps_scheme_host_and_port() -> None:
    assert origin("HTTP://Example.org:8080/a?b") == "http://example.org:8080"


def test_gate_spaces_request_starts_per_host_and_not_across_hosts() -> None:
    gate = HostGate(delay=0.2, per_host=4)
    starts: dict[str, list[float]] = {"a": [], "b": []}

    def enter(host: str) -> None:
        with gate.slot(host):
            starts[host].append(time.monotonic())

    began = time.monotonic()
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(enter, ["a", "a", "a", "b", "b", "b"]))
    for host in ("a", "b"):
        times = sorted(starts[host])
        gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
        assert min(gaps) >= 0.19, gaps
    assert time.monotonic() - began < 0.9  # the two hosts were served side by side


def test_gate_limits_requests_in_flight_per_host() -> None:
    gate = HostGate(delay=0, per_host=2)
    in_flight = 0
    most = 0
    lock = threading.Lock()

    def work(_: int) -> None:
        nonlocal in_flight, most
        with gate.slot("a"):
            with lock:
                in_flight += 1
                most = max(most, in_flight)
            time.sleep(0.05)
            with lock:
                in_flight -= 1

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(16)))
    assert most == 2


def test_crawl_delay_from_robots_txt_slows_the_fetcher(site: Site) -> None:
    site.pages["/robots.txt"] = Page(ROBOTS, content_type="text/plain")
    with Fetcher(CrawlOptions(delay=0)) as fetcher:
        for slug in ("es-ley", "de-bahn", "ru-metro"):
            fetcher.get(f"{site.base}/articles/{slug}.html")
    times = [hit.at for hit in site.hits if hit.path.startswith("/articles/")]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.2, gaps
