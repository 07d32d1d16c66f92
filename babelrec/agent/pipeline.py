"""The generative stage of `Recommender.recommend`: LLM rerank of the short list, then explanations.

Nothing here can fail a recommendation: an LLM that cannot be built, reached or understood leaves
the first-stage order in place, marked degraded with the reason, and explanations fall back to
grounded templates.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from babelrec.agent.explain import Explainer
from babelrec.agent.llm.base import LLM
from babelrec.agent.llm.registry import build_llm
from babelrec.agent.rerank import RerankConfig, build_reranker
from babelrec.errors import LLMError
from babelrec.models import Candidate, Explanation, Item, RepairCounts, UserProfile
from babelrec.settings import Settings


@dataclass
class GenerativeOutput:
    """The final order, explanations for its top k, and what happened on the way."""

    candidates: list[Candidate]
    explanations: list[Explanation] | None = None
    reranker: str | None = None
    repairs: RepairCounts | None = None
    degraded_reason: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


class GenerativeStage:
    """Builds its LLM on first use, from settings, and keeps it for later requests."""

    def __init__(self, settings: Settings, llm: LLM | None = None) -> None:
        self.settings = settings
        self._llm = llm
        self._llm_error: str | None = None

    def llm(self) -> LLM | None:
        """The configured LLM, or None when it is off or cannot be built (reason kept)."""
        if self._llm is None and self._llm_error is None and self.settings.llm != "none":
            try:
                self._llm = build_llm(self.settings)
            except LLMError as exc:
                self._llm_error = str(exc)
        return self._llm

    def run(
        self,
        user: UserProfile,
        candidates: Sequence[Candidate],
        *,
        k: int,
        history: Sequence[Item] = (),
        explain: bool = True,
        use_llm: bool = True,
    ) -> GenerativeOutput:
        out = GenerativeOutput(candidates=list(candidates))
        llm = self.llm() if use_llm else None
        if use_llm and candidates:
            if llm is None:
                out.degraded_reason = (
                    f"LLM unavailable, first-stage order kept: {self._llm_error or 'none set'}"
                )
            else:
                started = time.perf_counter()
                config = RerankConfig.from_settings(self.settings)
                reranker = build_reranker(self.settings.reranker, llm, config)
                result = reranker.rerank(user, candidates, history=history)
                out.timings["rerank"] = time.perf_counter() - started
                out.candidates = result.candidates
                out.reranker = f"{result.reranker}({llm.model_id})"
                out.repairs = result.repairs
                if result.degraded:
                    out.degraded_reason = result.degraded_reason
                    llm = None  # do not wait on a failing LLM a second time
        if explain:
            started = time.perf_counter()
            words_by = llm if llm is not None and self.settings.llm_explanations else None
            top = [c.item for c in out.candidates[:k]]
            out.explanations = Explainer(words_by).explain(user, top, history)
            out.timings["explain"] = time.perf_counter() - started
        return out
