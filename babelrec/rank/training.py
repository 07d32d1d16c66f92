"""Turning interaction logs into BPR training examples for the bilinear ranker.

For each user, in time order, every interaction after the first becomes an example: the user
vector is the mean of the items before it (at most `max_history`), the positive is the item.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from babelrec.errors import CatalogError
from babelrec.rank.bilinear import TrainingExample
from babelrec.rank.users import mean_vector


@dataclass(frozen=True)
class Interaction:
    user_id: str
    item_id: str
    timestamp: float = 0.0


def _timestamp(text: str) -> float | None:
    """Unix seconds, or an ISO 8601 time (naive = UTC), as the eval datasets write it."""
    if not text.strip():
        return 0.0
    try:
        return float(text)
    except ValueError:
        pass
    try:
        stamp = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


def read_interactions(path: Path) -> list[Interaction]:
    """Read `user_id,item_id[,timestamp[,rating]]` CSV rows; a bad row is a `CatalogError`."""
    if not path.exists():
        raise CatalogError(f"interactions file {path} does not exist")
    rows: list[Interaction] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"user_id", "item_id"} <= set(reader.fieldnames):
            raise CatalogError(f"{path}: needs a header with user_id,item_id[,timestamp]")
        for row in reader:
            stamp = _timestamp(row.get("timestamp") or "")
            if stamp is None:
                raise CatalogError(
                    f"{path}: line {reader.line_num}: timestamp {row['timestamp']!r} is neither "
                    "unix seconds nor ISO 8601"
                )
            if not row["user_id"] or not row["item_id"]:
                raise CatalogError(f"{path}: line {reader.line_num}: empty user_id or item_id")
            rows.append(Interaction(row["user_id"], row["item_id"], stamp))
    return rows


def examples_from_interactions(
    interactions: Sequence[Interaction],
    item_vectors: Mapping[str, np.ndarray],
    *,
    max_history: int = 50,
) -> list[TrainingExample]:
    """Next-item examples from each user's time-ordered interactions with known items."""
    by_user: dict[str, list[Interaction]] = defaultdict(list)
    for row in interactions:
        if row.item_id in item_vectors:
            by_user[row.user_id].append(row)
    examples: list[TrainingExample] = []
    for rows in by_user.values():
        rows.sort(key=lambda r: r.timestamp)
        for pos in range(1, len(rows)):
            before = rows[max(0, pos - max_history) : pos]
            user = mean_vector(np.stack([item_vectors[r.item_id] for r in before]))
            examples.append(TrainingExample(user_vector=user, positive=rows[pos].item_id))
    return examples
