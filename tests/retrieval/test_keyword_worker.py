"""Keywords beside the embedder: a spawned process for large ingests, a thread for small ones."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

from babelrec.errors import IngestError
from babelrec.models import Item
from babelrec.retrieval import keyword_worker
from babelrec.retrieval.embedders import build_embedder
from babelrec.retrieval.ingest import ingest_items
from babelrec.retrieval.keyword_worker import PROCESS_MIN_ITEMS, KeywordJob
from babelrec.retrieval.keywords import with_keywords
from babelrec.retrieval.store import VectorStore
from babelrec.settings import EmbedderSettings

ROOT = Path(__file__).resolve().parents[2]


def demo_items() -> list[Item]:
    lines = (ROOT / "babelrec/data/demo/catalog.jsonl").read_text(encoding="utf-8").splitlines()
    return [Item.model_validate_json(line) for line in lines]


def _die(items: list[Item]) -> list[list[str]]:
    """Runs in the worker: the process is killed mid-extraction."""
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


def _fail(items: list[Item]) -> list[list[str]]:
    raise ValueError(f"cannot read item {items[0].id}")


@pytest.mark.slow
def test_a_spawned_worker_gives_the_keywords_of_an_in_process_extraction() -> None:
    items = demo_items()  # all of the catalog's languages, CJK included (scored over the batch)
    assert any(item.language in {"zh", "ja", "ko"} for item in items)
    given = items[0].model_copy(update={"keywords": ["given"]})
    items = [given, *items[1:]]
    with KeywordJob(items, process_min=0) as job:
        assert job.in_process
        got = job.result()
    assert got == with_keywords(items)
    assert got[0].keywords == ["given"]


def test_small_ingests_take_a_thread_and_items_with_keywords_no_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_process(*args: object, **kwargs: object) -> None:
        raise AssertionError("a small ingest started a process")

    monkeypatch.setattr(keyword_worker, "SpawnedWorker", no_process)
    items = demo_items()[:20]
    with KeywordJob(items) as job:
        assert not job.in_process and job.where == "a thread"
        assert job.result() == with_keywords(items)
    given = [item.model_copy(update={"keywords": ["k"]}) for item in demo_items()]
    with KeywordJob(given, process_min=0) as job:
        assert not job.in_process and job.result() == given
    assert PROCESS_MIN_ITEMS > 20

    emb = build_embedder(EmbedderSettings(name="hashing", cache=False))
    store = VectorStore.open(
        embedder_name=emb.name, dimension=emb.dimension, store_path=tmp_path / "s"
    )
    summary = ingest_items(items, store, emb)
    assert summary.added == 20
    assert store.get([items[0].id])[items[0].id].item == with_keywords(items[:1])[0]


def _state(store: VectorStore, ids: list[str]) -> tuple[object, ...]:
    got = store.get(ids, with_vectors=True)
    stats = store.language_stats()
    assert stats is not None
    return (
        store.count(),
        {i: (s.item, s.content_hash, s.vector.tolist()) for i, s in got.items()},  # type: ignore[union-attr]
        dict(stats.counts),
        {k: v.tolist() for k, v in stats.sums.items()},
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("worker", "message"),
    [
        (_die, r"in a spawned worker process failed: the process died \(killed by SIGKILL\)"),
        (_fail, r"in a spawned worker process failed: ValueError: cannot read item"),
    ],
)
def test_a_failed_worker_raises_ingest_error_and_leaves_the_store_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, worker: object, message: str
) -> None:
    emb = build_embedder(EmbedderSettings(name="hashing", cache=False))
    store = VectorStore.open(
        embedder_name=emb.name, dimension=emb.dimension, store_path=tmp_path / "s"
    )
    items = demo_items()
    ingest_items(items[:30], store, emb)
    ids = [item.id for item in items]
    before = _state(store, ids)

    changed = [items[0].model_copy(update={"title": "A new title"}), *items[1:]]
    monkeypatch.setattr(keyword_worker, "extract_missing", worker)
    with pytest.raises(IngestError, match=message):
        ingest_items(changed, store, emb, keyword_process_min=0)
    assert _state(store, ids) == before
    reopened = VectorStore.open(
        embedder_name=emb.name, dimension=emb.dimension, store_path=tmp_path / "s"
    )
    assert _state(reopened, ids) == before


@pytest.mark.slow
def test_a_worker_that_cannot_import_its_function_raises_ingest_error() -> None:
    """The function exists here but not in the fresh interpreter (as after an upgrade or with
    a broken install): the worker cannot unpickle its task."""
    ghost = types.ModuleType("babelrec_ghost_module")

    def extract(items: list[Item]) -> list[list[str]]:
        return [[] for _ in items]

    extract.__module__ = ghost.__name__
    extract.__qualname__ = "extract"
    ghost.extract = extract  # type: ignore[attr-defined]
    sys.modules[ghost.__name__] = ghost
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(keyword_worker, "extract_missing", extract)
            with (
                KeywordJob(demo_items()[:3], process_min=0) as job,
                pytest.raises(
                    IngestError,
                    match=r"the process died \(exit code 1\): ModuleNotFoundError: .*ghost",
                ),
            ):
                job.result()
    finally:
        del sys.modules[ghost.__name__]


KILLED_PARENT = """
import os, signal, sys
sys.path.insert(0, {root!r})
from tests.retrieval.test_keyword_worker import demo_items
from babelrec.retrieval.keyword_worker import KeywordJob
job = KeywordJob(demo_items() * {copies}, process_min=0)
print(job._worker.spawned.process.pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


NO_MAIN_GUARD = """
import sys
sys.path.insert(0, {root!r})
from tests.retrieval.test_keyword_worker import demo_items
from babelrec.retrieval.keyword_worker import KeywordJob
print("top-level code ran", flush=True)
with KeywordJob(demo_items(), process_min=0) as job:
    print(job.in_process, sum(1 for item in job.result() if item.keywords), flush=True)
"""


@pytest.mark.slow
def test_a_script_without_a_main_guard_is_not_run_again_by_the_worker(tmp_path: Path) -> None:
    """multiprocessing's spawn would re-import the script in the worker (and fail there)."""
    script = tmp_path / "script.py"
    script.write_text(NO_MAIN_GUARD.format(root=str(ROOT)), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["top-level code ran", f"True {len(demo_items())}"]


def process_gone(pid: int) -> bool:
    """Whether `pid` ended (a zombie counts: it runs no more)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
@pytest.mark.parametrize("copies", [1, 20])  # killed before the worker reads its task / during
def test_a_killed_ingest_leaves_no_keyword_worker_behind(copies: int) -> None:
    script = KILLED_PARENT.format(root=str(ROOT), copies=copies)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    pid = int(done.stdout.split()[0])
    deadline = time.monotonic() + 60
    while not process_gone(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if not process_gone(pid):
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the keyword worker outlived its killed parent")


def test_vectors_go_to_chroma_as_an_array_and_read_back_as_from_lists(tmp_path: Path) -> None:
    """`VectorStore.upsert` hands Chroma the float32 array, not Python floats: what is stored
    is what a list of floats would have stored (Chroma normalises both the same way)."""
    emb = build_embedder(EmbedderSettings(name="hashing", cache=False))
    items = demo_items()[:10]
    ids = [item.id for item in items]
    vectors = emb.embed_documents([item.embedding_text() for item in items])
    store, lists = (
        VectorStore.open(embedder_name=emb.name, dimension=emb.dimension, store_path=tmp_path / n)
        for n in ("array", "lists")
    )
    store.upsert(items, vectors)
    lists.collection.upsert(ids=ids, embeddings=vectors.tolist(), metadatas=[{"x": 1}] * 10)
    got = store.collection.get(ids=ids, include=["embeddings"])
    want = lists.collection.get(ids=ids, include=["embeddings"])
    assert got["ids"] == want["ids"]
    assert np.array_equal(np.asarray(got["embeddings"]), np.asarray(want["embeddings"]))
    assert np.allclose(np.asarray(got["embeddings"]), vectors[[ids.index(i) for i in got["ids"]]])
