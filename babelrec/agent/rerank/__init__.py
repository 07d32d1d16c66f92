"""LLM rerankers behind one interface, chosen by name (`listwise`, `verbalizer`, `pointwise`),
plus the `identity` baseline that keeps the first-stage order."""

from __future__ import annotations

from collections.abc import Sequence

from babelrec.agent.llm.base import LLM
from babelrec.agent.rerank.base import RerankConfig, Reranker, RerankResult
from babelrec.agent.rerank.listwise import ListwiseReranker
from babelrec.agent.rerank.pointwise import PointwiseReranker
from babelrec.agent.rerank.verbalizer import VerbalizerReranker
from babelrec.errors import ConfigError
from babelrec.models import Candidate, Item, RepairCounts, UserProfile
from babelrec.prompts.loader import PromptLoader


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


RERANKERS: dict[str, type[Reranker]] = {
    cls.name: cls
    for cls in (ListwiseReranker, VerbalizerReranker, PointwiseReranker, IdentityReranker)
}


def build_reranker(
    name: str,
    llm: LLM | None,
    config: RerankConfig | None = None,
    prompts: PromptLoader | None = None,
) -> Reranker:
    """The reranker registered as `name`."""
    try:
        cls = RERANKERS[name]
    except KeyError:
        raise ConfigError(
            f"unknown reranker {name!r}; choose one of {', '.join(sorted(RERANKERS))}"
        ) from None
    return cls(llm, config, prompts)


__all__ = [
    "RERANKERS",
    "IdentityReranker",
    "ListwiseReranker",
    "PointwiseReranker",
    "RerankConfig",
    "RerankResult",
    "Reranker",
    "VerbalizerReranker",
    "build_reranker",
]
