"""Benchmark the LLM rerankers with the default local model: seconds per request by list size.

For each mode (verbalizer, listwise, pointwise) the same requests run through `Reranker.rerank` on
the bundled demo catalog (first stage: the hashing embedder, since only LLM cost is measured here),
with the response cache off. Reports seconds per request, prompt and completion tokens per request,
how many prompt tokens llama.cpp's prefix cache let it skip and, for some modes, the time with
that cache emptied before every call; the speed-up of verbalizer over listwise (goal >= 5x); and
for verbalizer with shuffled orderings, the first-position-win rate.

    python bench/rerank.py                        # writes bench/results/rerank.json
    python bench/rerank.py --model smollm2 --candidates 10
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from babelrec.io.catalog import demo_catalog_path
from babelrec.llm.local import LlamaCppLLM, packaged_model_path
from babelrec.models import UserProfile
from babelrec.pipeline.recommender import Recommender
from babelrec.rerank import RerankConfig, build_reranker
from babelrec.settings import DEFAULT_CACHE_DIR, Settings

USERS = [
    UserProfile(language="zh", region="CN", interests="我喜欢足球和篮球，也关注人工智能"),
    UserProfile(language="es", region="MX", interests="Me encanta la cocina tradicional"),
    UserProfile(language="ja", region="JP", interests="宇宙と科学のニュースが好き"),
]
RESULTS = Path(__file__).parent / "results" / "rerank.json"


class NoPrefixCacheLLM(LlamaCppLLM):
    """The same model with llama.cpp's prompt-prefix (KV) cache emptied before every call, to
    measure what the cache saves."""

    def _reused_prefix(self, tokens: Sequence[int]) -> int:
        self.llama.reset()
        return 0


def run_mode(
    llm: LlamaCppLLM, rec: Recommender, mode: str, requests: int, n: int, shuffles: int = 0
) -> dict[str, Any]:
    config = RerankConfig(top=n, alpha=1.0, shuffles=shuffles, timeout=None)
    reranker = build_reranker(mode, llm, config)
    seconds, wins, degraded = [], [], 0
    before = len(llm.calls)
    for user in USERS[:requests]:
        candidates, _ = rec.first_stage(user, n=n)
        started = time.perf_counter()
        result = reranker.rerank(user, candidates)
        seconds.append(time.perf_counter() - started)
        degraded += result.degraded
        if result.first_position_wins is not None:
            wins.append(result.first_position_wins)
    calls = llm.calls[before:]
    prompt = sum(c.prompt_tokens for c in calls)
    reused = sum(c.prefix_reused_tokens for c in calls)
    return {
        "mode": mode if not shuffles else f"{mode}+{shuffles}shuffles",
        "requests": len(seconds),
        "seconds_per_request": sum(seconds) / len(seconds),
        "llm_calls_per_request": len(calls) / len(seconds),
        "prompt_tokens_per_request": prompt / len(seconds),
        "completion_tokens_per_request": sum(c.completion_tokens for c in calls) / len(seconds),
        "prefix_reused_tokens_per_request": reused / len(seconds),
        "prefix_cache_reused": reused > 0,
        "first_position_wins": sum(wins) / len(wins) if wins else None,
        "degraded": degraded,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="gemma3", help="gemma3, smollm2 or a GGUF path")
    parser.add_argument("--candidates", type=int, nargs="+", default=[20], help="list sizes")
    parser.add_argument(
        "--listwise-max", type=int, default=50, help="skip listwise above this many candidates"
    )
    parser.add_argument(
        "--compare-at", type=int, default=20, help="list size of the verbalizer/listwise ratio"
    )
    parser.add_argument("--requests", type=int, default=2, help="requests per logprob mode")
    parser.add_argument("--listwise-requests", type=int, default=1)
    parser.add_argument("--shuffles", type=int, default=3, help="for the bias figure; 0 skips")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--no-prefix-cache",
        default="verbalizer,pointwise",
        help="modes also timed with the prefix cache off, at the first list size ('' skips)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    path = (
        packaged_model_path(args.model, DEFAULT_CACHE_DIR)
        if args.model in ("gemma3", "smollm2")
        else Path(args.model)
    )
    llm = LlamaCppLLM(path, n_ctx=4096, n_threads=args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=tmp, embedder={"name": "hashing", "cache": False}, llm={"backend": "none"}
        )
        rec = Recommender.from_settings(settings)
        rec.ingest(demo_catalog_path())
        started = time.perf_counter()
        llm.llama  # noqa: B018 - load the model outside the timings
        load_seconds = time.perf_counter() - started
        uncached = NoPrefixCacheLLM(path, n_ctx=4096, n_threads=args.threads, state_cache_mib=0)
        rows = []
        for size in args.candidates:
            modes = [("verbalizer", args.requests, 0), ("pointwise", args.requests, 0)]
            if size <= args.listwise_max:
                modes.append(("listwise", args.listwise_requests, 0))
            if args.shuffles and size == args.candidates[0]:
                modes.append(("verbalizer", args.requests, args.shuffles))
            for mode, requests, shuffles in modes:
                row = run_mode(llm, rec, mode, requests, size, shuffles)
                rows.append({**row, "candidates": size})
            for mode in args.no_prefix_cache.split(",") if size == args.candidates[0] else []:
                if mode:
                    row = run_mode(uncached, rec, mode, args.requests, size)
                    row["mode"] += " (no prefix cache)"
                    rows.append({**row, "candidates": size})
    timed = [size for size in args.candidates if size <= args.listwise_max]
    compared = args.compare_at if args.compare_at in timed else max(timed)
    by_mode = {row["mode"]: row for row in rows if row["candidates"] == compared}
    speedup = (
        by_mode["listwise"]["seconds_per_request"] / by_mode["verbalizer"]["seconds_per_request"]
    )
    cache_effect = {
        row["mode"].split(" ")[0]: row["seconds_per_request"]
        / by_mode[row["mode"].split(" ")[0]]["seconds_per_request"]
        for row in rows
        if row["mode"].endswith("(no prefix cache)") and row["candidates"] == compared
    }
    report = {
        "model": llm.model_id,
        "candidates": args.candidates,
        "speedup_at_candidates": compared,
        "threads": args.threads,
        "load_seconds": load_seconds,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}",
        "rows": rows,
        "verbalizer_speedup_over_listwise": speedup,
        "prefix_cache_speedup": cache_effect,
        "speedup_goal_met": speedup >= 5.0,
    }
    header = (
        f"{'mode':<30}{'cands':>6}{'s/request':>10}{'calls':>7}{'prompt tok':>11}{'gen tok':>9}"
    )
    header += f"{'prefix reused':>15}{'1st-pos wins':>14}{'degraded':>10}"
    print(f"{llm.model_id}, {args.threads} threads")
    print(header)
    for row in rows:
        wins = row["first_position_wins"]
        print(
            f"{row['mode']:<30}{row['candidates']:>6}{row['seconds_per_request']:>10.2f}"
            f"{row['llm_calls_per_request']:>7.1f}{row['prompt_tokens_per_request']:>11.0f}"
            f"{row['completion_tokens_per_request']:>9.0f}"
            f"{row['prefix_reused_tokens_per_request']:>15.0f}"
            f"{'-' if wins is None else f'{wins:.2f}':>14}{row['degraded']:>10}"
        )
    print(f"verbalizer speed-up over listwise at {compared}: {speedup:.1f}x (goal >= 5x)")
    for mode, ratio in cache_effect.items():
        print(f"{mode}: the prefix cache makes it {ratio:.2f}x faster at {compared} candidates")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
