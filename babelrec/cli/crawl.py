"""`babelrec crawl`: collect catalog items from feeds, sitemaps and article pages."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from pydantic import ValidationError

from babelrec.cli.app import app
from babelrec.cli.common import CommonOptions, command, console, err_console, validation_problems
from babelrec.errors import ConfigError


@command(app, "crawl", json=True)
def crawl_command(
    opts: CommonOptions,
    urls: Annotated[list[str], typer.Argument(help="RSS/Atom feeds, XML sitemaps or pages.")],
    max_items: Annotated[
        int | None, typer.Option("--max-items", help="Fetch at most this many articles.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Skip items published before this ISO date.")
    ] = None,
    delay: Annotated[
        float, typer.Option("--delay", help="Seconds between two requests to one host.")
    ] = 1.0,
    summarize: Annotated[
        bool, typer.Option("--summarize", help="LLM summaries (item language + pivot), cached.")
    ] = False,
    pivot_language: Annotated[
        str, typer.Option("--pivot-language", help="Second language of the summaries.")
    ] = "en",
) -> None:
    """Collect catalog items from feeds, sitemaps and article pages, politely (robots.txt,
    per-host delay, conditional requests: a second run fetches only what changed).

    Example: babelrec crawl https://example.org/feed.xml --since 2024-01-01 --max-items 100
    """
    from babelrec.crawl import CrawlOptions, crawl

    try:
        options = CrawlOptions(
            max_items=max_items,
            since=since,  # pydantic parses the ISO string
            delay=delay,
            progress=sys.stderr.isatty() and not opts.as_json,
            summarize=summarize,
            pivot_language=pivot_language,
        )
    except ValidationError as exc:
        raise ConfigError(f"invalid option: {validation_problems(exc)}") from None
    settings = opts.settings()
    rec = opts.recommender()
    llm = None
    if summarize:
        from babelrec.llm.registry import build_llm

        llm = build_llm(settings.llm, settings.cache_dir)
    report = crawl(urls, rec.store, rec.embedder, options, llm=llm)
    if opts.as_json:
        console.print_json(report.model_dump_json())
        return
    for skip in report.skipped:
        err_console.print(
            f"[yellow]skipped[/yellow] {skip.url} ({skip.reason}) {skip.detail}",
            highlight=False,
            soft_wrap=True,
        )
    reasons = ", ".join(f"{n} {r}" for r, n in sorted(report.skipped_by_reason().items()))
    console.print(
        f"{report.sources} source(s), {report.articles_found} article link(s): "
        f"added {report.ingest.added}, updated {report.ingest.updated}, unchanged "
        f"{report.ingest.unchanged + report.unchanged + report.not_modified}, skipped "
        f"{len(report.skipped)}{f' ({reasons})' if reasons else ''} "
        f"({report.requests} requests, {report.seconds:.1f}s; {rec.store.count()} items "
        f"in {rec.store.location})",
        highlight=False,
    )
