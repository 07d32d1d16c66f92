from __future__ import annotations

from pathlib import Path

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings as ChromaSettings

from babelrec.models import Item
from babelrec.retrieval.check import CheckReport, _check_record, check_store
from babelrec.retrieval.embedders import build_embedder
from babelrec.retrieval.store import VectorStore
from babelrec.settings import EmbedderSettings

ITEMS = [Item(id=i, title=f"Story {i}", language="en") for i in ("a", "b", "c")]


def filled(**where: object) -> VectorStore:
    emb = build_embedder(EmbedderSettings(name="hashing", cache=False))
    store = VectorStore.open(embedder_name=emb.name, dimension=emb.dimension, **where)  # type: ignore[arg-type]
    store.upsert(ITEMS, emb.embed_documents([i.embedding_text() for i in ITEMS]))
    return store


def test_a_sound_store_is_ok_and_sampled_vectors_match(tmp_path: Path) -> None:
    filled(store_path=tmp_path)
    emb = build_embedder(EmbedderSettings(name="hashing", cache=False))
    report = check_store(embedder=emb, store_path=tmp_path)
    assert report.ok, report.problems
    assert (report.items, report.readable, report.count, report.sampled) == (3, 3, 3, 3)
    assert report.lowest_cosine is not None and report.lowest_cosine > 0.999


def test_vectors_another_model_made_are_reported(tmp_path: Path) -> None:
    store = filled(store_path=tmp_path)
    rng = np.random.default_rng(0)
    store.collection.update(ids=["b"], embeddings=[rng.normal(size=store.dimension).tolist()])
    emb = build_embedder(EmbedderSettings(name="hashing", cache=False))
    report = check_store(embedder=emb, store_path=tmp_path)
    # written behind the store's back, so the language statistics no longer add up either
    assert [p.kind for p in report.problems] == ["language_stats_stale", "vectors_differ"]


def test_missing_and_foreign_collections(tmp_path: Path) -> None:
    assert [p.kind for p in check_store(store_path=tmp_path).problems] == ["missing_collection"]
    client = chromadb.PersistentClient(
        path=str(tmp_path), settings=ChromaSettings(anonymized_telemetry=False)
    )
    client.create_collection("babelrec-items")
    assert [p.kind for p in check_store(store_path=tmp_path).problems] == ["foreign_collection"]


@pytest.mark.parametrize(
    ("vector", "kind"),
    [
        (None, "missing_vector"),
        ([0.1] * 3, "vector_dimension"),
        ([np.nan] * 64, "vector_not_finite"),
    ],
)
def test_bad_vectors_are_named(vector: list[float] | None, kind: str) -> None:
    """Chroma itself refuses such vectors today; a store it wrote under another version may not."""
    report = CheckReport(location="here", collection="c", stored_dimension=64)
    meta = {"item_json": ITEMS[0].model_dump_json()}
    assert _check_record(report, "a", meta, vector, "here") == (ITEMS[0], False)
    assert [(p.kind, p.item_id) for p in report.problems] == [(kind, "a")]


@pytest.mark.slow
@pytest.mark.server
def test_check_reads_a_server_store(chroma_server: str, tmp_path: Path) -> None:
    where = {"chroma_url": chroma_server, "collection": "checked", "data_dir": tmp_path}
    store = filled(**where)
    store.collection.update(ids=["c"], metadatas=[{"item_json": "{}", "content_hash": "x"}])
    report = check_store(**where)  # type: ignore[arg-type]
    assert report.location == chroma_server
    assert [(p.kind, p.item_id) for p in report.problems] == [("unreadable_item", "c")]
    assert {h.item.id for h in store.query(store.get(["a"], with_vectors=True)["a"].vector, 3)} == {
        "a",
        "b",
    }  # type: ignore[arg-type]
