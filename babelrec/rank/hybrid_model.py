"""The product's hybrid first stage: learned from an interaction log, saved beside the store.

`train_hybrid` learns, from users' time-ordered interactions and the store's item vectors:
the bilinear content weights, a collaborative model (EASE), the helper models
(`babelrec.rank.hybrid.HELPER_MODELS`: sequence rules, an item graph, a GRU next-item model) and
the fusion weights. It holds out the
last item of a seeded share of users, learns on the rest, reports the held-out HitRate@10 and
nDCG@10 (target against 99 sampled items the user never took) beside popularity's, then refits
on everyone. `HybridModel` scores a user's candidates and is saved as one directory tagged with
the embedder identity it was trained for, so vectors of another embedder are refused.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydantic import Field

from babelrec.errors import EmbeddingMismatchError, RankerError
from babelrec.files import write_atomic
from babelrec.models import Strict
from babelrec.rank.bilinear import BilinearRanker, BPRConfig, TrainingExample
from babelrec.rank.collaborative import CollaborativeModel, build_collaborative
from babelrec.rank.hybrid import (
    FITTED_ONCE,
    HELPER_MODELS,
    FusionWeights,
    HelperOptions,
    HybridRanker,
    candidate_features,
    fit_helpers,
    helper_specs,
    learn_tuned_fusion,
)
from babelrec.rank.users import mean_vector

FORMAT = 3
NEGATIVES = 99
MAX_HISTORY = 50
#: EASE's ridge strengths tried on the training users (the one with the best HitRate@10 wins).
L2_GRID = (100.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0)

Progress = Callable[[str, float], None]


class HybridReport(Strict):
    """What training measured on the held-out users, and what it cost."""

    users: int
    held_out_users: int
    negatives: int = Field(description="Sampled items each held-out last item is ranked against.")
    interactions: int
    unknown_items: int = Field(description="Interactions with items the store does not hold.")
    hit_at_10: float
    ndcg_at_10: float
    popularity_hit_at_10: float
    popularity_ndcg_at_10: float
    collaborative: str
    params: dict[str, float]
    seconds: float
    cpu_seconds: float = Field(description="CPU time of this process (all threads).")


class HybridMeta(Strict):
    format: int = FORMAT
    embedder: str
    dimension: int
    fusion: FusionWeights
    report: HybridReport


@dataclass
class HybridModel:
    """Bilinear content weights, the collaborative and helper models and fusion weights, for
    one embedder."""

    bilinear: BilinearRanker
    collaborative: CollaborativeModel
    meta: HybridMeta
    helpers: dict[str, CollaborativeModel] = field(default_factory=dict)

    @property
    def ranker(self) -> HybridRanker:
        return HybridRanker(self.collaborative, self.meta.fusion, self.helpers)

    def score(
        self,
        user_vector: np.ndarray | None,
        history: Sequence[str],
        item_ids: Sequence[str],
        item_matrix: np.ndarray,
    ) -> np.ndarray:
        """Fused scores of the items (rows of `item_matrix`) for a user (vector may be None)."""
        content = (
            np.zeros(len(item_ids))
            if user_vector is None
            else self.bilinear.score(user_vector, item_ids, item_matrix)
        )
        return self.ranker.score(content, history, item_ids)

    def suggest(self, history: Sequence[str], n: int, exclude: Sequence[str] = ()) -> list[str]:
        """The `n` items the collaborative model scores highest for the user (candidates that
        vector search may miss); the most popular ones for a user without known history."""
        model = self.collaborative
        ids = model.item_ids
        known = any(i in model.item_index for i in history)
        scores = model.score(history, ids) if known else model.popularity(ids)
        skip = set(exclude) | set(history)
        order = np.argsort(-scores, kind="stable")
        return [ids[i] for i in order if ids[i] not in skip][:n]

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        self.bilinear.save(directory / "bilinear.npz")
        self.collaborative.save(directory / "collaborative.npz")
        for name, model in self.helpers.items():
            model.save(directory / f"{name}.npz")
        write_atomic(directory / "hybrid.json", self.meta.model_dump_json(indent=2))
        return directory

    @classmethod
    def load(cls, directory: Path, *, embedder: str, dimension: int) -> HybridModel:
        """Load a saved model; refuse one trained for another embedder."""
        try:
            meta = HybridMeta.model_validate_json((directory / "hybrid.json").read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise RankerError(f"cannot read the hybrid model in {directory}: {exc}") from exc
        if meta.format != FORMAT:
            raise RankerError(
                f"{directory}: hybrid format {meta.format}, expected {FORMAT}; run babelrec "
                "train again"
            )
        if (meta.embedder, meta.dimension) != (embedder, dimension):
            raise EmbeddingMismatchError(
                f"the hybrid model in {directory} was trained for {meta.embedder} "
                f"({meta.dimension}-d) vectors, not {embedder} ({dimension}-d); run babelrec "
                "train again"
            )
        helpers = {
            name: CollaborativeModel.load(path)
            for name in HELPER_MODELS
            for path in [directory / f"{name}.npz"]
            if path.exists()
        }
        return cls(
            BilinearRanker.load(directory / "bilinear.npz"),
            CollaborativeModel.load(directory / "collaborative.npz"),
            meta,
            helpers,
        )


@dataclass
class _Task:
    user: str
    history: list[str]
    target: str
    negatives: list[str]

    @property
    def candidates(self) -> list[str]:
        return [self.target, *self.negatives]


def _held_out(user: str, share: float, seed: int) -> bool:
    digest = hashlib.sha256(f"holdout:{seed}:{user}".encode()).digest()
    return int.from_bytes(digest[:4], "little") / 2**32 < share


def _hit_ndcg(scores: np.ndarray) -> tuple[float, float]:
    """HitRate@10 and nDCG@10 of the first entry (the target), ties counted against it."""
    rank = int((scores[1:] >= scores[0]).sum())
    return float(rank < 10), (1.0 / np.log2(rank + 2)) if rank < 10 else 0.0


def _mean(rows: Sequence[tuple[float, float]], column: int) -> float:
    return float(np.mean([r[column] for r in rows])) if rows else float("nan")


def _examples(tasks: Sequence[_Task], vectors: Mapping[str, np.ndarray]) -> list[TrainingExample]:
    examples = []
    for task in tasks:
        known = [i for i in task.history[-MAX_HISTORY:] if i in vectors]
        if known:
            user = mean_vector(np.stack([vectors[i] for i in known]))
            examples.append(TrainingExample(user, task.target, task.negatives))
    return examples


def _user_vector(history: Sequence[str], vectors: Mapping[str, np.ndarray]) -> np.ndarray | None:
    known = [vectors[i] for i in history[-MAX_HISTORY:] if i in vectors]
    return mean_vector(np.stack(known)) if known else None


def _content(
    bilinear: BilinearRanker, task: _Task, vectors: Mapping[str, np.ndarray]
) -> np.ndarray:
    user = _user_vector(task.history, vectors)
    if user is None:
        return np.zeros(len(task.candidates))
    matrix = np.stack([vectors[i] for i in task.candidates])
    return bilinear.score(user, task.candidates, matrix)


def train_hybrid(
    sequences: Mapping[str, Sequence[str]],
    vectors: Mapping[str, np.ndarray],
    *,
    embedder: str,
    held_out_share: float = 0.1,
    seed: int = 0,
    bpr: BPRConfig | None = None,
    helpers: HelperOptions | None = None,
    progress: Progress | None = None,
) -> HybridModel:
    """Learn a `HybridModel` from each user's items (oldest first); see the module docstring.
    `helpers` turns helper models off or overrides their parameters (`helper_specs`)."""
    specs = helper_specs(helpers)
    started, cpu_started = time.perf_counter(), time.process_time()
    step = progress or (lambda _label, _done: None)
    catalog = sorted(vectors)
    if not catalog:
        raise RankerError("the store holds no item vectors: ingest a catalog first")
    dimension = int(next(iter(vectors.values())).shape[0])
    rng = np.random.default_rng(seed)
    lists = {u: [i for i in dict.fromkeys(s) if i in vectors] for u, s in sequences.items()}
    unknown = sum(1 for s in sequences.values() for i in s if i not in vectors)
    train: list[_Task] = []
    test: list[_Task] = []
    for user in sorted(lists):
        items = lists[user]
        if len(items) < 2:
            continue
        taken = set(items)
        size = min(len(catalog), NEGATIVES + len(taken))
        drawn = [catalog[i] for i in rng.choice(len(catalog), size=size, replace=False)]
        negatives = [i for i in drawn if i not in taken][:NEGATIVES]
        if not negatives:
            continue
        task = _Task(user, items[:-1], items[-1], negatives)
        (test if _held_out(user, held_out_share, seed) else train).append(task)
    if not test and len(train) > 1:
        test.append(train.pop())  # a tiny log still gets its held-out check
    if not train:
        raise RankerError("need users with at least two known items to learn from")
    step("collaborative model", 0.1)

    # Fitted without any user's last item: the fusion and the held-out check see no leak.
    histories = [t.history for t in [*train, *test]]
    histories += [s for s in lists.values() if len(s) == 1]
    best: tuple[float, float, CollaborativeModel] | None = None
    for l2 in L2_GRID:
        model = build_collaborative("ease", {"l2": l2}).fit(histories)
        hits = [_hit_ndcg(model.score(t.history, t.candidates))[0] for t in train[:3000]]
        if best is None or float(np.mean(hits)) > best[0]:
            best = (float(np.mean(hits)), l2, model)
    assert best is not None
    _, l2, held_out_model = best
    held_out_helpers = fit_helpers(specs, histories)
    step("content weights", 0.35)

    config = bpr or BPRConfig(seed=seed)
    fold = {t.user: int(rng.integers(2)) for t in train}
    fusion_lists = []
    for half in (0, 1):
        bilinear = BilinearRanker.fit(
            _examples([t for t in train if fold[t.user] != half], vectors), vectors, config
        )
        for task in train[:3000]:
            if fold[task.user] == half:
                content = _content(bilinear, task, vectors)
                features = candidate_features(
                    held_out_model,
                    content,
                    task.history,
                    task.candidates,
                    helpers=held_out_helpers,
                )
                fusion_lists.append((features, np.arange(len(task.candidates)) == 0))
    step("fusion weights", 0.6)
    fusion = learn_tuned_fusion(fusion_lists, seed=seed)
    bilinear = BilinearRanker.fit(_examples(train, vectors), vectors, config)
    step("held-out check", 0.75)

    ranker = HybridRanker(held_out_model, fusion, held_out_helpers)
    measured, popular = [], []
    for task in test:
        scores = ranker.score(_content(bilinear, task, vectors), task.history, task.candidates)
        measured.append(_hit_ndcg(scores))
        popular.append(_hit_ndcg(held_out_model.popularity(task.candidates)))
    step("final fit", 0.85)

    everything = [*train, *test]
    full_model = build_collaborative("ease", {"l2": l2}).fit(list(lists.values()))
    refitted = {k: v for k, v in specs.items() if k not in FITTED_ONCE}
    fitted_helpers = {**held_out_helpers, **fit_helpers(refitted, list(lists.values()))}
    bilinear = BilinearRanker.fit(_examples(everything, vectors), vectors, config)
    report = HybridReport(
        users=len(lists),
        held_out_users=len(test),
        negatives=max((len(t.negatives) for t in test), default=0),
        interactions=sum(len(s) for s in sequences.values()),
        unknown_items=unknown,
        hit_at_10=_mean(measured, 0),
        ndcg_at_10=_mean(measured, 1),
        popularity_hit_at_10=_mean(popular, 0),
        popularity_ndcg_at_10=_mean(popular, 1),
        collaborative="ease",
        params={"l2": l2},
        seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu_started,
    )
    step("done", 1.0)
    meta = HybridMeta(embedder=embedder, dimension=dimension, fusion=fusion, report=report)
    return HybridModel(bilinear, full_model, meta, fitted_helpers)
