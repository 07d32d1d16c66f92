"""robots.txt rules and per-host politeness (delay between requests, requests in flight).

robots.txt is read with Protego (Scrapy's parser: wildcards, `$`, `Allow`, `Crawl-delay`, as in
RFC 9309). Unavailable robots.txt (4xx) allows everything; unreachable (5xx, network) disallows
everything, as RFC 9309 section 2.3.1 says.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego


def origin(url: str) -> str:
    """scheme://host[:port], the unit robots.txt and politeness apply to."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


@dataclass(frozen=True)
class RobotsRules:
    """The rules of one origin for one user agent."""

    parser: Protego | None
    allow_all: bool = False
    why_not: str = ""

    @classmethod
    def from_response(cls, status: int | None, body: bytes, note: str = "") -> RobotsRules:
        if status is not None and 200 <= status < 300:
            return cls(Protego.parse(body.decode("utf-8", errors="replace")))
        if status is not None and 400 <= status < 500:
            return cls(None, allow_all=True)
        what = f"HTTP {status}" if status is not None else note or "unreachable"
        return cls(None, why_not=f"robots.txt unreachable ({what}), so the site is not crawled")

    def allowed(self, url: str, user_agent: str) -> bool:
        if self.parser is None:
            return self.allow_all
        return bool(self.parser.can_fetch(url, user_agent))

    def crawl_delay(self, user_agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(user_agent)
        return float(delay) if delay is not None else None


class HostGate:
    """Per-origin politeness: at most `per_host` requests in flight to an origin, and request
    starts at least `delay` seconds apart (or the origin's robots.txt Crawl-delay, if longer)."""

    def __init__(self, delay: float, per_host: int) -> None:
        self.delay = delay
        self.per_host = per_host
        self._lock = threading.Lock()
        self._slots: dict[str, threading.Semaphore] = {}
        self._next_start: dict[str, float] = {}
        self._delays: dict[str, float] = {}

    def set_crawl_delay(self, host: str, seconds: float) -> None:
        with self._lock:
            self._delays[host] = max(self.delay, seconds)

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        with self._lock:
            sem = self._slots.setdefault(host, threading.Semaphore(self.per_host))
        with sem:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next_start.get(host, now))
                self._next_start[host] = start + self._delays.get(host, self.delay)
            if start > now:
                time.sleep(start - now)
            yield
