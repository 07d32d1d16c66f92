"""`yake_lean` must give exactly YAKE's keywords and scores: on the demo catalog, on the crawl
test site's articles, and on generated texts built to hit its corner cases (punctuation runs,
numbers, casing, plurals, stopwords at phrase edges, repeated words, many sentences)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yake
from hypothesis import given, settings
from hypothesis import strategies as st

from babelrec.models import Item
from babelrec.retrieval import yake_lean
from babelrec.retrieval.keywords import _yake
from tests.crawl.site import ARTICLES

CATALOG = Path(__file__).resolve().parents[2] / "babelrec" / "data" / "demo" / "catalog.jsonl"


def same(extractor: yake.KeywordExtractor, text: str) -> None:
    assert yake_lean.extract(extractor, text) == extractor.extract_keywords(text), text


def test_every_demo_item_and_test_article_gets_yakes_answer() -> None:
    items = [Item.model_validate_json(line) for line in CATALOG.read_text("utf-8").splitlines()]
    for item in items:
        same(_yake(item.language or "en"), item.embedding_text())
    for article in ARTICLES.values():
        same(_yake(str(article["lang"])), f"{article['title']}. {article['body']}")


WORDS = st.sampled_from(
    [
        "the", "of", "and", "a", "in", "is", "Football", "football", "FIFA", "London", "clubs",
        "club", "rain", "heavy", "match", "matches", "final", "2024", "3.5", "1,000", "x2",
        "don't", "U.S.", "e-mail", "...", ".", ",", ";", "!", "?", "(", ")", "\"", "-", "--",
        "\n", "\t", "inteligencia", "artificial", "ley", "la", "de", "Deutsche", "Bahn",
        "Schnellzüge", "معرض", "القاهرة", "Straße", "ΟΔΟΣ", "İstanbul", "ﬁnal", "Mr.", "Dr",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(WORDS, max_size=80),
    language=st.sampled_from(["en", "es", "de", "ar", "fr", "xx"]),
    n=st.sampled_from([1, 2, 3]),
)
def test_generated_texts_get_yakes_answer(words: list[str], language: str, n: int) -> None:
    extractor = yake.KeywordExtractor(lan=language, n=n, top=16, dedup_lim=0.7)
    same(extractor, " ".join(words))


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_gets_yakes_answer(text: str) -> None:
    same(_yake("en"), text)


def test_other_configurations_are_refused() -> None:
    with pytest.raises(ValueError, match="window_size"):
        yake_lean.extract(yake.KeywordExtractor(window_size=2), "some text")
