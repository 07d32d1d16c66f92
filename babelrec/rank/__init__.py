"""First ranking: user vectors, the bilinear ranker and its BPR training, collaborative models
and the hybrid that fuses them."""

from __future__ import annotations

from babelrec.rank import item_graphs as _item_graphs  # noqa: F401  (registers its models)
from babelrec.rank import sequential as _sequential  # noqa: F401  (registers gru4rec)
from babelrec.rank.bilinear import BilinearRanker, BPRConfig, TrainingExample, bilinear_score

__all__ = ["BPRConfig", "BilinearRanker", "TrainingExample", "bilinear_score"]
