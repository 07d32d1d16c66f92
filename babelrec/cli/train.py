"""`babelrec train`: learn the bilinear ranker's weights from interactions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from babelrec.cli.app import app
from babelrec.cli.common import CommonOptions, command, console
from babelrec.errors import ConfigError


@command(app)
def train(
    opts: CommonOptions,
    interactions: Annotated[Path, typer.Argument(help="CSV with user_id,item_id[,timestamp].")],
    mode: Annotated[str, typer.Option(help="shared or per_item weights.")] = "shared",
    epochs: Annotated[int, typer.Option(help="Passes over the examples.")] = 5,
    seed: Annotated[int, typer.Option(help="Random seed (training is deterministic).")] = 0,
) -> None:
    """Learn the bilinear ranker's weights W from interactions (BPR) and save them with the store.

    Example: babelrec train interactions.csv --mode per_item --epochs 10
    """
    from babelrec.rank.bilinear import BilinearRanker, BPRConfig
    from babelrec.rank.training import examples_from_interactions, read_interactions

    if mode not in ("shared", "per_item"):
        raise ConfigError(f"--mode must be shared or per_item, not {mode!r}")
    config = BPRConfig(mode=mode, epochs=epochs, seed=seed)
    rec = opts.recommender()
    rows = read_interactions(interactions)
    stored = rec.get_items(sorted({r.item_id for r in rows}), with_vectors=True)
    vectors = {i: s.vector for i, s in stored.items() if s.vector is not None}
    examples = examples_from_interactions(rows, vectors)
    ranker = BilinearRanker.fit(examples, vectors, config)
    path = rec.save_ranker(ranker)
    unknown = len({r.item_id for r in rows} - set(vectors))
    console.print(
        f"trained {config.mode} weights on {len(examples)} examples "
        f"({unknown} unknown item ids ignored) -> {path}"
    )
