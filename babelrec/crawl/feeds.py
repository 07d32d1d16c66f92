"""Sources: what a fetched URL is (feed, sitemap, sitemap index, article) and the article links
it lists.

RSS 0.9x/1.0/2.0 and Atom go through feedparser (maintained since 2002; it handles every
dialect, encodings declared in HTTP or XML, and dates in any of the feed formats). Sitemaps are
read with lxml with entity expansion and network access switched off.
"""

from __future__ import annotations

import gzip
import html
import io
import re
from calendar import timegm
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urljoin

import feedparser
from lxml import etree

from babelrec.crawl.fetch import FetchError, FetchResult

SourceKind = Literal["feed", "sitemap", "sitemap-index", "article"]

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_XML_TYPES = ("xml", "rss", "atom")
_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]{1,31});")
_TAG = re.compile(r"<[^>]{0,500}>")


@dataclass(frozen=True)
class Lead:
    """An article URL a source points to, with what the source says about it."""

    url: str
    source: str
    title: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    author: str | None = None
    tags: tuple[str, ...] = ()


@dataclass
class Listing:
    """What one feed or sitemap lists: article leads and (for an index) child sitemaps."""

    kind: SourceKind
    leads: list[Lead] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)


def clean_title(value: str | None) -> str | None:
    """Plain text from a title that may carry markup or (double-)escaped HTML entities."""
    if not value:
        return None
    text = _TAG.sub("", value)
    for _ in range(2):  # "&amp;eacute;" is a common double escape
        if not _ENTITY.search(text):
            break
        text = html.unescape(text)
    text = " ".join(text.split())
    return text or None


def unzip_if_gzip(body: bytes, limit: int) -> bytes:
    """Sitemaps may be served gzipped as files (`.xml.gz`); inflate, refusing zip bombs."""
    if not body.startswith(b"\x1f\x8b"):
        return body
    with gzip.GzipFile(fileobj=io.BytesIO(body)) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FetchError("too-large", f"gzipped body inflates past {limit} bytes")
    return data


def kind_of(result: FetchResult) -> SourceKind | None:
    """Sniff what a response is; None when it is none of the kinds babelrec reads."""
    head = result.body[:2048].lstrip().lower()
    for marker in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        head = head.removeprefix(marker)
    ctype = result.content_type.lower()
    if b"<sitemapindex" in head:
        return "sitemap-index"
    if b"<urlset" in head:
        return "sitemap"
    if b"<rss" in head or b"<rdf:rdf" in head or b"<feed" in head:
        return "feed"
    if any(t in ctype for t in _HTML_TYPES) or head.startswith((b"<!doctype html", b"<html")):
        return "article"
    if any(t in ctype for t in _XML_TYPES) or head.startswith(b"<?xml"):
        raise FetchError("bad-feed", f"served as {ctype or 'XML'} but not an RSS/Atom feed")
    return None


def _when(entry: Any, key: str) -> datetime | None:
    # dict.get: FeedParserDict.get maps a missing updated_parsed to published_parsed, warning.
    parsed = dict.get(entry, f"{key}_parsed")
    if not parsed:
        return None
    return datetime.fromtimestamp(timegm(parsed), tz=UTC)


def parse_feed(result: FetchResult) -> Listing:
    """The entries of an RSS or Atom feed, in feed order."""
    parsed = feedparser.parse(
        result.body,
        response_headers={"content-type": result.content_type or "application/xml"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    if parsed.bozo and not any(entry.get("link") for entry in parsed.entries):
        problem = parsed.get("bozo_exception")
        raise FetchError("bad-feed", f"not a readable feed: {problem}")
    listing = Listing("feed")
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            continue
        tags = tuple(t.get("term") for t in entry.get("tags", []) if t.get("term"))
        listing.leads.append(
            Lead(
                url=urljoin(result.final_url, link.strip()),
                source=result.url,
                title=clean_title(entry.get("title")),
                published=_when(entry, "published") or _when(entry, "updated"),
                updated=_when(entry, "updated") or _when(entry, "published"),
                author=clean_title(entry.get("author")),
                tags=tags,
            )
        )
    return listing


def _lastmod(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_sitemap(result: FetchResult, limit: int) -> Listing:
    """The `<url>`s of a sitemap or the `<sitemap>`s of a sitemap index."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, recover=False
    )
    try:
        root = etree.fromstring(unzip_if_gzip(result.body, limit), parser=parser)
        if root is None:
            raise etree.XMLSyntaxError("empty document", 0, 0, 0)
    except etree.XMLSyntaxError as exc:
        raise FetchError("bad-feed", f"sitemap is not well-formed XML: {exc}") from exc
    local = etree.QName(root).localname
    listing = Listing("sitemap-index" if local == "sitemapindex" else "sitemap")
    for node in root:
        if not isinstance(node.tag, str):
            continue
        fields = {
            etree.QName(child).localname: (child.text or "").strip()
            for child in node
            if isinstance(child.tag, str)
        }
        loc = fields.get("loc")
        if not loc:
            continue
        url = urljoin(result.final_url, loc)
        if listing.kind == "sitemap-index":
            listing.sitemaps.append(url)
        else:
            when = _lastmod(fields.get("lastmod"))
            listing.leads.append(Lead(url=url, source=result.url, updated=when))
    return listing
