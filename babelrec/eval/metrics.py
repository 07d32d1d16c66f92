"""Ranking metrics per case, and beyond-accuracy metrics over top-k lists.

Ranking metrics (`ranking_metrics`) take each candidate's score. Tied scores are resolved by
taking the expectation over random orderings of the tie, so a constant scorer gets the random
baseline whatever the candidate order (order effects in the data, such as MIND's display order,
cannot leak in). AUC is Mann-Whitney with ties counting half, equal to scikit-learn's
``roc_auc_score``; nDCG uses binary gains and ``1/log2(rank+1)`` discounts and equals
scikit-learn's ``ndcg_score``, which averages ties the same way (both checked in the tests;
computed here because scikit-learn's input checks cost milliseconds per call). ``mrr`` is the
reciprocal rank of the first positive (TREC, ranx); ``mrr_all`` is MIND's official definition,
the mean reciprocal rank over all positives, which is what FACTS.md and bench/ report as MRR.

Top-k lists for the beyond-accuracy metrics come from `top_k`: ties broken by candidate order.
A metric that is undefined for a case (AUC without negatives, calibration without labelled
items) is NaN; `evaluate` averages with NaNs left out and counts them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.spatial.distance import jensenshannon

from babelrec.eval.protocols import EvalCase
from babelrec.models import Item

RANKING_METRICS = ("auc", "mrr", "mrr_all", "ndcg@5", "ndcg@10", "recall@10", "recall@20", "hit@10")

Scores = Mapping[str, float] | Sequence[float]


def _score_array(candidates: Sequence[str], scores: Scores) -> np.ndarray:
    if isinstance(scores, Mapping):
        missing = [c for c in candidates if c not in scores]
        if missing:
            raise ValueError(f"no score for {len(missing)} candidates, e.g. {missing[:3]}")
        values = np.array([scores[c] for c in candidates], dtype=float)
    else:
        values = np.asarray(scores, dtype=float)
        if values.shape != (len(candidates),):
            raise ValueError(f"{values.shape[0]} scores for {len(candidates)} candidates")
    if not np.all(np.isfinite(values)):
        raise ValueError("scores must be finite")
    return values


class _Groups:
    """Tie groups of one ranking, best scores first: ranks above each, its size, its positives."""

    def __init__(self, values: np.ndarray, labels: np.ndarray) -> None:
        order = np.argsort(-values, kind="stable")
        ranked, hits = values[order], labels[order]
        self.above = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
        self.size = np.diff(np.r_[self.above, len(ranked)])
        self.positives = np.add.reduceat(hits, self.above)
        self.n_positive = int(hits.sum())
        self.n_negative = len(ranked) - self.n_positive

    def auc(self) -> float:
        """Mann-Whitney AUC, ties counting half (equals scikit-learn's roc_auc_score)."""
        if self.n_negative == 0:
            return math.nan
        negatives = self.size - self.positives
        below = self.n_negative - np.cumsum(negatives)
        wins = self.positives * (below + 0.5 * negatives)
        return float(wins.sum() / (self.n_positive * self.n_negative))

    def expected_gain(self, cumulative: np.ndarray, k: int) -> float:
        """Expected sum over positives of a per-rank gain (cumulative[r] = gain of ranks 1..r)."""
        stop = np.minimum(self.above + self.size, k)
        spans = cumulative[np.maximum(stop, self.above)] - cumulative[self.above]
        return float((self.positives / self.size * spans).sum())

    def ndcg(self, k: int) -> float:
        ideal = float(_DISCOUNTS[min(self.n_positive, k)])
        return self.expected_gain(_DISCOUNTS, k) / ideal

    def recall(self, k: int) -> float:
        inside = np.clip(k - self.above, 0, self.size)
        return float((self.positives * inside / self.size).sum() / self.n_positive)

    def first_positive(self, k: int) -> tuple[float, float]:
        """Expected (reciprocal rank of the first positive, hit within the top k)."""
        index = int(np.flatnonzero(self.positives)[0])
        a, g, p = int(self.above[index]), int(self.size[index]), int(self.positives[index])
        # The first positive's place j in its group: P(j=1) = p/g, then a ratio recurrence.
        j = np.arange(1, g - p + 1)
        chances = p / g * np.cumprod(np.r_[1.0, (g - p - j + 1) / (g - j)])
        reciprocal = float((chances / (a + np.arange(1, g - p + 2))).sum())
        slots = k - a
        if slots <= 0:
            return reciprocal, 0.0
        if slots >= g:
            return reciprocal, 1.0
        miss = math.prod((g - p - i) / (g - i) for i in range(slots))
        return reciprocal, 1.0 - miss


def _cumulative(gain: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(gain)])


_MAX_RANK = 100_000
_DISCOUNTS = _cumulative(1.0 / np.log2(np.arange(2, _MAX_RANK + 2)))
_HARMONIC = _cumulative(1.0 / np.arange(1, _MAX_RANK + 1))


def ranking_metrics(
    candidates: Sequence[str], scores: Scores, positives: Collection[str]
) -> dict[str, float]:
    """AUC, MRR (two ways), nDCG@5/10, Recall@10/20 and HitRate@10 for one candidate list."""
    values = _score_array(candidates, scores)
    if len(values) > _MAX_RANK:
        raise ValueError(f"at most {_MAX_RANK} candidates per case")
    labels = np.array([c in positives for c in candidates], dtype=int)
    groups = _Groups(values, labels)
    if groups.n_positive == 0:
        raise ValueError("no positive among the candidates")
    mrr, hit10 = groups.first_positive(10)
    return {
        "auc": groups.auc(),
        "mrr": mrr,
        "mrr_all": groups.expected_gain(_HARMONIC, len(values)) / groups.n_positive,
        "ndcg@5": groups.ndcg(5),
        "ndcg@10": groups.ndcg(10),
        "recall@10": groups.recall(10),
        "recall@20": groups.recall(20),
        "hit@10": hit10,
    }


def top_k(candidates: Sequence[str], scores: Scores, k: int) -> list[str]:
    """The `k` best-scored candidates, ties broken by candidate order."""
    values = _score_array(candidates, scores)
    order = np.argsort(-values, kind="stable")[:k]
    return [candidates[i] for i in order]


def catalog_coverage(lists: Iterable[Sequence[str]], catalog: Collection[str]) -> float:
    """Share of the catalog that appears in at least one list."""
    shown = {item for items in lists for item in items}
    return len(shown & set(catalog)) / len(catalog) if catalog else math.nan


def intra_list_diversity(items: Sequence[str], vectors: Mapping[str, np.ndarray]) -> float:
    """Mean cosine distance over pairs of items in the list (NaN below two items)."""
    if len(items) < 2:
        return math.nan
    matrix = np.stack([np.asarray(vectors[i], dtype=float) for i in items])
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    similarity = matrix @ matrix.T
    n = len(items)
    return float((n * n - similarity.sum()) / (n * (n - 1)))


def item_popularity(histories: Iterable[Sequence[str]]) -> dict[str, float]:
    """Share of histories that contain each item."""
    counts: Counter[str] = Counter()
    total = 0
    for history in histories:
        counts.update(set(history))
        total += 1
    return {item: n / total for item, n in counts.items()}


def average_popularity(items: Sequence[str], popularity: Mapping[str, float]) -> float:
    """Mean popularity of the items (unknown items count as 0)."""
    return float(np.mean([popularity.get(i, 0.0) for i in items])) if items else math.nan


def popularity_lift(
    recommended: Sequence[str], history: Sequence[str], popularity: Mapping[str, float]
) -> float:
    """Relative popularity of the list against the user's history: above 0 favours the popular."""
    base = average_popularity(history, popularity)
    if not base or math.isnan(base):
        return math.nan
    return average_popularity(recommended, popularity) / base - 1.0


def cross_lingual_exposure(
    items: Sequence[str], languages: Mapping[str, str | None], user_language: str | None
) -> float:
    """Share of the items (with a known language) not in the user's language; with regions and
    the user's region, the cross-regional exposure."""
    known = [languages[i] for i in items if languages.get(i)]
    if user_language is None or not known:
        return math.nan
    return sum(1 for lang in known if lang != user_language) / len(known)


def cultural_calibration(
    history: Sequence[str], recommended: Sequence[str], labels: Mapping[str, str | None]
) -> float:
    """Jensen-Shannon divergence (base 2, 0..1) of label (e.g. region) shares: history vs list."""
    before = Counter(label for i in history if (label := labels.get(i)))
    after = Counter(label for i in recommended if (label := labels.get(i)))
    if not before or not after:
        return math.nan
    keys = sorted(set(before) | set(after))
    p = np.array([before[k] for k in keys], dtype=float)
    q = np.array([after[k] for k in keys], dtype=float)
    return float(jensenshannon(p / p.sum(), q / q.sum(), base=2) ** 2)


class CaseResult(BaseModel):
    """Metric values of one case."""

    model_config = ConfigDict(extra="forbid")

    case_id: str
    user_id: str
    metrics: dict[str, float]


class EvalReport(BaseModel):
    """Per-case values, their means (NaNs left out and counted) and catalog coverage."""

    model_config = ConfigDict(extra="forbid")

    k: int
    cases: list[CaseResult]
    mean: dict[str, float]
    undefined: dict[str, int] = Field(description="Cases where the metric was NaN.")
    catalog_coverage: float


def evaluate(
    cases: Sequence[EvalCase],
    scores: Mapping[str, Scores],
    items: Mapping[str, Item],
    *,
    k: int = 10,
    vectors: Mapping[str, np.ndarray] | None = None,
    popularity: Mapping[str, float] | None = None,
    calibrate_on: Literal["region", "category"] = "region",
) -> EvalReport:
    """All metrics for scored cases; `scores` maps case id to candidate scores.

    Popularity defaults to the share of case histories holding each item.
    """
    if popularity is None:
        popularity = item_popularity(case.history for case in cases)
    languages = {i: item.language for i, item in items.items()}
    groups = {i: getattr(item, calibrate_on) for i, item in items.items()}
    regions = {i: item.region for i, item in items.items()}
    results, lists = [], []
    for case in cases:
        values = ranking_metrics(case.candidates, scores[case.case_id], case.positives)
        shown = top_k(case.candidates, scores[case.case_id], k)
        lists.append(shown)
        values[f"popularity@{k}"] = average_popularity(shown, popularity)
        values[f"popularity_lift@{k}"] = popularity_lift(shown, case.history, popularity)
        values[f"cross_lingual@{k}"] = cross_lingual_exposure(shown, languages, case.user_language)
        values[f"calibration_js@{k}"] = cultural_calibration(case.history, shown, groups)
        values[f"language_js@{k}"] = cultural_calibration(case.history, shown, languages)
        values[f"cross_regional@{k}"] = cross_lingual_exposure(shown, regions, case.user_region)
        if vectors is not None:
            values[f"ild@{k}"] = intra_list_diversity(shown, vectors)
        results.append(CaseResult(case_id=case.case_id, user_id=case.user_id, metrics=values))
    names = list(results[0].metrics) if results else []
    table = np.array([[r.metrics[n] for n in names] for r in results], dtype=float)
    defined = ~np.isnan(table) if results else np.zeros((0, 0), dtype=bool)
    mean = {
        n: float(np.nanmean(table[:, j])) if defined[:, j].any() else math.nan
        for j, n in enumerate(names)
    }
    return EvalReport(
        k=k,
        cases=results,
        mean=mean,
        undefined={n: int((~defined[:, j]).sum()) for j, n in enumerate(names)},
        catalog_coverage=catalog_coverage(lists, list(items)),
    )
