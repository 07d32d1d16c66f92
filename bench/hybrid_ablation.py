"""Which features the hybrid fuses, decided on the training users only.

Builds an experiment's cases as `babelrec eval` does, then, on the training users alone: content
scores from bilinear rankers cross-fitted on the other half of them, collaborative scores from
models fitted on every user's history but no target, and the fusion learned on one half of the
training users and measured (HitRate@10, nDCG@10) on the other, both ways, for three splits.
The test users' targets are never read.

    python bench/hybrid_ablation.py babelrec/eval/experiments/ml100k.yaml \
        --out docs/results/hybrid_ablation/ml100k.json
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from babelrec.eval.cf_rankers import MAX_TUNING_CASES, _fold, user_lists
from babelrec.eval.experiment import load_experiment
from babelrec.eval.prepare import prepared_dataset, resolve_data_dir
from babelrec.eval.protocols import EvalCase
from babelrec.eval.rankers import BilinearEvalRanker, EvalContext
from babelrec.eval.runner import make_cases, split_cases
from babelrec.rank.collaborative import CollaborativeModel, build_collaborative
from babelrec.rank.hybrid import FEATURES, candidate_features, helper_specs, learn_fusion
from babelrec.retrieval.embedders import build_embedder
from babelrec.retrieval.ingest import embed_in_batches
from babelrec.settings import DEFAULT_CACHE_DIR

Lists = list[tuple[np.ndarray, np.ndarray, str]]  # features, labels, user
#: Other collaborative models' scores, as columns after FEATURES (free-signed weights).
EXTRA = ("als", "itemknn", "rp3beta")


def context_for(path: Path) -> EvalContext:
    experiment = load_experiment(path)
    dataset = prepared_dataset(experiment, resolve_data_dir(experiment, None), DEFAULT_CACHE_DIR)
    cases = make_cases(experiment, dataset, DEFAULT_CACHE_DIR).cases
    train, test = split_cases(cases, experiment.test_fraction, experiment.seed)
    needed = sorted({i for c in [*train, *test] for i in [*c.history, *c.candidates]})
    needed = [i for i in needed if i in dataset.items]
    embedder = build_embedder(experiment.embedder, cache_dir=DEFAULT_CACHE_DIR / "embeddings")
    texts = [dataset.items[i].embedding_text() for i in needed]
    matrix = embed_in_batches(embedder, texts, progress=False)
    vectors = dict(zip(needed, matrix, strict=True))
    return EvalContext(dataset, vectors, train, experiment.seed, test)


def cross_fitted_content(context: EvalContext, chosen: list[EvalCase]) -> dict[str, np.ndarray]:
    fold_of = {c.user_id: _fold(c.user_id, 2, context.seed) for c in chosen}
    content = {}
    for fold in (0, 1):
        ranker = BilinearEvalRanker(weights="learned", epochs=5)
        others = [c for c in context.train_cases if fold_of.get(c.user_id, -1) != fold]
        ranker.prepare(replace(context, train_cases=others))
        for case in chosen:
            if fold_of[case.user_id] == fold:
                content[case.case_id] = np.asarray(ranker.score(case, context))
    return content


def zscored(model: CollaborativeModel, case: EvalCase) -> np.ndarray:
    scores = model.score(case.history, case.candidates).astype(np.float64)
    known = model.knows(case.candidates)
    out = np.zeros(len(scores))
    if known.sum() > 1 and scores[known].std() > 1e-12:
        out[known] = (scores[known] - scores[known].mean()) / scores[known].std()
    return out


def cross_validated(lists: Lists, l2: float, seeds: int = 3) -> dict[str, float]:
    """Fusion learned on one half of the users, measured on the other; mean over `seeds`."""
    hits, ndcgs = [], []
    for seed in range(1, seeds + 1):
        for half in (0, 1):
            train = [(f, y) for f, y, u in lists if _fold(u, 2, seed) != half]
            others = train[0][0].shape[1] - len(FEATURES)
            names = [*FEATURES, *(f"other{k}" for k in range(others))]
            weights = np.asarray(learn_fusion(train, l2=l2, names=names).weights)
            for features, labels, user in lists:
                if _fold(user, 2, seed) == half:
                    scores = features @ weights
                    target = scores[labels].max()
                    rank = int((scores[~labels] >= target).sum())
                    hits.append(float(rank < 10))
                    ndcgs.append(1.0 / np.log2(rank + 2) if rank < 10 else 0.0)
    return {"hit@10": float(np.mean(hits)), "ndcg@10": float(np.mean(ndcgs))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("experiment", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    context = context_for(args.experiment)
    chosen = context.train_cases[:MAX_TUNING_CASES]
    content = cross_fitted_content(context, chosen)
    fit_lists = user_lists([*context.train_cases, *context.test_cases])

    def fit(name: str, params: dict[str, Any]) -> CollaborativeModel:
        return build_collaborative(name, params).fit(fit_lists)

    helpers = {slot: fit(name, params) for slot, (name, params) in helper_specs().items()}
    recurrent_params = helper_specs()["recurrent"][1]
    recurrent_variants = {
        label: fit("gru4rec", {**recurrent_params, **change})
        for label, change in {
            "GRU seed 1": {"seed": 1},
            "GRU seed 2": {"seed": 2},
            "GRU 10 epochs": {"epochs": 10},
            "GRU 3 members": {"members": 3},
        }.items()
    }
    models = {
        "ease": fit("ease", {"l2": 500.0}),
        "als": fit("als", {"factors": 64, "alpha": 10.0, "seed": 0}),
        "itemknn": fit("itemknn", {"neighbours": 100}),
        "rp3beta": fit("rp3beta", {"alpha": 1.0, "beta": 0.6, "neighbours": 200}),
    }

    def lists(
        main: str = "ease",
        recent: int = 5,
        drop: tuple[str, ...] = (),
        extra: tuple[str, ...] = (),
        recurrent: str | None = None,
    ) -> Lists:
        out = []
        used = (
            helpers
            if recurrent is None
            else {**helpers, "recurrent": recurrent_variants[recurrent]}
        )
        for case in chosen:
            features = candidate_features(
                models[main],
                content[case.case_id],
                case.history,
                case.candidates,
                recent,
                used,
            )
            for name in drop:  # a column of zeros gets weight 0: the feature is left out
                features[:, FEATURES.index(name)] = 0.0
            columns = [features, *[zscored(models[e], case)[:, None] for e in EXTRA if e in extra]]
            labels = np.array([c in case.positives for c in case.candidates])
            out.append((np.concatenate(columns, axis=1), labels, case.user_id))
        return out

    newer = ("graph_last", "recurrent")  # the item graph and the GRU, added last
    variants: dict[str, Callable[[], Lists]] = {
        "before: recent 20, no sequence, no last": lambda: lists(
            recent=20, drop=("sequence", "collaborative_last", *newer)
        ),
        "recent 5": lambda: lists(drop=("sequence", "collaborative_last", *newer)),
        "recent 5 + sequence": lambda: lists(drop=("collaborative_last", *newer)),
        "recent 5 + sequence + last": lambda: lists(drop=newer),
        "+ graph_last": lambda: lists(drop=("recurrent",)),
        "+ recurrent (GRU)": lambda: lists(drop=("graph_last",)),
        "+ graph_last + recurrent (shipped)": lambda: lists(),
        **{
            f"shipped, {label}": (lambda label=label: lists(recurrent=label))
            for label in recurrent_variants
        },
        "shipped + als": lambda: lists(extra=("als",)),
        "shipped + itemknn": lambda: lists(extra=("itemknn",)),
        "shipped + rp3beta": lambda: lists(extra=("rp3beta",)),
        "shipped + als + itemknn + rp3beta": lambda: lists(extra=("als", "itemknn", "rp3beta")),
        "shipped, als as the collaborative model": lambda: lists(main="als"),
        "shipped, rp3beta as the collaborative model": lambda: lists(main="rp3beta"),
        "shipped, no content": lambda: lists(drop=("content",)),
    }
    results: dict[str, Any] = {}
    for label, build in variants.items():
        built = build()
        results[label] = cross_validated(built, l2=1e-2)
        if label.endswith("(shipped)"):
            for l2 in (1e-3, 1e-1):
                results[f"shipped, fusion l2 {l2:g}"] = cross_validated(built, l2=l2)
    for label, row in results.items():
        print(f"{label:48s} HitRate@10 {row['hit@10']:.3f}  nDCG@10 {row['ndcg@10']:.3f}")
    payload = {
        "experiment": str(args.experiment),
        "training_users": len(chosen),
        "protocol": "fusion learned on half the training users, measured on the other half, "
        "both ways, 3 splits; content cross-fitted; collaborative models fitted without targets",
        "collaborative_params": {name: model.params for name, model in models.items()},
        "helper_params": {slot: model.params for slot, model in helpers.items()},
        "results": results,
        "seconds": time.perf_counter() - started,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
