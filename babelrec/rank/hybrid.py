"""The hybrid first stage: content, collaborative and popularity scores fused with weights
learned from training users, with the cold-start cases handled explicitly.

For one user and one candidate list, `fusion_features` turns the three sources into features:
each source is standardised over the list (z-score), collaborative and popularity over the items
the collaborative model knows only, so that

- an item with no interactions (cold) gets 0 for both, which is "average" among the warm items,
  plus a `cold` flag and a `content_cold` term through which the learned weights can move it
  and let content decide its place: with only cold candidates the order is the content order;
- a user with no known history gets collaborative scores of 0 for every item, so the ranking is
  content (the stated interests) plus popularity;
- taste drifts and people take films in runs: besides the whole history, the collaborative model
  also scores the candidates from the last `recent_items` of it (`collaborative_recent`) and
  from the last few items with each one half the weight of the next (`collaborative_last`), and an
  optional sequence model (`babelrec.rank.item_graphs.SequenceRules`: what users took next after
  the same items) scores them from that tail in order (`sequence`), and an optional item graph
  (`babelrec.rank.item_graphs.RP3Beta`, random walks over the user-item graph) scores them from
  the same last items as `collaborative_last` does (`graph_last`): two item-item views of "what
  goes with what I just took" disagree usefully; and an optional learned next-item model
  (`babelrec.rank.sequential.GRU4Rec`) reads the history in order (`recurrent`); the fusion
  weighs them all;
- history items the collaborative model does not know (e.g. the same films catalogued in another
  language) can be bridged to their nearest known item in the multilingual vector space
  (`bridge_history`), so such a user still gets collaborative scores.

`learn_fusion` fits the weights by pairwise logistic regression (each positive against the
negatives of its list), L2-regularised toward 0, so that a feature the training lists never
exercise (e.g. `cold` when no cold item was ever a candidate) stays near 0, and with the
sources' weights kept non-negative.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import Field
from scipy.optimize import minimize

from babelrec.errors import RankerError
from babelrec.models import Strict
from babelrec.rank.collaborative import CollaborativeModel, build_collaborative

FEATURES = (
    "content",
    "collaborative",
    "collaborative_recent",
    "collaborative_last",
    "graph_last",
    "sequence",
    "recurrent",
    "popularity",
    "cold",
    "content_cold",
)
#: The history tail folded in for `collaborative_recent` and `sequence`: 5 beat 20 on the
#: MovieLens-100K training users (README, "The hybrid first stage").
RECENT_ITEMS = 5
#: `collaborative_last`: the last items folded in one by one, weights 1, 1/2, 1/4, ...
LAST_ITEMS = 5
#: The item graph's parameters (`rp3beta`): the best of its grid on the MovieLens-100K training
#: users (`babelrec.eval.cf_rankers.GRIDS`); fixed, not tuned per dataset, to keep training short.
GRAPH_PARAMS: dict[str, float] = {"alpha": 1.0, "beta": 0.6, "neighbours": 200}
#: The next-item model's parameters (`gru4rec`): those the `gru4rec` baseline's grid chose on the
#: MovieLens-100K training users, and the best GRU variant in the fusion on them (README, "The
#: hybrid first stage"); its cost is about linear in `epochs`.
RECURRENT_PARAMS: dict[str, float] = {
    "epochs": 20,
    "batch_size": 128,
    "learning_rate": 1e-2,
    "max_length": 30,
}
#: The optional models beside the collaborative one: the `HybridRanker` field (and file name of
#: a saved model), the registry name in `COLLABORATIVE_MODELS`, and default parameters.
HELPER_MODELS: dict[str, tuple[str, dict[str, float]]] = {
    "sequence": ("sequence", {"window": 10, "recent": RECENT_ITEMS}),
    "graph": ("rp3beta", GRAPH_PARAMS),
    "recurrent": ("gru4rec", RECURRENT_PARAMS),
}
#: Helpers fitted once, on the histories without the held-out targets, and kept for scoring
#: rather than refitted with the targets: the GRU costs most of training, and the targets are
#: one transition per user (1% of MovieLens-100K's); the history it reads at scoring time
#: still ends with the newest item.
FITTED_ONCE = frozenset({"recurrent"})
HelperOptions = Mapping[str, dict[str, Any] | bool]


def _check_helper_names(names: Iterable[str]) -> None:
    unknown = set(names) - set(HELPER_MODELS)
    if unknown:
        raise RankerError(f"unknown helper models {sorted(unknown)}; use {sorted(HELPER_MODELS)}")


def helper_specs(options: HelperOptions | None = None) -> dict[str, tuple[str, dict[str, Any]]]:
    """Which helper models to fit, as {field: (registry name, parameters)}: each of
    `HELPER_MODELS` on with its defaults unless `options` turns it off (False) or overrides some
    of its parameters (a dict)."""
    options = options or {}
    _check_helper_names(options)
    specs: dict[str, tuple[str, dict[str, Any]]] = {}
    for slot, (name, defaults) in HELPER_MODELS.items():
        given = options.get(slot, True)
        if given is not False:
            specs[slot] = (name, {**defaults, **({} if given is True else given)})
    return specs


def fit_helpers(
    specs: Mapping[str, tuple[str, dict[str, Any]]],
    histories: Sequence[Sequence[str]],
    threads: int = 2,
) -> dict[str, CollaborativeModel]:
    """The helper models of `specs` (`helper_specs`), each fitted on `histories`."""
    return {
        slot: build_collaborative(name, params).fit(histories, threads=threads)
        for slot, (name, params) in specs.items()
    }


#: The sources, whose weights are kept non-negative; the cold-start terms are free.
MONOTONE = frozenset(FEATURES) - {"cold", "content_cold"}


def _zscore(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = np.zeros(len(values), dtype=np.float64)
    if mask.sum() < 2:
        return out
    chosen = values[mask].astype(np.float64)
    std = float(chosen.std())
    if std > 1e-12:
        out[mask] = (chosen - chosen.mean()) / std
    return out


def fusion_features(
    content: np.ndarray,
    collaborative: np.ndarray,
    recent: np.ndarray,
    popularity: np.ndarray,
    known: np.ndarray,
    sequence: np.ndarray | None = None,
    last: np.ndarray | None = None,
    graph_last: np.ndarray | None = None,
    recurrent: np.ndarray | None = None,
) -> np.ndarray:
    """One row of `FEATURES` per candidate (see the module docstring); without a sequence
    model, item graph or next-item model their columns are 0, and without `last` scores that
    column is `recent`'s."""
    n = len(content)
    sequence = np.zeros(n) if sequence is None else sequence
    graph_last = np.zeros(n) if graph_last is None else graph_last
    recurrent = np.zeros(n) if recurrent is None else recurrent
    last = recent if last is None else last
    sizes = {
        len(collaborative),
        len(recent),
        len(last),
        len(graph_last),
        len(sequence),
        len(recurrent),
        len(popularity),
        len(known),
    }
    if sizes != {n}:
        raise RankerError("every source needs one score per candidate")
    known = np.asarray(known, dtype=bool)
    cold = (~known).astype(np.float64)
    c = _zscore(np.asarray(content), np.ones(n, dtype=bool))
    cf = _zscore(np.asarray(collaborative), known)
    cf_recent = _zscore(np.asarray(recent), known)
    cf_last = _zscore(np.asarray(last), known)
    graph = _zscore(np.asarray(graph_last), known)
    seq = _zscore(np.asarray(sequence), known)
    rnn = _zscore(np.asarray(recurrent), known)
    pop = _zscore(np.log1p(np.asarray(popularity, dtype=np.float64)), known)
    return np.stack([c, cf, cf_recent, cf_last, graph, seq, rnn, pop, cold, c * cold], axis=1)


class FusionWeights(Strict):
    """Learned weights over `FEATURES`, and what they were learned from."""

    features: list[str] = Field(default_factory=lambda: list(FEATURES))
    weights: list[float]
    recent_items: int = Field(default=RECENT_ITEMS, ge=1, description="History tail folded in.")
    pairs: int = Field(default=0, ge=0, description="Training pairs (positive, negative).")
    lists: int = Field(default=0, ge=0, description="Training candidate lists.")
    l2: float = Field(default=1e-2, ge=0, description="The fusion's L2 penalty.")

    def score(self, features: np.ndarray) -> np.ndarray:
        if features.shape[1] != len(self.weights):
            raise RankerError(f"{features.shape[1]} features for {len(self.weights)} weights")
        out: np.ndarray = features @ np.asarray(self.weights)
        return out


def learn_fusion(
    lists: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    l2: float = 1e-2,
    max_negatives: int = 50,
    seed: int = 0,
    recent_items: int = RECENT_ITEMS,
    names: Sequence[str] = FEATURES,
) -> FusionWeights:
    """Pairwise logistic regression over (features, 0/1 labels) of training candidate lists;
    `names` names the columns (the sources' weights are kept non-negative)."""
    rng = np.random.default_rng(seed)
    diffs: list[np.ndarray] = []
    used = 0
    for features, labels in lists:
        labels = np.asarray(labels, dtype=bool)
        pos, neg = np.flatnonzero(labels), np.flatnonzero(~labels)
        if not len(pos) or not len(neg):
            continue
        if len(neg) > max_negatives:
            neg = rng.choice(neg, size=max_negatives, replace=False)
        used += 1
        diffs.append(
            (features[pos][:, None, :] - features[neg][None, :, :]).reshape(-1, features.shape[1])
        )
    if not diffs:
        raise RankerError("no training list has both a positive and a negative candidate")
    x = np.concatenate(diffs)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        margin = x @ w
        value = np.logaddexp(0.0, -margin).mean() + l2 * float(w @ w)
        grad = -(x * (1.0 / (1.0 + np.exp(np.clip(margin, -30, 30))))[:, None]).mean(axis=0)
        return float(value), grad + 2 * l2 * w

    start = np.zeros(x.shape[1])
    start[0] = 1.0
    # More content match, more collaborative evidence or more popularity never counts against an
    # item: the sources' weights are kept non-negative (correlated sources otherwise trade
    # signs); the cold-start terms are free.
    if len(names) != x.shape[1]:
        raise RankerError(f"{x.shape[1]} feature columns for {len(names)} feature names")
    bounds = [(0.0, None) if f in MONOTONE else (None, None) for f in names]
    result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds)
    return FusionWeights(
        features=list(names),
        weights=[float(v) for v in result.x],
        l2=l2,
        recent_items=recent_items,
        pairs=len(x),
        lists=used,
    )


FUSION_L2_GRID = (1e-3, 1e-2, 1e-1, 1.0)


def hits_at(
    weights: FusionWeights, lists: Sequence[tuple[np.ndarray, np.ndarray]], k: int
) -> float:
    """Share of `lists` whose best-scored positive is in the first `k` places (ties count
    against it)."""
    hits = []
    for features, labels in lists:
        labels = np.asarray(labels, dtype=bool)
        if not labels.any() or labels.all():
            continue
        scores = weights.score(features)
        best = scores[labels].max()
        hits.append(float(np.sum(scores[~labels] >= best) < k))
    return float(np.mean(hits)) if hits else 0.0


def learn_tuned_fusion(
    lists: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    grid: Sequence[float] = FUSION_L2_GRID,
    folds: int = 2,
    k: int = 10,
    seed: int = 0,
    **options: Any,
) -> FusionWeights:
    """`learn_fusion` with its L2 chosen from `grid` by HitRate@`k` across `folds` splits of the
    training lists (each fitted on the others), then refitted on all of them."""
    order = np.random.default_rng(seed).permutation(len(lists))
    parts = [order[f::folds] for f in range(folds)]
    best: tuple[float, float] | None = None
    for l2 in grid:
        measured = []
        for held in parts:
            held_set = set(held.tolist())
            fit_on = [lists[i] for i in order if i not in held_set]
            try:
                weights = learn_fusion(fit_on, l2=l2, seed=seed, **options)
            except RankerError:
                continue
            measured.append(hits_at(weights, [lists[i] for i in held], k))
        if measured and (best is None or np.mean(measured) > best[0]):
            best = (float(np.mean(measured)), l2)
    chosen = best[1] if best is not None else FUSION_L2_GRID[1]
    return learn_fusion(lists, l2=chosen, seed=seed, **options).model_copy(update={"l2": chosen})


def bridge_history(
    history: Sequence[str],
    model: CollaborativeModel,
    vectors: Mapping[str, np.ndarray],
    *,
    threshold: float = 0.9,
) -> list[str]:
    """The history with each item the model does not know replaced by the known item nearest to
    it in the vector space, when their cosine is at least `threshold` (else left out).

    Items are assumed L2-normalised, as babelrec's embedders return them.
    """
    known_ids = [i for i in model.item_ids if i in vectors]
    unknown = [i for i in history if i not in model.item_index and i in vectors]
    bridged = [i for i in history if i in model.item_index]
    if not unknown or not known_ids:
        return bridged
    matrix = np.stack([vectors[i] for i in known_ids])
    similarity = np.stack([vectors[i] for i in unknown]) @ matrix.T
    best = similarity.argmax(axis=1)
    for row, column in enumerate(best):
        if similarity[row, column] >= threshold:
            bridged.append(known_ids[int(column)])
    return bridged


def last_items_score(
    model: CollaborativeModel, history: Sequence[str], item_ids: Sequence[str]
) -> np.ndarray:
    """The model's scores from each of the last `LAST_ITEMS` known history items alone, summed
    with weights 1, 1/2, 1/4, ... from the newest (a repeated item counts at its last place)."""
    distinct = list(dict.fromkeys(reversed(history)))
    newest = [i for i in distinct if i in model.item_index][:LAST_ITEMS]
    out = np.zeros(len(item_ids), dtype=np.float64)
    for age, item in enumerate(newest):
        out += 0.5**age * model.score([item], item_ids)
    return out


def candidate_features(
    model: CollaborativeModel,
    content: np.ndarray,
    history: Sequence[str],
    item_ids: Sequence[str],
    recent_items: int = RECENT_ITEMS,
    helpers: Mapping[str, CollaborativeModel] | None = None,
) -> np.ndarray:
    """`fusion_features` of `item_ids` for a user with `history` (oldest first) and these content
    scores; `collaborative_recent` folds in the last `recent_items` of the history only,
    `collaborative_last` is `last_items_score` (and `graph_last` the same for the item graph),
    and the sequence and recurrent models score from the history as they fold users in. `helpers`
    holds those optional models by their `HELPER_MODELS` names (`sequence`, `graph`,
    `recurrent`); a missing one gives its column 0."""
    helpers = helpers or {}
    _check_helper_names(helpers)
    sequence, graph, recurrent = (helpers.get(k) for k in ("sequence", "graph", "recurrent"))
    if len(content) != len(item_ids):
        raise RankerError(f"{len(content)} content scores for {len(item_ids)} items")
    full = model.score(history, item_ids)
    recent = (
        full if len(history) <= recent_items else model.score(history[-recent_items:], item_ids)
    )
    return fusion_features(
        np.asarray(content, dtype=np.float64),
        full,
        recent,
        model.popularity(item_ids),
        model.knows(item_ids),
        None if sequence is None else sequence.score(history, item_ids),
        last_items_score(model, history, item_ids),
        None if graph is None else last_items_score(graph, history, item_ids),
        None if recurrent is None else recurrent.score(history, item_ids),
    )


@dataclass
class HybridRanker:
    """Fitted collaborative models and fusion weights; content scores come from the caller.

    `helpers` (optional, by their `HELPER_MODELS` names): a `SequenceRules` model, an item graph
    (`RP3Beta`) and a next-item model (`GRU4Rec`), fitted on the same users' ordered lists."""

    collaborative: CollaborativeModel
    fusion: FusionWeights
    helpers: dict[str, CollaborativeModel] = field(default_factory=dict)

    def score(
        self, content: np.ndarray, history: Sequence[str], item_ids: Sequence[str]
    ) -> np.ndarray:
        """Fused scores of `item_ids` for a user with `history` and these content scores."""
        features = candidate_features(
            self.collaborative,
            content,
            history,
            item_ids,
            self.fusion.recent_items,
            self.helpers,
        )
        return self.fusion.score(features)
