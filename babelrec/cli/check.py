"""`babelrec check`: read every stored item and vector and report what is wrong."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from babelrec.cli.app import app
from babelrec.cli.common import CommonOptions, command, console, err_console
from babelrec.retrieval.check import CheckReport, check_store


@command(app, json=True)
def check(
    opts: CommonOptions,
    sample: Annotated[
        int, typer.Option(help="Items to re-embed and compare with their stored vectors.")
    ] = 16,
) -> None:
    """Check a store: unreadable items, missing or mis-sized vectors, counts, and whether the
    configured embedder is the one that wrote the vectors. Exits 1 when anything is wrong.

    Example: babelrec check --store ./store
    """
    from babelrec.retrieval.embedders import build_embedder

    settings = opts.settings()
    embedder = build_embedder(settings.embedder, cache_dir=settings.cache_dir / "embeddings")
    report = check_store(
        embedder=embedder,
        store_path=settings.store_path,
        chroma_url=settings.store.chroma_url,
        collection=settings.store.collection,
        data_dir=settings.data_dir,
        sample=sample,
    )
    if opts.as_json:
        console.print_json(report.model_dump_json())
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_report(report: CheckReport) -> None:
    if report.stored_embedder is not None:
        console.print(
            f"{report.location} \\[{report.collection}]: {report.readable} of {report.items} "
            f"items readable, {report.count} counted; vectors of {report.stored_embedder} "
            f"({report.stored_dimension}-d); {report.sampled} re-embedded with "
            f"{report.embedder}"
            + (
                ""
                if report.lowest_cosine is None
                else f" (lowest cosine {report.lowest_cosine:.3f})"
            ),
            highlight=False,
            soft_wrap=True,
        )
    for note in report.notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False, soft_wrap=True)
    for problem in report.problems:
        err_console.print(
            f"[red]{problem.kind}:[/red] {escape(problem.message)}",
            highlight=False,
            soft_wrap=True,
        )
    console.print("ok" if report.ok else f"{len(report.problems)} problem(s)")
