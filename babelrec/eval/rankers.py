"""Rankers the harness compares, in a registry by name.

Each ranker sees the same frozen cases and returns one score per candidate. `prepare` may
train on the training cases (never on the test cases). Ships baselines (random, popularity)
next to babelrec's own stages (cosine, bilinear) so that every comparison is in one place.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from babelrec.errors import ConfigError
from babelrec.eval.dataset import Dataset
from babelrec.eval.protocols import EvalCase
from babelrec.rank.bilinear import BilinearRanker, BPRConfig, TrainingExample
from babelrec.rank.users import mean_vector
from babelrec.registry import EVAL_RANKERS


@dataclass
class EvalContext:
    """What rankers may use: the dataset, item vectors, training cases and the seed."""

    dataset: Dataset
    vectors: dict[str, np.ndarray]
    train_cases: list[EvalCase]
    seed: int = 0
    test_cases: list[EvalCase] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    # Rankers prepared on this context, by (name, options); `dataclasses.replace` (other
    # vectors or training cases) starts an empty one, so nothing prepared elsewhere leaks in.
    _prepared: dict[str, EvalRanker] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def prepared_ranker(self, name: str, options: dict[str, Any] | None = None) -> EvalRanker:
        """The ranker `name` with `options`, prepared on this context once and shared by every
        caller (a base several rankers build on, e.g. the calibrated variants of one run).
        Shared rankers must score without per-case state."""
        key = _ranker_key(name, options or {})
        if key not in self._prepared:
            ranker = build_ranker(name, dict(options or {}))
            ranker.prepare(self)
            self._prepared[key] = ranker
        return self._prepared[key]

    def share(self, name: str, options: dict[str, Any], ranker: EvalRanker) -> None:
        """Offer an already prepared ranker to `prepared_ranker` (the first one stays)."""
        self._prepared.setdefault(_ranker_key(name, options), ranker)

    def user_vector(self, case: EvalCase) -> np.ndarray | None:
        known = [self.vectors[i] for i in case.history if i in self.vectors]
        return mean_vector(np.stack(known)) if known else None

    def matrix(self, ids: Sequence[str]) -> np.ndarray:
        return np.stack([self.vectors[i] for i in ids])


class EvalRanker(ABC):
    """Scores the candidates of a case; higher is better.

    `pointwise` rankers score each candidate from it alone (and the case), so changing one
    candidate changes no other candidate's score."""

    pointwise: ClassVar[bool] = True

    def prepare(self, context: EvalContext) -> None:  # noqa: B027 - optional hook
        """Train or precompute before scoring; the default needs nothing."""

    @abstractmethod
    def score(self, case: EvalCase, context: EvalContext) -> list[float]:
        """One score per `case.candidates`, in order."""

    def stats(self) -> dict[str, float]:
        """Ranker-specific figures for the report (e.g. LLM tokens per user)."""
        return {}


def _ranker_key(name: str, options: dict[str, Any]) -> str:
    return json.dumps([name, options], sort_keys=True, default=str)


def _case_seed(seed: int, case_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{case_id}".encode()).digest()[:8], "little")


class RandomRanker(EvalRanker):
    """Uniform random scores, reproducible per case for a seed."""

    def score(self, case: EvalCase, context: EvalContext) -> list[float]:
        rng = np.random.default_rng(_case_seed(context.seed, case.case_id))
        return [float(x) for x in rng.random(len(case.candidates))]


class PopularityRanker(EvalRanker):
    """How often each item appears in users' histories (clicks), counted over the dataset,
    leaving out the held-out test interactions themselves."""

    def prepare(self, context: EvalContext) -> None:
        held_out = {(c.user_id, p) for c in context.test_cases for p in c.positives}
        counts: Counter[str] = Counter()
        for row in context.dataset.impressions:
            counts.update(row.history)
        for interaction in context.dataset.interactions:
            if (interaction.user_id, interaction.item_id) not in held_out:
                counts[interaction.item_id] += 1
        self.counts = counts

    def score(self, case: EvalCase, context: EvalContext) -> list[float]:
        return [float(self.counts.get(i, 0)) for i in case.candidates]


class CosineRanker(EvalRanker):
    """Cosine of the mean history vector with each candidate's vector."""

    def score(self, case: EvalCase, context: EvalContext) -> list[float]:
        user = context.user_vector(case)
        if user is None:
            return [0.0] * len(case.candidates)
        return [float(x) for x in context.matrix(case.candidates) @ user]


class BilinearEvalRanker(EvalRanker):
    """babelrec's first ranking, with identity weights or weights learned by BPR on the
    training cases (positives against that case's other candidates)."""

    def __init__(self, weights: str = "learned", **bpr: Any) -> None:
        if weights not in ("identity", "learned"):
            raise ConfigError(f"bilinear weights must be identity or learned, not {weights!r}")
        self.weights = weights
        self.bpr = BPRConfig(**bpr)
        self.ranker: BilinearRanker | None = None

    def prepare(self, context: EvalContext) -> None:
        dim = next(iter(context.vectors.values())).shape[0]
        if self.weights == "identity":
            self.ranker = BilinearRanker.identity(dim)
            return
        examples = []
        for case in context.train_cases:
            user = context.user_vector(case)
            if user is None:
                continue
            negatives = [c for c in case.candidates if c not in case.positives]
            for positive in sorted(case.positives):  # sets iterate in per-process order
                examples.append(TrainingExample(user, positive, negatives))
        config = self.bpr.model_copy(update={"seed": context.seed})
        self.ranker = BilinearRanker.fit(examples, context.vectors, config)

    def score(self, case: EvalCase, context: EvalContext) -> list[float]:
        assert self.ranker is not None, "prepare() first"
        user = context.user_vector(case)
        if user is None:
            return [0.0] * len(case.candidates)
        scores = self.ranker.score(user, case.candidates, context.matrix(case.candidates))
        return [float(x) for x in scores]


def build_ranker(name: str, options: dict[str, Any]) -> EvalRanker:
    """The eval ranker registered as `name` (entry point group ``babelrec.eval_rankers``, naming
    an `EvalRanker` class or factory), built with the experiment's options."""
    factory = EVAL_RANKERS.get(name)
    try:  # check the options against the signature: a TypeError inside the ranker is a bug
        inspect.signature(factory).bind(**options)
    except TypeError as exc:
        raise ConfigError(f"ranker {name!r}: {exc}") from None
    ranker: EvalRanker = factory(**options)
    return ranker
