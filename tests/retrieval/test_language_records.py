"""Language statistics that fell out of step with the records are found and recomputed.

Records and statistics are two writes: a process killed between them, or two processes writing
one server collection at once, leaves statistics that describe other records. Each test makes
that happen for real (records written behind the statistics' back, or a second writer's whole
upsert landing in the middle of the first's) on the embedded store and on a `chroma run` server.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from babelrec.models import Item
from babelrec.retrieval.language_space import LanguageStats
from babelrec.retrieval.records import item_metadata
from babelrec.retrieval.store import VectorStore

DIM = 8
LANGUAGES = ["en", "es", "zh", None]


def make_items(n: int, prefix: str = "i", language: str | None = "en") -> list[Item]:
    return [Item(id=f"{prefix}{k}", title=f"Item {k}", language=language) for k in range(n)]


def vectors(n: int, seed: int = 0) -> np.ndarray:
    out = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def stats_of_records(store: VectorStore) -> LanguageStats:
    got = store.collection.get(include=["embeddings", "metadatas"])
    stats = LanguageStats(DIM)
    if got["ids"]:
        languages = [str(m.get("language") or "") for m in got["metadatas"]]
        stats.add(np.asarray(got["embeddings"], dtype=np.float64), languages)
    return stats


def assert_stats_match_records(store: VectorStore) -> None:
    stats = store.language_stats()
    expected = stats_of_records(store)
    assert stats is not None
    assert {k: v for k, v in stats.counts.items() if v} == expected.counts
    for key in expected.counts:
        np.testing.assert_allclose(stats.sums[key], expected.sums[key], atol=1e-5)


def write_behind_the_stats(store: VectorStore, items: list[Item], vecs: np.ndarray) -> None:
    """What a write killed after its records and before its statistics leaves behind."""
    store.collection.upsert(
        ids=[i.id for i in items],
        embeddings=vecs,
        metadatas=[item_metadata(i) for i in items],
    )


def second_handle(store: VectorStore) -> VectorStore:
    """Another writer of the same collection (another process, as far as the store can tell)."""
    return VectorStore(
        store.client,
        collection=store.collection_name,
        embedder_name=store.embedder_name,
        dimension=store.dimension,
        artifact_dir=store.artifact_dir,
        location=store.location,
        store_dir=store.store_dir,
    )


@pytest.fixture(params=["embedded", pytest.param("server", marks=[pytest.mark.server])])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> VectorStore:
    if request.param == "embedded":
        return VectorStore.open(embedder_name="test-emb", dimension=DIM, store_path=tmp_path)
    server = request.getfixturevalue("chroma_server")
    return VectorStore.open(
        embedder_name="test-emb",
        dimension=DIM,
        chroma_url=server,
        collection="langstats-" + request.node.name.split("[")[0][-30:].replace("_", "-") + "x",
        data_dir=tmp_path,
    )


def test_a_reader_gets_stale_stats_with_one_warning_and_the_next_write_repairs_them(
    store: VectorStore, caplog: pytest.LogCaptureFixture
) -> None:
    first = make_items(3) + make_items(2, "s", "es")
    vecs = vectors(8)
    store.upsert(first, vecs[:5])
    write_behind_the_stats(store, make_items(2, "z", "zh"), vecs[5:7])
    with caplog.at_level(logging.WARNING):
        stale = store.language_stats()
        store.language_stats()  # read again: still the one warning
    assert stale is not None and stale.counts == {"en": 3, "es": 2}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "describe 5 items but it holds 7" in warnings[0]
    assert store.collection_name in warnings[0]
    store.upsert(make_items(1, "u", None), vecs[7:])
    assert_stats_match_records(store)
    assert store.language_stats().counts == {"en": 3, "es": 2, "zh": 2, "": 1}  # type: ignore[union-attr]


def test_a_delete_repairs_stats_a_lost_write_left_behind(store: VectorStore) -> None:
    vecs = vectors(6)
    store.upsert(make_items(4), vecs[:4])
    store.collection.delete(ids=["i0"])  # a delete whose statistics never got saved
    write_behind_the_stats(store, make_items(2, "z", "zh"), vecs[4:])
    store.delete(["i1"])
    assert_stats_match_records(store)
    assert store.language_stats().counts == {"en": 2, "zh": 2}  # type: ignore[union-attr]


def test_replacing_or_deleting_a_record_the_stats_never_counted_recomputes_them(
    store: VectorStore, caplog: pytest.LogCaptureFixture
) -> None:
    """A lost write that only changed a record's language (the count stays): the next write of
    that record used to fail ("removing more zh-language vectors than added") and roll back."""
    vecs = vectors(4)
    store.upsert(make_items(2), vecs[:2])
    write_behind_the_stats(store, make_items(1, "i", "zh"), vecs[2:3])  # i0 now zh, stats: en 2
    with caplog.at_level(logging.WARNING):
        store.upsert(make_items(1, "i", "es"), vecs[3:4])
    assert "do not hold the records this write replaced" in caplog.text
    assert_stats_match_records(store)
    assert store.language_stats().counts == {"en": 1, "es": 1}  # type: ignore[union-attr]
    write_behind_the_stats(store, make_items(1, "i", "zh"), vecs[2:3])
    store.delete(["i0"])
    assert_stats_match_records(store)
    assert store.language_stats().counts == {"en": 1}  # type: ignore[union-attr]


def test_a_writer_whose_upsert_straddles_another_leaves_the_stats_right(
    store: VectorStore,
) -> None:
    """The other writer's whole upsert lands between this one's parts: this one's statistics,
    read before it, miss the other's items (with one language the save used to hide nothing)."""
    vecs = vectors(9)
    other = second_handle(store)

    def parts() -> Iterator[tuple[list[Item], np.ndarray]]:
        yield make_items(3), vecs[:3]
        other.upsert(make_items(4, "o"), vecs[3:7])  # another process, mid-ingest
        yield make_items(2, "late"), vecs[7:]

    store.upsert_parts(parts())
    assert_stats_match_records(store)
    assert store.language_stats().counts == {"en": 9}  # type: ignore[union-attr]


def test_a_first_write_killed_after_its_records_is_repaired_not_left_untracked(
    store: VectorStore,
) -> None:
    """The statistics are tracked from before the first record, so the records of a first
    write killed before its statistics read as stale statistics, not as a store from before
    statistics existed (which would stay without them until `babelrec migrate`)."""
    vecs = vectors(3)
    assert store.language_stats(repair=True) == LanguageStats(DIM)  # what a writer does first
    write_behind_the_stats(store, make_items(2) + make_items(1, "k", "ko"), vecs)  # then killed
    stale = store.language_stats()
    assert stale is not None and stale.total == 0
    assert store.language_stats(repair=True) is not None
    assert_stats_match_records(store)


def test_check_reports_stats_that_disagree_with_the_records(tmp_path: Path) -> None:
    from babelrec.retrieval.check import check_store

    store = VectorStore.open(embedder_name="test-emb", dimension=DIM, store_path=tmp_path)
    vecs = vectors(4)
    store.upsert(make_items(3), vecs[:3])
    assert check_store(store_path=tmp_path).ok
    store.collection.update(ids=["i0"], metadatas=[item_metadata(make_items(1, "i", "es")[0])])
    report = check_store(store_path=tmp_path)  # same count, another language: only check sees it
    assert [p.kind for p in report.problems] == ["language_stats_stale"]
    assert "en 3" in report.problems[0].message and "es 1, en 2" not in report.problems[0].message
    store.rebuild_language_stats()
    assert check_store(store_path=tmp_path).ok


Step = tuple[str, list[int], int]  # (what, item numbers, language index)

STEPS = st.lists(
    st.tuples(
        st.sampled_from(["upsert", "delete", "behind", "lost-delete"]),
        st.lists(st.integers(0, 11), min_size=1, max_size=5, unique=True),
        st.integers(0, len(LANGUAGES) - 1),
    ),
    min_size=1,
    max_size=6,
)


def stats_match_records(store: VectorStore) -> bool:
    try:
        assert_stats_match_records(store)
    except AssertionError:
        return False
    return True


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS, seed=st.integers(0, 1000))
def test_after_any_history_of_lost_writes_check_tells_and_writes_repair_what_counts_show(
    tmp_path_factory: pytest.TempPathFactory, steps: list[Step], seed: int
) -> None:
    """Whatever writes were lost: `babelrec check` reports the statistics exactly when they
    disagree with the records; the next write recomputes them whenever the lost writes changed
    the number of records (the one thing a writer can compare for free); a lost write that only
    replaced records (same count) is left to `check` and `migrate`."""
    from babelrec.retrieval.check import check_store

    path = tmp_path_factory.mktemp("s")
    store = VectorStore.open(embedder_name="test-emb", dimension=DIM, store_path=path)
    rng_vectors = vectors(12 * len(steps) + 2, seed)
    store.upsert([Item(id="first", title="First", language="es")], rng_vectors[-2:-1])
    for pos, (what, numbers, lang) in enumerate(steps):
        chosen = [Item(id=f"n{k}", title=f"N {k}", language=LANGUAGES[lang]) for k in numbers]
        vecs = rng_vectors[pos * 12 : pos * 12 + len(chosen)]
        if what == "upsert":
            store.upsert(chosen, vecs)
        elif what == "delete":
            store.delete([i.id for i in chosen])
        elif what == "behind":
            write_behind_the_stats(store, chosen, vecs)
        else:
            store.collection.delete(ids=[i.id for i in chosen])
    stats = store.language_stats()
    assert stats is not None
    in_step = stats_match_records(store)
    reported = [p.kind for p in check_store(store_path=path).problems]
    assert reported == ([] if in_step else ["language_stats_stale"])
    counts_differ = stats.total != store.count()
    store.upsert([Item(id="last", title="Last", language="en")], rng_vectors[-1:])
    if in_step or counts_differ:
        assert_stats_match_records(store)
    store.rebuild_language_stats()  # `babelrec migrate`
    assert check_store(store_path=path).ok


def test_a_check_failing_after_a_complete_write_is_a_warning_not_the_writes_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store = VectorStore.open(embedder_name="test-emb", dimension=DIM, store_path=tmp_path)
    records = store.language_records
    checks = {"n": 0}
    real = records.current

    def current(*, writing: bool = False) -> LanguageStats | None:
        checks["n"] += 1
        if checks["n"] == 2:  # the check after the write: the server went away meanwhile
            raise ConnectionError("server closed the connection")
        return real(writing=writing)

    monkeypatch.setattr(records, "current", current)
    with caplog.at_level(logging.WARNING):
        assert store.upsert_parts([(make_items(2), vectors(2))]) == 2
    assert store.count() == 2
    assert "is complete, but checking its language statistics failed" in caplog.text
    assert "server closed the connection" in caplog.text
