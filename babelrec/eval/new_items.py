"""The new-item protocol: can a ranker place items nobody has interacted with yet?

A seeded share of the items with interactions becomes "new": every interaction with them is
removed from the dataset the rankers see (popularity and collaborative models cannot know them).
Each user who interacted with a new item is a case: the target is their last new item, the
history their interactions with the other items (all of them: this protocol tests cold items,
not time order), and the candidates the target plus `n_negatives` new items they never touched.
Every candidate is therefore cold: a ranker that falls back to content keeps its content
quality, one that relies on interactions alone is reduced to chance.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np

from babelrec.eval.dataset import Dataset
from babelrec.eval.protocols import EvalCase, ProtocolResult


def new_item_cases(
    dataset: Dataset,
    *,
    share: float = 0.2,
    n_negatives: int = 99,
    seed: int = 0,
    min_history: int = 1,
) -> tuple[ProtocolResult, Dataset]:
    """The cases, and the dataset without any interaction with the new items."""
    order = sorted(
        range(len(dataset.interactions)), key=lambda i: (dataset.interactions[i].timestamp, i)
    )
    sequences: dict[str, dict[str, None]] = {}
    for index in order:
        row = dataset.interactions[index]
        seen = sequences.setdefault(row.user_id, {})
        seen.pop(row.item_id, None)
        seen[row.item_id] = None
    rated = sorted({row.item_id for row in dataset.interactions})
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(rated), size=max(1, round(share * len(rated))), replace=False)
    new = {rated[i] for i in picked}
    new_sorted = sorted(new)

    cases: list[EvalCase] = []
    skipped: Counter[str] = Counter()
    short = 0
    for user in sorted(sequences):
        items = list(sequences[user])
        history = [i for i in items if i not in new]
        targets = [i for i in items if i in new]
        if not targets:
            skipped["no new item"] += 1
            continue
        if len(history) < min_history:
            skipped[f"fewer than {min_history} other items"] += 1
            continue
        touched = set(targets)
        pool = [i for i in new_sorted if i not in touched]
        size = min(n_negatives, len(pool))
        short += size < n_negatives
        negatives = [pool[i] for i in np.sort(rng.choice(len(pool), size=size, replace=False))]
        language, region = dataset.user_locale(user)
        cases.append(
            EvalCase(
                case_id=user,
                user_id=user,
                history=history,
                candidates=[targets[-1], *negatives],
                positives={targets[-1]},
                user_language=language,
                user_region=region,
            )
        )
    warm = replace(dataset, interactions=[r for r in dataset.interactions if r.item_id not in new])
    result = ProtocolResult(
        protocol="new-items",
        dataset_hash=dataset.content_hash,
        cases=cases,
        skipped=dict(skipped),
        notes={"new_items": len(new), "users_with_fewer_negatives": short},
        params={"share_percent": round(share * 100), "n_negatives": n_negatives, "seed": seed},
    )
    return result, warm
