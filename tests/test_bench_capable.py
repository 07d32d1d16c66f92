"""bench/capable_llm.py's summary (from a runner summary shaped like the real one) and
bench/capable_speed.py's stand-in file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from babelrec.llm.gguf import read_header
from tests.llm.gguf_parts import tiny_gguf
from tests.test_bench import load


def comparison(low: float, high: float) -> dict[str, Any]:
    return {
        "n": 5,
        "mean_a": 0.3,
        "mean_b": 0.3 + (low + high) / 2,
        "mean_difference": (low + high) / 2,
        "ci_low": low,
        "ci_high": high,
        "p_value": 0.5,
    }


def test_the_summary_keeps_intervals_timing_and_says_what_clears_zero() -> None:
    bench = load("capable_llm")
    args = argparse.Namespace(alphas=[0.3, 1.0])
    first = {"options": {"weights": "learned"}}
    details: dict[str, Any] = {
        "bilinear-learned": {"config": first, "stats": {}, "metrics": {"ndcg@10": 0.3}},
    }
    for alpha, seconds in ((0.3, 2.5), (1.0, 0.01)):
        details[bench.label("capable", "verbalizer", alpha)] = {
            "config": {"options": {"mode": "verbalizer", "alpha": alpha}},
            "stats": {"seconds_per_request": seconds, "first_shown_wins": 0.4},
            "metrics": {"ndcg@10": 0.32, "auc": 0.6},
        }
    summary = {
        "details": details,
        "comparisons": {
            "against": {
                "capable-verbalizer-a0.3": {
                    "ndcg@10": comparison(0.01, 0.05),
                    "auc": comparison(-0.01, 0.02),
                },
                "capable-verbalizer-a1": {"ndcg@10": comparison(-0.02, 0.01)},
            },
            "pairs": {},
        },
    }
    out = bench.summarise(summary, args)
    assert out["seconds_per_request"] == {"capable-verbalizer": 2.5}  # the uncached alpha
    assert out["any_interval_clears_zero"] == ["capable-verbalizer-a0.3 ndcg@10"]
    assert out["best_by_ndcg10"] == "capable-verbalizer-a0.3"
    assert out["rankers"]["capable-verbalizer-a0.3"]["model"] == "capable"


def test_the_standin_keeps_the_header_and_has_the_full_size(tmp_path: Path) -> None:
    data = tiny_gguf()
    part = tmp_path / "part"
    header = len(data) - 24 * 4  # the one F32 tensor of 24 values comes last
    part.write_bytes(data[:header])
    out = load("capable_speed").standin(part, len(data), tmp_path / "s.gguf")
    assert out.read_bytes() == data[:header] + bytes(24 * 4)
    assert read_header(out).expected_size == len(data)
