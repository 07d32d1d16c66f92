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

from babelrec.display import DisplayMaker, TranslationCache, as_shown, quotes_unreadable
from babelrec.display.translator import LazyTranslator
from babelrec.display_types import Display
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
    displays: list[Display] = field(default_factory=list)
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
        self._display: DisplayMaker | None = None

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

    def display_maker(self) -> DisplayMaker:
        """Shows items in the reader's language. Machine translations come from the configured
        LLM, built only when an item needs one (`display.machine`: looked up in
        CACHE_DIR/translations, or made on request)."""
        if self._display is None:
            translator = LazyTranslator(lambda: self.llm()[0]) if self.settings.llm_on else None
            cache = TranslationCache(self.settings.cache_dir / "translations")
            self._display = DisplayMaker(self.settings.display, translator, cache)
        return self._display

    def explain(
        self,
        llm: LLM | None,
        user: UserProfile,
        top: Sequence[Item],
        history: Sequence[Item],
        displays: Sequence[Display],
        vectors: VectorSource | None = None,
    ) -> list[Explanation]:
        """Explanations that quote items only as the reader sees them: the shown titles of the
        picks and of the history items the reader can read. Every history item is evidence (the
        reader's own history, whatever its language), but an unreadable one is never quoted: the
        template leaves its title out, and an LLM sentence quoting it becomes the template."""
        seen = self.display_maker().displays(user, history, generate=False)
        shown_top = [as_shown(item, d) for item, d in zip(top, displays, strict=True)]
        shown_history = [as_shown(item, d) for item, d in zip(history, seen, strict=True)]
        quotable = {item.id for item, d in zip(history, seen, strict=True) if d.in_user_language}
        unreadable = [(h, d) for h, d in zip(history, seen, strict=True) if h.id not in quotable]
        explainer = self.explainer(llm)
        explanations = explainer.explain(user, shown_top, shown_history, vectors, quotable)
        for pos, (item, display) in enumerate(zip(top, displays, strict=True)):
            text = explanations[pos].text
            if explanations[pos].source == "llm" and any(
                quotes_unreadable(text, shown, d) for shown, d in [(item, display), *unreadable]
            ):
                template = self.explainer(None)
                again = template.explain(user, [shown_top[pos]], shown_history, vectors, quotable)
                explanations[pos] = again[0]
        return explanations

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
        top = [c.item for c in out.candidates[:k]]
        started = time.perf_counter()
        out.displays = self.display_maker().displays(user, top, generate=llm is not None)
        out.timings["display"] = time.perf_counter() - started
        if explain:
            started = time.perf_counter()
            out.explanations = self.explain(llm, user, top, history, out.displays, vectors)
            out.timings["explain"] = time.perf_counter() - started
        return out
