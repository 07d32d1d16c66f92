"""`python -m babelrec.cli`: the same as the `babelrec` command."""

from babelrec.cli import main

main()
