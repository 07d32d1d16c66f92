"""`babelrec train`: learn the first stage from interactions and save it with the store."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from babelrec.cli.app import app
from babelrec.cli.common import CommonOptions, command, console
from babelrec.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

    from babelrec.io.interactions import InteractionRow
    from babelrec.pipeline.recommender import Recommender


@command(app)
def train(
    opts: CommonOptions,
    interactions: Annotated[Path, typer.Argument(help="CSV with user_id,item_id[,timestamp].")],
    mode: Annotated[str, typer.Option(help="shared or per_item weights.")] = "shared",
    epochs: Annotated[int, typer.Option(help="Passes over the examples.")] = 5,
    seed: Annotated[int, typer.Option(help="Random seed (training is deterministic).")] = 0,
    bilinear_only: Annotated[
        bool, typer.Option("--bilinear-only", help="Only the bilinear weights (no hybrid).")
    ] = False,
) -> None:
    """Learn the hybrid first stage (bilinear content weights, a collaborative model and the
    weights fusing them with popularity) from interactions, and save it with the store.
    Prints the held-out HitRate@10 and nDCG@10 it reached, beside popularity's.

    Example: babelrec train interactions.csv
    """
    from babelrec.io.interactions import read_interactions
    from babelrec.rank.bilinear import BilinearRanker, BPRConfig
    from babelrec.rank.training import examples_from_interactions

    if mode not in ("shared", "per_item"):
        raise ConfigError(f"--mode must be shared or per_item, not {mode!r}")
    rec = opts.recommender()
    rows = read_interactions(interactions)
    vectors = rec.item_vectors(sorted({r.item_id for r in rows}))
    unknown = len({r.item_id for r in rows} - set(vectors))
    if bilinear_only:
        config = BPRConfig(mode=mode, epochs=epochs, seed=seed)
        examples = examples_from_interactions(rows, vectors)
        ranker = BilinearRanker.fit(examples, vectors, config)
        path = rec.save_ranker(ranker)
        console.print(
            f"trained {config.mode} weights on {len(examples)} examples "
            f"({unknown} unknown item ids ignored) -> {path}"
        )
        return
    _train_hybrid(rec, rows, vectors, mode=mode, epochs=epochs, seed=seed, unknown=unknown)


def _train_hybrid(
    rec: Recommender,
    rows: Sequence[InteractionRow],
    vectors: dict[str, np.ndarray],
    *,
    mode: str,
    epochs: int,
    seed: int,
    unknown: int,
) -> None:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from babelrec.rank.bilinear import BPRConfig
    from babelrec.rank.hybrid_model import train_hybrid

    sequences: dict[str, list[str]] = defaultdict(list)
    # stable: file order breaks ties, and rows without a time come first in file order
    for row in sorted(rows, key=lambda r: r.timestamp.timestamp() if r.timestamp else 0.0):
        sequences[row.user_id].append(row.item_id)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("training", total=1.0)

        def step(label: str, done: float) -> None:
            progress.update(task, description=label, completed=done)

        model = train_hybrid(
            sequences,
            vectors,
            embedder=rec.embedder.name,
            bpr=BPRConfig(mode=mode, epochs=epochs, seed=seed),
            seed=seed,
            progress=step,
        )
    path = rec.save_hybrid(model)
    rec.save_ranker(model.bilinear)
    report = model.meta.report
    console.print(
        f"held out {report.held_out_users} of {report.users} users: HitRate@10 "
        f"{report.hit_at_10:.3f}, nDCG@10 {report.ndcg_at_10:.3f} (popularity "
        f"{report.popularity_hit_at_10:.3f}, {report.popularity_ndcg_at_10:.3f}; last item "
        f"against {report.negatives} sampled items)"
    )
    console.print(
        f"trained the hybrid on {report.interactions} interactions in {report.seconds:.1f}s "
        f"({report.cpu_seconds:.1f}s CPU) "
        f"({unknown} unknown item ids ignored) -> {path}"
    )
