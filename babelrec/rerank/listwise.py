"""`listwise`: RankGPT-style permutation generation over a sliding window (Sun et al., 2023).

Each window is ranked by one constrained generation whose JSON schema makes the answer an array
of the window's real candidate ids (an enum) of bounded length; the windows slide from the bottom
of the list to the top, so a good item can climb from the last window to first place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from babelrec.llm.base import GenerationParams
from babelrec.llm.prompting import chat, item_block, user_fields
from babelrec.models import Candidate, Item, RepairCounts, UserProfile
from babelrec.rerank.base import Reranker
from babelrec.rerank.repair import repair_ranking


class RankingAnswer(BaseModel):
    """The listwise answer: candidate ids, best first."""

    model_config = ConfigDict(extra="forbid")

    ranking: list[str]


def ranking_schema(ids: Sequence[str]) -> dict[str, Any]:
    """Only these ids, exactly one slot per candidate: an out-of-list id cannot be decoded."""
    return {
        "type": "object",
        "properties": {
            "ranking": {
                "type": "array",
                "items": {"type": "string", "enum": list(ids)},
                "minItems": len(ids),
                "maxItems": len(ids),
            }
        },
        "required": ["ranking"],
        "additionalProperties": False,
    }


def windows(n: int, window: int, step: int) -> list[tuple[int, int]]:
    """(start, end) of each window, from the bottom of the list to the top."""
    window = min(window, n)
    spans = []
    start, end = n - window, n
    while True:
        spans.append((max(start, 0), end))
        if start <= 0:
            return spans
        start, end = start - step, end - step


class ListwiseReranker(Reranker):
    """Generates permutations window by window."""

    name = "listwise"

    def _rerank(
        self,
        user: UserProfile,
        candidates: Sequence[Candidate],
        history: Sequence[Item],
        repairs: RepairCounts,
    ) -> dict[str, float]:
        order = list(candidates)
        for start, end in windows(len(order), self.config.window, self.config.step):
            self.check_time()
            order[start:end] = self._rank_window(user, order[start:end], history, repairs)
        return {c.item.id: float(len(order) - i) for i, c in enumerate(order)}

    def _rank_window(
        self,
        user: UserProfile,
        window: list[Candidate],
        history: Sequence[Item],
        repairs: RepairCounts,
    ) -> list[Candidate]:
        assert self.llm is not None  # rerank() checks needs_llm
        ids = [c.item.id for c in window]
        template = self.prompts.load("rerank", user.language)
        messages = chat(
            template,
            **user_fields(user, history),
            candidates="\n".join(item_block(c.item) for c in window),
            n=str(len(window)),
        )
        # Room for every id with its quotes and commas; the grammar ends the answer itself.
        budget = 16 + sum(len(item_id) + 4 for item_id in ids)
        answer = self.llm.complete_structured(
            messages,
            RankingAnswer,
            schema=ranking_schema(ids),
            params=GenerationParams(max_tokens=budget, seed=self.config.seed),
        )
        order = repair_ranking(
            answer.ranking, ids, repairs, history_ids=[h.id for h in history] + user.history_ids
        )
        by_id = {c.item.id: c for c in window}
        return [by_id[item_id] for item_id in order]
