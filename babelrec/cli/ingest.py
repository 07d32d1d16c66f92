"""`babelrec ingest`: add or update catalog items."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from babelrec.cli.app import app
from babelrec.cli.common import CommonOptions, command, console, err_console


@command(app)
def ingest(
    opts: CommonOptions,
    path: Annotated[Path, typer.Argument(help="Catalog file, .jsonl or .csv.")],
    strict: Annotated[
        bool, typer.Option(help="Any bad row fails the ingest; nothing is written.")
    ] = False,
) -> None:
    """Add or update catalog items.

    Example: babelrec ingest catalog.jsonl --store ./store
    """
    rec = opts.recommender()
    summary = rec.ingest(path, strict=strict, progress=sys.stderr.isatty())
    for error in summary.errors:
        err_console.print(f"[yellow]skipped[/yellow] {path}: {error}", highlight=False)
    console.print(
        f"added {summary.added}, updated {summary.updated}, unchanged {summary.unchanged}, "
        f"skipped {summary.skipped} ({summary.seconds:.1f}s; {rec.store.count()} items "
        f"in {rec.store.location})"
    )
