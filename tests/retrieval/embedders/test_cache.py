"""The embedding cache only saves time: when its file fails, embedding goes on without it."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from babelrec.retrieval.embedders import build_embedder
from babelrec.retrieval.embedders.cache import EmbeddingCache, text_key

TEXTS = ["我喜欢足球", "Real Madrid wins", "El mercado crece"]

#: Any Python string, lone and paired surrogates well represented (`st.text()` leaves them out).
SURROGATES = [chr(c) for c in (0xD800, 0xD83D, 0xDBFF, 0xDC00, 0xDE00, 0xDFFF)]
ANY_TEXT = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(SURROGATES)), max_size=12)


def _cache_file(cache_dir: Path) -> Path:
    return cache_dir / "hashing-64.sqlite"


def test_a_cache_file_that_is_not_a_database_is_turned_off_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _cache_file(tmp_path).write_bytes(b"not sqlite at all " * 200)
    embedder = build_embedder("hashing", cache_dir=tmp_path)
    with caplog.at_level(logging.WARNING):
        vectors = embedder.embed_documents(TEXTS)
        again = embedder.embed_documents(TEXTS)
    np.testing.assert_array_equal(vectors, build_embedder("hashing").embed_documents(TEXTS))
    np.testing.assert_array_equal(again, vectors)
    assert embedder.texts_embedded == 2 * len(TEXTS)  # no cache: every text embedded each time
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert str(_cache_file(tmp_path)) in warnings[0] and "without it" in warnings[0]
    assert _cache_file(tmp_path).read_bytes().startswith(b"not sqlite")  # left for the user


def test_a_write_that_stays_locked_turns_the_cache_off_and_the_vectors_still_come(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "locked.sqlite"
    cache = EmbeddingCache(path, 3, timeout=0.2)
    assert cache.usable
    holder = sqlite3.connect(str(path), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's write transaction that never ends
    try:
        with caplog.at_level(logging.WARNING):
            cache.put_many({"k": np.ones(3, dtype=np.float32)})
        assert not cache.usable
        assert cache.get_many(["k"]) == {}
        cache.put_many({"k": np.ones(3, dtype=np.float32)})  # off: a no-op, not an error
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "locked" in caplog.text and str(path) in caplog.text


def test_processes_share_one_cache_file(tmp_path: Path) -> None:
    first = build_embedder("hashing", cache_dir=tmp_path)
    vectors = first.embed_documents(TEXTS)
    second = build_embedder("hashing", cache_dir=tmp_path)
    np.testing.assert_array_equal(second.embed_documents(TEXTS), vectors)
    assert second.texts_embedded == 0


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT, ANY_TEXT)
def test_text_key_takes_any_python_string_and_separates_texts(first: str, second: str) -> None:
    keys = {text_key("e", "document", first), text_key("e", "document", second)}
    assert len(keys) == (1 if first == second else 2)
    assert text_key("e", "query", first) != text_key("e", "document", first)


@settings(max_examples=60, deadline=None)
@given(st.lists(ANY_TEXT, min_size=1, max_size=5))
def test_any_python_strings_embed_with_a_cache_as_without(texts: list[str]) -> None:
    """Lone surrogates included: the cache key and the backend both see well-formed text."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        cached = build_embedder("hashing", cache_dir=Path(folder))
        first = cached.embed_documents(texts)
        np.testing.assert_array_equal(cached.embed_documents(texts), first)
        np.testing.assert_array_equal(first, build_embedder("hashing").embed_documents(texts))
