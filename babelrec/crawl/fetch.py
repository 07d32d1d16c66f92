"""`Fetcher`: one polite HTTP GET with robots.txt, redirects, size and time limits.

Built on httpx (a maintained, typed, thread-safe client with streaming and timeouts). Redirects
are followed by hand so that every hop is checked against robots.txt and loops are named.
Conditional headers (ETag / Last-Modified) turn an unchanged resource into a bodyless 304.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urljoin, urlsplit

import httpx

from babelrec.crawl.options import CrawlOptions, SkipReason
from babelrec.crawl.robots import HostGate, RobotsRules, origin
from babelrec.errors import CrawlError

REDIRECTS = frozenset({301, 302, 303, 307, 308})
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309: parse at least 500 KiB


class FetchError(CrawlError):
    """A fetch that produced no usable body; `reason` is a `SkipReason`."""

    def __init__(self, reason: SkipReason, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.reason: SkipReason = reason
        self.detail = detail
        self.status = status  # the HTTP status, for "http-error"


@dataclass(frozen=True)
class Validators:
    """What a server gave to make the next request conditional."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


@dataclass(frozen=True)
class FetchResult:
    url: str
    final_url: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def validators(self) -> Validators:
        return Validators(self.headers.get("etag"), self.headers.get("last-modified"))


class Fetcher:
    """GETs URLs politely. Thread-safe: share one across the crawl's worker threads."""

    def __init__(self, options: CrawlOptions, client: httpx.Client | None = None) -> None:
        self.options = options
        self.gate = HostGate(options.delay, options.per_host)
        self.client = client or httpx.Client(
            headers={"User-Agent": options.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(options.timeout),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=options.concurrency + 1),
            trust_env=False,
        )
        self._robots: dict[str, RobotsRules] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self.requests = 0

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.client.close()

    # -- robots ------------------------------------------------------------------------------

    def robots(self, url: str) -> RobotsRules:
        """The robots.txt rules for `url`'s origin, fetched once per crawl."""
        host = origin(url)
        with self._lock:
            lock = self._robots_locks.setdefault(host, threading.Lock())
        with lock:
            if host not in self._robots:
                self._robots[host] = self._load_robots(host)
            return self._robots[host]

    def _load_robots(self, host: str) -> RobotsRules:
        try:
            result = self._get(f"{host}/robots.txt", None, robots=False, limit=ROBOTS_MAX_BYTES)
            rules = RobotsRules.from_response(result.status, result.body)
        except FetchError as exc:
            rules = RobotsRules.from_response(exc.status, b"", note=exc.detail)
        delay = rules.crawl_delay(self.options.user_agent)
        if delay is not None:
            self.gate.set_crawl_delay(host, min(delay, 60.0))
        return rules

    # -- GET ---------------------------------------------------------------------------------

    def get(self, url: str, validators: Validators | None = None) -> FetchResult:
        """GET `url` (following redirects), or raise `FetchError` saying why not."""
        return self._get(url, validators, robots=True, limit=self.options.max_bytes)

    def _get(
        self, url: str, validators: Validators | None, *, robots: bool, limit: int
    ) -> FetchResult:
        if urlsplit(url).scheme not in {"http", "https"}:
            raise FetchError("bad-url", f"not an http(s) URL: {url}")
        seen: list[str] = []
        current = url
        while True:
            if current in seen:
                raise FetchError("redirect-loop", f"redirect loop: {' -> '.join([*seen, current])}")
            if len(seen) > self.options.max_redirects:
                raise FetchError(
                    "too-many-redirects", f"more than {self.options.max_redirects} redirects"
                )
            seen.append(current)
            if robots:
                rules = self.robots(current)
                if not rules.allowed(current, self.options.user_agent):
                    raise FetchError("robots", rules.why_not or "disallowed by robots.txt")
            status, headers, body = self._request(current, validators, limit)
            location = headers.get("location")
            if status in REDIRECTS and location:
                current = urljoin(current, location.strip())
                if urlsplit(current).scheme not in {"http", "https"}:
                    raise FetchError("bad-url", f"redirect to a non-http URL: {current}")
                continue
            if status >= 300 and status != 304:
                raise FetchError("http-error", f"HTTP {status}", status)
            return FetchResult(
                url=url, final_url=current, status=status, headers=headers, body=body
            )

    def _request(
        self, url: str, validators: Validators | None, limit: int
    ) -> tuple[int, dict[str, str], bytes]:
        headers = validators.headers() if validators else {}
        started = time.monotonic()
        with self.gate.slot(origin(url)):
            with self._lock:
                self.requests += 1
            try:
                with self.client.stream("GET", url, headers=headers) as response:
                    got = {k.lower(): v for k, v in response.headers.items()}
                    if response.status_code in REDIRECTS or response.status_code >= 300:
                        return response.status_code, got, b""
                    declared = got.get("content-length", "")
                    if declared.isdigit() and int(declared) > limit:
                        raise FetchError("too-large", f"{declared} bytes declared, over {limit}")
                    chunks: list[bytes] = []
                    size = 0
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > limit:
                            raise FetchError("too-large", f"body over {limit} bytes")
                        if time.monotonic() - started > self.options.timeout:
                            raise FetchError("timeout", f"over {self.options.timeout:g}s")
                        chunks.append(chunk)
                    return response.status_code, got, b"".join(chunks)
            except httpx.TimeoutException as exc:
                raise FetchError("timeout", f"timed out: {type(exc).__name__}") from exc
            except httpx.HTTPError as exc:
                raise FetchError("network", f"{type(exc).__name__}: {exc}") from exc

