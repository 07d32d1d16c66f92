"""The generative stage of `Recommender.recommend`: LLM rerank of the short list, then explanations.

No LLM failure can fail a recommendation: an LLM that cannot be built, reached or understood
leaves the first-stage order in place, marked degraded with the reason (logged at WARNING), and
explanations fall back to grounded templates. Programming errors are not LLM failures: they
propagate.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from babelrec.errors import LLMError
from babelrec.explain import Explainer
from babelrec.explain.evidence import VectorSource
from babelrec.llm.base import LLM
from babelrec.llm.registry import build_llm
from babelrec.models import Candidate, Explanation, Item, RepairCounts, UserProfile
from babelrec.rerank import RerankConfig, Reranker, build_reranker
from babelrec.settings import Settings

logger = logging.getLogger(__name__)


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
    """Builds its LLM, reranker and explainers on first use and keeps them for later requests.

    A failed LLM build is not remembered: the next request tries again (a server that was down
    may be up)."""

    def __init__(self, settings: Settings, llm: LLM | None = None) -> None:
        self.settings = settings
        self._llm = llm
        self._reranker: Reranker | None = None
        self._explainers: dict[bool, Explainer] = {}

    def llm(self) -> tuple[LLM | None, str | None]:
        """The configured LLM, or None with the reason when it is off or cannot be built."""
        if self._llm is None:
            if not self.settings.llm_on:
                return None, "no LLM configured"
            try:
                self._llm = build_llm(self.settings.llm, self.settings.cache_dir)
            except LLMError as exc:
                return None, str(exc)
        return self._llm, None

    def reranker(self, llm: LLM) -> Reranker:
        if self._reranker is None or self._reranker.llm is not llm:
            config = RerankConfig.from_settings(
                self.settings.rerank, self.settings.llm.timeout, self.settings.cache_dir
            )
            self._reranker = build_reranker(self.settings.rerank.name, llm, config)
        return self._reranker

    def explainer(self, llm: LLM | None) -> Explainer:
        words_by = llm if llm is not None and self.settings.llm.explanations else None
        key = words_by is not None
        if key not in self._explainers or self._explainers[key].llm is not words_by:
            self._explainers[key] = Explainer(words_by)
        return self._explainers[key]

    def run(
        self,
        user: UserProfile,
        candidates: Sequence[Candidate],
        *,
        k: int,
        history: Sequence[Item] = (),
        explain: bool = True,
        use_llm: bool = True,
        vectors: VectorSource | None = None,
    ) -> GenerativeOutput:
        """Rerank (when `use_llm`), then explain the top `k` from the evidence `vectors` give."""
        out = GenerativeOutput(candidates=list(candidates))
        llm: LLM | None = None
        if use_llm and candidates:
            llm, why_not = self.llm()
            if llm is None:
                out.degraded_reason = f"LLM unavailable, first-stage order kept: {why_not}"
                logger.warning("degraded result: %s", out.degraded_reason)
            else:
                started = time.perf_counter()
                result = self.reranker(llm).rerank(user, candidates, history=history)
                out.timings["rerank"] = time.perf_counter() - started
                out.candidates = result.candidates
                out.reranker = f"{result.reranker}({llm.model_id})"
                out.repairs = result.repairs
                if result.degraded:  # the reranker logged why, at WARNING
                    out.degraded_reason = result.degraded_reason
                    llm = None  # do not wait on a failing LLM a second time
        if explain:
            started = time.perf_counter()
            top = [c.item for c in out.candidates[:k]]
            out.explanations = self.explainer(llm).explain(user, top, history, vectors)
            out.timings["explain"] = time.perf_counter() - started
        return out
