"""End-to-end latency of an explained recommendation (retrieve, rank, rerank, explain) with the
default local LLM on the demo catalog: p50, p95 and each stage's share of the time.

The LLM response cache is off so every request really runs the model. Writes
bench/results/end_to_end.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=len(REQUESTS))
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "end_to_end.json")
    args = parser.parse_args()

    from babelrec.io.catalog import demo_catalog_path
    from babelrec.models import UserProfile
    from babelrec.pipeline.recommender import Recommender

    with tempfile.TemporaryDirectory() as tmp:
        rec = Recommender.from_settings(data_dir=Path(tmp), llm={"cache": False})
        rec.ingest(demo_catalog_path())
        # load the models outside the timings
        rec.recommend(UserProfile(language="en", interests="warm up"), k=args.k)
        totals, stages = [], []
        degraded = 0
        for language, interests in (REQUESTS * 3)[: args.requests]:
            started = time.perf_counter()
            result = rec.recommend(UserProfile(language=language, interests=interests), k=args.k)
            totals.append(time.perf_counter() - started)
            stages.append(result.timings)
            degraded += int(result.degraded)
            print(f"{language} {totals[-1]:6.2f}s {result.ranker} degraded={result.degraded}")

    names = ["user_vector", "retrieve", "rank", "rerank", "explain"]
    total_time = sum(totals)
    shares = {n: sum(s.get(n, 0.0) for s in stages) / total_time for n in names}
    shares["other"] = max(0.0, 1.0 - sum(shares.values()))
    report = {
        "requests": len(totals),
        "k": args.k,
        "llm": rec.settings.llm,
        "reranker": rec.settings.reranker,
        "p50_s": float(np.percentile(totals, 50)),
        "p95_s": float(np.percentile(totals, 95)),
        "stage_share": shares,
        "degraded": degraded,
    }
    print(f"p50 {report['p50_s']:.2f}s  p95 {report['p95_s']:.2f}s over {len(totals)} requests")
    for name, share in shares.items():
        print(f"  {name:12} {share:6.1%}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
