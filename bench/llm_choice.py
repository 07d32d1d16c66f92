"""Choose the default local model and fusion weight by a small measurement on the demo catalog.

Dev cases: one user per prompt locale with stated interests; an item is relevant when it shares a
concept (bench/concepts.yaml, a small hand-made lexicon for this bench only) with the interests.
That is a proxy label, small and hand-made: read the numbers as a sanity check, not an evaluation.
For each packaged model:
- nDCG@5 of the verbalizer-fused list for alpha in ALPHAS (alpha = 0 is the first stage), from one
  LLM pass per user (the fusion is recomputed offline for each alpha);
- the share of its own explanation sentences for Chinese users written in Chinese script, and the
  share that passes the language + relevance check.

    python bench/llm_choice.py          # writes bench/results/llm_choice.json
    python bench/llm_choice.py --models gemma3 --calibrate --skip-explain
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from babelrec.explain.evidence import EmbeddedVectors
from babelrec.explain.explainer import Explainer, find_evidence
from babelrec.i18n.script import matches_language
from babelrec.io.catalog import demo_catalog_path
from babelrec.llm.local import LlamaCppLLM, packaged_model_path
from babelrec.models import Item, UserProfile
from babelrec.pipeline.recommender import Recommender
from babelrec.prompts.loader import PromptLoader
from babelrec.rerank import RerankConfig, build_reranker
from babelrec.rerank.fusion import minmax
from babelrec.settings import DEFAULT_CACHE_DIR, Settings

ALPHAS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
USERS = [
    UserProfile(language="zh", region="CN", interests="我喜欢足球和篮球"),
    UserProfile(language="en", region="US", interests="space science and astronomy"),
    UserProfile(language="es", region="MX", interests="Me encanta la cocina y los festivales"),
    UserProfile(language="ja", region="JP", interests="野球と旅行が好きです"),
    UserProfile(language="ko", region="KR", interests="전기차와 기술 뉴스"),
    UserProfile(language="ar", region="EG", interests="أحب كرة القدم والسفر"),
]
ZH_USERS = [
    UserProfile(language="zh", region="CN", interests="我喜欢足球"),
    UserProfile(language="zh", region="CN", interests="我关注美食和旅行"),
]
RESULTS = Path(__file__).parent / "results" / "llm_choice.json"


@dataclass(frozen=True)
class Concept:
    name: str
    tags: frozenset[str]
    words: tuple[str, ...]


@cache
def concepts() -> tuple[Concept, ...]:
    data = yaml.safe_load((Path(__file__).parent / "concepts.yaml").read_text(encoding="utf-8"))
    return tuple(
        Concept(name, frozenset(t.lower() for t in spec["tags"]), tuple(spec["words"]))
        for name, spec in data.items()
    )


def item_concepts(item: Item) -> set[str]:
    keys = {t.lower() for t in item.tags} | {item.category or ""}
    return {c.name for c in concepts() if c.tags & keys or c.name == item.category}


def wanted(user: UserProfile) -> set[str]:
    return {c.name for c in concepts() if any(w.lower() in user.interests.lower() for w in c.words)}


def ndcg(ranked: list[Item], relevant: set[str], k: int = 5) -> float:
    gains = [1.0 if item.id in relevant else 0.0 for item in ranked[:k]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


def measure(
    model: str, rec: Recommender, *, calibrate: bool = False, explain: bool = True
) -> dict[str, Any]:
    path = packaged_model_path(model, DEFAULT_CACHE_DIR)  # type: ignore[arg-type]
    llm = LlamaCppLLM(path, n_ctx=4096, n_threads=2)
    reranker = build_reranker(
        "verbalizer", llm, RerankConfig(top=20, alpha=1.0, timeout=None, calibrate=calibrate)
    )
    per_alpha = {alpha: 0.0 for alpha in ALPHAS}
    wins = 0.0
    started = time.perf_counter()
    for user in USERS:
        candidates, _ = rec.first_stage(user, n=20)
        relevant = {c.item.id for c in candidates if item_concepts(c.item) & wanted(user)}
        result = reranker.rerank(user, candidates)
        wins += (result.first_position_wins or 0.0) / len(USERS)
        llm_scores = {c.item.id: c.scores.llm or 0.0 for c in result.candidates}
        first = minmax({c.item.id: c.scores.bilinear or 0.0 for c in candidates})
        for alpha in ALPHAS:
            order = sorted(
                candidates,
                key=lambda c: -(alpha * llm_scores[c.item.id] + (1 - alpha) * first[c.item.id]),
            )
            per_alpha[alpha] += ndcg([c.item for c in order], relevant) / len(USERS)
    rerank_seconds = (time.perf_counter() - started) / len(USERS)
    row: dict[str, Any] = {
        "model": model,
        "calibrate": calibrate,
        "ndcg@5": {str(a): round(v, 4) for a, v in per_alpha.items()},
        "first_position_wins": wins,
        "verbalizer_seconds_per_user": rerank_seconds,
    }
    if not explain:
        llm.close()
        return row
    explainer, template = Explainer(llm), PromptLoader().load("explain", "zh")
    drafts, in_script, accepted = 0, 0, 0
    started = time.perf_counter()
    for user in ZH_USERS:
        items = [c.item for c in rec.first_stage(user, n=3)[0]]
        evidence = find_evidence(user, items, [], template, EmbeddedVectors(rec.embedder))
        texts = explainer.drafts(user, items, [], template, evidence)
        drafts += len(items)
        in_script += sum(matches_language(t, "zh") for t in texts.values())
        accepted += sum(
            Explainer.acceptable(texts[i.id], user, i, found, template)
            for i, found in zip(items, evidence, strict=True)
            if i.id in texts
        )
    llm.close()
    return row | {
        "zh_drafts": drafts,
        "zh_drafts_in_chinese_script": in_script,
        "zh_drafts_accepted": accepted,
        "explain_seconds_per_user": (time.perf_counter() - started) / len(ZH_USERS),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["gemma3", "smollm2"])
    parser.add_argument("--calibrate", action="store_true", help="verbalizer label calibration")
    parser.add_argument("--skip-explain", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rec = Recommender.from_settings(
            Settings(data_dir=tmp, llm={"backend": "none"})
        )  # default embedder
        rec.ingest(demo_catalog_path())
        rows = [
            measure(m, rec, calibrate=args.calibrate, explain=not args.skip_explain)
            for m in args.models
        ]
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
