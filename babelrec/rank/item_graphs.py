"""Two more collaborative models over item-item graphs, behind `CollaborativeModel`.

- ``rp3beta``: RP3beta (Paudel et al., TiiS 2017; strong in Dacrema et al., RecSys 2019): the
  item-to-item probability of a three-step random walk item -> user -> item, each step's
  probabilities raised to `alpha`, divided by the popularity of the item reached to the power
  `beta`, keeping each item's `neighbours` strongest;
- ``sequence``: sequence rules (Ludewig and Jannach, UMUAI 2018): how often users took item `j`
  within `window` places after item `i` (weighted 1/distance). It folds in the user's last
  `recent` items only, in order: what people take next after what this user took last.

Both are registered in `COLLABORATIVE_MODELS` on import (`babelrec.rank` imports this module).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse

from babelrec.rank.collaborative import (
    COLLABORATIVE_MODELS,
    OrderedFit,
    SparseItemItem,
    last_occurrences,
)


def _top_per_row(matrix: sparse.csr_matrix, keep: int) -> sparse.csr_matrix:
    """Each row's `keep` largest entries (ties broken by column, deterministically)."""
    matrix = matrix.tocsr()
    data, indices, indptr = [], [], [0]
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        values, columns = matrix.data[start:end], matrix.indices[start:end]
        if len(values) > keep:
            chosen = np.lexsort((columns, -values))[:keep]
            values, columns = values[chosen], columns[chosen]
        data.append(values)
        indices.append(columns)
        indptr.append(indptr[-1] + len(values))
    return sparse.csr_matrix(
        (np.concatenate(data), np.concatenate(indices), np.array(indptr)), shape=matrix.shape
    )


class RP3Beta(SparseItemItem):
    """RP3beta item-item random walks (see the module docstring)."""

    name = "rp3beta"

    def __init__(self, alpha: float = 1.0, beta: float = 0.6, neighbours: int = 200) -> None:
        super().__init__(alpha=alpha, beta=beta, neighbours=neighbours)

    def _fit(self, matrix: sparse.csr_matrix, threads: int) -> None:
        alpha, beta = float(self.params["alpha"]), float(self.params["beta"])
        user_degree = np.maximum(np.asarray(matrix.sum(axis=1)).ravel(), 1.0)
        item_degree = np.maximum(self.counts.astype(np.float64), 1.0)
        user_to_item = sparse.diags(1.0 / user_degree) @ matrix
        item_to_user = sparse.diags(1.0 / item_degree) @ matrix.T.tocsr()
        walk = (item_to_user.power(alpha) @ user_to_item.power(alpha)).tocsr()
        walk = walk @ sparse.diags(item_degree**-beta)
        walk.setdiag(0.0)
        walk.eliminate_zeros()
        self.similarity = _top_per_row(walk, int(self.params["neighbours"])).astype(np.float32)


class SequenceRules(OrderedFit, SparseItemItem):
    """What users take next: counts of `i` followed by `j` within `window` places, 1/distance
    weighted; a user is folded in from their last `recent` items (see the module docstring)."""

    name = "sequence"

    def __init__(self, window: int = 10, recent: int = 5) -> None:
        super().__init__(window=window, recent=recent)

    def _fit(self, matrix: sparse.csr_matrix, threads: int) -> None:
        window = int(self.params["window"])
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        for history in self._ordered:
            positions = np.array([self.item_index[i] for i in history], dtype=np.int64)
            for gap in range(1, min(window, len(positions) - 1) + 1):
                rows.append(positions[:-gap])
                cols.append(positions[gap:])
                weights.append(np.full(len(positions) - gap, 1.0 / gap, dtype=np.float32))
        n = len(self.item_ids)
        if rows:
            counts = sparse.csr_matrix(
                (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))),
                shape=(n, n),
                dtype=np.float32,
            )
        else:
            counts = sparse.csr_matrix((n, n), dtype=np.float32)
        counts.sum_duplicates()
        self.similarity = counts

    def score(self, history: Sequence[str], item_ids: Sequence[str]) -> np.ndarray:
        """Scores of `item_ids` from the user's last `recent` known items (oldest first)."""
        known = [i for i in last_occurrences(history) if i in self.item_index]
        return super().score(known[-int(self.params["recent"]) :], item_ids)


COLLABORATIVE_MODELS[RP3Beta.name] = RP3Beta
COLLABORATIVE_MODELS[SequenceRules.name] = SequenceRules
