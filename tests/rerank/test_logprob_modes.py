"""verbalizer and pointwise, position-bias control and fusion, over the scripted fake LLM."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from babelrec.llm import ChatMessage, FakeLLM
from babelrec.models import UserProfile
from babelrec.rerank import PointwiseReranker, RerankConfig, VerbalizerReranker
from babelrec.rerank.fusion import borda, minmax, reciprocal_rank_fusion
from tests.rerank.conftest import make_candidates

USER = UserProfile(language="zh", region="CN", interests="足球")


def shown_ids(text: str) -> dict[str, str]:
    """Label -> item id of the candidates a verbalizer prompt shows (by their titles: the
    token-budgeted blocks carry no id; make_candidates titles item-NN "Title N")."""
    return {
        label: f"item-{int(n):02d}"
        for label, n in re.findall(r'<item label="(\w)"[^>]*>Title (\d+)', text)
    }


def prefer(item_id: str, *, bias: bool = False):  # type: ignore[no-untyped-def]
    """Logprobs that favour the label shown for `item_id` (or, with bias, always label A)."""

    def score(messages: Sequence[ChatMessage], options: Sequence[str]) -> dict[str, float]:
        text = messages[-1].content
        shown = shown_ids(text)
        return {
            label: (0.0 if (label == "A" if bias else shown.get(label) == item_id) else -5.0)
            for label in options
        }

    return score


def test_verbalizer_scores_labels_in_one_forward_pass() -> None:
    llm = FakeLLM(logprob_fn=prefer("item-03"))
    config = RerankConfig(alpha=1.0, calibrate=False)
    result = VerbalizerReranker(llm, config).rerank(USER, make_candidates(5))
    assert result.candidates[0].item.id == "item-03"
    assert result.llm_calls == 1 and [c.kind for c in llm.calls] == ["logprobs"]


def test_verbalizer_handles_more_candidates_than_labels() -> None:
    llm = FakeLLM(logprob_fn=prefer("item-29"))
    result = VerbalizerReranker(llm, RerankConfig(top=30, alpha=1.0, calibrate=False)).rerank(
        USER, make_candidates(30)
    )
    assert result.candidates[0].item.id == "item-29" and result.llm_calls == 2


def test_first_position_bias_is_measured_and_shuffles_dilute_it() -> None:
    biased = FakeLLM(logprob_fn=prefer("", bias=True))
    # uncalibrated: calibration would remove a pure label bias entirely (and degrade, see below)
    config = RerankConfig(alpha=1.0, shuffles=5, seed=1, calibrate=False)
    result = VerbalizerReranker(biased, config).rerank(USER, make_candidates(6))
    assert result.passes == 6 and result.first_position_wins == 1.0
    # Fused over shuffled orderings, a label-A bias no longer crowns the first-stage top item
    # with the full LLM score alone: several items share the wins.
    top_scores = sorted((c.scores.llm or 0.0 for c in result.candidates), reverse=True)
    assert top_scores[1] > 0.0

    fair = FakeLLM(logprob_fn=prefer("item-04"))
    result = VerbalizerReranker(fair, config).rerank(USER, make_candidates(6))
    assert result.candidates[0].item.id == "item-04"
    assert result.first_position_wins is not None and result.first_position_wins < 1.0


def test_calibration_removes_a_label_prior() -> None:
    def biased(messages: Sequence[ChatMessage], options: Sequence[str]) -> dict[str, float]:
        text = messages[-1].content
        shown = shown_ids(text)
        return {
            label: -0.1 if label == "A" else (-1.0 if shown.get(label) == "item-03" else -5.0)
            for label in options
        }

    cands = make_candidates(5)
    plain = VerbalizerReranker(FakeLLM(logprob_fn=biased), RerankConfig(alpha=1.0, calibrate=False))
    assert plain.rerank(USER, cands).candidates[0].item.id == "item-00"
    llm = FakeLLM(logprob_fn=biased)
    calibrated = VerbalizerReranker(llm, RerankConfig(alpha=1.0, calibrate=True))
    assert calibrated.rerank(USER, cands).candidates[0].item.id == "item-03"
    assert "N/A" in llm.prompts[-1][-1].content
    # the content-free prompt depends only on the locale and the labels: asked once, then kept
    assert len(llm.calls) == 2
    assert calibrated.rerank(USER, cands[::-1]).candidates[0].item.id == "item-03"
    assert len(llm.calls) == 3
    # kept by the reranker, which its Recommender builds once: the next request reuses it too
    assert calibrated.rerank(USER, cands).candidates[0].item.id == "item-03"
    assert len(llm.calls) == 4
    calibrated.rerank(UserProfile(language="es", interests="fútbol"), cands)
    assert len(llm.calls) == 6  # another locale: its own content-free prompt


@pytest.mark.parametrize("fusion", ["rrf", "borda"])
def test_fusion_methods(fusion: str) -> None:
    config = RerankConfig(alpha=1.0, shuffles=3, fusion=fusion)  # type: ignore[arg-type]
    result = VerbalizerReranker(FakeLLM(logprob_fn=prefer("item-02")), config).rerank(
        USER, make_candidates(5)
    )
    assert result.candidates[0].item.id == "item-02"


def test_pointwise_uses_the_localized_yes_and_no() -> None:
    def yes_for_item_01(
        messages: Sequence[ChatMessage], options: Sequence[str]
    ) -> dict[str, float]:
        liked = 'id="item-01"' in messages[-1].content
        return {"是": 0.0 if liked else -3.0, "否": -3.0 if liked else 0.0}

    llm = FakeLLM(logprob_fn=yes_for_item_01)
    result = PointwiseReranker(llm, RerankConfig(alpha=1.0)).rerank(USER, make_candidates(4))
    assert result.candidates[0].item.id == "item-01" and result.llm_calls == 4


def test_fusion_arithmetic() -> None:
    assert minmax({"a": 2.0, "b": 4.0}) == {"a": 0.0, "b": 1.0}
    assert minmax({"a": 1.0, "b": 1.0}) == {"a": 0.5, "b": 0.5}
    rrf = reciprocal_rank_fusion([["a", "b"], ["b", "a"], ["a", "b"]])
    assert rrf["a"] > rrf["b"]
    assert borda([["a", "b", "c"], ["c", "a", "b"]]) == {"a": 3.0, "b": 1.0, "c": 2.0}


class StableFake(FakeLLM):
    """A fake whose model id stands for its answers (as a real model's digest does)."""

    stable_model_id = True


def test_calibration_priors_are_kept_on_disk_per_model_and_template(tmp_path: Path) -> None:
    cands = make_candidates(5)
    config = RerankConfig(alpha=1.0, calibrate=True, priors_dir=tmp_path / "priors")
    first = StableFake(logprob_fn=prefer("item-03"), model="m1")
    VerbalizerReranker(first, config).rerank(USER, cands)
    assert len(first.calls) == 2  # the request and the content-free prompt
    again = StableFake(logprob_fn=prefer("item-03"), model="m1")  # a new process, same model
    VerbalizerReranker(again, config).rerank(USER, cands)
    assert len(again.calls) == 1
    other = StableFake(logprob_fn=prefer("item-03"), model="m2")  # another model: its own
    VerbalizerReranker(other, config).rerank(USER, cands)
    assert len(other.calls) == 2
    full = RerankConfig(alpha=1.0, priors_dir=tmp_path / "priors", snippet_tokens=None)
    blocks = StableFake(logprob_fn=prefer("item-03"), model="m1")  # another candidate format
    VerbalizerReranker(blocks, full).rerank(USER, cands)
    assert len(blocks.calls) == 2
    scripted = FakeLLM(logprob_fn=prefer("item-03"), model="m1")  # answers from a script
    VerbalizerReranker(scripted, config).rerank(USER, cands)
    assert len(scripted.calls) == 2


def test_candidates_show_a_bounded_snippet_and_no_id() -> None:
    llm = FakeLLM(logprob_fn=prefer("item-01"))
    cands = make_candidates(3)
    long = cands[1].item.model_copy(update={"text": "word " * 200})
    cands[1] = cands[1].model_copy(update={"item": long})
    result = VerbalizerReranker(llm, RerankConfig(alpha=1.0, calibrate=False, snippet_tokens=4))
    assert result.rerank(USER, cands).candidates[0].item.id == "item-01"
    prompt = llm.prompts[-1][-1].content
    assert 'id="' not in prompt
    shown = re.search(r"Title 1 — ([^<]*)</item>", prompt)
    assert shown is not None and len(shown.group(1)) <= 4 * 3  # the fake's 3 characters a token
