"""End-to-end latency of an explained recommendation (retrieve, rank, rerank, explain) with the
default local LLM on the demo catalog: p50, p95 and each stage's share of the time.

The LLM response cache is off so every request really runs the model. Writes
bench/results/end_to_end.json.

`--compare REF` measures this tree against the code of git commit REF (and the `--variants`,
this tree with one latency lever off) in the same run: one worker process per version, each
with its own store and model, the same requests sent to each in turn (the order rotating per
request), so the shared machine's load falls on all of them alike. Writes
bench/results/end_to_end_compare.json:

    python bench/end_to_end.py --compare HEAD~1 --requests 20 --variants no-state-cache full-blocks
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

REQUESTS = [
    ("zh", "我喜欢足球和篮球"),
    ("en", "electric cars and batteries"),
    ("es", "cocina tradicional y festivales"),
    ("ja", "アニメと映画が好きです"),
    ("ko", "케이팝과 드라마"),
    ("ar", "التكنولوجيا والفضاء"),
    ("fr", "la gastronomie et les vins"),
    ("zh", "人工智能和芯片"),
    ("en", "travel in Asia and local food"),
    ("es", "fútbol y baloncesto"),
]
STAGES = ["user_vector", "retrieve", "rank", "rerank", "explain"]
#: this tree with one lever turned off (`--variants`)
VARIANTS: dict[str, dict[str, Any]] = {
    "new": {"prime_priors": True},
    "no-state-cache": {"prime_priors": True, "state_cache": False},
    "full-blocks": {"prime_priors": True, "snippet_tokens": None},
    # calibration priors computed in the process, on each locale's first request (as before)
    "cold-priors": {"priors_dir": None},
}


class Service:
    """A recommender with the demo catalog ingested and its models loaded."""

    def __init__(self, tmp: Path, k: int, lever: dict[str, Any]) -> None:
        from babelrec.io.catalog import demo_catalog_path
        from babelrec.models import UserProfile
        from babelrec.pipeline.recommender import Recommender

        self.k = k
        self.user = UserProfile
        self.rec = Recommender.from_settings(data_dir=tmp, llm={"cache": False})
        self.rec.ingest(demo_catalog_path())
        # load the models outside the timings
        self.rec.recommend(UserProfile(language="en", interests="warm up"), k=k)
        stage = self.rec.generative
        if lever.get("state_cache") is False:
            stage._llm.states = None  # type: ignore[union-attr]
        reranker = stage._reranker
        assert reranker is not None
        update = {key: lever[key] for key in ("snippet_tokens", "priors_dir") if key in lever}
        if update:
            reranker.config = reranker.config.model_copy(update=update)
        if lever.get("prime_priors"):
            # The priors depend only on the model and the template and are kept on disk: a
            # deployment computes them once. Computed (or read) here, outside the timings.
            from babelrec.rerank.verbalizer import LABELS

            for language in sorted({language for language, _ in REQUESTS}):
                template = reranker.prompts.load("verbalizer", language)
                reranker._label_prior(template, LABELS[: reranker.config.top])  # type: ignore[attr-defined]

    def request(self, number: int) -> dict[str, Any]:
        language, interests = (REQUESTS * 100)[number]
        llm = self.rec.generative._llm
        assert llm is not None
        before = len(llm.calls)
        started = time.perf_counter()
        result = self.rec.recommend(self.user(language=language, interests=interests), k=self.k)
        seconds = time.perf_counter() - started
        calls = llm.calls[before:]
        prompt = sum(c.prompt_tokens for c in calls)
        return {
            "language": language,
            "seconds": seconds,
            "timings": result.timings,
            "degraded": result.degraded,
            "ranker": result.ranker,
            "llm_calls": len(calls),
            "prompt_tokens": prompt,
            # what llama.cpp evaluated: the prompts less the prefixes it already held
            "evaluated_tokens": prompt - sum(c.prefix_reused_tokens for c in calls),
        }


def percentiles(seconds: list[float]) -> dict[str, float]:
    return {"p50_s": float(np.percentile(seconds, 50)), "p95_s": float(np.percentile(seconds, 95))}


def worker(args: argparse.Namespace) -> None:
    """Serve request numbers from stdin, one JSON line of results each (`--compare`)."""
    lever = json.loads(args.worker)
    with tempfile.TemporaryDirectory() as tmp:
        service = Service(Path(tmp), args.k, lever)
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            print(json.dumps(service.request(int(line))), flush=True)


def compare(args: argparse.Namespace) -> None:
    """Old code vs this tree (and variants), requests interleaved."""
    with tempfile.TemporaryDirectory() as tmp:
        old_root = Path(tmp) / "old"
        old_root.mkdir()
        archive = subprocess.run(
            ["git", "archive", args.compare], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(old_root)], input=archive, check=True)
        commit = subprocess.run(
            ["git", "rev-parse", "--short", args.compare], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        versions = {f"old ({commit})": (old_root, {})}
        for name in ["new", *args.variants]:
            versions[name] = (ROOT, VARIANTS[name])
        if args.same_code:  # a noise yardstick: the old code twice
            versions[f"old again ({commit})"] = (old_root, {})
        workers = {}
        for name, (root, lever) in versions.items():
            env = {**os.environ, "PYTHONPATH": str(root)}
            proc = subprocess.Popen(
                [sys.executable, __file__, "--worker", json.dumps(lever), "-k", str(args.k)],
                cwd=root,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert proc.stdout is not None
            ready = proc.stdout.readline()
            if not ready.strip():
                raise RuntimeError(f"worker {name} did not start")
            workers[name] = proc
        names = list(workers)
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        loads = []
        for number in range(args.requests):
            order = names[number % len(names) :] + names[: number % len(names)]
            for name in order:
                proc = workers[name]
                assert proc.stdin is not None and proc.stdout is not None
                proc.stdin.write(f"{number}\n")
                proc.stdin.flush()
                rows[name].append(json.loads(proc.stdout.readline()))
            loads.append(os.getloadavg()[0])
            print(
                f"{number:3d} {rows[names[0]][-1]['language']} "
                + "  ".join(f"{n}: {rows[n][-1]['seconds']:5.2f}s" for n in names),
                flush=True,
            )
        for proc in workers.values():
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(60)
    old = names[0]
    report: dict[str, Any] = {
        "command": "python bench/end_to_end.py " + " ".join(sys.argv[1:]),
        "requests": args.requests,
        "k": args.k,
        "old": old,
        "load_average_1min": {
            "min": min(loads),
            "median": float(np.median(loads)),
            "max": max(loads),
        },
        "versions": {},
    }
    for name in names:
        seconds = [r["seconds"] for r in rows[name]]
        paired = [n["seconds"] / o["seconds"] for n, o in zip(rows[name], rows[old], strict=True)]
        tokens = [r["prompt_tokens"] for r in rows[name]]
        evaluated = [r["evaluated_tokens"] for r in rows[name]]
        report["versions"][name] = {
            **percentiles(seconds),
            "mean_rerank_s": float(np.mean([r["timings"].get("rerank", 0) for r in rows[name]])),
            "median_ratio_to_old": float(np.median(paired)),
            "p50_ratio_to_old": float(np.percentile(seconds, 50))
            / float(np.percentile([r["seconds"] for r in rows[old]], 50)),
            "median_prompt_tokens": float(np.median(tokens)),
            "median_evaluated_tokens": float(np.median(evaluated)),
            "mean_evaluated_tokens": float(np.mean(evaluated)),
            "degraded": sum(r["degraded"] for r in rows[name]),
            "seconds": seconds,
        }
    for name, block in report["versions"].items():
        print(
            f"{name:16} p50 {block['p50_s']:.2f}s p95 {block['p95_s']:.2f}s  "
            f"p50/old {block['p50_ratio_to_old']:.2f}  median paired ratio "
            f"{block['median_ratio_to_old']:.2f}  tokens: prompt "
            f"{block['median_prompt_tokens']:.0f}, evaluated "
            f"{block['median_evaluated_tokens']:.0f} (mean {block['mean_evaluated_tokens']:.0f})"
        )
    print(f"load average (1 min) during the run: {report['load_average_1min']}")
    out = args.out.with_name("end_to_end_compare.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=len(REQUESTS))
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--compare", metavar="REF", help="also run the code of this git commit")
    parser.add_argument(
        "--variants", nargs="*", default=[], choices=[v for v in VARIANTS if v != "new"]
    )
    parser.add_argument("--same-code", action="store_true", help="run the old code twice too")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "end_to_end.json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, os.environ.get("PYTHONPATH", str(ROOT)).split(os.pathsep)[0])
    if args.worker is not None:
        worker(args)
        return
    if args.compare:
        compare(args)
        return

    with tempfile.TemporaryDirectory() as tmp:
        service = Service(Path(tmp), args.k, VARIANTS["new"])
        rows = []
        for number in range(args.requests):
            rows.append(service.request(number))
            row = rows[-1]
            print(f"{row['language']} {row['seconds']:6.2f}s {row['ranker']} {row['degraded']=}")
        settings = service.rec.settings

    totals = [r["seconds"] for r in rows]
    total_time = sum(totals)
    shares = {n: sum(r["timings"].get(n, 0.0) for r in rows) / total_time for n in STAGES}
    shares["other"] = max(0.0, 1.0 - sum(shares.values()))
    report = {
        "requests": len(totals),
        "k": args.k,
        "llm": settings.llm.backend,
        "reranker": settings.rerank.name,
        **percentiles(totals),
        "stage_share": shares,
        "degraded": sum(r["degraded"] for r in rows),
        "prompt_tokens_median": float(np.median([r["prompt_tokens"] for r in rows])),
        "evaluated_tokens_median": float(np.median([r["evaluated_tokens"] for r in rows])),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(f"p50 {report['p50_s']:.2f}s  p95 {report['p95_s']:.2f}s over {len(totals)} requests")
    for name, share in shares.items():
        print(f"  {name:12} {share:6.1%}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
