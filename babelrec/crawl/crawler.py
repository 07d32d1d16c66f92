"""`crawl()`: feeds, sitemaps and article URLs -> items in the store, politely and resumably.

A run reads its sources (conditional GETs: an unchanged feed answers 304 and lists nothing),
collects the article links they list, leaves alone the articles already in the store that the
source does not say were updated, fetches the rest in parallel under the per-host limits,
extracts them and ingests them through `ingest_items`, the path `babelrec ingest` takes. State
(validators and known articles) is saved only after the ingest succeeded. A source whose
articles could not all be fetched for a passing reason (5xx, timeout, --max-items) keeps no
validators, so the next run reads it again and retries them.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace

from babelrec.crawl.extract import Article, extract_article, normalize_url, published_at
from babelrec.crawl.feeds import (
    Lead,
    Listing,
    kind_of,
    parse_feed,
    parse_sitemap,
    unzip_if_gzip,
)
from babelrec.crawl.fetch import Fetcher, FetchError, FetchResult, Validators
from babelrec.crawl.options import CrawlOptions, CrawlReport, SkippedUrl, SkipReason
from babelrec.crawl.state import STATE_FILE, CrawlState
from babelrec.errors import ConfigError
from babelrec.llm.base import LLM
from babelrec.models import Item
from babelrec.retrieval.embedders import Embedder
from babelrec.retrieval.ingest import ingest_items
from babelrec.retrieval.store import VectorStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Fetched:
    lead: Lead
    article: Article | None = None
    validators: Validators | None = None
    not_modified: bool = False
    error: FetchError | None = None


def _transient(error: FetchError) -> bool:
    if error.reason in {"timeout", "network"}:
        return True
    if error.reason == "http-error":
        status = error.status or 500
        return status >= 500 or status in {408, 429}
    return False


class _Crawl:
    """The mutable bookkeeping of one run; every change to it happens on the calling thread."""

    def __init__(self, options: CrawlOptions, state: CrawlState, fetcher: Fetcher) -> None:
        self.options = options
        self.state = state
        self.fetcher = fetcher
        self.report = CrawlReport()
        self.leads: dict[str, Lead] = {}
        self.direct: list[tuple[Lead, FetchResult]] = []
        self.source_validators: dict[str, Validators] = {}
        self.parents: dict[str, str] = {}
        self.incomplete: set[str] = set()
        self.articles: dict[str, tuple[Article, Lead, Validators]] = {}

    def skip(self, url: str, reason: SkipReason, detail: str, source: str | None = None) -> None:
        logger.info("skipped %s (%s): %s", url, reason, detail)
        self.report.skipped.append(SkippedUrl(url=url, reason=reason, detail=detail))
        if source is not None:
            self._mark_incomplete(source)

    def _mark_incomplete(self, source: str) -> None:
        while source and source not in self.incomplete:
            self.incomplete.add(source)
            source = self.parents.get(source, "")

    # -- sources ---------------------------------------------------------------------------

    def read_sources(self, urls: Sequence[str]) -> None:
        queue = deque((url, 0) for url in urls)
        seen: set[str] = set()
        while queue:
            url, depth = queue.popleft()
            if normalize_url(url) in seen:
                self.skip(url, "duplicate", "given twice")
                continue
            seen.add(normalize_url(url))
            self.report.sources += 1
            try:
                result = self.fetcher.get(url, self.state.validators(url))
                if result.not_modified:
                    self.report.not_modified += 1
                    self.state.touch(url)
                    continue
                self.report.fetched += 1
                listing = self._listing(result)
            except FetchError as exc:
                self.skip(url, exc.reason, exc.detail, self.parents.get(url))
                continue
            if listing is None:
                self.direct.append((Lead(url=url, source=url), result))
                self.report.articles_found += 1
                continue
            self.source_validators[url] = result.validators
            for child in listing.sitemaps:
                self.parents[child] = url
                if depth >= self.options.max_sitemap_depth:
                    self.skip(child, "too-deep", f"sitemap index nested over {depth} levels")
                else:
                    queue.append((child, depth + 1))
            for lead in listing.leads:
                self._add_lead(lead)

    def _listing(self, result: FetchResult) -> Listing | None:
        """The links a feed or sitemap lists; None for an article page."""
        if result.body.startswith(b"\x1f\x8b"):  # a gzipped sitemap file (.xml.gz)
            result = replace(result, body=unzip_if_gzip(result.body, self.options.max_bytes))
        kind = kind_of(result)
        if kind is None:
            raise FetchError(
                "unsupported-type", f"not HTML, a feed or a sitemap: {result.content_type}"
            )
        if kind == "article":
            return None
        if kind == "feed":
            feed = parse_feed(result)
            self.report.feeds += 1
            return feed
        sitemap = parse_sitemap(result, self.options.max_bytes)
        self.report.sitemaps += 1
        return sitemap

    def _add_lead(self, lead: Lead) -> None:
        key = normalize_url(lead.url)
        if key in self.leads:
            self.skip(lead.url, "duplicate", f"listed again by {lead.source}")
            return
        self.leads[key] = lead
        self.report.articles_found += 1

    # -- articles --------------------------------------------------------------------------

    def to_fetch(self) -> list[Lead]:
        """The leads worth a request: not too old, not known and unchanged, within --max-items."""
        since = self.options.since
        todo: list[Lead] = []
        for lead in self.leads.values():
            if since and lead.published and lead.published < since:
                self.skip(lead.url, "older-than-since", f"published {lead.published:%Y-%m-%d}")
                continue
            known = self.state.urls.get(lead.url)
            if (
                known
                and known.item_id
                and (lead.updated is None or lead.updated <= known.fetched_at)
            ):
                self.report.unchanged += 1
                continue
            todo.append(lead)
        budget = self.options.max_items
        if budget is not None:
            budget = max(0, budget - len(self.direct))
            for lead, _ in self.direct[self.options.max_items :]:
                self.skip(lead.url, "over-max-items", f"--max-items {self.options.max_items}")
            self.direct = self.direct[: self.options.max_items]
            for lead in todo[budget:]:
                self.skip(
                    lead.url, "over-max-items", f"--max-items {self.options.max_items}", lead.source
                )
            todo = todo[:budget]
        return todo

    def fetch_article(self, lead: Lead) -> _Fetched:
        """Runs on a worker thread: touches nothing shared but the fetcher."""
        try:
            result = self.fetcher.get(lead.url, self.state.validators(lead.url))
            if result.not_modified:
                return _Fetched(lead, not_modified=True)
            if kind_of(result) != "article":
                raise FetchError("unsupported-type", f"not an HTML page: {result.content_type}")
            return _Fetched(lead, extract_article(result, lead), result.validators)
        except FetchError as exc:
            return _Fetched(lead, error=exc)
        except Exception as exc:  # one bad page never stops the run
            logger.debug("extracting %s failed", lead.url, exc_info=True)
            return _Fetched(lead, error=FetchError("error", f"{type(exc).__name__}: {exc}"))

    def fetch_all(self, leads: list[Lead]) -> None:
        from tqdm import tqdm

        for lead, result in self.direct:
            try:
                self.accept(_Fetched(lead, extract_article(result, lead), result.validators))
            except Exception as exc:
                error = exc if isinstance(exc, FetchError) else FetchError("error", str(exc))
                self.accept(_Fetched(lead, error=error))
        if not leads:
            return
        workers = min(self.options.concurrency, len(leads))
        with (
            ThreadPoolExecutor(workers, thread_name_prefix="babelrec-crawl") as pool,
            tqdm(
                total=len(leads), desc="crawling", unit="page", disable=not self.options.progress
            ) as bar,
        ):
            for future in as_completed([pool.submit(self.fetch_article, lead) for lead in leads]):
                self.accept(future.result())
                bar.update(1)
                bar.set_postfix(items=len(self.articles), skipped=len(self.report.skipped))

    def accept(self, fetched: _Fetched) -> None:
        lead = fetched.lead
        if fetched.error is not None:
            source = lead.source if _transient(fetched.error) else None
            self.skip(lead.url, fetched.error.reason, fetched.error.detail, source)
            return
        if fetched.not_modified:
            self.report.not_modified += 1
            self.state.touch(lead.url)
            return
        self.report.fetched += 1
        article = fetched.article
        assert article is not None and fetched.validators is not None
        when = published_at(article.item)
        if self.options.since and when and when < self.options.since:
            self.skip(lead.url, "older-than-since", f"published {when:%Y-%m-%d}")
            return
        if article.item.id in self.articles:
            first = self.articles[article.item.id][1].url
            self.skip(lead.url, "duplicate", f"same canonical URL as {first}")
            return
        self.articles[article.item.id] = (article, lead, fetched.validators)

    def commit_state(self) -> None:
        """After a successful ingest: remember articles, and sources that were read in full."""
        for article, lead, validators in self.articles.values():
            self.state.remember(lead.url, validators, article.item.id)
        for url, validators in self.source_validators.items():
            if url not in self.incomplete:
                self.state.remember(url, validators)


def crawl(
    urls: Sequence[str],
    store: VectorStore,
    embedder: Embedder,
    options: CrawlOptions | None = None,
    *,
    llm: LLM | None = None,
) -> CrawlReport:
    """Crawl `urls` (feeds, sitemaps, sitemap indexes or article pages) into `store`; with
    `options.summarize`, `llm` summarises each new or changed item first."""
    options = options or CrawlOptions()
    if options.summarize and llm is None:
        raise ConfigError("summaries need an LLM: configure one (llm.backend) or drop --summarize")
    started = time.perf_counter()
    state_path = options.state_file or store.artifact_dir / STATE_FILE
    state = CrawlState.load(state_path)
    with Fetcher(options) as fetcher:
        run = _Crawl(options, state, fetcher)
        run.read_sources(urls)
        run.fetch_all(run.to_fetch())
        run.report.requests = fetcher.requests
    items = [article.item for article, _, _ in run.articles.values()]
    if options.summarize and llm is not None and items:
        items = _summarized(items, store, llm, options.pivot_language, run.report)
    run.report.ingest = ingest_items(items, store, embedder, progress=options.progress)
    run.commit_state()
    state.save(state_path)
    run.report.seconds = time.perf_counter() - started
    return run.report


def _summarized(
    items: list[Item], store: VectorStore, llm: LLM, pivot: str, report: CrawlReport
) -> list[Item]:
    """Summaries for the items whose text is new; unchanged ones keep their stored summary."""
    from babelrec.crawl.summarize import summarize

    stored = store.get([item.id for item in items])
    todo: list[int] = []
    out = list(items)
    for index, item in enumerate(items):
        before = stored.get(item.id)
        kept = before.item.metadata if before is not None else {}
        same = before is not None and (before.item.title, before.item.text) == (
            item.title,
            item.text,
        )
        if same and "summary" in kept:
            extra = {k: v for k, v in kept.items() if k.startswith("summary")}
            out[index] = item.model_copy(update={"metadata": {**item.metadata, **extra}})
        else:
            todo.append(index)
    done, report.summary_errors = summarize([items[i] for i in todo], llm, pivot)
    for index, item in zip(todo, done, strict=True):
        out[index] = item
    report.summaries = sum(1 for item in done if "summary" in item.metadata)
    return out
