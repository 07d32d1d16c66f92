"""The first ranking: the seed's bilinear score `R(u,i) = sum_j w_ij u_j i_j`, with `W`
learned from interactions by BPR (positive vs sampled negative items).

Two parametrisations:
- `shared`: one weight per dimension, shared by all items (a diagonal bilinear form);
- `per_item`: the seed's per-item rows `w_i = shared + delta_i`, with `delta_i` regularised
  toward zero so rarely-seen items fall back to the shared weights.

With all weights equal to one the score is the dot product of `u` and `i`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from babelrec.errors import RankerError
from babelrec.models import Strict

Mode = Literal["shared", "per_item"]


def bilinear_score(u: Sequence[float], i: Sequence[float], w_row: Sequence[float]) -> float:
    """`R(u,i) = sum_j w_ij u_j i_j` for one item, given its weight row `w_row`.

    The seed's worked example, U=[0.8,0.2,0.1,0.5], I=[0.6,0.4,0.3,0.2] and the first row of W
    [0.5,0.3,0.2,0.1], gives 0.24 + 0.024 + 0.006 + 0.01 = 0.28. The seed prints 0.36, which
    is an arithmetic slip.
    """
    u_arr, i_arr, w_arr = (np.asarray(x, dtype=np.float64) for x in (u, i, w_row))
    if not (u_arr.shape == i_arr.shape == w_arr.shape) or u_arr.ndim != 1:
        raise RankerError(
            f"u, i and w_row must be 1-d of equal length, got {u_arr.shape}, {i_arr.shape}, "
            f"{w_arr.shape}"
        )
    return float(np.sum(w_arr * u_arr * i_arr))


class BPRConfig(Strict):
    """Training settings for `BilinearRanker.fit`."""

    mode: Mode = "shared"
    epochs: int = Field(default=5, ge=1)
    learning_rate: float = Field(default=0.01, gt=0)
    batch_size: int = Field(default=256, ge=1)
    negatives: int = Field(default=4, ge=1, description="Sampled negatives per positive.")
    reg_shared: float = Field(default=1e-4, ge=0, description="L2 pull of shared weights to 1.")
    reg_item: float = Field(default=1e-2, ge=0, description="L2 pull of item rows to shared.")
    scale: float = Field(default=20.0, gt=0, description="Logit scale of cosine-sized scores.")
    seed: int = 0


@dataclass
class TrainingExample:
    """A user vector (built from what came before) and an item the user then chose.

    `negatives` are item ids known not chosen (e.g. shown but not clicked); when empty,
    negatives are sampled uniformly from the catalog.
    """

    user_vector: np.ndarray
    positive: str
    negatives: Sequence[str] = ()


class BilinearRanker:
    """Scores items for a user with `sum_j w_ij u_j i_j`."""

    def __init__(
        self,
        shared: np.ndarray,
        *,
        mode: Mode = "shared",
        item_ids: Sequence[str] = (),
        item_deltas: np.ndarray | None = None,
        trained_on: int = 0,
    ) -> None:
        self.shared = np.asarray(shared, dtype=np.float32)
        self.mode: Mode = mode
        self.item_index = {item_id: pos for pos, item_id in enumerate(item_ids)}
        dim = self.shared.shape[0]
        self.item_deltas = (
            np.zeros((len(item_ids), dim), dtype=np.float32)
            if item_deltas is None
            else np.asarray(item_deltas, dtype=np.float32)
        )
        if self.item_deltas.shape != (len(item_ids), dim):
            raise RankerError(f"item_deltas has shape {self.item_deltas.shape}")
        self.trained_on = trained_on

    @classmethod
    def identity(cls, dimension: int) -> BilinearRanker:
        """All weights one: the score is the plain dot product."""
        return cls(np.ones(dimension, dtype=np.float32))

    @property
    def dimension(self) -> int:
        return int(self.shared.shape[0])

    @property
    def is_identity(self) -> bool:
        return self.trained_on == 0 and bool(np.all(self.shared == 1.0))

    def weight_rows(self, item_ids: Sequence[str]) -> np.ndarray:
        """The row `w_i` for each item: shared weights plus the item's own offset, if any."""
        rows = np.tile(self.shared, (len(item_ids), 1))
        if self.mode == "per_item":
            for pos, item_id in enumerate(item_ids):
                index = self.item_index.get(item_id)
                if index is not None:
                    rows[pos] += self.item_deltas[index]
        return rows

    def score(
        self, user_vector: np.ndarray, item_ids: Sequence[str], items: np.ndarray
    ) -> np.ndarray:
        """Scores of `items` (rows aligned with `item_ids`) for one user vector."""
        items = np.asarray(items, dtype=np.float32)
        if items.ndim != 2 or items.shape[1] != self.dimension:
            raise RankerError(
                f"item vectors of shape {items.shape} do not fit a {self.dimension}-d ranker"
            )
        if user_vector.shape != (self.dimension,):
            raise RankerError(f"user vector of shape {user_vector.shape}, need ({self.dimension},)")
        scores: np.ndarray = np.einsum(
            "nd,nd->n", self.weight_rows(item_ids), items * user_vector[None, :]
        )
        return scores

    # -- training --------------------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        examples: Sequence[TrainingExample],
        item_vectors: Mapping[str, np.ndarray],
        config: BPRConfig | None = None,
    ) -> BilinearRanker:
        """Learn weights by BPR with Adam; deterministic for `config.seed`."""
        config = config or BPRConfig()
        usable = [e for e in examples if e.positive in item_vectors]
        if not usable:
            raise RankerError("no training example has a positive item with a known vector")
        catalog = list(item_vectors)
        index = {item_id: pos for pos, item_id in enumerate(catalog)}
        matrix = np.stack([np.asarray(item_vectors[i], dtype=np.float32) for i in catalog])
        dim = matrix.shape[1]
        rng = np.random.default_rng(config.seed)

        users, positives, negatives = [], [], []
        for example in usable:
            known_neg = [index[n] for n in example.negatives if n in index]
            for _ in range(config.negatives):
                if known_neg:
                    neg = known_neg[int(rng.integers(len(known_neg)))]
                else:
                    neg = int(rng.integers(len(catalog)))
                if neg == index[example.positive]:
                    continue
                users.append(example.user_vector)
                positives.append(index[example.positive])
                negatives.append(neg)
        u_all = np.asarray(users, dtype=np.float32)
        p_all = np.asarray(positives)
        n_all = np.asarray(negatives)

        shared = np.ones(dim, dtype=np.float64)
        deltas = np.zeros((len(catalog), dim), dtype=np.float64)
        adam_shared = _Adam(shared.shape, config.learning_rate)
        adam_deltas = _Adam(deltas.shape, config.learning_rate)
        for _epoch in range(config.epochs):
            order = rng.permutation(len(u_all))
            for start in range(0, len(order), config.batch_size):
                batch = order[start : start + config.batch_size]
                u, p, n = u_all[batch], p_all[batch], n_all[batch]
                up, un = u * matrix[p], u * matrix[n]
                if config.mode == "shared":
                    x = np.sum(shared * (up - un), axis=1)
                else:
                    x = np.sum((shared + deltas[p]) * up - (shared + deltas[n]) * un, axis=1)
                coef = -config.scale * _sigmoid(-config.scale * x)[:, None] / len(batch)
                grad = np.sum(coef * (up - un), axis=0) + 2 * config.reg_shared * (shared - 1)
                adam_shared.step(shared, grad)
                if config.mode == "per_item":
                    # Only the rows this batch touched move (lazy Adam): a full-matrix step per
                    # batch would cost O(catalog x dim).
                    rows, inverse = np.unique(np.concatenate([p, n]), return_inverse=True)
                    grad_rows = np.zeros((len(rows), dim))
                    np.add.at(grad_rows, inverse[: len(p)], coef * up)
                    np.add.at(grad_rows, inverse[len(p) :], -coef * un)
                    grad_rows += 2 * config.reg_item * deltas[rows] / len(batch)
                    adam_deltas.step(deltas, grad_rows, rows)
        if config.mode == "shared":
            return cls(shared.astype(np.float32), mode="shared", trained_on=len(usable))
        seen = np.unique(np.concatenate([p_all, n_all]))
        return cls(
            shared.astype(np.float32),
            mode="per_item",
            item_ids=[catalog[i] for i in seen],
            item_deltas=deltas[seen].astype(np.float32),
            trained_on=len(usable),
        )

    # -- persistence -----------------------------------------------------------------------

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        ids = sorted(self.item_index, key=self.item_index.__getitem__)
        meta = {"mode": self.mode, "trained_on": self.trained_on, "item_ids": ids}
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, shared=self.shared, item_deltas=self.item_deltas, meta=json.dumps(meta))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> BilinearRanker:
        try:
            with np.load(path) as data:
                meta = json.loads(str(data["meta"]))
                return cls(
                    data["shared"],
                    mode=meta["mode"],
                    item_ids=meta["item_ids"],
                    item_deltas=data["item_deltas"],
                    trained_on=int(meta["trained_on"]),
                )
        except (OSError, KeyError, ValueError) as exc:
            raise RankerError(f"cannot load bilinear weights from {path}: {exc}") from exc


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))
    return out


class _Adam:
    """Adam over one parameter array; `rows` restricts a step to some rows (lazy Adam)."""

    def __init__(self, shape: tuple[int, ...], lr: float) -> None:
        self.lr, self.b1, self.b2, self.eps = lr, 0.9, 0.999, 1e-8
        self.m, self.v = np.zeros(shape), np.zeros(shape)
        self.t = np.zeros(shape[:1] if len(shape) > 1 else (1,), dtype=np.int64)

    def step(self, param: np.ndarray, grad: np.ndarray, rows: np.ndarray | None = None) -> None:
        if rows is None:
            rows = np.arange(len(self.t)) if param.ndim > 1 else np.zeros(1, dtype=np.int64)
        self.t[rows] += 1
        t = self.t[rows][:, None] if param.ndim > 1 else self.t[0]
        target = (slice(None),) if param.ndim == 1 else (rows,)
        m, v = self.m[target], self.v[target]
        m = self.b1 * m + (1 - self.b1) * grad
        v = self.b2 * v + (1 - self.b2) * grad * grad
        self.m[target], self.v[target] = m, v
        param[target] -= (
            self.lr * (m / (1 - self.b1**t)) / (np.sqrt(v / (1 - self.b2**t)) + self.eps)
        )
