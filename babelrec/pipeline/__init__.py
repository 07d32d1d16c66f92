"""The pipeline facade: `Recommender` builds every stage once and runs them in order."""

from __future__ import annotations

from babelrec.pipeline.protocol import RecommendationService
from babelrec.pipeline.recommender import Recommender

__all__ = ["RecommendationService", "Recommender"]
