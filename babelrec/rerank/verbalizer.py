"""`verbalizer`: LlamaRec-style scoring (Yue et al., 2023) with no generation at all.

Candidates are shown with single-token labels A, B, C, ...; one forward pass gives the next-token
log-probability of every label, and that is each candidate's score.

With `calibrate=True` the scores are corrected for the model's preference for some labels
(contextual calibration, Zhao et al., 2021): the label log-probabilities of a content-free prompt
(same template, every item "N/A") are subtracted. That prompt depends only on the locale and the
number of labels, so it is asked once per model, template, candidate format and list length and
then kept: in the process, and on disk under `RerankConfig.priors_dir` (the service's cache
directory), so a new process does not pay for it either.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

from babelrec.errors import LLMOutputError
from babelrec.llm.base import LOGPROB_FLOOR
from babelrec.llm.cache import ResponseCache, cache_key
from babelrec.llm.prompting import chat, compact_block, item_block, sanitize, user_fields
from babelrec.models import Candidate, Item, RepairCounts, UserProfile
from babelrec.prompts.loader import PromptTemplate
from babelrec.rerank.base import Reranker

LABELS = string.ascii_uppercase


class VerbalizerReranker(Reranker):
    """Scores up to 26 candidates per forward pass by their label's log-probability."""

    name = "verbalizer"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Content-free label log-probabilities by model, template, candidate format and labels.
        #: A reranker lives as long as its `Recommender`: only its first request pays for them.
        self._priors: dict[tuple[str, ...], dict[str, float]] = {}

    def _rerank(
        self,
        user: UserProfile,
        candidates: Sequence[Candidate],
        history: Sequence[Item],
        repairs: RepairCounts,
    ) -> dict[str, float]:
        assert self.llm is not None  # rerank() checks needs_llm
        template = self.prompts.load("verbalizer", user.language)
        fields = user_fields(user, history)
        scores: dict[str, float] = {}
        for start in range(0, len(candidates), len(LABELS)):
            self.check_time()
            group = candidates[start : start + len(LABELS)]
            labels = LABELS[: len(group)]
            self.require_distinct(list(labels))
            messages = chat(
                template,
                **fields,
                candidates="\n".join(
                    self._block(c.item, label) for label, c in zip(labels, group, strict=True)
                ),
                last_label=labels[-1],
            )
            logprobs = self.llm.next_token_logprobs(
                messages, list(labels), answer_prefix=template.answer_prefix
            )
            if all(logprobs[label] <= LOGPROB_FLOOR for label in labels):
                raise LLMOutputError("the LLM gave no probability to any candidate label")
            prior = self._label_prior(template, labels) if self.config.calibrate else {}
            for label, cand in zip(labels, group, strict=True):
                # A label the backend did not report (hosted top-k) stays last, calibrated or not.
                unseen = logprobs[label] <= LOGPROB_FLOOR
                shift = 0.0 if unseen else prior.get(label, 0.0)
                scores[cand.item.id] = logprobs[label] - shift
        return scores

    def _block(self, item: Item, label: str) -> str:
        """A candidate as the prompt shows it: title and a snippet of `snippet_tokens` tokens
        (counted with the LLM's tokenizer), or the full item block when that is None."""
        budget = self.config.snippet_tokens
        if budget is None:
            return item_block(item, label)
        assert self.llm is not None
        text = sanitize(item.text or "") if budget else ""
        return compact_block(item, label, self.llm.truncate_tokens(text, budget) if text else "")

    def _label_prior(self, template: PromptTemplate, labels: str) -> dict[str, float]:
        """Label log-probabilities when no item says anything: the model's position bias."""
        assert self.llm is not None
        priors = self._priors
        key = (
            self.llm.name,
            self.llm.model_id,
            str(self.config.snippet_tokens),
            template.locale,
            template.system,
            template.user,
            template.answer_prefix,
            labels,
        )
        if key not in priors:
            disk = (
                ResponseCache(self.config.priors_dir)
                if self.config.priors_dir and self.llm.stable_model_id
                else None
            )
            digest = cache_key("verbalizer-prior", *key)
            stored = disk.get(digest) if disk is not None else None
            if stored is not None and set(stored.get("logprobs", {})) == set(labels):
                priors[key] = {label: float(v) for label, v in stored["logprobs"].items()}
            else:
                priors[key] = self._content_free_logprobs(template, labels)
                if disk is not None:
                    disk.put(digest, {"logprobs": priors[key]})
        return priors[key]

    def _content_free_logprobs(self, template: PromptTemplate, labels: str) -> dict[str, float]:
        assert self.llm is not None
        blank = Item(id="-", title="N/A")
        messages = chat(
            template,
            user_language="-",
            user_region="-",
            interests="-",
            history="-",
            candidates="\n".join(self._block(blank, label) for label in labels),
            last_label=labels[-1],
        )
        return self.llm.next_token_logprobs(
            messages, list(labels), answer_prefix=template.answer_prefix
        )
