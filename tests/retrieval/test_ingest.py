from __future__ import annotations

import json
from pathlib import Path

import pytest

from babelrec.errors import CatalogError
from babelrec.pipeline.recommender import Recommender
from babelrec.settings import Settings


def catalog(path: Path, rows: list[dict[str, object] | str]) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows),
        encoding="utf-8",
    )
    return path


ROWS: list[dict[str, object] | str] = [
    {"id": "a", "title": "Football final tonight", "language": "en", "category": "sports"},
    {"id": "b", "title": "Nueva ley de tecnología", "language": "es", "category": "technology"},
    {"id": "c", "title": "篮球联赛开幕", "language": "zh", "category": "sports"},
]


def test_summary_and_unchanged_items_are_not_reembedded(
    hashing_settings: Settings, tmp_path: Path
) -> None:
    rec = Recommender.from_settings(hashing_settings)
    first = rec.ingest(catalog(tmp_path / "c.jsonl", ROWS))
    assert (first.added, first.updated, first.unchanged, first.skipped) == (3, 0, 0, 0)
    embedded = rec.embedder.texts_embedded

    changed = [dict(ROWS[0], title="Football final postponed"), ROWS[1], ROWS[2], "{broken"]
    second = rec.ingest(catalog(tmp_path / "c2.jsonl", changed))
    assert (second.added, second.updated, second.unchanged, second.skipped) == (0, 1, 2, 1)
    assert rec.embedder.texts_embedded == embedded + 1
    assert second.errors == [
        "line 4: not valid JSON (Expecting property name enclosed in double quotes)"
    ]
    assert rec.store.count() == 3


def test_strict_ingest_leaves_store_exactly_as_it_was(
    hashing_settings: Settings, tmp_path: Path
) -> None:
    rec = Recommender.from_settings(hashing_settings)
    rec.ingest(catalog(tmp_path / "c.jsonl", ROWS[:2]))
    before = rec.store.get(["a", "b"], with_vectors=True)

    bad = [dict(ROWS[0], title="changed"), ROWS[2], {"id": "d"}]
    with pytest.raises(CatalogError, match="line 3"):
        rec.ingest(catalog(tmp_path / "bad.jsonl", bad), strict=True)
    after = rec.store.get(["a", "b", "c"], with_vectors=True)
    assert set(after) == {"a", "b"}
    assert after["a"].item == before["a"].item
    assert after["a"].content_hash == before["a"].content_hash


def test_embedding_failure_writes_nothing(
    hashing_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from babelrec.errors import EmbedderError

    rec = Recommender.from_settings(hashing_settings)

    def broken(texts: list[str], kind: str) -> None:
        raise EmbedderError("model crashed")

    monkeypatch.setattr(rec.embedder, "_embed_batch", broken)
    with pytest.raises(EmbedderError):
        rec.ingest(catalog(tmp_path / "c.jsonl", ROWS))
    assert rec.store.count() == 0
