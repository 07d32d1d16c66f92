"""How much slower a capable model is than the packaged gemma3, measured in one run.

Prompt evaluation dominates a verbalizer request (one forward pass over a long prompt), so the
ratio of prompt-evaluation speeds, measured alternately on the same machine in the same run,
turns gemma3's measured seconds per request into a projection for the capable model.

When the capable model's parts are not all at hand, `--standin PART0000` times a same-shape
stand-in: the first part's bytes (the GGUF header with every tensor's shape and type) and zeros
after them, up to the full size (a sparse file). llama.cpp's kernels do the same work whatever
the weights' values, so the speed is the real model's; its outputs mean nothing.

    python bench/capable_speed.py --standin /path/to/model_part_0000 --tokens 64 --repeats 2

Writes bench/results/capable_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from babelrec.llm.catalog import known_model
from babelrec.llm.install import installed_model
from babelrec.llm.local import packaged_model_path
from babelrec.settings import DEFAULT_CACHE_DIR

RESULTS = Path(__file__).parent / "results" / "capable_speed.json"
TEXT = "中超联赛第三十轮：上海海港主场三比一战胜北京国安，提前两轮锁定联赛冠军。" * 40


def standin(first_part: Path, size: int, out: Path) -> Path:
    """The first part's bytes, then zeros up to `size` (sparse)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with first_part.open("rb") as source, out.open("wb") as target:
        while block := source.read(8 << 20):
            target.write(block)
        target.truncate(size)
    return out


def prompt_seconds(model: Any, tokens: list[int]) -> float:
    """Seconds to evaluate `tokens` from an empty KV cache."""
    model.reset()
    started = time.perf_counter()
    model.eval(tokens)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="deepseek-r1-distill-qwen-7b")
    parser.add_argument("--model-path", type=Path, help="The capable GGUF (default: installed).")
    parser.add_argument("--standin", type=Path, help="The first part file: time a stand-in.")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", type=Path, default=DEFAULT_CACHE_DIR / "bench" / "capable")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    from llama_cpp import Llama

    known = known_model(args.model)
    if args.standin:
        assert known.size is not None
        capable = standin(args.standin, known.size, args.work / "standin.gguf")
    else:
        capable = args.model_path or installed_model(known, DEFAULT_CACHE_DIR / "models")
        if capable is None:
            sys.exit(f"{args.model} is not installed: babelrec models install {args.model}")
    paths = {"gemma3": packaged_model_path("gemma3", DEFAULT_CACHE_DIR), "capable": capable}
    models = {
        name: Llama(
            model_path=str(path),
            n_ctx=max(512, args.tokens + 8),
            n_batch=512,
            n_threads=args.threads,
            n_threads_batch=args.threads,
            verbose=False,
        )
        for name, path in paths.items()
    }
    tokens = {
        name: model.tokenize(TEXT.encode("utf-8"), add_bos=True)[: args.tokens]
        for name, model in models.items()
    }
    seconds: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.repeats):  # alternately, so both see the same machine load
        for name, model in models.items():
            seconds[name].append(prompt_seconds(model, tokens[name]))
    best = {name: min(values) for name, values in seconds.items()}
    result = {
        "command": "python bench/capable_speed.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "capable": str(capable),
        "standin": bool(args.standin),
        "tokens": {name: len(t) for name, t in tokens.items()},
        "threads": args.threads,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "seconds": seconds,
        "tokens_per_second": {name: len(tokens[name]) / best[name] for name in models},
        "capable_over_gemma3": best["capable"] / best["gemma3"],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
