"""`babelrec migrate`: bring an existing store up to date (its per-language statistics)."""

from __future__ import annotations

from babelrec.cli.app import app
from babelrec.cli.common import CommonOptions, command, console


@command(app)
def migrate(opts: CommonOptions) -> None:
    """Compute the store's per-language statistics from its vectors (one read); later ingests
    keep them current.

    Example: babelrec migrate --store ./store
    """
    rec = opts.recommender()
    stats = rec.store.rebuild_language_stats()
    shown = ", ".join(f"{k or 'unknown'} {v}" for k, v in sorted(stats.counts.items()))
    console.print(
        f"language statistics of {stats.total} items ({shown or 'none'}) stored with "
        f"{rec.store.collection_name!r} in {rec.store.location}"
    )
