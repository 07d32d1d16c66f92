"""Collaborative models: item scores learned from who interacted with what, behind one interface.

`CollaborativeModel.fit` takes users' item lists and builds the binary user x item matrix once;
`score` folds in any user by their item list (a user the model never saw included), so the same
fitted model serves training users, new users and the product. Items the model never saw score
0 and are reported by `knows`: cold-start handling is the caller's (see `babelrec.rank.hybrid`).

Built-ins, looked up by name in `COLLABORATIVE_MODELS`:
- ``itemknn``: cosine item-item neighbours (`implicit`'s CosineRecommender), score = sum of the
  similarities of the user's items to the candidate;
- ``ease``: EASE (Steck, WWW 2019), a closed-form item-item regression;
- ``als``: implicit ALS (Hu, Koren and Volinsky 2008) from `implicit`, users folded in by one
  least-squares step against the item factors.
"""

from __future__ import annotations

import json
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from scipy import sparse

from babelrec.errors import ConfigError, RankerError

FORMAT = 1


def _blas_threads(limit: int) -> Any:
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=limit, user_api="blas")


class CollaborativeModel(ABC):
    """Scores items for a user from the items they interacted with; higher is better."""

    name: ClassVar[str]

    def __init__(self, **params: Any) -> None:
        self.params: dict[str, Any] = params
        self.item_ids: list[str] = []
        self.item_index: dict[str, int] = {}
        self.counts = np.zeros(0, dtype=np.float32)

    # -- the shared work -------------------------------------------------------------------

    def fit(self, histories: Iterable[Sequence[str]], threads: int = 2) -> CollaborativeModel:
        """Learn from users' item lists (order and repeats ignored); returns self."""
        rows: list[int] = []
        cols: list[int] = []
        index: dict[str, int] = {}
        n_users = 0
        for history in histories:
            # first-seen order, not a set's: a set of strings iterates in a per-process hash
            # order, which made item indices, and so tie-breaks and the GRU's initial
            # embeddings, differ from one run to the next
            for item in dict.fromkeys(history):
                cols.append(index.setdefault(item, len(index)))
                rows.append(n_users)
            n_users += 1
        if not index:
            raise RankerError("no interactions to learn from: give at least one non-empty history")
        self.item_ids = list(index)
        self.item_index = index
        data = np.ones(len(rows), dtype=np.float32)
        matrix = sparse.csr_matrix((data, (rows, cols)), shape=(n_users, len(index)))
        self.counts = np.asarray(matrix.sum(axis=0), dtype=np.float32).ravel()
        with _blas_threads(threads):
            self._fit(matrix, threads)
        return self

    def knows(self, item_ids: Sequence[str]) -> np.ndarray:
        """True for the items the model saw in training."""
        return np.array([i in self.item_index for i in item_ids], dtype=bool)

    def popularity(self, item_ids: Sequence[str]) -> np.ndarray:
        """How many training users interacted with each item (0 for unknown items)."""
        return np.array(
            [self.counts[self.item_index[i]] if i in self.item_index else 0.0 for i in item_ids],
            dtype=np.float32,
        )

    def score(self, history: Sequence[str], item_ids: Sequence[str]) -> np.ndarray:
        """Scores of `item_ids` for a user with `history`; 0 for unknown items and for a user
        with no known item."""
        if not self.item_ids:
            raise RankerError(f"{self.name}: fit() before score()")
        known = sorted({self.item_index[i] for i in history if i in self.item_index})
        out = np.zeros(len(item_ids), dtype=np.float32)
        if not known:
            return out
        positions = [p for p, i in enumerate(item_ids) if i in self.item_index]
        if positions:
            targets = np.array([self.item_index[item_ids[p]] for p in positions])
            out[positions] = self._score(np.array(known), targets)
        return out

    # -- the model's part ------------------------------------------------------------------

    @abstractmethod
    def _fit(self, matrix: sparse.csr_matrix, threads: int) -> None:
        """Learn from the binary user x item matrix."""

    @abstractmethod
    def _score(self, known: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Scores of item indices `targets` for a user who interacted with indices `known`."""

    @abstractmethod
    def _arrays(self) -> dict[str, np.ndarray]:
        """The learned arrays, for saving."""

    @abstractmethod
    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        """Set the learned arrays from `_arrays`' output."""

    # -- persistence -----------------------------------------------------------------------

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"format": FORMAT, "name": self.name, "params": self.params, "items": self.item_ids}
        tmp = path.with_name(path.name + ".tmp.npz")
        arrays: dict[str, Any] = {"meta": np.array(json.dumps(meta)), "counts": self.counts}
        arrays.update(self._arrays())
        np.savez(tmp, **arrays)
        tmp.replace(path)

    @staticmethod
    def load(path: Path) -> CollaborativeModel:
        try:
            with np.load(path) as data:
                meta = json.loads(str(data["meta"]))
                arrays = {k: data[k] for k in data.files if k not in ("meta", "counts")}
                counts = data["counts"]
        except (OSError, KeyError, ValueError) as exc:
            raise RankerError(f"cannot load a collaborative model from {path}: {exc}") from exc
        if meta.get("format") != FORMAT:
            raise RankerError(f"{path} has format {meta.get('format')}, expected {FORMAT}")
        model = build_collaborative(meta["name"], meta["params"])
        model.item_ids = list(meta["items"])
        model.item_index = {item: pos for pos, item in enumerate(model.item_ids)}
        model.counts = counts
        model._restore(arrays)
        return model


def last_occurrences(history: Sequence[str]) -> list[str]:
    """The distinct items of a history, each at its last place, oldest first."""
    return list(dict.fromkeys(reversed(history)))[::-1]


class OrderedFit(CollaborativeModel):
    """For models that learn from the order of each history: while `_fit` runs,
    `self._ordered` holds each user's `last_occurrences`."""

    _ordered: list[list[str]]

    def fit(self, histories: Iterable[Sequence[str]], threads: int = 2) -> CollaborativeModel:
        ordered = [last_occurrences(h) for h in histories]
        self._ordered = ordered
        try:
            return super().fit(ordered, threads)
        finally:
            del self._ordered


class SparseItemItem(CollaborativeModel):
    """A model whose learned part is one sparse item x item matrix: score = sum of the rows
    of the user's items."""

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.similarity = sparse.csr_matrix((0, 0), dtype=np.float32)

    def _score(self, known: np.ndarray, targets: np.ndarray) -> np.ndarray:
        summed = np.asarray(self.similarity[known].sum(axis=0)).ravel()
        out: np.ndarray = summed[targets]
        return out

    def _arrays(self) -> dict[str, np.ndarray]:
        s = self.similarity.tocsr()
        return {"data": s.data, "indices": s.indices, "indptr": s.indptr}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        n = len(self.item_ids)
        self.similarity = sparse.csr_matrix(
            (arrays["data"], arrays["indices"], arrays["indptr"]), shape=(n, n)
        )


class ItemKNN(SparseItemItem):
    """Cosine item-item neighbours (`implicit`), keeping each item's `neighbours` nearest."""

    name = "itemknn"

    def __init__(self, neighbours: int = 100) -> None:
        super().__init__(neighbours=neighbours)

    def _fit(self, matrix: sparse.csr_matrix, threads: int) -> None:
        from implicit.nearest_neighbours import CosineRecommender

        model = CosineRecommender(K=int(self.params["neighbours"]), num_threads=threads)
        with warnings.catch_warnings():
            # implicit normalises to COO itself, then warns that its own fit got COO.
            warnings.filterwarnings("ignore", message="Method expects CSR input")
            model.fit(matrix, show_progress=False)
        self.similarity = sparse.csr_matrix(model.similarity, dtype=np.float32)


class EASE(CollaborativeModel):
    """Embarrassingly shallow autoencoder: `B = I - P / diag(P)`, `P = (X'X + l2 I)^-1`.

    The dense item x item solve is kept to the `max_items` most popular items (memory grows
    with its square); the others score 0 and do not count in histories.
    """

    name = "ease"

    def __init__(self, l2: float = 200.0, max_items: int = 5000) -> None:
        super().__init__(l2=l2, max_items=max_items)
        self.weights = np.zeros((0, 0), dtype=np.float32)
        self.columns = np.zeros(0, dtype=np.int64)
        self.position = np.zeros(0, dtype=np.int64)

    def _fit(self, matrix: sparse.csr_matrix, threads: int) -> None:
        columns = np.sort(np.argsort(-self.counts, kind="stable")[: int(self.params["max_items"])])
        sub = matrix[:, columns]
        gram = (sub.T @ sub).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += float(self.params["l2"])
        inverse = np.linalg.inv(gram)
        weights = inverse / -np.diag(inverse)
        weights[np.diag_indices_from(weights)] = 0.0
        self.weights = weights.astype(np.float32)
        self._set_columns(columns)

    def _set_columns(self, columns: np.ndarray) -> None:
        self.columns = columns
        self.position = np.full(len(self.item_ids), -1, dtype=np.int64)
        self.position[columns] = np.arange(len(columns))

    def _score(self, known: np.ndarray, targets: np.ndarray) -> np.ndarray:
        rows = self.position[known]
        rows = rows[rows >= 0]
        cols = self.position[targets]
        out = np.zeros(len(targets), dtype=np.float32)
        inside = cols >= 0
        if len(rows) and inside.any():
            out[inside] = self.weights[np.ix_(rows, cols[inside])].sum(axis=0)
        return out

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights, "columns": self.columns}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        self.weights = arrays["weights"]
        self._set_columns(arrays["columns"])


class ALS(CollaborativeModel):
    """Implicit ALS from `implicit`; a user is folded in by solving for their factors."""

    name = "als"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 10.0,
        iterations: int = 15,
        seed: int = 0,
    ) -> None:
        super().__init__(
            factors=factors,
            regularization=regularization,
            alpha=alpha,
            iterations=iterations,
            seed=seed,
        )
        self.item_factors = np.zeros((0, factors), dtype=np.float32)
        self._gram: np.ndarray | None = None

    def _fit(self, matrix: sparse.csr_matrix, threads: int) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        p = self.params
        # implicit runs its own threads; BLAS threads inside them only contend (and it warns).
        with _blas_threads(1):
            model = AlternatingLeastSquares(
                factors=int(p["factors"]),
                regularization=float(p["regularization"]),
                alpha=float(p["alpha"]),
                iterations=int(p["iterations"]),
                random_state=int(p["seed"]),
                num_threads=threads,
            )
            model.fit(matrix, show_progress=False)
        self.item_factors = np.asarray(model.item_factors, dtype=np.float32)
        self._gram = None

    def _score(self, known: np.ndarray, targets: np.ndarray) -> np.ndarray:
        # implicit's user step: minimise sum_i c_i (p_i - x.y_i)^2 + reg |x|^2, where known
        # items have confidence c = alpha (the binary matrix times alpha) and p = 1, others c = 1.
        y = self.item_factors.astype(np.float64)
        alpha, reg = float(self.params["alpha"]), float(self.params["regularization"])
        if self._gram is None:
            self._gram = y.T @ y + reg * np.eye(y.shape[1])
        yk = y[known]
        a = self._gram + (alpha - 1.0) * yk.T @ yk
        b = alpha * yk.sum(axis=0)
        user = np.linalg.solve(a, b)
        out: np.ndarray = (y[targets] @ user).astype(np.float32)
        return out

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"item_factors": self.item_factors}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        self.item_factors = arrays["item_factors"]
        self._gram = None


COLLABORATIVE_MODELS: dict[str, type[CollaborativeModel]] = {
    ItemKNN.name: ItemKNN,
    EASE.name: EASE,
    ALS.name: ALS,
}


def build_collaborative(name: str, params: dict[str, Any] | None = None) -> CollaborativeModel:
    """A model by registry name, with constructor parameters; errors name the choices."""
    try:
        factory = COLLABORATIVE_MODELS[name]
    except KeyError:
        choices = ", ".join(sorted(COLLABORATIVE_MODELS))
        raise ConfigError(
            f"unknown collaborative model {name!r}; choose one of: {choices}"
        ) from None
    try:
        return factory(**(params or {}))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"collaborative model {name!r}: {exc}") from None
