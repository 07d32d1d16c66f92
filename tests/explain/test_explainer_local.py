"""A Chinese user gets Chinese explanations with the real local model (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from babelrec.i18n.script import matches_language
from babelrec.llm.local import LlamaCppLLM
from babelrec.models import UserProfile
from babelrec.pipeline.generative import GenerativeStage
from babelrec.pipeline.recommender import Recommender
from babelrec.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.llm]


def test_chinese_user_gets_chinese_explanations(agent_store: str, local_llm: LlamaCppLLM) -> None:
    settings = Settings(
        data_dir=Path(agent_store),
        embedder={"name": "hashing", "cache": False},
        llm={"backend": "llama-cpp", "explanations": True, "cache": False},
        rerank={"top": 4},
    )
    rec = Recommender.from_settings(settings)
    rec.generative = GenerativeStage(settings, local_llm)
    result = rec.recommend(UserProfile(language="zh", region="CN", interests="我喜欢足球"), k=2)
    assert not result.degraded, result.degraded_reason
    assert result.ranker.endswith(f"verbalizer({local_llm.model_id})")
    assert len(result.items) == 2
    for rec_item in result.items:
        explanation = rec_item.explanation
        assert explanation is not None and explanation.language == "zh"
        assert matches_language(explanation.text, "zh"), explanation.text
