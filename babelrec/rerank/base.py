"""The `Reranker` interface: `rerank()` does the shared work, a mode implements `_rerank()`.

Shared work: dropping history items, shuffled orderings against position bias and their fusion,
the first-position-win figure, fusion with the first stage, repair and retry counts, and the
degraded fallback. Whatever the LLM does, the output is a permutation of the input candidates.
"""

from __future__ import annotations

import logging
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from babelrec.errors import LLMError, LLMOutputError, LLMUnavailableError
from babelrec.llm.base import LLM, LOGPROB_FLOOR
from babelrec.models import Candidate, Item, RepairCounts, StageScores, UserProfile
from babelrec.prompts.loader import PromptLoader
from babelrec.rerank.fusion import (
    borda,
    fuse_with_first_stage,
    minmax,
    ranking,
    reciprocal_rank_fusion,
)
from babelrec.settings import RerankSettings

logger = logging.getLogger(__name__)

#: Tokens of item text per verbalizer candidate (see `RerankConfig.snippet_tokens`).
SNIPPET_TOKENS = 8


class RerankConfig(RerankSettings):
    """How a reranker runs: the `rerank` settings group (one default per knob, there) plus what
    a caller sets per run."""

    seed: int = 0
    timeout: float | None = Field(default=120.0, gt=0, description="Seconds for the whole rerank.")
    snippet_tokens: int | None = Field(
        default=SNIPPET_TOKENS,
        ge=0,
        description="Verbalizer: the title and at most this many of the model's tokens of each "
        "candidate's text (None: the full item block, id and 160 characters of text).",
    )
    priors_dir: Path | None = Field(
        default=None,
        description="Verbalizer: where calibration priors are kept across processes (they "
        "depend only on the model and the template); None: in this process only.",
    )

    @classmethod
    def from_settings(
        cls, rerank: RerankSettings, llm_timeout: float, cache_dir: Path | None = None
    ) -> RerankConfig:
        """The configuration the `rerank` settings group describes; the whole rerank may take
        two LLM timeouts. Calibration priors are kept under `cache_dir`/priors when given."""
        priors = cache_dir / "priors" if cache_dir is not None else None
        return cls(**rerank.model_dump(), timeout=llm_timeout * 2, priors_dir=priors)


class RerankResult(BaseModel):
    """The reordered candidates (a permutation of the input) and how they came about."""

    model_config = ConfigDict(extra="forbid")

    candidates: list[Candidate]
    reranker: str
    repairs: RepairCounts = Field(default_factory=RepairCounts)
    degraded: bool = False
    degraded_reason: str | None = None
    passes: int = 0
    first_position_wins: float | None = Field(
        default=None, description="Share of passes whose first-shown candidate ranked first."
    )
    llm_calls: int = 0
    prompt_tokens: int = 0
    seconds: float = 0.0


class Reranker(ABC):
    """Reorders a first-stage short list for a user."""

    name: ClassVar[str]
    needs_llm: ClassVar[bool] = True

    def __init__(
        self,
        llm: LLM | None,
        config: RerankConfig | None = None,
        prompts: PromptLoader | None = None,
    ) -> None:
        self.llm = llm
        self.config = config or RerankConfig()
        self.prompts = prompts or PromptLoader()
        self._deadline: float | None = None
        self._checked_options: dict[tuple[str, ...], str | None] = {}

    @abstractmethod
    def _rerank(
        self,
        user: UserProfile,
        candidates: Sequence[Candidate],
        history: Sequence[Item],
        repairs: RepairCounts,
    ) -> dict[str, float]:
        """A score per candidate id (higher is better) for this ordering of `candidates`."""

    def rerank(
        self,
        user: UserProfile,
        candidates: Sequence[Candidate],
        *,
        history: Sequence[Item] = (),
    ) -> RerankResult:
        """The candidates reordered: the top `config.top` by the LLM fused with the first stage,
        the rest after them in first-stage order. Never raises on LLM failure: the result is the
        first-stage order with `degraded=True` and the reason."""
        started = time.perf_counter()
        repairs = RepairCounts()
        history_ids = set(user.history_ids) | {item.id for item in history}
        head: list[Candidate] = []
        for cand in candidates[: self.config.top]:
            if cand.item.id in history_ids:
                repairs.history_removed += 1
            elif all(cand.item.id != kept.item.id for kept in head):
                head.append(cand)
        tail = [c for c in candidates[self.config.top :] if c.item.id not in history_ids]
        if self.needs_llm and self.llm is None:
            return self._fallback(head + tail, "no LLM configured", repairs, started)
        calls_before = len(self.llm.calls) if self.llm else 0
        self._deadline = (
            time.monotonic() + self.config.timeout if self.config.timeout is not None else None
        )
        passes: list[tuple[list[str], dict[str, float]]] = []
        try:
            for ordering in self._orderings(head):
                scores = self._rerank(user, ordering, history, repairs)
                require_information(scores)
                passes.append(([c.item.id for c in ordering], scores))
        except LLMError as exc:
            self._count_retries(repairs, calls_before)
            return self._fallback(head + tail, str(exc), repairs, started, calls_before)
        self._count_retries(repairs, calls_before)
        first_stage_ids = [c.item.id for c in head]
        rankings = [ranking(scores, shown) for shown, scores in passes]
        wins = [order[0] == shown[0] for (shown, _), order in zip(passes, rankings, strict=True)]
        if len(passes) == 1:
            llm_raw = passes[0][1]
        elif self.config.fusion == "rrf":
            llm_raw = reciprocal_rank_fusion(rankings)
        else:
            llm_raw = borda(rankings)
        reordered = self._fuse(head, tail, minmax(llm_raw))
        return RerankResult(
            candidates=reordered,
            reranker=self.name,
            repairs=repairs,
            passes=len(passes),
            first_position_wins=sum(wins) / len(wins)
            if wins and len(first_stage_ids) > 1
            else None,
            **self._usage(calls_before, started),
        )

    # -- shared steps ----------------------------------------------------------------------

    def _orderings(self, head: list[Candidate]) -> list[list[Candidate]]:
        """The first-stage order, then `shuffles` seeded random orders (position-bias control)."""
        orderings = [list(head)]
        if len(head) > 1 and self.needs_llm:
            rng = random.Random(self.config.seed)
            for _ in range(self.config.shuffles):
                shuffled = list(head)
                rng.shuffle(shuffled)
                orderings.append(shuffled)
        return orderings

    def _fuse(
        self, head: list[Candidate], tail: list[Candidate], llm: dict[str, float]
    ) -> list[Candidate]:
        """final = alpha * LLM + (1 - alpha) * bilinear, each min-max normalised over the head.

        The tail gets the same formula without an LLM term; its normalised bilinear score is at
        most 0, so it stays below the head."""
        first = {c.item.id: _first_stage_score(c) for c in head}
        norm_first = minmax(first)
        final = fuse_with_first_stage(llm, norm_first, self.config.alpha)
        low, high = (min(first.values()), max(first.values())) if first else (0.0, 1.0)
        span = high - low if high - low > 1e-12 else 1.0
        out = [_rescored(c, llm=llm[c.item.id], final=final[c.item.id]) for c in head] + [
            _rescored(
                c, llm=None, final=(1 - self.config.alpha) * (_first_stage_score(c) - low) / span
            )
            for c in tail
        ]
        position = {c.item.id: i for i, c in enumerate(head + tail)}
        out.sort(key=lambda c: (-c.scores.final, position[c.item.id]))
        return out

    def _fallback(
        self,
        candidates: list[Candidate],
        reason: str,
        repairs: RepairCounts,
        started: float,
        calls_before: int | None = None,
    ) -> RerankResult:
        calls = len(self.llm.calls) if self.llm else 0
        calls = calls if calls_before is None else calls_before  # report the calls made
        degraded_reason = f"LLM rerank skipped, first-stage order kept: {reason}"
        logger.warning("degraded %s rerank: %s", self.name, degraded_reason)
        return RerankResult(
            candidates=candidates,
            reranker=self.name,
            repairs=repairs,
            degraded=True,
            degraded_reason=degraded_reason,
            **self._usage(calls, started),
        )

    def require_distinct(self, options: Sequence[str]) -> None:
        """Raise `LLMOutputError` when the LLM cannot tell `options` apart (its tokenizer gives
        them the same tokens, or none): scoring them would give every candidate the same score.
        Checked once per option set, on first use (the options depend on the user's locale)."""
        assert self.llm is not None
        key = tuple(options)
        if key not in self._checked_options:
            self._checked_options[key] = self.llm.scoring_problem(options)
        if problem := self._checked_options[key]:
            raise LLMOutputError(f"{self.name} cannot score with this model: {problem}")

    def check_time(self) -> None:
        """Raise `LLMUnavailableError` once the rerank has used up `config.timeout`."""
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise LLMUnavailableError(f"the LLM timed out (over {self.config.timeout:.0f}s)")

    def _count_retries(self, repairs: RepairCounts, calls_before: int) -> None:
        if self.llm is not None:
            repairs.retries += sum(max(0, c.attempts - 1) for c in self.llm.calls[calls_before:])

    def _usage(self, calls_before: int, started: float) -> dict[str, float | int]:
        calls = self.llm.calls[calls_before:] if self.llm else []
        return {
            "llm_calls": len(calls),
            "prompt_tokens": sum(c.prompt_tokens for c in calls),
            "seconds": time.perf_counter() - started,
        }


def require_information(scores: Mapping[str, float]) -> None:
    """Raise `LLMOutputError` when one pass's scores cannot order anything: all equal (the
    options were indistinguishable, or every one sat at the floor). One candidate needs none."""
    values = list(scores.values())
    if len(values) > 1 and max(values) - min(values) < 1e-9:
        floor = (
            " (all at the floor: the backend reported no option)"
            if (max(values) <= LOGPROB_FLOOR)
            else ""
        )
        raise LLMOutputError(
            f"the LLM's scores carry no information: all {len(values)} candidates scored "
            f"{values[0]:.4g}{floor}"
        )


def _first_stage_score(cand: Candidate) -> float:
    scores = cand.scores
    if scores.hybrid is not None:
        return scores.hybrid
    return scores.bilinear if scores.bilinear is not None else scores.retrieval


def _rescored(cand: Candidate, *, llm: float | None, final: float) -> Candidate:
    scores: StageScores = cand.scores.model_copy(update={"llm": llm, "final": final})
    return cand.model_copy(update={"scores": scores})
