from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import babelrec
from babelrec.errors import EmptyProfileError, RankerError
from babelrec.models import Filters, UserProfile
from babelrec.pipeline.recommender import Recommender
from babelrec.rank.bilinear import BilinearRanker
from babelrec.settings import Settings

BALL_TAGS = {"football", "basketball"}


def test_public_api_is_pinned() -> None:
    assert sorted(babelrec.__all__) == sorted(
        [
            "BabelrecError",
            "Candidate",
            "ChatAgent",
            "ChatReply",
            "Explanation",
            "Filters",
            "HistoryEntry",
            "Item",
            "Recommendation",
            "RecommendationResult",
            "Recommender",
            "Settings",
            "StageScores",
            "UserProfile",
            "__version__",
        ]
    )
    assert babelrec.Recommender is Recommender
    assert babelrec.ChatReply.__name__ == "ChatReply"


@pytest.mark.slow
def test_chinese_interests_retrieve_english_and_spanish_ball_sports(
    demo_recommender: Recommender,
) -> None:
    result = demo_recommender.recommend(
        UserProfile(language="zh", interests="我喜欢足球和篮球"), k=20
    )
    ball = [r.item for r in result.items if BALL_TAGS & set(r.item.tags)]
    assert len([i for i in ball if i.language == "en"]) >= 2
    assert len([i for i in ball if i.language == "es"]) >= 2
    # restricted to English and Spanish, the whole top 8 is football and basketball
    only = demo_recommender.recommend(
        UserProfile(language="zh", interests="我喜欢足球和篮球"),
        k=8,
        filters=Filters(languages=["en", "es"]),
    )
    assert len(only.items) == 8
    assert all(BALL_TAGS & set(r.item.tags) for r in only.items)
    assert {r.item.language for r in only.items} == {"en", "es"}


@pytest.mark.slow
def test_results_carry_stage_scores_and_skip_history(demo_recommender: Recommender) -> None:
    user = UserProfile(language="en", history=["en-sports-001", "no-such-item"])
    result = demo_recommender.recommend(user, k=5)
    assert len(result.items) == 5
    assert "en-sports-001" not in {r.item.id for r in result.items}
    assert result.unknown_history == ["no-such-item"]
    assert any("no-such-item" in w for w in result.warnings)
    finals = [r.scores.final for r in result.items]
    assert finals == sorted(finals, reverse=True)
    for r in result.items:
        assert r.scores.bilinear is not None
        assert -1.0 <= r.scores.retrieval <= 1.0
    assert result.timings["total"] > 0
    json.loads(result.model_dump_json())


@pytest.mark.slow
def test_free_text_request_and_async_twin(demo_recommender: Recommender) -> None:
    result = asyncio.run(demo_recommender.arecommend("Me encanta el fútbol", k=3))
    assert result.user.language == "es"
    assert len(result.items) == 3


@pytest.mark.slow
def test_unknown_user_history_only_is_an_error(demo_recommender: Recommender) -> None:
    with pytest.raises(EmptyProfileError):
        demo_recommender.recommend(UserProfile(language="en", history=["ghost"]))


@pytest.mark.slow
def test_trained_ranker_is_saved_with_the_store_and_reloaded(
    demo_recommender: Recommender, tmp_path: Path
) -> None:
    rec = demo_recommender
    dim = rec.embedder.dimension
    weights = np.linspace(0.5, 1.5, dim).astype(np.float32)
    original = rec.ranker
    try:
        path = rec.save_ranker(BilinearRanker(weights, trained_on=10))
        assert path.parent == rec.store.artifact_dir
        reopened = Recommender(rec.settings, rec.embedder, rec.store)
        np.testing.assert_array_equal(reopened.ranker.shared, weights)
        assert reopened.recommend("football", k=3).ranker == "bilinear"
        with pytest.raises(RankerError):
            rec.save_ranker(BilinearRanker.identity(dim + 1))
    finally:
        rec.ranker_path.unlink(missing_ok=True)
        rec.ranker = original


def _fast_recommender(tmp_path: Path) -> Recommender:
    from babelrec.io.catalog import demo_catalog_path

    rec = Recommender.from_settings(
        Settings(data_dir=tmp_path, embedder={"name": "hashing"}, llm={"backend": "none"})
    )
    rec.ingest(demo_catalog_path())
    return rec


@pytest.fixture(scope="module")
def fast_recommender(tmp_path_factory: pytest.TempPathFactory) -> Recommender:
    return _fast_recommender(tmp_path_factory.mktemp("fast"))


@settings(max_examples=25, deadline=None)
@given(
    k=st.integers(min_value=1, max_value=30),
    interests=st.text(min_size=1, max_size=40).filter(lambda s: s.strip()),
    language=st.sampled_from([None, ["en"], ["zh", "ja"]]),
)
def test_ranking_invariants(
    fast_recommender: Recommender, k: int, interests: str, language: list[str] | None
) -> None:
    filters = Filters(languages=language) if language else None
    user = UserProfile(language="en", interests=interests, history=["en-sports-001"])
    first = fast_recommender.recommend(user, k=k, filters=filters)
    ids = [r.item.id for r in first.items]
    assert len(ids) == len(set(ids)) <= k
    assert "en-sports-001" not in ids
    assert [r.rank for r in first.items] == list(range(1, len(ids) + 1))
    if language:
        assert all(r.item.language in language for r in first.items)
    again = fast_recommender.recommend(user, k=k, filters=filters)
    assert [r.item.id for r in again.items] == ids


@pytest.mark.slow
def test_openness_calibrates_the_short_list_before_the_llm(demo_recommender: Recommender) -> None:
    """Through the real store and embedder: openness 0 keeps a Chinese user's list Chinese as
    far as relevance allows, 1 spreads it over languages; what cannot be calibrated is said."""
    settings = demo_recommender.settings.with_overrides(calibration={"weight": 0.95})
    rec = Recommender(settings, demo_recommender.embedder, demo_recommender.store)
    languages = {}
    for openness in (0.0, 1.0):
        user = UserProfile(language="zh", interests="我喜欢足球和篮球", openness=openness)
        result = rec.recommend(user, k=10, explain=False, use_llm=False)
        assert result.ranker.endswith(f"+calibrated(openness={openness:g})")
        assert "calibrate" in result.timings
        # no region stated and no history: region is not calibrated, and the result says so
        assert any("region affinity is unknown" in w for w in result.warnings)
        languages[openness] = [r.item.language for r in result.items]
    assert languages[0.0].count("zh") > languages[1.0].count("zh")
    assert len(set(languages[1.0])) > len(set(languages[0.0]))
    plain = rec.recommend(
        UserProfile(language="zh", interests="我喜欢足球和篮球"), k=10, explain=False
    )
    assert "calibrated" not in plain.ranker  # a user who asked nothing is left alone
    with_history = UserProfile(
        language="zh", region="CN", history=["es-sports-001", "zh-sports-001"], openness=0.0
    )
    result = rec.recommend(with_history, k=10, explain=False, use_llm=False)
    assert {r.item.language for r in result.items} <= {"zh", "es"}
    assert not [w for w in result.warnings if w.startswith("calibration")]
    off = Recommender(settings.with_overrides(calibration={"mode": "off"}), rec.embedder, rec.store)
    assert "calibrated" not in off.recommend(with_history, k=10, explain=False).ranker
