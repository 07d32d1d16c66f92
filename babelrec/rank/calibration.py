"""Calibrated re-ranking over languages and regions (Steck, "Calibrated Recommendations",
RecSys 2018).

The list's distribution of item languages (and regions) should match a target distribution:
the user's affinity (`babelrec.rank.affinity`) blended with openness. `greedy_calibrate` builds
the leading `size` places one item at a time, each time taking the candidate that maximises

    (1 - weight) * sum of normalised relevance - weight * mean over dimensions of D(p || q)

where p is the target, q the list's distribution with the candidate added, and D the
Jensen-Shannon divergence (base 2, in [0, 1]) or Kullback-Leibler with q mixed with a small
share of p (Steck's smoothing); with `divergence_scale="relative"` the divergence is divided by
that of the input's own first `size` (so the weight trades relevance for the share of the
divergence removed, whatever its scale on a catalog). Relevance is min-max normalised over the
candidates: of the first-stage scores, of the DCG gain 1 / log2(rank + 2) of the first-stage rank
(`relevance_scale="rank"`, which reads any first stage alike), or of the scores' softmax
("softmax": Steck's probabilities, for scores that are logits, as the hybrid fusion's are).
`pool` lets only the first-stage top `pool * size` into the calibrated places. The chosen places
are shown in greedy's pick order (Steck) or, `order="relevance"`, by first-stage relevance a
page at a time: each page the same set, so the same divergence, with the most relevant first.
The places after `size` keep the input order. If the greedy list scores worse on that objective
than the input's own first `size` (greedy is not optimal), the input's order is kept:
calibration never makes the objective worse.

An item without a language (or region) counts, in that dimension, as the average candidate: its
share is spread over the values as the labelled candidates' are (so a list cannot meet a target
by avoiding labelled items). A dimension that no candidate, or nothing the user is known for, has
a value of is not calibrated, and the outcome's `notes` say so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from math import ceil

import numpy as np

from babelrec.culture_settings import (
    CalibrationSettings,
    Dimension,
    Divergence,
    DivergenceScale,
    HeadOrder,
    RelevanceScale,
)
from babelrec.models import Candidate, Item, UserProfile
from babelrec.rank.affinity import CultureAffinity, estimate_affinity, target_distribution

_EPS = 1e-12


@dataclass
class CalibrationOutcome:
    """The calibrated order (indices into the input) and how far the lists are from the target."""

    order: list[int]
    size: int
    dimensions: list[str] = field(default_factory=list)
    divergence_before: float | None = None
    divergence_after: float | None = None
    # the Jensen-Shannon divergence of the head, whichever divergence was minimised
    js_before: float | None = None
    js_after: float | None = None
    kept_input: bool = False
    notes: list[str] = field(default_factory=list)


def divergence(
    p: np.ndarray, q: np.ndarray, kind: Divergence = "js", smoothing: float = 0.01
) -> np.ndarray:
    """D(p || q) in bits for the rows of `q` (p one distribution); JS or smoothed KL."""
    q = np.atleast_2d(q)
    p = np.broadcast_to(p, q.shape)
    if kind == "kl":
        q = (1.0 - smoothing) * q + smoothing * p
        terms = np.where(p > 0, p * np.log2(np.maximum(p, _EPS) / np.maximum(q, _EPS)), 0.0)
        kl: np.ndarray = np.maximum(terms.sum(axis=1), 0.0)
        return kl
    m = 0.5 * (p + q)
    left = np.where(p > 0, p * np.log2(np.maximum(p, _EPS) / np.maximum(m, _EPS)), 0.0)
    right = np.where(q > 0, q * np.log2(np.maximum(q, _EPS) / np.maximum(m, _EPS)), 0.0)
    js: np.ndarray = np.clip(0.5 * (left.sum(axis=1) + right.sum(axis=1)), 0.0, 1.0)
    return js


@dataclass
class _Dimension:
    name: str
    target: np.ndarray
    onehot: np.ndarray  # candidates x values; the pool's shares for a candidate without a value

    def shares(self, counts: np.ndarray) -> np.ndarray:
        """Rows of counts as distributions; a row with no count is uniform (nothing known)."""
        totals = counts.sum(axis=1, keepdims=True)
        uniform = np.full_like(counts, 1.0 / counts.shape[1])
        return np.where(totals > 0, counts / np.maximum(totals, _EPS), uniform)


def _dimensions(
    labels: Mapping[str, Sequence[str | None]],
    targets: Mapping[str, Mapping[str, float]],
    n: int,
    notes: list[str],
) -> list[_Dimension]:
    dims = []
    for name, values in labels.items():
        if len(values) != n:
            raise ValueError(f"{len(values)} {name} labels for {n} candidates")
        known = sorted({v for v in values if v})
        missing = sum(1 for v in values if not v)
        target = {v: float(targets.get(name, {}).get(v, 0.0)) for v in known}
        total = sum(target.values())
        if not known:
            notes.append(f"no candidate has a {name}, so the list is not calibrated on {name}")
            continue
        if total <= 0:
            notes.append(f"the target gives no weight to any candidate's {name}: not calibrated")
            continue
        if missing:
            notes.append(
                f"{missing} of {n} candidates have no {name}: each counts as the average candidate"
            )
        index = {v: j for j, v in enumerate(known)}
        onehot = np.zeros((n, len(known)))
        for i, v in enumerate(values):
            if v:
                onehot[i, index[v]] = 1.0
        labelled = onehot.sum(axis=0)
        onehot[[i for i, v in enumerate(values) if not v]] = labelled / labelled.sum()
        dims.append(_Dimension(name, np.array([target[v] / total for v in known]), onehot))
    return dims


def greedy_calibrate(
    relevance: Sequence[float],
    labels: Mapping[str, Sequence[str | None]],
    targets: Mapping[str, Mapping[str, float]],
    *,
    weight: float,
    size: int,
    kind: Divergence = "js",
    smoothing: float = 0.01,
    relevance_scale: RelevanceScale = "minmax",
    order: HeadOrder = "greedy",
    pool: float | None = None,
    page: int | None = None,
    divergence_scale: DivergenceScale = "absolute",
) -> CalibrationOutcome:
    """The calibrated order of candidates given their relevance (higher first, input assumed
    sorted by it), their `labels` per dimension and each dimension's `targets`.

    `relevance_scale` "rank" uses the DCG gain of each candidate's relevance rank instead of
    its score, "softmax" the softmax of the scores (taken as logits); `order` "relevance"
    shows the chosen head by relevance, page by page (`page` places at a time, default the whole
    head, so that each page's prefix is as calibrated as greedy made it); `pool` lets only the
    `ceil(pool * size)` most relevant candidates into the head; `divergence_scale` "relative"
    divides the divergence by the input head's (a head already on target is kept)."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must be within [0, 1], not {weight}")
    n = len(relevance)
    size = max(0, min(size, n))
    notes: list[str] = []
    dims = _dimensions(labels, targets, n, notes)
    rel = np.asarray(relevance, dtype=float)
    if n and not np.all(np.isfinite(rel)):
        raise ValueError("relevance scores must be finite")
    ranked = np.argsort(-rel, kind="stable")
    rank = np.empty(n, dtype=int)
    rank[ranked] = np.arange(n)
    if relevance_scale == "rank":
        rel = 1.0 / np.log2(rank + 2.0)
    elif relevance_scale == "softmax" and n:
        rel = np.exp(rel - rel.max())  # each candidate's probability over the top one's
    span = float(rel.max() - rel.min()) if n else 0.0
    rel = (rel - rel.min()) / span if span > _EPS else np.zeros(n)
    baseline = [int(i) for i in ranked[:size]]

    def mean_divergence(chosen: list[int], kind: Divergence = kind) -> float:
        divs = [
            divergence(d.target, d.shares(d.onehot[chosen].sum(axis=0, keepdims=True)), kind,
                       smoothing)[0]
            for d in dims
        ]  # fmt: skip
        return float(np.mean(divs)) if divs else 0.0

    if not dims or size == 0:
        kept_order = baseline + [i for i in range(n) if i not in set(baseline)]
        return CalibrationOutcome(order=kept_order, size=size, notes=notes)
    scale = 1.0
    if divergence_scale == "relative":
        # a head already on target (nothing to remove) is kept: the greedy term would be 0 / 0
        scale = 1.0 / max(mean_divergence(baseline), _EPS)

    def objective(chosen: list[int]) -> tuple[float, float]:
        div = mean_divergence(chosen)
        return (1.0 - weight) * float(rel[chosen].sum()) - weight * scale * div, div

    chosen: list[int] = []
    remaining = np.ones(n, dtype=bool) if pool is None else rank < max(size, ceil(pool * size))
    counts = [np.zeros(len(d.target)) for d in dims]
    for _ in range(size):
        rows = np.flatnonzero(remaining)
        div = np.zeros(len(rows))
        for d, c in zip(dims, counts, strict=True):
            div += divergence(d.target, d.shares(c + d.onehot[rows]), kind, smoothing)
        gain = (1.0 - weight) * rel[rows] - weight * scale * div / len(dims)
        best = int(rows[int(np.argmax(gain))])
        chosen.append(best)
        remaining[best] = False
        counts = [c + d.onehot[best] for d, c in zip(dims, counts, strict=True)]
    greedy_score, after = objective(chosen)
    base_score, before = objective(baseline)
    kept = greedy_score < base_score - 1e-12
    if kept:
        chosen, after = baseline, before
    elif order == "relevance":
        step = page or size
        chosen = [
            i
            for start in range(0, len(chosen), step)
            for i in sorted(chosen[start : start + step], key=lambda i: int(rank[i]))
        ]
    rest = [i for i in range(n) if i not in set(chosen)]
    return CalibrationOutcome(
        order=chosen + rest,
        size=size,
        dimensions=[d.name for d in dims],
        divergence_before=before,
        divergence_after=after,
        js_before=mean_divergence(baseline, "js"),
        js_after=mean_divergence(chosen, "js"),
        kept_input=kept,
        notes=notes,
    )


@dataclass
class Calibration:
    """A calibrated order (indices into the input), the targets and what could not be done."""

    order: list[int]
    openness: float
    affinity: CultureAffinity
    targets: dict[str, dict[str, float]]
    outcome: CalibrationOutcome

    @property
    def notes(self) -> list[str]:
        return self.outcome.notes


def calibrate_items(
    user: UserProfile,
    items: Sequence[Item],
    relevance: Sequence[float],
    history_items: Sequence[Item],
    config: CalibrationSettings,
    *,
    size: int,
    openness: float | None = None,
    now: datetime | None = None,
    page: int | None = None,
) -> Calibration:
    """Items (best first, with their relevance) re-ranked toward the user's target distribution.

    Openness is `openness`, else the profile's, else `config.openness`. A user who set none
    keeps the input order unless `config.mode` is "always" and they have at least
    `config.min_history` known history items."""
    chosen_openness = openness if openness is not None else user.openness
    asked = chosen_openness is not None
    chosen_openness = config.openness if chosen_openness is None else chosen_openness
    affinity = estimate_affinity(
        user,
        history_items,
        now,
        half_life_days=config.half_life_days,
        stated_weight=config.stated_weight,
    )
    cold = affinity.history_used < config.min_history
    if config.mode == "off" or (not asked and (config.mode != "always" or cold)):
        kept = CalibrationOutcome(order=list(range(len(items))), size=0)
        return Calibration(kept.order, chosen_openness, affinity, {}, kept)
    labels: dict[str, list[str | None]] = {}
    targets: dict[str, dict[str, float]] = {}
    unknown: list[Dimension] = []
    for dim in config.dimensions:
        values: list[str | None] = [getattr(item, dim) for item in items]
        own = affinity.of(dim)
        if not own:
            unknown.append(dim)
            continue
        labels[dim] = values
        targets[dim] = target_distribution(own, [v for v in values if v], chosen_openness)
    outcome = greedy_calibrate(
        relevance,
        labels,
        targets,
        weight=config.weight,
        size=size,
        kind=config.divergence,
        smoothing=config.kl_smoothing,
        relevance_scale=config.relevance,
        order=config.order,
        pool=config.pool,
        page=page,
        divergence_scale=config.divergence_scale,
    )
    outcome.notes[:0] = [
        f"the user's {dim} affinity is unknown (none stated, none in the history): "
        f"the list is not calibrated on {dim}"
        for dim in unknown
    ]
    return Calibration(outcome.order, chosen_openness, affinity, targets, outcome)


def calibrate_candidates(
    user: UserProfile,
    candidates: Sequence[Candidate],
    history_items: Sequence[Item],
    config: CalibrationSettings,
    *,
    size: int,
    openness: float | None = None,
    now: datetime | None = None,
    page: int | None = None,
) -> tuple[list[Candidate], Calibration]:
    """First-stage candidates (best first) in calibrated order; relevance is `scores.final`."""
    calibration = calibrate_items(
        user,
        [c.item for c in candidates],
        [c.scores.final for c in candidates],
        history_items,
        config,
        size=size,
        openness=openness,
        now=now,
        page=page,
    )
    return [candidates[i] for i in calibration.order], calibration
