"""Ingest throughput against the raw embedder on the same texts, measured in one run.

The ingest pipeline (validation, keywords, content hashes, store look-ups, embedding, Chroma
upsert) should keep at least 0.95 of the raw embedder's items per second (`embed_documents` in
this process, model loaded), as the median of the per-pair ratios. Each pair times the raw
embedder, then two ingests in alternating order, all with the embedding cache off:
- `worker`: the embedding in a warm `EmbeddingWorker` process (started and loaded before the
  pairs, as the raw embedder's model is), one batch at a time with the embedder's own threads,
  while this process writes each part as it comes and extracts keywords in a thread: the
  headline figure;
- `in_process`: no worker, the embedding here, keywords in a spawned process from
  `--keyword-process-min` items, then one Chroma write (about 0.3 s for 567 items; Chroma's
  embedded client holds the GIL for all of it, so it cannot overlap an embedding here: the write
  probe measures that).
Runs at several catalog sizes (`--copies`; the first, 1,890 items, is the headline: a run of
about 9 s, where what cannot overlap, the look-ups before the first batch and the write after the
last, is about 1% of the time; at 567 items it is about 4%).
With `--cold-copies N`, pairs of ingests of N catalog copies with no worker and with one started
by the ingest itself (`worker_min_items=0`) measure where a worker of its own pays, written to
`--cold-out` (not part of `make bench`). Writes bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def catalog(copies: int, limit: int | None = None) -> list[Any]:
    """`copies` of the demo catalog, ids and titles made distinct."""
    from babelrec.models import Item

    lines = (ROOT / "babelrec/data/demo/catalog.jsonl").read_text(encoding="utf-8").splitlines()
    base = [Item.model_validate_json(line) for line in lines]
    return [
        item.model_copy(update={"id": f"{item.id}-{copy}", "title": f"{item.title} ({copy})"})
        for copy in range(copies)
        for item in base
    ][:limit]


def timed_ingest(items: list[Any], embedder: Any, **options: Any) -> float:
    """Seconds for one ingest of `items` into a fresh embedded store."""
    from babelrec.retrieval.ingest import ingest_items
    from babelrec.retrieval.store import VectorStore

    with tempfile.TemporaryDirectory() as tmp:
        store = VectorStore.open(
            embedder_name=embedder.name, dimension=embedder.dimension, store_path=Path(tmp)
        )
        started = time.perf_counter()
        summary = ingest_items(items, store, embedder, **options)
        seconds = time.perf_counter() - started
        assert summary.added == len(items), summary
    return seconds


def steal_seconds() -> float:
    """CPU time the hypervisor gave other guests, all CPUs (Linux `/proc/stat`; 0 elsewhere): on
    a shared VM, what makes one run's ratios differ from another's."""
    try:
        fields = Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0].split()
    except OSError:
        return 0.0
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


def paired(
    repeats: int, first: Callable[[], float], others: dict[str, Callable[[], float]]
) -> dict[str, list[float]]:
    """Per pair: `first`, then `others` in alternating order; the seconds of each, and the
    CPU seconds stolen by the hypervisor during each (`steal_<name>`)."""
    names = ["first", *others]
    calls = {"first": first, **others}
    times: dict[str, list[float]] = {key: [] for name in names for key in (name, f"steal_{name}")}
    for repeat in range(repeats):
        for name in ["first", *(list(others) if repeat % 2 == 0 else list(others)[::-1])]:
            stolen = steal_seconds()
            times[name].append(calls[name]())
            times[f"steal_{name}"].append(steal_seconds() - stolen)
        print(
            f"pair {repeat + 1}: "
            + ", ".join(
                f"{n} {times[n][-1]:.2f}s (steal {times[f'steal_{n}'][-1]:.2f})" for n in names
            )
        )
    return times


def ratios(base: list[float], other: list[float]) -> dict[str, Any]:
    """Speed of `other` against `base` (time ratios): per pair, median, best times."""
    per_pair = [b / o for b, o in zip(base, other, strict=True)]
    return {
        "pair_ratios": per_pair,
        "median_pair_ratio": statistics.median(per_pair),
        "ratio": min(base) / min(other),
    }


def cold_study(args: argparse.Namespace, embedder: Any) -> None:
    """Where an ingest's own worker pays: no worker against one it starts, N copies."""
    items = catalog(args.cold_copies)
    times = paired(
        args.cold_repeats,
        lambda: timed_ingest(items, embedder, worker_min_items=10**12),
        {"own_worker": lambda: timed_ingest(items, embedder, worker_min_items=0)},
    )
    result = {"embedder": args.embedder, "items": len(items), "seconds": times}
    result["own_worker_vs_in_process"] = ratios(times["first"], times["own_worker"])
    print(
        f"{len(items)} items: an ingest's own worker against none, median of pairs "
        f"{result['own_worker_vs_in_process']['median_pair_ratio']:.3f}"
    )
    args.cold_out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"wrote {args.cold_out}")


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


def measure(args: argparse.Namespace, copies: int, embedder: Any, worker: Any) -> dict[str, Any]:
    """Pairs of the raw embedder and both ingests over `copies` of the demo catalog."""
    from babelrec.retrieval.keyword_worker import PROCESS_MIN_ITEMS

    items = catalog(copies, args.limit)
    texts = [item.embedding_text() for item in items]
    process_min = args.keyword_process_min
    if process_min is None:
        process_min = PROCESS_MIN_ITEMS

    def raw() -> float:
        started = time.perf_counter()
        embedder.embed_documents(texts)
        return time.perf_counter() - started

    print(f"{len(items)} items ({copies} copies of the demo catalog)")
    times = paired(
        args.repeats,
        raw,
        {
            "worker": lambda: timed_ingest(items, embedder, worker=worker),
            "in_process": lambda: timed_ingest(
                items, embedder, keyword_process_min=process_min, worker_min_items=10**12
            ),
        },
    )
    best = min(times["first"])
    stolen = {name: sum(times[f"steal_{name}"]) for name in ("first", "worker", "in_process")}
    print(
        "CPU seconds stolen by the hypervisor, all pairs: "
        + ", ".join(f"{name} {seconds:.2f}" for name, seconds in stolen.items())
    )
    with_worker = ratios(times["first"], times["worker"])
    in_process = ratios(times["first"], times["in_process"])
    print(f"{'':26}{'items/s':>10}{'median of pairs':>18}{'best times':>12}")
    print(f"{'raw embedder':26}{len(items) / best:10.1f}")
    for label, name, found in (
        ("ingest, embedding worker", "worker", with_worker),
        ("ingest, in this process", "in_process", in_process),
    ):
        print(
            f"{label:26}{len(items) / min(times[name]):10.1f}"
            f"{found['median_pair_ratio']:18.3f}{found['ratio']:12.3f}"
        )
    return {
        "items": len(items),
        "raw_items_per_s": len(items) / best,
        "ingest_items_per_s": len(items) / min(times["worker"]),
        **with_worker,
        "in_process": {
            "ingest_items_per_s": len(items) / min(times["in_process"]),
            **in_process,
            "keyword_process_min": process_min,
            "keywords_in_process": len(items) >= process_min,
        },
        "seconds": times,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", default="usem3")
    parser.add_argument(
        "--copies",
        type=int,
        nargs="+",
        default=[10, 3],
        help="copies of the demo catalog (189 items) per run; the first run is the headline",
    )
    parser.add_argument("--limit", type=int, default=None, help="only the first N items")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--keyword-process-min",
        type=int,
        default=None,
        help="items needing keywords from which they are extracted in a spawned process "
        "without a worker (default: babelrec's PROCESS_MIN_ITEMS; 0 = always, huge = never)",
    )
    parser.add_argument(
        "--no-write-probe", action="store_true", help="skip the measure of overlapped writes"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ingest.json")
    parser.add_argument("--cold-copies", type=int, default=0, help="run the cold-worker study")
    parser.add_argument("--cold-repeats", type=int, default=3)
    parser.add_argument(
        "--cold-out", type=Path, default=ROOT / "bench" / "results" / "ingest_cold_worker.json"
    )
    args = parser.parse_args()

    from babelrec.retrieval.embedders import build_embedder
    from babelrec.retrieval.embedders.worker import EmbeddingWorker

    embedder = build_embedder(args.embedder, cache_dir=None)
    if args.cold_copies:
        cold_study(args, embedder)
        return
    embedder.embed_documents(["load the model outside the timings"])
    with EmbeddingWorker(embedder) as worker:
        started = time.perf_counter()
        if not worker.wait_ready(300):
            raise SystemExit(f"the embedding worker did not start: {worker.failure}")
        worker_start = time.perf_counter() - started
        runs = [measure(args, copies, embedder, worker) for copies in args.copies]
    headline = runs[0]
    print(
        f"goal: ingest >= 0.95 of the raw embedder, median of pairs: "
        f"{headline['median_pair_ratio']:.3f} over {headline['items']} items, {args.embedder}; "
        f"the worker started in {worker_start:.2f}s (before the pairs)"
    )
    probe = {}
    if not args.no_write_probe:
        items = catalog(min(args.copies), args.limit)
        probe = write_probe(items, embedder, [item.embedding_text() for item in items])
        print(
            f"write probe ({len(items)} items): one Chroma call {probe['write_s_one_call']:.2f}s, "
            f"in 64-item parts {probe['write_s_parts_of_64']:.2f}s; a Python thread stalled "
            f"{probe['python_thread_longest_stall_s']:.2f}s of a {probe['chroma_call_s']:.2f}s "
            f"call; embedding {probe['embed_alone_s']:.2f}s alone, "
            f"{probe['embed_beside_writer_thread_s']:.2f}s beside a thread writing 64-item parts"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "embedder": args.embedder,
                **headline,
                "goal": 0.95,
                "embedding": "a warm EmbeddingWorker process; keywords in a thread",
                "worker_start_s": worker_start,
                "runs": runs,
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
