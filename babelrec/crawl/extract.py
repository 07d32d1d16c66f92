"""Article page -> `Item`: main text and metadata with trafilatura, a stable id from the
canonical URL.

trafilatura is picked because it is maintained, leads the public main-text extraction benchmarks
(ScrapingHub's article-extraction benchmark, Bevendorff et al. 2023), and returns the metadata
babelrec needs in one pass: title, author, date (via htmldate), canonical URL and site name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from babelrec.crawl.encoding import decode
from babelrec.crawl.feeds import Lead, clean_title
from babelrec.crawl.fetch import FetchError, FetchResult
from babelrec.models import Item, MetadataValue

MAX_TEXT_CHARS = 20_000  # the embedder reads a few hundred tokens; keep items small
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref_src)$", re.I)
_META_AUTHOR = re.compile(
    r"""<meta\s[^>]{0,300}?(?:name|property)\s*=\s*["'](?:author|article:author)["'][^>]{0,300}?"""
    r"""content\s*=\s*["']([^"'<>]{1,200})["']""",
    re.I,
)
_HTML_LANG = re.compile(r"""<html[^>]{0,500}?\blang\s*=\s*["']?([a-zA-Z]{2,3})""", re.I)


def normalize_url(url: str) -> str:
    """The form of a URL that identifies an article: lower-case scheme and host, no default
    port, no fragment, no tracking parameters, `/` for an empty path."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)
    ]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


def item_id(canonical_url: str) -> str:
    """A stable item id for an article: the same canonical URL gives the same id on every run."""
    digest = hashlib.sha256(normalize_url(canonical_url).encode("utf-8")).hexdigest()
    return f"web-{digest[:24]}"


@dataclass(frozen=True)
class Article:
    item: Item
    canonical_url: str
    encoding: str
    mislabelled: bool


def _date(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _meta_author(html: str) -> str | None:
    """trafilatura drops author names it does not read as Latin-script names (CJK, Hangul)."""
    match = _META_AUTHOR.search(html[:20000])
    return clean_title(match.group(1)) if match else None


def _language(text: str, html: str) -> str | None:
    from babelrec.i18n.langid import detect_language

    detected = detect_language(text[:2000])
    if detected:
        return detected
    match = _HTML_LANG.search(html[:4096])
    return match.group(1).lower() if match else None


def extract_article(result: FetchResult, lead: Lead | None = None) -> Article:
    """Turn a fetched HTML page into an `Item`, or raise `FetchError("no-content")`."""
    import trafilatura

    decoded = decode(result.body, result.content_type)
    document = trafilatura.bare_extraction(
        decoded.text,
        url=result.final_url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
    )
    data: dict[str, Any] = {}
    if document is not None:
        data = document.as_dict() if hasattr(document, "as_dict") else dict(document)
    title = clean_title(data.get("title")) or (lead.title if lead else None)
    text = (data.get("text") or "").strip()
    if title and text.startswith(title):
        text = text[len(title) :].lstrip()
    if not title:
        raise FetchError("no-content", "no title could be extracted")
    if not text and not (lead and lead.title):
        raise FetchError("no-content", "no main text could be extracted")
    canonical = normalize_url(urljoin(result.final_url, data.get("url") or result.final_url))
    published = _date(data.get("date"))
    from_feed = lead.published if lead is not None else None
    # Pages often give only the day; a feed's timestamp of the same day is more precise.
    if from_feed is not None and (published is None or published.date() == from_feed.date()):
        published = from_feed
    author = clean_title(data.get("author")) or _meta_author(decoded.text)
    author = author or (lead.author if lead else None)
    metadata: dict[str, MetadataValue] = {"url": canonical}
    if published:
        metadata["published"] = published.isoformat()
    if author:
        metadata["author"] = author
    if data.get("sitename"):
        metadata["site"] = str(data["sitename"])
    if lead is not None and lead.source != lead.url:
        metadata["source"] = lead.source
    item = Item(
        id=item_id(canonical),
        title=title,
        text=text[:MAX_TEXT_CHARS],
        language=_language(f"{title}\n{text}", decoded.text),
        tags=list(dict.fromkeys([*(lead.tags if lead else ()), *(data.get("tags") or [])])),
        metadata=metadata,
    )
    return Article(item, canonical, decoded.encoding, decoded.mislabelled)


def published_at(item: Item) -> datetime | None:
    value = item.metadata.get("published")
    return _date(value) if isinstance(value, str) else None
