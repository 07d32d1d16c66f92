"""Retrieval and first ranking: embedders, the Chroma store, ingestion, user vectors and the
bilinear ranker."""

from __future__ import annotations

from babelrec.retrieval.bilinear import BilinearRanker, BPRConfig, TrainingExample, bilinear_score

__all__ = ["BPRConfig", "BilinearRanker", "TrainingExample", "bilinear_score"]
