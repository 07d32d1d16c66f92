"""Score arithmetic of reranking: normalisation, rank fusion of orderings, first-stage fusion."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

RRF_K = 60


def minmax(scores: Mapping[str, float]) -> dict[str, float]:
    """Scores mapped to [0, 1]; all-equal scores become 0.5 (no information, no preference)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high - low < 1e-12:
        return dict.fromkeys(scores, 0.5)
    return {key: (value - low) / (high - low) for key, value in scores.items()}


def ranking(scores: Mapping[str, float], tiebreak: Sequence[str]) -> list[str]:
    """Ids best first; ties keep the order of `tiebreak`."""
    position = {key: i for i, key in enumerate(tiebreak)}
    return sorted(scores, key=lambda key: (-scores[key], position.get(key, len(position))))


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> dict[str, float]:
    """Sum of 1 / (k + rank) over the rankings (Cormack et al., 2009)."""
    fused: dict[str, float] = {}
    for order in rankings:
        for rank, key in enumerate(order, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank)
    return fused


def borda(rankings: Sequence[Sequence[str]]) -> dict[str, float]:
    """Sum of points: n - 1 for first place down to 0 for last."""
    fused: dict[str, float] = {}
    for order in rankings:
        n = len(order)
        for rank, key in enumerate(order):
            fused[key] = fused.get(key, 0.0) + float(n - 1 - rank)
    return fused


def fuse_with_first_stage(
    llm: Mapping[str, float], first: Mapping[str, float], alpha: float
) -> dict[str, float]:
    """alpha * LLM + (1 - alpha) * first stage, both already normalised to [0, 1]."""
    return {key: alpha * llm[key] + (1.0 - alpha) * first[key] for key in first}
