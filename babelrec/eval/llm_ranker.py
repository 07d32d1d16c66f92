"""LLM rerankers as evaluation rankers: a first stage (cosine or learned bilinear) orders the
case's candidates, an LLM reranker reorders its top `top`, the rest keep first-stage order.

Options (in the experiment file): `mode` (listwise, verbalizer, pointwise), `first_stage`
(cosine or bilinear), `top`, `alpha` (fusion weight), `shuffles`, `calibrate` (verbalizer label
calibration; each left out takes the `rerank` settings' default), `llm` and `model` (backend
and packaged model or GGUF path), `url` and `timeout` (the openai backend's base URL and
seconds per call), `threads` (llama.cpp threads), `answer_cache` (a folder whose `llm/` holds
the cached answers; default CACHE_DIR), `history` (how many recent history titles the prompt
shows). Its stats include
`seconds_per_request`: the reranker's own time per impression, first-stage training left out.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from babelrec.eval.protocols import EvalCase
from babelrec.eval.rankers import (
    BilinearEvalRanker,
    CosineRanker,
    EvalContext,
    EvalRanker,
)
from babelrec.models import Candidate, StageScores, UserProfile


class LLMEvalRanker(EvalRanker):
    pointwise = False  # a list reranker: one candidate's text moves the others

    def __init__(
        self,
        mode: str = "verbalizer",
        first_stage: str = "bilinear",
        top: int = 10,
        alpha: float | None = None,
        shuffles: int | None = None,
        calibrate: bool | None = None,
        llm: str = "llama-cpp",
        model: str | None = None,
        url: str | None = None,
        threads: int | None = None,
        timeout: float | None = None,
        answer_cache: str | None = None,
        history: int = 5,
        **first_stage_options: Any,
    ) -> None:
        from babelrec.llm.registry import build_llm
        from babelrec.rerank import RerankConfig, build_reranker
        from babelrec.settings import DEFAULT_CACHE_DIR, LLMSettings

        path = Path(model) if model and model.endswith(".gguf") else None
        settings = LLMSettings(
            backend=llm,
            model_path=path,
            model=model if model and path is None else "gemma3",
            url=url,
            threads=threads,
            **({"timeout": timeout} if timeout is not None else {}),
        )
        self.first: EvalRanker = (
            BilinearEvalRanker(**first_stage_options)
            if first_stage == "bilinear"
            else CosineRanker()
        )
        given = {"alpha": alpha, "shuffles": shuffles, "calibrate": calibrate}
        config = RerankConfig(  # what the experiment leaves out takes the settings' default
            top=top, timeout=None, **{key: v for key, v in given.items() if v is not None}
        )
        cache_dir = Path(answer_cache) if answer_cache else DEFAULT_CACHE_DIR
        self.reranker = build_reranker(mode, build_llm(settings, cache_dir), config)
        self.history = history
        self.totals = {
            "cases": 0,
            "degraded": 0,
            "repairs": 0,
            "prompt_tokens": 0,
            "wins": 0.0,
            "seconds": 0.0,
        }
        self.bias_samples = 0

    def prepare(self, context: EvalContext) -> None:
        self.first.prepare(context)

    def score(self, case: EvalCase, context: EvalContext) -> list[float]:
        first = self.first.score(case, context)
        order = sorted(range(len(case.candidates)), key=lambda i: -first[i])
        items = context.dataset.items
        candidates = [
            Candidate(
                item=items[case.candidates[i]],
                scores=StageScores(retrieval=first[i], bilinear=first[i], final=first[i]),
            )
            for i in order
        ]
        # An impression may show an item the user already clicked; the reranker never
        # recommends history items, so such a candidate would silently drop out of the ranking.
        shown = set(case.candidates)
        history = [i for i in case.history if i not in shown]
        user = UserProfile(
            id=case.user_id,
            language=case.user_language or "en",
            region=case.user_region,
            history=history,
        )
        recent = [items[i] for i in history[-self.history :] if i in items]
        started = time.perf_counter()
        result = self.reranker.rerank(user, candidates, history=recent)
        self.totals["seconds"] += time.perf_counter() - started
        self.totals["cases"] += 1
        self.totals["degraded"] += int(result.degraded)
        self.totals["repairs"] += result.repairs.total
        self.totals["prompt_tokens"] += result.prompt_tokens
        if result.first_position_wins is not None:
            self.totals["wins"] += result.first_position_wins
            self.bias_samples += 1
        rank = {c.item.id: pos for pos, c in enumerate(result.candidates)}
        n = len(case.candidates)
        return [float(n - rank.get(item_id, n)) for item_id in case.candidates]

    def stats(self) -> dict[str, float]:
        cases = max(1, int(self.totals["cases"]))
        stats = {
            "degraded_share": self.totals["degraded"] / cases,
            "repairs_per_list": self.totals["repairs"] / cases,
            "prompt_tokens_per_user": self.totals["prompt_tokens"] / cases,
            "seconds_per_request": self.totals["seconds"] / cases,
        }
        if self.bias_samples:
            stats["first_shown_wins"] = self.totals["wins"] / self.bias_samples
        return stats
