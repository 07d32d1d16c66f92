"""What a crawl may do (`CrawlOptions`) and what it did (`CrawlReport`)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from babelrec.models import Strict
from babelrec.retrieval.ingest import IngestSummary

USER_AGENT = "babelrec/0.1 (+https://pypi.org/project/babelrec/; polite crawler)"

SkipReason = Literal[
    "robots",  # robots.txt disallows the URL (or robots.txt itself is unreachable)
    "http-error",  # 4xx/5xx answer
    "redirect-loop",
    "too-many-redirects",
    "too-large",  # body over `max_bytes`
    "timeout",  # connect/read timeout or the whole response took over `timeout`
    "network",  # connection refused, DNS, TLS ...
    "bad-feed",  # served as a feed or sitemap but not parseable XML
    "unsupported-type",  # neither HTML, a feed nor a sitemap
    "no-content",  # HTML without extractable title or text
    "duplicate",  # the same URL, or another URL with the same canonical URL, seen before
    "older-than-since",  # published before --since
    "over-max-items",  # --max-items reached
    "bad-url",  # not an http(s) URL
    "too-deep",  # a sitemap index nested deeper than `max_sitemap_depth`
    "error",  # anything else that went wrong with this one page (the crawl goes on)
]


class CrawlOptions(Strict):
    """Limits and politeness of one crawl. Defaults suit a real site; tests shrink them."""

    max_items: int | None = Field(default=None, ge=1, description="Articles fetched at most.")
    since: datetime | None = Field(default=None, description="Skip items published before.")
    delay: float = Field(default=1.0, ge=0, description="Seconds between requests to a host.")
    per_host: int = Field(default=2, ge=1, description="Requests in flight per host at most.")
    concurrency: int = Field(default=4, ge=1, description="Requests in flight in all.")
    timeout: float = Field(default=20.0, gt=0, description="Seconds for a whole response.")
    max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, description="Largest body read.")
    max_redirects: int = Field(default=5, ge=0)
    max_sitemap_depth: int = Field(default=3, ge=0, description="Nesting of sitemap indexes.")
    user_agent: str = Field(default=USER_AGENT, min_length=1)
    state_file: Path | None = Field(
        default=None, description="ETag/Last-Modified memory; default beside the store."
    )
    progress: bool = False
    summarize: bool = Field(default=False, description="LLM summaries (needs an LLM).")
    pivot_language: str = Field(default="en", description="Second language of summaries.")

    @field_validator("since")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @field_validator("user_agent")
    @classmethod
    def _names_babelrec(cls, value: str) -> str:
        if "babelrec" not in value.lower():
            raise ValueError("the user agent must name babelrec, so sites know who is crawling")
        return value


class SkippedUrl(Strict):
    """A URL the crawl did not turn into an item, and why."""

    url: str
    reason: SkipReason
    detail: str = ""


class CrawlReport(Strict):
    """What a crawl did: sources read, articles fetched, items ingested, and every skip."""

    sources: int = 0
    feeds: int = 0
    sitemaps: int = 0
    articles_found: int = Field(default=0, description="Distinct article URLs seen.")
    fetched: int = Field(default=0, description="Responses with a body (sources + articles).")
    not_modified: int = Field(default=0, description="304 answers to conditional requests.")
    unchanged: int = Field(default=0, description="Known articles left alone (not fetched).")
    ingest: IngestSummary = Field(default_factory=IngestSummary)
    skipped: list[SkippedUrl] = Field(default_factory=list)
    requests: int = Field(default=0, description="HTTP requests sent, robots.txt included.")
    summaries: int = Field(default=0, description="Items given an LLM summary.")
    summary_errors: list[str] = Field(default_factory=list)
    seconds: float = 0.0

    def skipped_by_reason(self) -> dict[str, int]:
        return dict(Counter(skip.reason for skip in self.skipped))
