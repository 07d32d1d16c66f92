"""Eval rankers' shared pieces: the context's prepared-ranker cache."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from babelrec.eval.dataset import Dataset
from babelrec.eval.protocols import EvalCase
from babelrec.eval.rankers import BilinearEvalRanker, EvalContext
from babelrec.models import Item


def _context() -> EvalContext:
    rng = np.random.default_rng(0)
    items = {f"i{n}": Item(id=f"i{n}", title=f"item {n}", language="en") for n in range(12)}
    vectors = {i: rng.normal(size=6) for i in items}
    cases = [
        EvalCase(case_id=f"c{n}", user_id=f"u{n}", history=[f"i{n}"],
                 candidates=[f"i{(n + k) % 12}" for k in range(1, 6)], positives={f"i{n + 1}"})
        for n in range(8)
    ]  # fmt: skip
    dataset = Dataset(
        path=Path("."), items=items, interactions=[], users={}, impressions=[], file_hashes={},
        content_hash="x",
    )  # fmt: skip
    return EvalContext(dataset=dataset, vectors=vectors, train_cases=cases)


def test_a_prepared_ranker_is_built_and_prepared_once_per_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prepared: list[Any] = []
    real = BilinearEvalRanker.prepare

    def counting(self: BilinearEvalRanker, context: EvalContext) -> None:
        prepared.append(self)
        real(self, context)

    monkeypatch.setattr(BilinearEvalRanker, "prepare", counting)
    context = _context()
    options = {"weights": "learned", "epochs": 1}
    first = context.prepared_ranker("bilinear", options)
    # the same config, its options in another order: the same prepared ranker
    assert context.prepared_ranker("bilinear", {"epochs": 1, "weights": "learned"}) is first
    assert len(prepared) == 1
    other = context.prepared_ranker("bilinear", {"weights": "identity"})
    assert other is not first and len(prepared) == 2
    # a context with other training cases (as cross-fitting makes) prepares its own
    fold = dataclasses.replace(context, train_cases=context.train_cases[:4])
    assert fold.prepared_ranker("bilinear", options) is not first
    assert len(prepared) == 3
    # a ranker the runner prepared is offered to later callers; the first one offered stays
    context.share("cosine", {}, offered := BilinearEvalRanker(weights="identity"))
    context.share("cosine", {}, BilinearEvalRanker(weights="identity"))
    assert context.prepared_ranker("cosine") is offered
