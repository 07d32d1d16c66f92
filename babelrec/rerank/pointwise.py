"""`pointwise`: TALLRec-style relevance (Bao et al., 2023): P(yes) that the user likes each item.

One forward pass per candidate. The user part of the prompt comes first and is the same for every
candidate, so llama.cpp reuses its KV cache and only the candidate's tokens are evaluated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from babelrec.llm.prompting import chat, item_block, user_fields
from babelrec.models import Candidate, Item, RepairCounts, UserProfile
from babelrec.rerank.base import Reranker


class PointwiseReranker(Reranker):
    """Scores each candidate by the probability of the localized "yes" against "no"."""

    name = "pointwise"

    def _rerank(
        self,
        user: UserProfile,
        candidates: Sequence[Candidate],
        history: Sequence[Item],
        repairs: RepairCounts,
    ) -> dict[str, float]:
        assert self.llm is not None  # rerank() checks needs_llm
        template = self.prompts.load("pointwise", user.language)
        fields = user_fields(user, history)
        yes, no = template.answer_options["yes"], template.answer_options["no"]
        scores: dict[str, float] = {}
        for cand in candidates:
            self.check_time()
            messages = chat(template, **fields, candidate=item_block(cand.item))
            logprobs = self.llm.next_token_logprobs(
                messages, [yes, no], answer_prefix=template.answer_prefix
            )
            scores[cand.item.id] = _p_yes(logprobs[yes], logprobs[no])
        return scores


def _p_yes(yes: float, no: float) -> float:
    top = max(yes, no)
    return math.exp(yes - top) / (math.exp(yes - top) + math.exp(no - top))
