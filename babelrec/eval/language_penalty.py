"""`language_penalty`: how far a candidate falls when only the language of its text changes.

For each test case and each candidate with a translation, the candidate is scored twice, once
with each of its two texts (every other candidate keeps its own), and its rank percentile among
the case's candidates is taken both times (1 = first, 0 = last, ties counting half). The drop is
the percentile of the version in the user's language minus that of the other version: positive
when the ranker penalises the foreign text, 0 when it is blind to language. When neither version
is in the user's language the drop is shown text minus translation.

The summary is the mean drop over all (case, candidate) pairs, the share of pairs whose rank
fell, and a 95% percentile-bootstrap interval of the mean that resamples users (a user's cases
and candidates are correlated, so they move together).
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from babelrec.eval.protocols import EvalCase
from babelrec.eval.rankers import EvalContext, EvalRanker
from babelrec.models import Item

#: Translated vectors: (item id, language) -> the vector of the item's text in that language.
TranslatedVectors = Mapping[tuple[str, str], np.ndarray]


class PenaltySummary(BaseModel):
    """Mean drop in rank percentile, the share that dropped, and a bootstrap interval."""

    model_config = ConfigDict(extra="forbid")

    mean: float
    share_dropped: float
    ci_low: float
    ci_high: float
    n_pairs: int
    n_cases: int
    n_users: int


def rank_percentiles(scores: np.ndarray) -> np.ndarray:
    """Each score's share of the other scores it beats (ties half); 1.0 for a lone score."""
    scores = np.asarray(scores, dtype=float)
    n = len(scores)
    if n < 2:
        return np.ones(n)
    below = (scores[None, :] < scores[:, None]).sum(axis=1)
    ties = (scores[None, :] == scores[:, None]).sum(axis=1) - 1
    percentiles: np.ndarray = (below + 0.5 * ties) / (n - 1)
    return percentiles


def percentile_against(scores: np.ndarray, index: int, value: float) -> float:
    """The percentile candidate `index` would have with score `value`, the others unchanged."""
    others = np.delete(np.asarray(scores, dtype=float), index)
    if not len(others):
        return 1.0
    return float(((others < value).sum() + 0.5 * (others == value).sum()) / len(others))


def translation_language(item: Item, user_language: str | None) -> str | None:
    """Which translation to switch to: the user's language when the item is foreign to them."""
    if not item.translations:
        return None
    if user_language and item.language != user_language and user_language in item.translations:
        return user_language
    return sorted(item.translations)[0]


def swapped_candidates(case: EvalCase, items: Mapping[str, Item]) -> list[tuple[int, str, str]]:
    """(position, candidate id, translation language) for each candidate with a translation."""
    out = []
    for pos, cid in enumerate(case.candidates):
        item = items.get(cid)
        language = translation_language(item, case.user_language) if item else None
        if language is not None:
            out.append((pos, cid, language))
    return out


def case_drops(
    case: EvalCase,
    items: Mapping[str, Item],
    original: Sequence[float],
    swapped: Mapping[str, float],
) -> list[float]:
    """Drops for a case's swapped candidates, given each one's score with the other text."""
    scores = np.asarray(original, dtype=float)
    drops = []
    for pos, cid, language in swapped_candidates(case, items):
        if cid not in swapped:
            continue
        shown = percentile_against(scores, pos, float(scores[pos]))
        other = percentile_against(scores, pos, swapped[cid])
        own_first = items[cid].language == case.user_language or language != case.user_language
        drops.append(shown - other if own_first else other - shown)
    return drops


def summarise(
    drops_by_case: Mapping[str, list[float]],
    user_of: Mapping[str, str],
    *,
    seed: int = 0,
    n_resamples: int = 2000,
    tolerance: float = 1e-9,
) -> PenaltySummary | None:
    """Pooled mean and share of drops, with a user-level bootstrap interval (None if empty)."""
    per_user: dict[str, list[float]] = defaultdict(list)
    for case_id, drops in drops_by_case.items():
        per_user[user_of[case_id]].extend(drops)
    users = [u for u in sorted(per_user) if per_user[u]]
    if not users:
        return None
    sums = np.array([sum(per_user[u]) for u in users])
    counts = np.array([len(per_user[u]) for u in users])
    values = np.concatenate([per_user[u] for u in users])
    low = high = math.nan
    if len(users) >= 2:
        rng = np.random.default_rng(seed)
        picks = rng.integers(0, len(users), size=(n_resamples, len(users)))
        means = sums[picks].sum(axis=1) / counts[picks].sum(axis=1)
        low, high = (float(x) for x in np.percentile(means, [2.5, 97.5]))
    return PenaltySummary(
        mean=float(values.mean()),
        share_dropped=float((values > tolerance).mean()),
        ci_low=low,
        ci_high=high,
        n_pairs=len(values),
        n_cases=sum(1 for d in drops_by_case.values() if d),
        n_users=len(users),
    )


def _swapped_context(
    context: EvalContext, swaps: Sequence[tuple[str, str]], translated: TranslatedVectors
) -> EvalContext:
    items = context.dataset.items
    vectors = dict(context.vectors)
    changed = dict(items)
    for cid, language in swaps:
        vectors[cid] = translated[cid, language]
        changed[cid] = items[cid].in_language(language)
    dataset = dataclasses.replace(context.dataset, items=changed)
    return dataclasses.replace(context, vectors=vectors, dataset=dataset)


def swapped_scores(
    ranker: EvalRanker,
    cases: Sequence[EvalCase],
    context: EvalContext,
    translated: TranslatedVectors,
    *,
    max_cases: int | None = None,
) -> dict[str, dict[str, float]]:
    """Per case, each translated candidate's score with its other text (others unchanged).

    A pointwise ranker scores all of a case's swapped candidates in one call; any other ranker
    re-scores the case once per swapped candidate, on the first `max_cases` cases that have one.
    A candidate that is also in the case's history is left alone (its switch would change the
    user too)."""
    items = context.dataset.items
    out: dict[str, dict[str, float]] = {}
    for case in cases:
        history = set(case.history)
        swaps = [
            (pos, cid, lang)
            for pos, cid, lang in swapped_candidates(case, items)
            if (cid, lang) in translated and cid not in history
        ]
        if not swaps:
            continue
        if not ranker.pointwise and max_cases is not None and len(out) >= max_cases:
            break
        if ranker.pointwise:
            both = _swapped_context(context, [(c, lang) for _, c, lang in swaps], translated)
            scores = ranker.score(case, both)
            out[case.case_id] = {cid: float(scores[pos]) for pos, cid, _ in swaps}
        else:
            got = {}
            for pos, cid, lang in swaps:
                one = _swapped_context(context, [(cid, lang)], translated)
                got[cid] = float(ranker.score(case, one)[pos])
            out[case.case_id] = got
    return out
