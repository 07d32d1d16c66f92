"""A user's cultural affinity: how their attention is shared among languages and regions.

`estimate_affinity` counts the languages and regions of the items in a user's history (each
item weighted by time decay where its history entry has a timestamp) and adds the stated
profile (`UserProfile.language` and `.region`) as `stated_weight` pseudo-items, then normalises.
Decay moves weight toward the recent items without shrinking the history against the stated
profile: the history still counts as many items as it has (an old history is still the user's
history; measured in bench/calibration_half_life.py, letting it fade instead pulled KMRD's lists
to the stated country and cost nDCG@10).
With no history the affinity is the stated profile alone; a dimension with nothing known (no
region stated and no history item with one) is an empty distribution, never a guess.

`target_distribution` blends an affinity with openness: ``(1 - openness) * affinity +
openness * uniform`` over the values the candidates offer (see `babelrec.rank.calibration`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from babelrec.models import Item, UserProfile
from babelrec.rank.users import as_utc, history_weights

Distribution = dict[str, float]


@dataclass(frozen=True)
class CultureAffinity:
    """Shares (summing to 1, or empty when unknown) of a user's languages and regions."""

    languages: Distribution = field(default_factory=dict)
    regions: Distribution = field(default_factory=dict)
    history_used: int = 0
    #: The history's decayed weight at `now` (its item count without decay).
    history_weight: float = 0.0

    def of(self, dimension: str) -> Distribution:
        """The distribution of one dimension: "language" or "region"."""
        if dimension == "language":
            return self.languages
        if dimension == "region":
            return self.regions
        raise ValueError(f"unknown culture dimension {dimension!r}: language or region")


def normalised(counts: Mapping[str, float]) -> Distribution:
    """`counts` scaled to sum to 1, zero entries dropped; empty when nothing is positive."""
    total = sum(v for v in counts.values() if v > 0)
    if total <= 0:
        return {}
    return {k: v / total for k, v in sorted(counts.items()) if v > 0}


def estimate_affinity(
    profile: UserProfile,
    history_items: Iterable[Item],
    now: datetime | None = None,
    *,
    half_life_days: float | None = None,
    stated_weight: float = 1.0,
) -> CultureAffinity:
    """The user's language and region affinity from history items and the stated profile.

    `history_items` are the catalog items of the profile's history (unknown ids simply absent);
    an item's weight is ``0.5 ** (age / half_life_days)`` when its history entry has a
    timestamp and a half-life is set, else 1, and the history's weights are then scaled to sum
    to its item count (so only relative age matters, not how long ago the whole history was).
    The stated language and region each count as `stated_weight` items.
    """
    if stated_weight < 0:
        raise ValueError(f"stated_weight must be >= 0, not {stated_weight}")
    by_id = {item.id: item for item in history_items}
    entries = [e for e in profile.history if e.item_id in by_id]
    seen = {e.item_id for e in entries}
    extra = [item for item_id, item in by_id.items() if item_id not in seen]
    stamps = [e.timestamp for e in entries]
    decayed = history_weights(stamps, half_life_days, now)
    # ages from the newest timed entry, so that even a very old history cannot underflow to 0
    newest = max((as_utc(t) for t in stamps if t is not None), default=None)
    relative = history_weights(stamps, half_life_days, newest)
    items = [by_id[e.item_id] for e in entries] + extra
    weights = [float(w) for w in relative] + [1.0] * len(extra)
    total = sum(weights)
    if total > 0:
        weights = [w * len(weights) / total for w in weights]
    languages: dict[str, float] = {}
    regions: dict[str, float] = {}
    for item, weight in zip(items, weights, strict=True):
        if item.language:
            languages[item.language] = languages.get(item.language, 0.0) + weight
        if item.region:
            regions[item.region] = regions.get(item.region, 0.0) + weight
    if stated_weight > 0:
        languages[profile.language] = languages.get(profile.language, 0.0) + stated_weight
        if profile.region:
            regions[profile.region] = regions.get(profile.region, 0.0) + stated_weight
    return CultureAffinity(
        languages=normalised(languages),
        regions=normalised(regions),
        history_used=len(items),
        history_weight=float(decayed.sum()) + len(extra),
    )


def target_distribution(
    affinity: Mapping[str, float], available: Sequence[str], openness: float
) -> Distribution:
    """``(1 - openness) * affinity + openness * uniform``, both over the `available` values.

    The affinity is first restricted to what is available (mass on a language no candidate has
    cannot be met by any list) and renormalised; with none of it available the target is
    uniform. Empty when nothing is available."""
    if not 0.0 <= openness <= 1.0:
        raise ValueError(f"openness must be within [0, 1], not {openness}")
    values = sorted(set(available))
    if not values:
        return {}
    own = normalised({v: affinity.get(v, 0.0) for v in values})
    uniform = 1.0 / len(values)
    if not own:
        return {v: uniform for v in values}
    return {v: (1.0 - openness) * own.get(v, 0.0) + openness * uniform for v in values}
