"""Retrieval at scale: Chroma stores of 100k to millions of synthetic vectors, inserted directly
(not embedded), queried embedded (`PersistentClient`) and through a `chroma run` server on
127.0.0.1 that serves the same directory.

For each size: build time, disk and resident memory per item, query p50/p95 for 100 neighbours
(with the metadata babelrec reads), and recall@100 of Chroma's HNSW against exact search (numpy,
streamed over the same vectors) on a sample of queries, for several `ef_search` values; at the
smallest size also for other `M` (`max_neighbors`, which needs a rebuild).

Vectors are unit vectors of the default embedder's dimension (512), drawn around 1,000 cluster
centres (two items of one cluster have cosine ~0.5, of two clusters ~0), a rough stand-in for
text embeddings; `--uniform` draws them uniformly on the sphere instead (HNSW's worst case).
Queries are fresh draws from the same distribution. Progress goes to stderr (and `--log`).

A size whose index would not fit in the available memory (`MEMORY_PER_ITEM`) is skipped and
recorded as such, so `make bench-scale` asks for 3M and runs it where memory allows.

    python bench/scale.py --sizes 100000 1000000 3000000 --m 16 32   # `make bench-scale`
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.retrieval import start_server  # noqa: E402

BATCH = 5000
CLUSTERS = 1000
LANGUAGES = ["zh", "en", "es", "ja", "ko", "ar", "fr"]


def log(message: str, path: Path | None) -> None:
    line = f"{time.strftime('%H:%M:%S')} {message}"
    print(line, file=sys.stderr, flush=True)
    if path is not None:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def unit(rows: np.ndarray) -> np.ndarray:
    rows = rows.astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


def batches(size: int, dim: int, seed: int, uniform: bool) -> Iterator[tuple[int, np.ndarray]]:
    """(start, vectors) of the store, batch by batch, the same on every call (recall re-reads
    them instead of keeping millions of rows in memory)."""
    centres = unit(np.random.default_rng([seed, 0]).normal(size=(CLUSTERS, dim)))
    for start in range(0, size, BATCH):
        n = min(BATCH, size - start)
        yield start, draw(np.random.default_rng([seed, 1, start]), centres, n, uniform)


def draw(rng: np.random.Generator, centres: np.ndarray, n: int, uniform: bool) -> np.ndarray:
    dim = centres.shape[1]
    noise = rng.normal(size=(n, dim)).astype(np.float32)
    if uniform:
        return unit(noise)
    return unit(centres[rng.integers(0, len(centres), n)] + noise / np.sqrt(dim))


def queries(count: int, dim: int, seed: int, uniform: bool) -> np.ndarray:
    centres = unit(np.random.default_rng([seed, 0]).normal(size=(CLUSTERS, dim)))
    return draw(np.random.default_rng([seed, 2]), centres, count, uniform)


def exact_top(
    size: int, dim: int, seed: int, uniform: bool, qs: np.ndarray, k: int
) -> list[set[str]]:
    """The true k nearest ids (cosine) of each query, streamed over the store's vectors."""
    best_sim = np.full((len(qs), k), -np.inf, dtype=np.float32)
    best_id = np.zeros((len(qs), k), dtype=np.int64)
    for start, vectors in batches(size, dim, seed, uniform):
        sims = qs @ vectors.T
        ids = np.broadcast_to(np.arange(start, start + len(vectors)), sims.shape)
        all_sim = np.concatenate([best_sim, sims], axis=1)
        all_id = np.concatenate([best_id, ids], axis=1)
        keep = np.argpartition(-all_sim, k - 1, axis=1)[:, :k]
        best_sim = np.take_along_axis(all_sim, keep, axis=1)
        best_id = np.take_along_axis(all_id, keep, axis=1)
    return [{f"v{i}" for i in row} for row in best_id]


def client_for(path: Path | None, url: str | None) -> Any:
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if url:
        host, port = url.rsplit(":", 1)
        return chromadb.HttpClient(host=host.split("//")[-1], port=int(port), settings=settings)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def build(path: Path, size: int, args: argparse.Namespace, m: int, logfile: Path | None) -> float:
    client = client_for(path, None)
    collection = client.create_collection(
        name="scale",
        configuration={
            "hnsw": {
                "space": "cosine",
                "max_neighbors": m,
                "ef_construction": args.ef_construction,
                "ef_search": args.ef_search[0],
            }
        },
        embedding_function=None,
    )
    started = time.perf_counter()
    last = started
    for start, vectors in batches(size, args.dim, args.seed, args.uniform):
        ids = [f"v{start + k}" for k in range(len(vectors))]
        metadatas = [{"language": LANGUAGES[(start + k) % 7]} for k in range(len(vectors))]
        collection.add(ids=ids, embeddings=vectors, metadatas=metadatas)  # type: ignore[arg-type]
        now = time.perf_counter()
        if now - last > 30 or start + len(vectors) == size:
            done = start + len(vectors)
            log(f"  built {done:,}/{size:,} ({done / (now - started):.0f} items/s)", logfile)
            last = now
    seconds = time.perf_counter() - started
    del collection, client
    return seconds


def disk_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def rss_bytes(pid: int | None = None) -> int:
    status = Path(f"/proc/{pid or 'self'}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def measure(
    collection: Any, ef: int, qs: np.ndarray, truth: list[set[str]], n: int
) -> dict[str, Any]:
    """Latency over all queries and recall@n on the first `len(truth)` of them.

    `ef_search` is set before the first query: chromadb 1.5 reads it when it loads the index, so
    a `modify` after that does not change the loaded index (measured: same recall)."""
    collection.modify(configuration={"hnsw": {"ef_search": ef}})
    for q in qs[:5]:  # warm up: load the index, fill the page cache
        collection.query(query_embeddings=[q], n_results=n, include=["distances"])
    times, recalls = [], []
    for i, q in enumerate(qs):
        started = time.perf_counter()
        got = collection.query(
            query_embeddings=[q], n_results=n, include=["metadatas", "distances"]
        )
        times.append(time.perf_counter() - started)
        if i < len(truth):
            recalls.append(len(truth[i] & set(got["ids"][0])) / n)
    ms = np.array(times) * 1000
    return {
        "ef_search": ef,
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "recall": float(np.mean(recalls)),
        "recall_min": float(np.min(recalls)),
    }


def embedded_child(args: argparse.Namespace) -> None:
    """Runs in a fresh process per ef_search: open the store, measure, print JSON (the memory
    is this process's)."""
    before = rss_bytes()
    collection = client_for(Path(args.child), None).get_collection("scale")
    qs = queries(args.queries, args.dim, args.seed, args.uniform)
    truth = [set(t) for t in json.loads(Path(args.truth).read_text())]
    result = measure(collection, args.ef_search[0], qs, truth, args.n)
    result["rss_bytes"] = rss_bytes() - before
    result["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(result))


#: Peak resident memory per item of the process that builds or loads a 512-d index (measured: a
#: loaded 1M index 2.6 KB, peak 3.2 KB; the builder of 100k 5 KB, Python's own share included).
#: One such process runs at a time.
MEMORY_PER_ITEM = 5e3


def available_memory() -> int:
    """MemAvailable from /proc/meminfo, in bytes."""
    meminfo = Path("/proc/meminfo").read_text()
    line = next(line for line in meminfo.splitlines() if line.startswith("MemAvailable:"))
    return int(line.split()[1]) * 1024


def build_child(args: argparse.Namespace) -> None:
    """Runs in a fresh process: build the store, print JSON (build time and this process's peak
    memory). Chroma keeps what it allocated while building until the process ends, so the
    builder must not be the process that measures, or both copies would be held at once."""
    size, m = args.sizes[0], args.m[0]
    seconds = build(Path(args.build_child), size, args, m, args.log)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak_rss_bytes": peak}))


def run_size(size: int, m: int, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    path = tmp / f"store-{size}-m{m}"
    need, have = size * MEMORY_PER_ITEM * args.dim / 512, available_memory()
    if need > have:
        reason = f"needs about {need / 2**30:.1f} GiB, {have / 2**30:.1f} GiB available"
        log(f"size {size:,}, M={m}: skipped, {reason}", args.log)
        return {"size": size, "M": m, "skipped": reason}
    log(f"size {size:,}, M={m}: building", args.log)
    builder = [sys.executable, __file__, "--build-child", str(path), "--sizes", str(size)]
    builder += ["--m", str(m), f"--dim={args.dim}", f"--seed={args.seed}"]
    builder += [f"--ef-construction={args.ef_construction}", f"--ef-search={args.ef_search[0]}"]
    builder += ["--uniform"] if args.uniform else []
    builder += ["--log", str(args.log)] if args.log else []
    out = subprocess.run(builder, stdout=subprocess.PIPE, text=True)
    if out.returncode:
        raise RuntimeError(f"building {size:,} items failed (exit {out.returncode})")
    built = json.loads(out.stdout.strip().splitlines()[-1])
    build_s = built["seconds"]
    run: dict[str, Any] = {
        "size": size,
        "M": m,
        "build_seconds": build_s,
        "build_items_per_s": size / build_s,
        "disk_bytes_per_item": disk_bytes(path) / size,
        "builder_peak_rss_bytes": built["peak_rss_bytes"],
    }
    log(f"size {size:,}: built in {build_s:.0f}s; exact search for recall", args.log)
    qs = queries(args.queries, args.dim, args.seed, args.uniform)
    truth = exact_top(size, args.dim, args.seed, args.uniform, qs[: args.recall_queries], args.n)
    truth_file = tmp / "truth.json"
    truth_file.write_text(json.dumps([sorted(t) for t in truth]))
    command = [sys.executable, __file__, "--child", str(path), "--truth", str(truth_file)]
    command += [f"--{k}={v}" for k, v in (("n", args.n), ("queries", args.queries))]
    command += [f"--dim={args.dim}", f"--seed={args.seed}"]
    command += (["--uniform"] if args.uniform else []) + ["--ef-search"]
    for backend in args.backends:
        rows = []
        for ef in args.ef_search:
            if backend == "embedded":
                out = subprocess.run([*command, str(ef)], capture_output=True, text=True)
                if out.returncode:
                    raise RuntimeError(f"embedded measurement failed: {out.stderr[-2000:]}")
                rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
                continue
            server, url = start_server(path, wait=120)  # a fresh server per ef_search (see measure)
            try:
                collection = client_for(None, url).get_collection("scale")
                rows.append(measure(collection, ef, qs, truth, args.n))
                rows[-1]["rss_bytes"] = rss_bytes(server.pid)
            finally:
                server.terminate()
                server.wait(30)
        for row in rows:
            row["rss_bytes_per_item"] = row["rss_bytes"] / size
        run[backend] = {"by_ef_search": rows}
        log(f"size {size:,} {backend}: {summary(run[backend])}", args.log)
    shutil.rmtree(path, ignore_errors=True)
    return run


def summary(block: dict[str, Any]) -> str:
    return "; ".join(
        f"ef {r['ef_search']}: p50 {r['p50_ms']:.1f} ms p95 {r['p95_ms']:.1f} ms "
        f"recall {r['recall']:.3f} rss {r['rss_bytes'] / 2**20:.0f} MiB"
        for r in block["by_ef_search"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--n", type=int, default=100, help="neighbours per query")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--recall-queries", type=int, default=50)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[100, 200, 400])
    parser.add_argument("--ef-construction", type=int, default=100)
    parser.add_argument("--m", type=int, nargs="+", default=[16, 32], help="M at the first size")
    parser.add_argument("--backends", nargs="+", default=["embedded", "server"])
    parser.add_argument("--uniform", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, help="where the stores go (default: a temp dir)")
    parser.add_argument("--log", type=Path)
    parser.add_argument("--append", action="store_true", help="add to the runs already in --out")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "scale.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--build-child", help=argparse.SUPPRESS)
    parser.add_argument("--truth", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        embedded_child(args)
        return
    if args.build_child:
        build_child(args)
        return

    import chromadb

    report: dict[str, Any] = {
        "command": "python bench/scale.py " + " ".join(sys.argv[1:]),
        "dim": args.dim,
        "n": args.n,
        "queries": args.queries,
        "recall_queries": args.recall_queries,
        "ef_construction": args.ef_construction,
        "vectors": "uniform" if args.uniform else f"{CLUSTERS} clusters",
        "chromadb": chromadb.__version__,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "runs": [],
    }
    if args.append and args.out.is_file():
        earlier = json.loads(args.out.read_text(encoding="utf-8"))
        report["runs"] = earlier["runs"]
        report["command"] = f"{earlier['command']}; {report['command']}"
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.workdir) as name:
        tmp = Path(name)
        # the M study (a rebuild per value) at the smallest size, after the size curve
        plan = [(size, args.m[0]) for size in args.sizes]
        plan += [(min(args.sizes), m) for m in args.m[1:]]
        for size, m in plan:
            report["runs"].append(run_size(size, m, args, tmp))
            report["load_average"] = [round(x, 2) for x in os.getloadavg()]
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    log(f"wrote {args.out}", args.log)


if __name__ == "__main__":
    main()
