"""Reranking with both packaged models through llama-cpp (slow): ids in any script never cut an
answer off, and option sets the tokenizer splits alike are still scored (issue 12)."""

from __future__ import annotations

import json

import pytest

from babelrec.llm.local import LlamaCppLLM
from babelrec.models import Candidate, Item, StageScores, UserProfile
from babelrec.prompts.loader import LOCALES, PromptLoader
from babelrec.rerank import ListwiseReranker, PointwiseReranker, RerankConfig
from babelrec.rerank.listwise import alias, answer_budget
from babelrec.rerank.verbalizer import LABELS

pytestmark = [pytest.mark.slow, pytest.mark.llm]

#: Ids as real catalogs write them (issue 12 reproduced the cut-off answers with the first two).
IDS = {
    "ko": ("스포츠-기사-{:03d}", "축구 경기 소식 {}", "ko", "KR"),
    "zh": ("体育新闻-{:04d}", "足球比赛新闻 {}", "zh", "CN"),
    "ar": ("رياضة-مقال-{:03d}", "أخبار مباراة كرة القدم {}", "ar", "EG"),
}


def candidates(script: str, n: int = 10) -> list[Candidate]:
    pattern, title, language, region = IDS[script]
    out = []
    for i in range(n):
        item = Item(
            id=pattern.format(i), title=title.format(i), language=language, region=region,
            category="sports",
        )  # fmt: skip
        score = 1.0 - i / (2 * n)
        out.append(Candidate(item=item, scores=StageScores(retrieval=score, bilinear=score)))
    return out


@pytest.mark.parametrize("script", ["ko", "zh", "ar"])
def test_listwise_answers_are_never_cut_off_by_ids_in_any_script(
    packaged_llm: LlamaCppLLM, script: str
) -> None:
    cands = candidates(script)
    user = UserProfile(language=IDS[script][2], region=IDS[script][3], interests=IDS[script][1])
    ids = [c.item.id for c in cands]
    # The cause, measured: the most compact answer naming these ids needs more tokens than a
    # budget counted in characters; the aliases' answer fits its budget on any tokenizer.
    named = json.dumps({"ranking": ids}, ensure_ascii=False)
    aliases = [alias(i) for i in range(len(ids))]
    shown = json.dumps({"ranking": aliases})
    assert len(packaged_llm.option_tokens(shown)) <= answer_budget(aliases) - 2 * len(ids) - 16
    if "smollm2" in packaged_llm.model_id.lower() and script in (
        "ko",
        "zh",
    ):  # 214 > 156, 154 > 146
        assert len(packaged_llm.option_tokens(named)) > 16 + sum(len(i) + 4 for i in ids)
    config = RerankConfig(top=10, window=10, step=5, alpha=1.0, timeout=None)
    before = len(packaged_llm.calls)
    result = ListwiseReranker(packaged_llm, config).rerank(user, cands)
    assert not result.degraded, result.degraded_reason
    assert sorted(c.item.id for c in result.candidates) == sorted(ids)
    calls = packaged_llm.calls[before:]
    assert calls and all(c.completion_tokens < answer_budget(aliases) for c in calls)
    assert result.repairs.missing_appended == 0  # every answer named the whole window


def test_every_packaged_option_set_is_told_apart_by_both_models(packaged_llm: LlamaCppLLM) -> None:
    loader = PromptLoader()
    for locale in LOCALES:
        options = loader.load("pointwise", locale).answer_options
        assert packaged_llm.scoring_problem([options["yes"], options["no"]]) is None, locale
    assert packaged_llm.scoring_problem(list(LABELS)) is None


def test_korean_pointwise_scores_are_informative_on_both_models(
    packaged_llm: LlamaCppLLM, smollm2_llm: LlamaCppLLM
) -> None:
    # The reproduction: smollm2 gives " 예" and " 아니오" the same first token, so first-token
    # scoring put every candidate at 0.5 and said degraded: false.
    assert smollm2_llm.option_tokens(" 예")[0] == smollm2_llm.option_tokens(" 아니오")[0]
    user = UserProfile(language="ko", region="KR", interests="축구")
    cands = candidates("ko", 4)
    result = PointwiseReranker(packaged_llm, RerankConfig(alpha=1.0, timeout=None)).rerank(
        user, cands
    )
    assert not result.degraded, result.degraded_reason
    llm_scores = [c.scores.llm for c in result.candidates]
    assert len(set(llm_scores)) > 1
    # each option's whole sequence is a probability: P(yes) + P(no) <= 1
    template = PromptLoader().load("pointwise", "ko")
    from babelrec.llm.prompting import chat, item_block, user_fields

    messages = chat(template, **user_fields(user, []), candidate=item_block(cands[0].item))
    options = [template.answer_options["yes"], template.answer_options["no"]]
    logprobs = packaged_llm.next_token_logprobs(
        messages, options, answer_prefix=template.answer_prefix
    )
    assert logprobs[options[0]] != logprobs[options[1]]
    assert sum(2.718281828459045**v for v in logprobs.values()) <= 1.0 + 1e-6


@pytest.mark.parametrize("mode", ["listwise", "verbalizer"])
def test_a_hostile_item_gets_a_well_formed_answer_from_both_models(
    packaged_llm: LlamaCppLLM, mode: str
) -> None:
    from babelrec.rerank import build_reranker
    from tests.rerank.test_injection import HOSTILE_TEXTS, hostile_candidates

    user = UserProfile(language="en", region="US", interests="football")
    text = HOSTILE_TEXTS["fake_delimiters"] + " " + HOSTILE_TEXTS["ignore"]
    cands = hostile_candidates(5, 4, text)
    config = RerankConfig(top=5, window=5, alpha=1.0, timeout=None, calibrate=False)
    result = build_reranker(mode, packaged_llm, config).rerank(user, cands)
    assert not result.degraded, result.degraded_reason
    assert sorted(c.item.id for c in result.candidates) == sorted(c.item.id for c in cands)
    assert result.repairs.invalid_ids == 0
