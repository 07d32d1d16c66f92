from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from babelrec.errors import EmbedderError, EmbeddingMismatchError, StoreError
from babelrec.models import Filters, Item
from babelrec.retrieval.embedders import build_embedder
from babelrec.retrieval.store import VectorStore, where_clause

DIM = 8


def items() -> list[Item]:
    return [
        Item(id="a", title="Alpha", language="en", region="US", category="sports"),
        Item(id="b", title="Beta", language="es", region="MX", category="sports"),
        Item(id="c", title="Gamma", language="zh", region="CN", category="technology"),
        Item(id="d", title="Delta", language="en", region="GB", category="food"),
    ]


def vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = rng.normal(size=(n, DIM)).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def open_store(tmp_path: Path, **kw: Any) -> VectorStore:
    params: dict[str, Any] = {"embedder_name": "test-emb", "dimension": DIM, "store_path": tmp_path}
    params.update(kw)
    return VectorStore.open(**params)


def snapshot(store: VectorStore) -> tuple[Any, Any]:
    """Every record (id, metadata, rounded vector) and the language statistics, comparable."""
    got = store.collection.get(include=["metadatas", "embeddings"])
    records = sorted(
        (i, json.dumps(m, sort_keys=True), tuple(np.round(np.asarray(v), 5)))
        for i, m, v in zip(got["ids"], got["metadatas"], got["embeddings"], strict=True)
    )
    stats = store.language_stats()
    kept = None
    if stats is not None:
        kept = sorted((k, n, tuple(np.round(stats.sums[k], 5))) for k, n in stats.counts.items())
    return records, kept


class StoreContract:
    """Behaviour shared by the embedded store and the server-backed one."""

    def test_upsert_is_idempotent_by_id(self, store: VectorStore) -> None:
        vecs = vectors(4)
        store.upsert(items(), vecs)
        store.upsert(items(), vecs)
        assert store.count() == 4
        changed = items()[0].model_copy(update={"title": "Alpha 2"})
        store.upsert([changed], vecs[:1])
        assert store.count() == 4
        assert store.get(["a"])["a"].item.title == "Alpha 2"

    def test_query_returns_nearest_first_with_cosine(self, store: VectorStore) -> None:
        vecs = vectors(4)
        store.upsert(items(), vecs)
        hits = store.query(vecs[2], 4)
        assert hits[0].item.id == "c"
        assert hits[0].similarity == pytest.approx(1.0, abs=1e-4)
        sims = [h.similarity for h in hits]
        assert sims == sorted(sims, reverse=True)

    def test_filters_by_language_region_and_category(self, store: VectorStore) -> None:
        store.upsert(items(), vectors(4))
        query = vectors(1, seed=5)[0]
        assert {h.item.id for h in store.query(query, 10, filters=Filters(languages=["en"]))} == {
            "a",
            "d",
        }
        assert [h.item.id for h in store.query(query, 10, filters=Filters(regions=["mx"]))] == ["b"]
        got = store.query(query, 10, filters=Filters(categories=["sports"], languages=["es"]))
        assert [h.item.id for h in got] == ["b"]
        got = store.query(query, 10, filters=Filters(exclude_categories=["sports"]))
        assert {h.item.id for h in got} == {"c", "d"}

    def test_exclude_ids_and_n(self, store: VectorStore) -> None:
        vecs = vectors(4)
        store.upsert(items(), vecs)
        hits = store.query(vecs[0], 2, exclude_ids=["a"])
        assert len(hits) == 2 and "a" not in {h.item.id for h in hits}

    def test_delete_and_count(self, store: VectorStore) -> None:
        store.upsert(items(), vectors(4))
        store.delete(["a", "b"])
        assert store.count() == 2
        assert set(store.get(["a", "c"])) == {"c"}

    def test_wrong_dimension_is_refused(self, store: VectorStore) -> None:
        with pytest.raises(EmbeddingMismatchError):
            store.upsert(items()[:1], np.ones((1, DIM + 1), dtype=np.float32))
        with pytest.raises(EmbeddingMismatchError):
            store.query(np.ones(DIM + 1, dtype=np.float32), 3)
        assert store.count() == 0

    def test_unreadable_item_is_skipped_with_a_warning_and_reupsert_repairs_it(
        self, store: VectorStore, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Issue 12: an item an older babelrec stored badly failed every request that met it."""
        vecs = vectors(4)
        store.upsert(items(), vecs)
        meta = store.collection.get(ids=["c"], include=["metadatas"])["metadatas"][0]
        store.collection.update(ids=["c"], metadatas=[{**meta, "item_json": '{"id": "c", "ti'}])
        with caplog.at_level(logging.WARNING, logger="babelrec.retrieval.store"):
            hits = store.query(vecs[2], 4)
            assert {h.item.id for h in hits} == {"a", "b", "d"}
            assert set(store.get(["a", "c"])) == {"a"}
        assert "'c'" in caplog.text and "cannot be read" in caplog.text
        store.upsert(items()[2:3], vecs[2:3])
        assert store.get(["c"])["c"].item == items()[2]
        assert store.query(vecs[2], 1)[0].item.id == "c"

    def test_null_metadata_written_by_an_older_babelrec_reads_as_absent(
        self, store: VectorStore
    ) -> None:
        """pydantic writes NaN as null: babelrec 0.1 stored {"popularity": null} for NaN."""
        store.upsert(items()[:1], vectors(1))
        meta = store.collection.get(ids=["a"], include=["metadatas"])["metadatas"][0]
        old = items()[0].model_dump(mode="json") | {"metadata": {"popularity": None, "k": 1}}
        store.collection.update(ids=["a"], metadatas=[{**meta, "item_json": json.dumps(old)}])
        assert store.get(["a"])["a"].item.metadata == {"k": 1}

    def test_items_round_trip_with_metadata(self, store: VectorStore) -> None:
        item = Item(id="x", title="标题", text="正文", language="zh", tags=["a"], metadata={"k": 1})
        store.upsert([item], vectors(1))
        stored = store.get(["x"], with_vectors=True)["x"]
        assert stored.item == item
        assert stored.vector is not None and stored.vector.shape == (DIM,)

    def test_language_stats_follow_every_write(self, store: VectorStore) -> None:
        vecs = vectors(4)
        store.upsert(items(), vecs)
        stats = store.language_stats()
        assert stats is not None and stats.counts == {"en": 2, "es": 1, "zh": 1}
        np.testing.assert_allclose(stats.sums["en"], vecs[0] + vecs[3], atol=1e-6)
        moved = items()[3].model_copy(update={"language": None})  # "d": en -> unknown
        store.upsert([moved], vecs[3:])
        store.delete(["b"])
        stats = store.language_stats()
        assert stats is not None and stats.counts == {"en": 1, "zh": 1, "": 1}
        np.testing.assert_allclose(stats.sums[""], vecs[3], atol=1e-6)
        rebuilt = store.rebuild_language_stats()
        assert rebuilt.counts == stats.counts
        for key in rebuilt.sums:
            np.testing.assert_allclose(rebuilt.sums[key], stats.sums[key], atol=1e-5)

    def test_query_by_one_language_with_vectors(self, store: VectorStore) -> None:
        vecs = vectors(4)
        store.upsert(items(), vecs)
        hits = store.query(vecs[2], 4, language="en", with_vectors=True)
        assert [h.item.language for h in hits] == ["en", "en"]
        for hit in hits:
            expected = vecs[[i.id for i in items()].index(hit.item.id)]
            np.testing.assert_allclose(hit.vector, expected, atol=1e-6)  # type: ignore[arg-type]
        assert store.query(vecs[2], 4, language="fr") == []

    def test_a_store_without_stats_is_migrated_by_one_rebuild(self, store: VectorStore) -> None:
        vecs = vectors(4)
        store.upsert(items()[:2], vecs[:2])
        store.language_records.clear()  # as a store made before statistics existed
        store.upsert(items()[2:], vecs[2:])
        assert store.language_stats() is None  # never half-tracked
        assert store.rebuild_language_stats().counts == {"en": 2, "es": 1, "zh": 1}
        assert store.language_stats() is not None

    def test_search_breadth_is_set_at_creation_and_changed_on_reopen(
        self, store: VectorStore, tmp_path: Path
    ) -> None:
        def breadth(opened: VectorStore) -> Any:
            return opened.collection.configuration_json["hnsw"]["ef_search"]

        assert breadth(store) == 400  # the default: recall@100 0.97 at a million items
        store.upsert(items(), vectors(4))
        served = {"chroma_url": store.location, "collection": store.collection_name}
        location = (
            {**served, "store_path": None, "data_dir": tmp_path}
            if store.location.startswith("http")
            else {"store_path": Path(store.location)}
        )
        for ef_search in (150, 400):
            reopened = open_store(tmp_path, **location, ef_search=ef_search)
            assert breadth(reopened) == ef_search
            assert breadth(open_store(tmp_path, **location, ef_search=ef_search)) == ef_search
            assert [h.item.id for h in reopened.query(vectors(1)[0], n=4)] != []
        assert reopened.count() == 4


class TestEmbeddedStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> VectorStore:
        return open_store(tmp_path)

    def test_reopening_with_another_embedder_fails_clearly(self, tmp_path: Path) -> None:
        open_store(tmp_path).upsert(items()[:1], vectors(1))
        with pytest.raises(EmbeddingMismatchError, match="test-emb"):
            open_store(tmp_path, embedder_name="other", dimension=DIM)
        with pytest.raises(EmbeddingMismatchError, match="8-d"):
            open_store(tmp_path, dimension=DIM * 2)
        assert open_store(tmp_path).count() == 1

    def test_persists_across_clients(self, tmp_path: Path) -> None:
        open_store(tmp_path).upsert(items(), vectors(4))
        assert open_store(tmp_path).count() == 4

    def test_failed_upsert_rolls_back(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store = open_store(tmp_path)
        store.upsert(items()[:2], vectors(2))
        original = store.collection.upsert
        calls = {"n": 0}

        def flaky_upsert(**kwargs: Any) -> None:
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("disk full")
            original(**kwargs)

        monkeypatch.setattr(store, "_batch_size", lambda: 1)
        monkeypatch.setattr(store.collection, "upsert", flaky_upsert)
        changed = [items()[0].model_copy(update={"title": "changed"}), *items()[2:]]
        with pytest.raises(StoreError, match="rolled back"):
            store.upsert(changed, vectors(3, seed=3))
        monkeypatch.setattr(store.collection, "upsert", original)
        assert store.count() == 2
        assert store.get(["a"])["a"].item.title == "Alpha"

    def test_parts_that_fail_midway_put_records_and_stats_back(self, store: VectorStore) -> None:
        """An error from the parts themselves (an embedder's), after some were written: every
        record and the language statistics are as before, and that error goes on unchanged."""
        store.upsert(items()[:2], vectors(2))
        before = snapshot(store)

        def parts() -> Iterator[tuple[list[Item], np.ndarray]]:
            changed = items()[0].model_copy(update={"title": "changed", "language": "ko"})
            yield [changed, items()[2]], vectors(2, seed=5)
            yield [items()[3]], vectors(1, seed=6)
            raise EmbedderError("the model crashed")

        with pytest.raises(EmbedderError, match="the model crashed"):
            store.upsert_parts(parts(), existing={"a", "b"})
        assert snapshot(store) == before

    def test_an_id_in_two_parts_is_refused_and_nothing_is_kept(self, store: VectorStore) -> None:
        before = snapshot(store)
        parts = [(items()[:2], vectors(2)), (items()[1:3], vectors(2, seed=1))]
        with pytest.raises(StoreError, match="duplicate item ids"):
            store.upsert_parts(parts)
        assert snapshot(store) == before

    def test_foreign_collection_is_refused(self, tmp_path: Path) -> None:
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False, allow_reset=False)
        chromadb.PersistentClient(path=str(tmp_path), settings=settings).create_collection(
            "babelrec-items"
        )
        with pytest.raises(EmbeddingMismatchError, match="not made by babelrec"):
            open_store(tmp_path)


@pytest.mark.slow
@pytest.mark.server
class TestServerStore(StoreContract):
    @pytest.fixture
    def store(
        self, chroma_server: str, request: pytest.FixtureRequest, tmp_path: Path
    ) -> VectorStore:
        name = "t-" + request.node.name.replace("_", "-")[:40] + "-x"
        return VectorStore.open(
            embedder_name="test-emb",
            dimension=DIM,
            chroma_url=chroma_server,
            collection=name,
            data_dir=tmp_path,
        )


def test_unreachable_server_is_a_store_error(tmp_path: Path) -> None:
    from tests.conftest import free_port

    with pytest.raises(StoreError, match="cannot reach"):
        VectorStore.open(
            embedder_name="e",
            dimension=DIM,
            chroma_url=f"http://127.0.0.1:{free_port()}",
            data_dir=tmp_path,
        )


def test_where_clause_shapes() -> None:
    assert where_clause(None) is None
    assert where_clause(None, "") == {"language": {"$eq": ""}}
    assert where_clause(Filters(regions=["US"]), "zh") == {
        "$and": [{"language": {"$eq": "zh"}}, {"region": {"$in": ["US"]}}]
    }
    assert where_clause(Filters()) is None
    assert where_clause(Filters(languages=["EN"])) == {"language": {"$in": ["en"]}}
    both = where_clause(Filters(languages=["en"], regions=["us"]))
    assert both == {"$and": [{"language": {"$in": ["en"]}}, {"region": {"$in": ["US"]}}]}


def test_hashing_embedder_and_store_agree_on_dimension(tmp_path: Path) -> None:
    emb = build_embedder("hashing")
    store = VectorStore.open(embedder_name=emb.name, dimension=emb.dimension, store_path=tmp_path)
    store.upsert(items(), emb.embed_documents([i.title for i in items()]))
    assert store.count() == 4


CORRUPTIONS = [
    "{broken",
    "",
    "null",
    '{"id": "zz", "title": "another id"}',
    '{"title": "no id"}',
    '{"id": "ID", "title": "t", "colour": "red"}',
    '{"id": "ID", "title": "t", "metadata": {"p": [1, 2]}}',
    '{"id": "ID", "title": "t", "metadata": {"p": NaN}}',
    None,  # the record lost its item_json
]
STORE_EXAMPLES = 25


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> VectorStore:
    return open_store(tmp_path_factory.mktemp("corrupt"))


@settings(max_examples=STORE_EXAMPLES, deadline=None)
@given(
    broken=st.dictionaries(
        st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(CORRUPTIONS), max_size=4
    )
)
def test_any_unreadable_records_never_fail_reads_and_check_names_them(
    shared_store: VectorStore, broken: dict[str, str | None]
) -> None:
    """Whatever records are corrupted, reads return exactly the readable items, `check` names
    exactly the corrupted ones, and upserting the items again repairs the store."""
    from babelrec.retrieval.check import check_store

    store, vecs = shared_store, vectors(4)
    store.upsert(items(), vecs)  # repairs what the previous example broke
    for item_id, raw in broken.items():
        meta = store.collection.get(ids=[item_id], include=["metadatas"])["metadatas"][0]
        meta = {k: v for k, v in meta.items() if k != "item_json"}
        if raw is not None:
            meta["item_json"] = raw.replace("ID", item_id)
        store.collection.delete(ids=[item_id])
        store.collection.add(
            ids=[item_id], embeddings=[vecs["abcd".index(item_id)]], metadatas=[meta]
        )
    readable = {"a", "b", "c", "d"} - set(broken)
    assert set(store.get(["a", "b", "c", "d"])) == readable
    for vec in vecs:
        assert {h.item.id for h in store.query(vec, 4)} == readable
    report = check_store(store_path=Path(store.location))
    assert {p.item_id for p in report.problems if p.kind == "unreadable_item"} == set(broken)
    assert report.items == report.count == 4 and report.readable == len(readable)
    store.upsert(items(), vecs)
    assert check_store(store_path=Path(store.location)).ok


@settings(max_examples=25, deadline=None)
@given(
    languages=st.lists(st.sampled_from(["en", "zh", "ko", None]), min_size=1, max_size=10),
    stored=st.sets(st.integers(0, 9)),
    cuts=st.sets(st.integers(1, 9)),
)
def test_any_split_into_parts_stores_what_one_upsert_stores(
    tmp_path_factory: pytest.TempPathFactory,
    languages: list[str | None],
    stored: set[int],
    cuts: set[int],
) -> None:
    """Items (some replacing stored ones, some changing language) written in any parts leave
    the records and language statistics one upsert leaves."""
    new = [Item(id=f"i{n}", title=f"Item {n}", language=lang) for n, lang in enumerate(languages)]
    old = [
        new[n].model_copy(update={"title": "old", "language": "es"})
        for n in sorted(stored)
        if n < len(new)
    ]
    vecs = vectors(len(new), seed=len(new))
    bounds = [0, *sorted(c for c in cuts if c < len(new)), len(new)]
    results = []
    for split in (False, True):
        store = open_store(tmp_path_factory.mktemp("parts"))
        store.upsert(old, vectors(len(old), seed=99))
        if split:
            parts = [(new[a:b], vecs[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
            assert store.upsert_parts(iter(parts)) == len(new)
        else:
            store.upsert(new, vecs)
        results.append(snapshot(store))
    assert results[0] == results[1]
