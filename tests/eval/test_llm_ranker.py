"""The LLM eval ranker's options for the capable-model study: the hosted URL, threads and answer
cache reach the backend, and its stats time the reranker itself."""

from __future__ import annotations

from pathlib import Path

from babelrec.eval.llm_ranker import LLMEvalRanker
from babelrec.eval.protocols import leave_last_out_cases
from babelrec.eval.rankers import EvalContext
from babelrec.eval.runner import split_cases
from tests.eval.test_cf_rankers import two_taste_dataset, vectors


def test_stats_time_each_request_even_when_degraded(tmp_path: Path) -> None:
    dataset = two_taste_dataset(tmp_path / "data")
    cases = leave_last_out_cases(dataset, n_negatives=9, seed=0).cases
    train, test = split_cases(cases, 0.5, 0)
    context = EvalContext(dataset=dataset, vectors=vectors(1.0), train_cases=train, test_cases=test)
    ranker = LLMEvalRanker(mode="verbalizer", first_stage="cosine", llm="fake", top=5)
    ranker.prepare(context)
    for case in test[:3]:
        assert len(ranker.score(case, context)) == len(case.candidates)
    stats = ranker.stats()
    assert stats["seconds_per_request"] >= 0.0
    # the fake backend's labels all score 0: no information, so the first stage is kept
    assert stats["degraded_share"] == 1.0 and "first_shown_wins" not in stats


def test_the_hosted_url_and_the_answer_cache_reach_the_backend(tmp_path: Path) -> None:
    ranker = LLMEvalRanker(
        mode="listwise",
        first_stage="cosine",
        llm="openai",
        url="http://127.0.0.1:9/v1",
        model="capable",
        answer_cache=str(tmp_path),
    )
    llm = ranker.reranker.llm
    assert llm is not None and llm.model_id == "http://127.0.0.1:9/v1#capable"
    assert llm.cache is not None and llm.cache.directory == tmp_path / "llm"
