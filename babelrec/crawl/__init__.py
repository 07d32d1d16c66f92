"""Collecting catalog items from the web: RSS/Atom feeds, XML sitemaps and article pages.

from babelrec.crawl import CrawlOptions, crawl

report = crawl(["https://example.org/feed.xml"], rec.store, rec.embedder, CrawlOptions())
"""

from __future__ import annotations

from babelrec.crawl.crawler import crawl
from babelrec.crawl.options import CrawlOptions, CrawlReport, SkippedUrl

__all__ = ["CrawlOptions", "CrawlReport", "SkippedUrl", "crawl"]
