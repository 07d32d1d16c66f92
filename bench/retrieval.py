"""Candidate retrieval latency: babelrec's `VectorStore.query` against a raw
`collection.query` with the same vectors, at several catalog sizes, embedded and against a
`chroma run` server on 127.0.0.1. Goal: babelrec/raw <= 1.2.

Vectors are random unit vectors of the default embedder's dimension (retrieval cost does not
depend on where vectors came from). Timings alternate babelrec and raw calls in one run.
Writes bench/results/retrieval.json and bench/results/retrieval.png.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(path: Path, wait: float = 60) -> tuple[subprocess.Popen[bytes], str]:
    """A `chroma run` server on 127.0.0.1 over `path`, and its URL, once it accepts connections."""
    port = free_port()
    exe = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen(
        [str(exe), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"http://127.0.0.1:{port}"
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("chroma server did not start")


def fill(store: Any, size: int, dim: int, rng: np.random.Generator) -> None:
    from babelrec.models import Item

    languages = ["zh", "en", "es", "ja", "ko", "ar", "fr"]
    batch = 2000
    for start in range(0, size, batch):
        n = min(batch, size - start)
        vectors = rng.normal(size=(n, dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        items = [
            Item(
                id=f"item-{start + k}",
                title=f"Item {start + k}",
                language=languages[(start + k) % len(languages)],
                category="news",
            )
            for k in range(n)
        ]
        store.upsert(items, vectors)


def percentiles(samples: list[float]) -> dict[str, float]:
    arr = np.array(samples) * 1000
    return {"p50_ms": float(np.percentile(arr, 50)), "p95_ms": float(np.percentile(arr, 95))}


def measure(store: Any, dim: int, queries: int, n: int, rng: np.random.Generator) -> dict[str, Any]:
    ours, raw = [], []
    vectors = rng.normal(size=(queries, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    for vec in vectors[:5]:  # warm up both paths
        store.query(vec, n)
        store.collection.query(query_embeddings=[vec.tolist()], n_results=n)

    def raw_query(vec: np.ndarray) -> None:
        store.collection.query(
            query_embeddings=[vec.tolist()], n_results=n, include=["metadatas", "distances"]
        )

    # alternate which path goes first, so neither always runs on a warmer cache
    for number, vec in enumerate(vectors):
        order = [(store.query, ours), (raw_query, raw)]
        for call, samples in order if number % 2 == 0 else order[::-1]:
            started = time.perf_counter()
            call(vec) if call is raw_query else call(vec, n)
            samples.append(time.perf_counter() - started)
    result = {"babelrec": percentiles(ours), "raw": percentiles(raw)}
    result["ratio_p50"] = result["babelrec"]["p50_ms"] / result["raw"]["p50_ms"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--n", type=int, default=100, help="candidates per query")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "retrieval.json")
    args = parser.parse_args()

    from babelrec.retrieval.store import VectorStore

    rng = np.random.default_rng(0)
    results: dict[str, Any] = {"dim": args.dim, "n": args.n, "queries": args.queries, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        server, url = start_server(Path(tmp) / "server")
        try:
            for size in args.sizes:
                for backend in ("embedded", "server"):
                    name = f"bench-{size}"
                    if backend == "embedded":
                        store = VectorStore.open(
                            embedder_name="bench", dimension=args.dim,
                            store_path=Path(tmp) / f"embedded-{size}", collection=name,
                        )  # fmt: skip
                    else:
                        store = VectorStore.open(
                            embedder_name="bench", dimension=args.dim, chroma_url=url,
                            collection=name, data_dir=Path(tmp),
                        )  # fmt: skip
                    started = time.perf_counter()
                    fill(store, size, args.dim, rng)
                    fill_s = time.perf_counter() - started
                    run = measure(store, args.dim, args.queries, args.n, rng)
                    run.update({"size": size, "backend": backend, "fill_seconds": fill_s})
                    results["runs"].append(run)
                    ours, raw = run["babelrec"], run["raw"]
                    print(
                        f"{backend:9} {size:>6} items: babelrec p50 {ours['p50_ms']:6.2f} ms "
                        f"p95 {ours['p95_ms']:6.2f} ms | raw p50 {raw['p50_ms']:6.2f} ms "
                        f"p95 {raw['p95_ms']:6.2f} ms | ratio {run['ratio_p50']:.2f} (goal <= 1.2)"
                    )
        finally:
            server.terminate()
            server.wait(10)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    plot(results, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for backend in ("embedded", "server"):
        for who, style in (("babelrec", "-o"), ("raw", "--x")):
            runs = [r for r in results["runs"] if r["backend"] == backend]
            ax.plot(
                [r["size"] for r in runs],
                [r[who]["p50_ms"] for r in runs],
                style,
                label=f"{who} ({backend})",
            )
    ax.set_xscale("log")
    ax.set_xlabel("catalog size (items)")
    ax.set_ylabel("p50 latency (ms)")
    ax.set_title(f"Retrieval of {results['n']} candidates")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
