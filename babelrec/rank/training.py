"""Turning interaction logs into BPR training examples for the bilinear ranker.

For each user, in time order (file order for a log without times), every interaction after the
first becomes an example: the user vector is the mean of the items before it (at most
`max_history`), the positive is the item.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import numpy as np

from babelrec.io.interactions import InteractionRow
from babelrec.rank.bilinear import TrainingExample
from babelrec.rank.users import mean_vector

#: Where rows without a time sort: before every timed row, in file order (the sort is stable).
_NO_TIME = datetime.fromtimestamp(0, tz=UTC)


def examples_from_interactions(
    interactions: Sequence[InteractionRow],
    item_vectors: Mapping[str, np.ndarray],
    *,
    max_history: int = 50,
) -> list[TrainingExample]:
    """Next-item examples from each user's time-ordered interactions with known items."""
    by_user: dict[str, list[InteractionRow]] = defaultdict(list)
    for row in interactions:
        if row.item_id in item_vectors:
            by_user[row.user_id].append(row)
    examples: list[TrainingExample] = []
    for rows in by_user.values():
        rows.sort(key=lambda r: r.timestamp or _NO_TIME)
        for pos in range(1, len(rows)):
            before = rows[max(0, pos - max_history) : pos]
            user = mean_vector(np.stack([item_vectors[r.item_id] for r in before]))
            examples.append(TrainingExample(user_vector=user, positive=rows[pos].item_id))
    return examples
