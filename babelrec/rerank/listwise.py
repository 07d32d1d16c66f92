"""`listwise`: RankGPT-style permutation generation over a sliding window (Sun et al., 2023).

Each window is ranked by one constrained generation whose JSON schema makes the answer an array
of the window's candidates (an enum of short ASCII aliases, mapped back to the ids) of bounded
length; the windows slide from the bottom of the list to the top, so a good item can climb from
the last window to first place.
"""

from __future__ import annotations

import json
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
    """(start, end) of each window, from the bottom of the list to the top.

    Every window is a non-empty slice of at most `window` positions within [0, n), consecutive
    windows overlap or touch (a step larger than the window is taken as the window, so no
    candidate is skipped), and the last window starts at 0."""
    if window < 1 or step < 1:
        raise ValueError(f"window ({window}) and step ({step}) must be at least 1")
    if n <= 0:
        return []
    window = min(window, n)
    step = min(step, window)
    spans = []
    end = n
    while True:
        start = max(end - window, 0)
        spans.append((start, end))
        if start == 0:
            return spans
        end -= step


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
        # The prompt and the answer use short ASCII aliases, not the ids: an id such as
        # "스포츠-기사-000" costs a dozen tokens per mention and would cut every answer off.
        aliases = [alias(i) for i in range(len(window))]
        template = self.prompts.load("rerank", user.language)
        messages = chat(
            template,
            **user_fields(user, history),
            candidates="\n".join(
                item_block(c.item, shown_id=a) for a, c in zip(aliases, window, strict=True)
            ),
            n=str(len(window)),
        )
        answer = self.llm.complete_structured(
            messages,
            RankingAnswer,
            schema=ranking_schema(aliases),
            params=GenerationParams(max_tokens=answer_budget(aliases), seed=self.config.seed),
        )
        # Aliases map back to ids; a real id (from a backend that ignores the schema) is kept.
        by_alias = dict(zip(aliases, ids, strict=True))
        returned = [by_alias.get(name, name) for name in answer.ranking]
        order = repair_ranking(
            returned, ids, repairs, history_ids=[h.id for h in history] + user.history_ids
        )
        by_id = {c.item.id: c for c in window}
        return [by_id[item_id] for item_id in order]


def alias(index: int) -> str:
    """The name the prompt gives the window's `index`-th candidate: c1, c2, ..."""
    return f"c{index + 1}"


def answer_budget(aliases: Sequence[str]) -> int:
    """Output tokens for a listwise answer: the compact JSON answer's length in bytes (ASCII, so
    no tokenizer needs more tokens than bytes), plus room for whitespace the grammar allows."""
    compact = json.dumps({"ranking": list(aliases)})
    return len(compact.encode("utf-8")) + 2 * len(aliases) + 16
