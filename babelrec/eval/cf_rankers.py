"""Classic collaborative baselines and babelrec's hybrid first stage as eval rankers.

What they learn from: every user's history as given in the cases (train and test users alike,
as `PopularityRanker` counts them; a history is an input at test time), and the training users'
positives where the dataset's interactions hold them (so not in the new-item protocol, whose
new items have no interactions, nor MIND's impression clicks). The test users' positives are
never seen. Hyperparameters are tuned on the training
users: each grid point is fitted without the training positives and scored by nDCG@10 on
(a sample of) the training cases; the best is refitted with them.

The hybrid (`HybridEvalRanker`) learns its fusion weights out of sample, on the training users:
their content scores come from bilinear rankers cross-fitted on the other half of the training
users, their collaborative scores from the model fitted without any training positives. Both are
then refitted on all training users for the test users.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from babelrec.errors import ConfigError
from babelrec.eval.metrics import ranking_metrics
from babelrec.eval.protocols import EvalCase
from babelrec.eval.rankers import BilinearEvalRanker, EvalContext, EvalRanker
from babelrec.rank.collaborative import CollaborativeModel, build_collaborative
from babelrec.rank.hybrid import (
    FITTED_ONCE,
    RECENT_ITEMS,
    RECURRENT_PARAMS,
    HybridRanker,
    bridge_history,
    candidate_features,
    fit_helpers,
    helper_specs,
    learn_tuned_fusion,
)

#: Grids tried per model when an experiment gives none.
GRIDS: dict[str, dict[str, list[Any]]] = {
    "itemknn": {"neighbours": [20, 50, 100, 200, 400]},
    "ease": {"l2": [50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0]},
    "als": {"factors": [32, 64, 128], "alpha": [2.0, 10.0], "regularization": [0.05]},
    "rp3beta": {"alpha": [0.5, 1.0], "beta": [0.2, 0.4, 0.6], "neighbours": [100, 200]},
    "sequence": {"window": [3, 10], "recent": [3, 5, 10]},
    # the hybrid's GRU helper alone: its parameters, with the epochs tuned
    "gru4rec": {**{k: [v] for k, v in RECURRENT_PARAMS.items()}, "epochs": [10, 20]},
}
MAX_TUNING_CASES = 3000
THREADS = 2


def user_lists(
    cases: Sequence[EvalCase], positives_in: set[tuple[str, str]] | None = None
) -> list[list[str]]:
    """Each user's items (union over their cases): histories, and the positives that are in
    `positives_in` (user, item) when given."""
    by_user: dict[str, dict[str, None]] = {}
    for case in cases:
        items = by_user.setdefault(case.user_id, {})
        items.update(dict.fromkeys(case.history))
        if positives_in is not None:
            items.update(
                dict.fromkeys(
                    p for p in sorted(case.positives) if (case.user_id, p) in positives_in
                )
            )
    return [list(items) for items in by_user.values() if items]


def _sample(cases: Sequence[EvalCase], n: int, seed: int) -> list[EvalCase]:
    if len(cases) <= n:
        return list(cases)
    picked = np.random.default_rng(seed).choice(len(cases), size=n, replace=False)
    return [cases[i] for i in sorted(picked)]


def ranked_last(model: CollaborativeModel, history: Sequence[str], items: Sequence[str]) -> Any:
    """The model's scores, with the items it never saw below all the others (its scores can be
    negative, and 0 would put never-seen items above the known ones it dislikes)."""
    scores = model.score(history, items)
    known = model.knows(items)
    if known.any() and not known.all():
        scores[~known] = scores[known].min() - 1.0
    return scores


def _ndcg(model: CollaborativeModel, cases: Sequence[EvalCase]) -> float:
    values = [
        ranking_metrics(
            c.candidates, ranked_last(model, c.history, c.candidates).tolist(), c.positives
        )["ndcg@10"]
        for c in cases
    ]
    return float(np.mean(values)) if values else float("nan")


def tune(
    name: str, grid: dict[str, list[Any]], context: EvalContext
) -> tuple[dict[str, Any], CollaborativeModel, dict[str, float]]:
    """Best parameters on the training users, the model fitted with them without the training
    positives, and the validation nDCG@10 of every grid point."""
    fit_lists = user_lists([*context.train_cases, *context.test_cases])
    validation = _sample(context.train_cases, MAX_TUNING_CASES, context.seed)
    best: tuple[float, dict[str, Any], CollaborativeModel] | None = None
    tried: dict[str, float] = {}
    keys = sorted(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        params = dict(zip(keys, values, strict=True))
        if name == "als":
            params.setdefault("seed", context.seed)
        model = build_collaborative(name, params).fit(fit_lists, threads=THREADS)
        value = _ndcg(model, validation)
        tried[",".join(f"{k}={v}" for k, v in sorted(params.items()))] = value
        if best is None or value > best[0]:
            best = (value, params, model)
    if best is None:
        raise ConfigError(f"{name}: the tuning grid is empty")
    return best[1], best[2], tried


def refit(name: str, params: dict[str, Any], context: EvalContext) -> CollaborativeModel:
    """The model fitted with the training users' positives (those in the interactions) added."""
    observed = {(r.user_id, r.item_id) for r in context.dataset.interactions}
    lists = user_lists(context.train_cases, observed) + user_lists(context.test_cases)
    return build_collaborative(name, params).fit(lists, threads=THREADS)


class CollaborativeEvalRanker(EvalRanker):
    """A collaborative baseline (`itemknn`, `ease`, `als`, `rp3beta`, `sequence`, `gru4rec`), tuned
    on the training users.
    Items it never saw are ranked below every item it knows."""

    def __init__(self, model: str = "ease", grid: dict[str, list[Any]] | None = None) -> None:
        if model not in GRIDS:
            raise ConfigError(f"unknown collaborative model {model!r}; choose one of {list(GRIDS)}")
        self.name = model
        self.grid = grid or GRIDS[model]
        self.model: CollaborativeModel | None = None
        self.figures: dict[str, float] = {}

    def prepare(self, context: EvalContext) -> None:
        started = time.perf_counter()
        params, _, tried = tune(self.name, self.grid, context)
        self.model = refit(self.name, params, context)
        self.figures = {f"tuned {k}": float(v) for k, v in params.items() if k != "seed"}
        self.figures["validation ndcg@10"] = max(tried.values())
        self.figures["train seconds"] = time.perf_counter() - started

    def score(self, case: EvalCase, context: EvalContext) -> list[float]:
        assert self.model is not None, "prepare() first"
        return [float(x) for x in ranked_last(self.model, case.history, case.candidates)]

    def stats(self) -> dict[str, float]:
        return dict(self.figures)


def _fold(user_id: str, folds: int, seed: int) -> int:
    digest = hashlib.sha256(f"fold:{seed}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:4], "little") % folds


class HybridEvalRanker(EvalRanker):
    """babelrec's hybrid: the bilinear content score, a tuned collaborative model and the
    popularity prior, fused with weights learned on training users (see the module docstring).

    `bridge`: cosine threshold for mapping history items the collaborative model does not know to
    their nearest known item (`babelrec.rank.hybrid.bridge_history`); None turns it off.
    `sequence` (sequence rules from the last `recent_items`), `graph` (RP3beta from the last
    items) and `recurrent` (the GRU next-item model): each True for its defaults
    (`babelrec.rank.hybrid.HELPER_MODELS`), a dict of parameters over them, or False.
    """

    def __init__(
        self,
        collaborative: str = "ease",
        grid: dict[str, list[Any]] | None = None,
        content: dict[str, Any] | None = None,
        folds: int = 2,
        recent_items: int = RECENT_ITEMS,
        bridge: float | None = None,
        sequence: dict[str, Any] | bool = True,
        graph: dict[str, Any] | bool = True,
        recurrent: dict[str, Any] | bool = True,
    ) -> None:
        if collaborative not in GRIDS:
            raise ConfigError(f"unknown collaborative model {collaborative!r}")
        if folds < 2:
            raise ConfigError(f"folds must be at least 2, not {folds}")
        self.name = collaborative
        self.grid = grid or GRIDS[collaborative]
        self.content_options = content or {"weights": "learned", "epochs": 5}
        self.folds = folds
        self.recent_items = recent_items
        self.bridge = bridge
        #: field -> (registry name, parameters) of each helper model that is on
        self.helpers = helper_specs({"sequence": sequence, "graph": graph, "recurrent": recurrent})
        if "sequence" in self.helpers:
            self.helpers["sequence"][1]["recent"] = recent_items
        self.hybrid: HybridRanker | None = None
        self.content: BilinearEvalRanker | None = None
        self.figures: dict[str, float] = {}

    def _history(self, case: EvalCase, model: CollaborativeModel, context: EvalContext) -> Any:
        if self.bridge is None:
            return case.history
        return bridge_history(case.history, model, context.vectors, threshold=self.bridge)

    def _helpers(self, context: EvalContext) -> dict[str, CollaborativeModel]:
        """The helper models fitted like the collaborative one, without the training positives,
        for the fusion's features."""
        lists = user_lists([*context.train_cases, *context.test_cases])
        return fit_helpers(self.helpers, lists, threads=THREADS)

    def _refitted(
        self, held_out: dict[str, CollaborativeModel], context: EvalContext
    ) -> dict[str, CollaborativeModel]:
        """For the test users: refitted with the training positives, except those fitted once
        (`babelrec.rank.hybrid.FITTED_ONCE`, as `babelrec train` does)."""
        return {
            slot: held_out[slot] if slot in FITTED_ONCE else refit(name, params, context)
            for slot, (name, params) in self.helpers.items()
        }

    def prepare(self, context: EvalContext) -> None:
        started = time.perf_counter()
        params, held_out_model, _ = tune(self.name, self.grid, context)
        held_out_helpers = self._helpers(context)
        chosen = _sample(context.train_cases, MAX_TUNING_CASES, context.seed)
        fold_of = {c.user_id: _fold(c.user_id, self.folds, context.seed) for c in chosen}
        lists = []
        for fold in range(self.folds):
            content = BilinearEvalRanker(**self.content_options)
            others = [c for c in context.train_cases if fold_of.get(c.user_id, -1) != fold]
            content.prepare(replace(context, train_cases=others))
            for case in chosen:
                if fold_of[case.user_id] != fold:
                    continue
                scores = np.asarray(content.score(case, context))
                history = self._history(case, held_out_model, context)
                features = candidate_features(
                    held_out_model,
                    scores,
                    history,
                    case.candidates,
                    self.recent_items,
                    held_out_helpers,
                )
                labels = np.array([c in case.positives for c in case.candidates])
                lists.append((features, labels))
        fusion = learn_tuned_fusion(lists, seed=context.seed, recent_items=self.recent_items)

        self.content = BilinearEvalRanker(**self.content_options)
        self.content.prepare(context)
        self.hybrid = HybridRanker(
            refit(self.name, params, context), fusion, self._refitted(held_out_helpers, context)
        )
        self.figures = {f"tuned {k}": float(v) for k, v in params.items() if k != "seed"}
        self.figures.update(
            {f"w_{f}": w for f, w in zip(fusion.features, fusion.weights, strict=True)}
        )
        self.figures["fusion lists"] = float(fusion.lists)
        self.figures["train seconds"] = time.perf_counter() - started

    def score(self, case: EvalCase, context: EvalContext) -> list[float]:
        assert self.hybrid is not None and self.content is not None, "prepare() first"
        content = np.asarray(self.content.score(case, context))
        history = self._history(case, self.hybrid.collaborative, context)
        return [float(x) for x in self.hybrid.score(content, history, case.candidates)]

    def stats(self) -> dict[str, float]:
        return dict(self.figures)


def itemknn(grid: dict[str, list[Any]] | None = None) -> CollaborativeEvalRanker:
    """Eval ranker ``itemknn``: cosine item-item neighbours, tuned on the training users."""
    return CollaborativeEvalRanker("itemknn", grid)


def ease(grid: dict[str, list[Any]] | None = None) -> CollaborativeEvalRanker:
    """Eval ranker ``ease``: EASE, its L2 tuned on the training users."""
    return CollaborativeEvalRanker("ease", grid)


def als(grid: dict[str, list[Any]] | None = None) -> CollaborativeEvalRanker:
    """Eval ranker ``als``: implicit ALS, tuned on the training users."""
    return CollaborativeEvalRanker("als", grid)


def rp3beta(grid: dict[str, list[Any]] | None = None) -> CollaborativeEvalRanker:
    """Eval ranker ``rp3beta``: RP3beta random walks, tuned on the training users."""
    return CollaborativeEvalRanker("rp3beta", grid)


def gru4rec(grid: dict[str, list[Any]] | None = None) -> CollaborativeEvalRanker:
    """Eval ranker ``gru4rec``: the GRU next-item model alone (the hybrid's `recurrent` helper),
    its epochs tuned on the training users."""
    return CollaborativeEvalRanker("gru4rec", grid)


def sequence(grid: dict[str, list[Any]] | None = None) -> CollaborativeEvalRanker:
    """Eval ranker ``sequence``: sequence rules (what users took next after the last items),
    tuned on the training users."""
    return CollaborativeEvalRanker("sequence", grid)
