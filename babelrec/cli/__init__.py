"""The `babelrec` command line: one module per command, registered on `babelrec.cli.app.app`;
shared options and the one error handler live in `babelrec.cli.common`. Errors are one line
(add `--debug` for the traceback)."""

from __future__ import annotations

from babelrec.cli import (  # noqa: F401  (registers)
    chat,
    check,
    crawl,
    demo,
    eval,
    ingest,
    migrate,
    models,
    recommend,
    serve,
    train,
    translate,
)
from babelrec.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
