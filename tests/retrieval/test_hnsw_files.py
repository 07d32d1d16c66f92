"""No byte of this process's freed memory reaches an embedded store's files.

Chroma writes the first capacity of a new HNSW index from buffers it never zeroed
(chroma-core/chroma#7688). The real-component test plants a canary in memory that threads free
before the store is made (as an HTTP handler thread that saw an API key does), then writes a
babelrec store: the canary must be in Chroma's files just before babelrec zeroes their unused
slots (else the defect is gone, and `hnsw_files` with it), and nowhere after.
"""

from __future__ import annotations

import logging
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from babelrec.models import Item
from babelrec.retrieval.hnsw_files import scrub_unused_slots
from babelrec.retrieval.store import VectorStore
from tests.conftest import ROOT

CANARY = "sk-planted-canary-77e1"

PLANT_THEN_WRITE = """
import ctypes, sys, threading
from pathlib import Path
import numpy as np
import babelrec.retrieval.store as store_module
from babelrec.models import Item

CANARY = sys.argv[2].encode()
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]

def plant(barrier=None):
    blocks = []
    for size in [*range(64, 4096, 16)] * 4 + [20400, 40000, 170000]:
        block = libc.malloc(size)
        ctypes.memmove(block, (CANARY * (size // len(CANARY) + 1))[:size], size)
        blocks.append(block)
    for block in blocks:
        libc.free(block)
    if barrier is not None:
        barrier.wait()

# threads that exit hand their malloc arenas, canary and all, on to the threads made next
plant()
barrier = threading.Barrier(32)
threads = [threading.Thread(target=plant, args=(barrier,)) for _ in range(32)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()

found_before_zeroing = []
zero = store_module.scrub_unused_slots
def observed(folder):
    found_before_zeroing.append(
        sum(path.read_bytes().count(CANARY[:12]) for path in folder.rglob("*.bin"))
    )
    return zero(folder)
store_module.scrub_unused_slots = observed

vectors = np.random.default_rng(0).normal(size=(30, 384)).astype("float32")
folder = Path(sys.argv[1])
store = store_module.VectorStore.open(embedder_name="e", dimension=384, store_path=folder)
store.upsert([Item(id=f"i{k}", title=f"Item {k}", language="en") for k in range(30)], vectors)
print("before zeroing", max(found_before_zeroing))
"""


def files_holding(folder: Path, text: str) -> dict[str, int]:
    needle = text[:12].encode()
    found = {}
    for path in folder.rglob("*"):
        if path.is_file() and (hits := path.read_bytes().count(needle)):
            found[str(path.relative_to(folder))] = hits
    return found


def test_freed_memory_chroma_writes_into_a_new_index_is_zeroed(tmp_path: Path) -> None:
    """Where the canary lands depends on which thread's arena Chroma's allocation comes from:
    a try that planted none in its files is run again, up to 6 tries."""
    leaked = []
    for attempt in range(6):
        folder = tmp_path / f"store{attempt}"
        done = subprocess.run(
            [sys.executable, "-c", PLANT_THEN_WRITE, str(folder), CANARY],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        leaked.append(int(done.stdout.split("before zeroing")[1]))
        assert files_holding(folder, CANARY) == {}, attempt
        assert files_zeroed_past_live_slots(folder)
        if leaked[-1]:
            break
    assert leaked[-1], (
        "Chroma no longer writes freed memory into new HNSW files in 6 tries: "
        f"babelrec.retrieval.hnsw_files can go ({leaked})"
    )


def write_segment(
    folder: Path, *, version: int, capacity: int, count: int, element_size: int, fill: int
) -> tuple[bytes, bytes]:
    """A segment as Chroma leaves it: a header, then `fill` bytes of 0xAB past the live slots."""
    folder.mkdir(parents=True)
    header = struct.pack("<iQQQQ", version, 0, capacity, count, element_size)
    (folder / "header.bin").write_bytes(header + bytes(100 - len(header)))
    rng = np.random.default_rng(count)
    live_lengths = rng.integers(1, 255, size=count * 4, dtype=np.uint8).tobytes()
    live_data = rng.integers(1, 255, size=count * element_size, dtype=np.uint8).tobytes()
    (folder / "length.bin").write_bytes(live_lengths + b"\xab" * min(fill, 4 * capacity))
    (folder / "data_level0.bin").write_bytes(live_data + b"\xab" * fill)
    return live_lengths, live_data


@settings(max_examples=40, deadline=None)
@given(
    capacity=st.integers(1, 300),
    data=st.data(),
    element_size=st.integers(1, 64),
    fill=st.integers(0, 5000),
)
def test_only_the_slots_past_the_live_elements_are_zeroed(
    tmp_path_factory: pytest.TempPathFactory,
    capacity: int,
    data: st.DataObject,
    element_size: int,
    fill: int,
) -> None:
    count = data.draw(st.integers(0, capacity))
    store = tmp_path_factory.mktemp("store")
    segment = store / "segment"
    lengths, vectors = write_segment(
        segment, version=1, capacity=capacity, count=count, element_size=element_size, fill=fill
    )
    tail = min(fill, 4 * capacity) + fill
    assert scrub_unused_slots(store) == tail
    length_file = (segment / "length.bin").read_bytes()
    data_file = (segment / "data_level0.bin").read_bytes()
    assert length_file[: len(lengths)] == lengths and data_file[: len(vectors)] == vectors
    assert length_file[len(lengths) :].count(0) == len(length_file) - len(lengths)
    assert data_file[len(vectors) :].count(0) == len(data_file) - len(vectors)
    assert scrub_unused_slots(store) == 0  # nothing left, and the files are as they were


def test_a_header_of_an_unknown_format_is_left_alone_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    segment = tmp_path / "segment"
    write_segment(segment, version=2, capacity=10, count=3, element_size=8, fill=40)
    before = (segment / "length.bin").read_bytes()
    with caplog.at_level(logging.WARNING):
        assert scrub_unused_slots(tmp_path) == 0
        scrub_unused_slots(tmp_path)
    assert (segment / "length.bin").read_bytes() == before
    assert [r.getMessage() for r in caplog.records if "cannot read the HNSW header" in r.message]
    assert len([r for r in caplog.records if str(segment) in r.getMessage()]) == 1


def test_a_scrubbed_store_reads_back_whole_past_chromas_first_persist(tmp_path: Path) -> None:
    """1,200 writes cross Chroma's sync threshold (1,000), so it persists the index over the
    zeroed files; reopened from those files, every vector and every nearest neighbour holds."""
    dim = 16
    vectors = np.random.default_rng(1).normal(size=(1200, dim)).astype(np.float32)
    items = [Item(id=f"i{k}", title=f"Item {k}", language="en") for k in range(1200)]
    store = VectorStore.open(embedder_name="e", dimension=dim, store_path=tmp_path)
    store.upsert(items[:30], vectors[:30])
    assert files_zeroed_past_live_slots(tmp_path)
    store.upsert(items[30:], vectors[30:])
    del store
    probe = r"""
import sys, numpy as np
from pathlib import Path
from babelrec.retrieval.store import VectorStore
store = VectorStore.open(embedder_name="e", dimension=16, store_path=Path(sys.argv[1]))
vectors = np.random.default_rng(1).normal(size=(1200, 16)).astype(np.float32)
got = store.get([f"i{k}" for k in range(1200)], with_vectors=True)
assert len(got) == 1200
assert all(np.allclose(got[f"i{k}"].vector, vectors[k], atol=1e-5) for k in range(1200))
unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
for q in range(0, 1200, 97):
    best = {f"i{k}" for k in np.argsort(-unit @ unit[q])[:5]}
    hits = {h.item.id for h in store.query(vectors[q], 5)}
    assert len(hits & best) >= 4, (q, hits, best)
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-3000:]


def files_zeroed_past_live_slots(store: Path) -> bool:
    """Every segment's files hold only zeros past the live element count in its header."""
    segments = list(store.glob("*/header.bin"))
    for header in segments:
        _, _, _, count, element_size = struct.unpack_from("<iQQQQ", header.read_bytes())
        for name, start in (("length.bin", 4 * count), ("data_level0.bin", element_size * count)):
            tail = (header.parent / name).read_bytes()[start:]
            if tail.count(0) != len(tail):
                return False
    return bool(segments)


def test_a_store_an_older_babelrec_wrote_is_zeroed_by_migrate(tmp_path: Path) -> None:
    store = VectorStore.open(embedder_name="e", dimension=8, store_path=tmp_path)
    vectors = np.random.default_rng(2).normal(size=(5, 8)).astype(np.float32)
    store.upsert([Item(id=f"i{k}", title=f"Item {k}", language="en") for k in range(5)], vectors)
    for header in tmp_path.glob("*/header.bin"):  # what Chroma left before babelrec zeroed it
        length = header.parent / "length.bin"
        length.write_bytes(CANARY.encode() * (length.stat().st_size // len(CANARY)))
    assert files_holding(tmp_path, CANARY)
    VectorStore.open(embedder_name="e", dimension=8, store_path=tmp_path).rebuild_language_stats()
    assert files_holding(tmp_path, CANARY) == {}
    assert files_zeroed_past_live_slots(tmp_path)
