"""LLM rerankers behind one interface, chosen by name (`listwise`, `verbalizer`, `pointwise`),
plus the `identity` baseline that keeps the first-stage order."""

from __future__ import annotations

from collections.abc import Sequence

from babelrec.llm.base import LLM
from babelrec.models import Candidate, Item, RepairCounts, UserProfile
from babelrec.prompts.loader import PromptLoader
from babelrec.registry import RERANKERS
from babelrec.rerank.base import RerankConfig, Reranker, RerankResult
from babelrec.rerank.listwise import ListwiseReranker
from babelrec.rerank.pointwise import PointwiseReranker
from babelrec.rerank.verbalizer import VerbalizerReranker


class IdentityReranker(Reranker):
    """Keeps the first-stage order: a baseline and a test double (rank_llm's IdentityReranker)."""

    name = "identity"
    needs_llm = False

    def _rerank(
        self,
        user: UserProfile,
        candidates: Sequence[Candidate],
        history: Sequence[Item],
        repairs: RepairCounts,
    ) -> dict[str, float]:
        return {c.item.id: float(len(candidates) - i) for i, c in enumerate(candidates)}


def build_reranker(
    name: str,
    llm: LLM | None,
    config: RerankConfig | None = None,
    prompts: PromptLoader | None = None,
) -> Reranker:
    """The reranker registered as `name` (entry point group ``babelrec.rerankers``, naming a
    `Reranker` subclass)."""
    cls = RERANKERS.get(name)
    reranker: Reranker = cls(llm, config, prompts)
    return reranker


__all__ = [
    "IdentityReranker",
    "ListwiseReranker",
    "PointwiseReranker",
    "RerankConfig",
    "RerankResult",
    "Reranker",
    "VerbalizerReranker",
    "build_reranker",
]
