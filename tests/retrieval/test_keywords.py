from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from babelrec.models import Item
from babelrec.pipeline.recommender import Recommender
from babelrec.retrieval.keywords import cjk_candidates, extract_keywords, is_cjk, with_keywords
from babelrec.settings import Settings
from tests.crawl.site import ARTICLES


def article(slug: str, language: str | None = "from-site") -> Item:
    a = ARTICLES[slug]
    lang = a["lang"] if language == "from-site" else language
    return Item(id=slug, title=a.get("plain_title", a["title"]), text=a["body"], language=lang)


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("en-football", {"football final", "London clubs", "heavy rain"}),
        ("es-ley", {"inteligencia artificial"}),
        ("de-bahn", {"Deutsche Bahn", "Schnellzüge"}),
        ("ar-kitab", {"معرض القاهرة"}),
        ("zh-beijing", {"博览会", "图书", "出版"}),
        ("ja-sakura", {"上野公園", "花見客", "満開"}),
        ("ko-festival", {"축제", "광화문", "불꽃"}),
    ],
)
def test_keywords_name_what_the_article_is_about(slug: str, expected: set[str]) -> None:
    found = extract_keywords([article(slug)])[0]
    assert 1 <= len(found) <= 8
    assert expected & set(found), found


def test_cjk_keywords_are_words_not_sentences() -> None:
    """The failure the CJK path exists for: YAKE returns whole Japanese clauses."""
    for slug in ("zh-beijing", "ja-sakura", "ko-festival"):
        found = extract_keywords([article(slug)])[0]
        assert max(len(k) for k in found) <= 6, found


def test_the_script_decides_when_the_language_is_unknown() -> None:
    assert is_cjk(ARTICLES["ja-sakura"]["body"], None)
    assert not is_cjk(ARTICLES["ru-metro"]["body"], None)
    assert is_cjk("Tokyo", "ja")
    assert "上野公園" in extract_keywords([article("ja-sakura", None)])[0]
    assert "광화문" in cjk_candidates(ARTICLES["ko-festival"]["body"], None)


def test_given_keywords_are_kept() -> None:
    item = article("en-football").model_copy(update={"keywords": ["mine"]})
    assert with_keywords([item])[0].keywords == ["mine"]
    assert with_keywords([article("en-football")])[0].keywords


LETTERS = st.sampled_from(
    list("北京图书博览会出版商读者东京桜満開公園花見서울축제광장시민abc ,。、")
)


@settings(max_examples=60, deadline=None)
@given(
    title=st.text(LETTERS, min_size=1, max_size=15).filter(str.strip),
    body=st.text(LETTERS, max_size=200),
)
def test_cjk_keywords_are_substrings_of_the_item_and_unique(title: str, body: str) -> None:
    for language in ("zh", "ja", "ko"):
        item = Item(id="x", title=title, text=body, language=language)
        found = extract_keywords([item])[0]
        assert len(found) == len(set(found)) <= 8
        assert all(k in f"{item.title} {item.text}" for k in found)


@settings(max_examples=40, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(
            ["rain", "match", "final", "stadium", "fans", "league", "ticket", "London"]
        ),
        min_size=1,
        max_size=40,
    )
)
def test_yake_keywords_are_phrases_of_the_text(words: list[str]) -> None:
    text = " ".join(words)
    for keyword in extract_keywords([Item(id="x", title="t", text=text, language="en")])[0]:
        assert all(part.lower() in text.lower() + " t" for part in keyword.split())


def test_ingest_stores_keywords_with_each_item(hashing_settings: Settings, tmp_path: Path) -> None:
    rows = [article(s).model_dump(exclude={"keywords"}) for s in ("es-ley", "zh-beijing")]
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    rec = Recommender.from_settings(hashing_settings)
    rec.ingest(path)
    stored = rec.store.get(["es-ley", "zh-beijing"])
    assert "inteligencia artificial" in stored["es-ley"].item.keywords
    assert "博览会" in stored["zh-beijing"].item.keywords
    again = rec.ingest(path)
    assert again.unchanged == 2  # keywords are deterministic: nothing re-embedded
