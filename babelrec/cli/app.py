"""The typer application every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="babelrec: cross-lingual recommendations that explain themselves.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
