"""Collaborative baselines and the hybrid in the harness, on a synthetic dataset with a known
structure: two tastes, and content vectors that carry the taste only weakly."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from babelrec.errors import ConfigError
from babelrec.eval.dataset import Dataset, InteractionRow, load_dataset, write_dataset
from babelrec.eval.metrics import evaluate
from babelrec.eval.new_items import new_item_cases
from babelrec.eval.protocols import leave_last_out_cases
from babelrec.eval.rankers import EvalContext, build_ranker
from babelrec.eval.runner import split_cases
from babelrec.models import Item

T0 = datetime(2020, 1, 1, tzinfo=UTC)
N_ITEMS = 60


def two_taste_dataset(root: Path) -> Dataset:
    """Users of taste A take items 0..29, of taste B items 30..59, popular ones more often."""
    rng = np.random.default_rng(0)
    items = [Item(id=f"i{n:02d}", title=f"Item {n}") for n in range(N_ITEMS)]
    weights = 1.0 / np.arange(1, 31)
    weights /= weights.sum()
    rows = []
    for u in range(400):
        offset = 0 if u % 2 else 30
        picked = rng.choice(30, size=8, replace=False, p=weights) + offset
        for day, item in enumerate(picked):
            rows.append(
                InteractionRow(
                    user_id=f"u{u}", item_id=f"i{item:02d}", timestamp=T0 + timedelta(days=day)
                )
            )
    write_dataset(root, items=items, interactions=rows)
    return load_dataset(root)


def vectors(noise: float) -> dict[str, np.ndarray]:
    """Content vectors: a taste direction plus noise, normalised."""
    rng = np.random.default_rng(1)
    out = {}
    for n in range(N_ITEMS):
        v = rng.normal(scale=noise, size=8)
        v[0] += 1.0 if n < 30 else -1.0
        out[f"i{n:02d}"] = v / np.linalg.norm(v)
    return out


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return two_taste_dataset(tmp_path_factory.mktemp("two-tastes"))


def run(name: str, options: dict[str, object], context: EvalContext) -> float:
    ranker = build_ranker(name, options)
    ranker.prepare(context)
    scores = {c.case_id: ranker.score(c, context) for c in context.test_cases}
    return evaluate(context.test_cases, scores, context.dataset.items).mean["ndcg@10"]


@pytest.fixture(scope="module")
def context(dataset: Dataset) -> EvalContext:
    cases = leave_last_out_cases(dataset, n_negatives=20, seed=0).cases
    train, test = split_cases(cases, 0.5, 0)
    return EvalContext(dataset=dataset, vectors=vectors(3.0), train_cases=train, test_cases=test)


def test_collaborative_baselines_beat_popularity_and_record_their_tuning(
    context: EvalContext,
) -> None:
    popularity = run("popularity", {}, context)
    small = {
        "als": {"grid": {"factors": [2, 4], "alpha": [1.0]}},  # 60 items, 160 users
        "rp3beta": {"grid": {"alpha": [1.0], "beta": [0.0, 0.5], "neighbours": [20]}},
        "sequence": {"grid": {"window": [10], "recent": [5]}},
    }
    for name in ("itemknn", "ease", "als", "rp3beta", "sequence"):
        assert run(name, small.get(name, {}), context) > popularity + 0.05, name
    ranker = build_ranker("ease", {"grid": {"l2": [1.0, 10.0]}})
    ranker.prepare(context)
    stats = ranker.stats()
    assert stats["tuned l2"] in (1.0, 10.0) and 0 < stats["validation ndcg@10"] <= 1


def test_hybrid_is_close_to_its_best_part_and_above_the_others(context: EvalContext) -> None:
    hybrid = run("hybrid", {"grid": {"l2": [10.0]}}, context)
    assert hybrid >= run("ease", {"grid": {"l2": [10.0]}}, context) - 0.03
    assert hybrid > run("bilinear", {}, context)
    assert hybrid > run("popularity", {}, context)
    ranker = build_ranker("hybrid", {"grid": {"l2": [10.0]}})
    ranker.prepare(context)
    stats = ranker.stats()
    interactions = ("collaborative", "collaborative_recent", "collaborative_last", "graph_last")
    assert sum(stats[f"w_{f}"] for f in interactions) > 0 and stats["fusion lists"] > 10
    assert stats["w_sequence"] >= 0 and stats["w_graph_last"] >= 0


@pytest.mark.parametrize(("option", "feature"), [("sequence", "sequence"), ("graph", "graph_last")])
def test_the_hybrid_without_a_helper_model_gives_it_no_weight(
    context: EvalContext, option: str, feature: str
) -> None:
    ranker = build_ranker("hybrid", {"grid": {"l2": [10.0]}, option: False})
    ranker.prepare(context)
    assert ranker.stats()[f"w_{feature}"] == 0.0
    case = context.test_cases[0]
    assert len(ranker.score(case, context)) == len(case.candidates)


def test_on_new_items_the_hybrid_falls_back_to_content(dataset: Dataset) -> None:
    protocol, warm = new_item_cases(dataset, share=0.3, n_negatives=10, seed=0)
    train, test = split_cases(protocol.cases, 0.5, 0)
    context = EvalContext(dataset=warm, vectors=vectors(0.5), train_cases=train, test_cases=test)
    content = run("bilinear", {}, context)
    hybrid = run("hybrid", {"grid": {"l2": [10.0]}}, context)
    popularity = run("popularity", {}, context)
    assert abs(hybrid - content) < 0.02
    assert hybrid > popularity + 0.15  # 11 candidates: chance is about 0.4


def test_items_a_baseline_never_saw_are_ranked_last() -> None:
    from babelrec.eval.cf_rankers import ranked_last
    from babelrec.rank.collaborative import ALS

    model = ALS(factors=2, alpha=1.0).fit([["a", "b"], ["b", "c"], ["c", "d"], ["d", "a"]], 1)
    scores = ranked_last(model, ["a"], ["b", "new", "c", "d"])
    assert scores[1] < min(scores[[0, 2, 3]])
    assert ranked_last(model, ["a"], ["new", "newer"]).tolist() == [0.0, 0.0]


#: The eval rankers of `babelrec.eval.cf_rankers`, as pyproject declares their entry points.
CF_ENTRY_POINTS = {
    "itemknn": "babelrec.eval.cf_rankers:itemknn",
    "ease": "babelrec.eval.cf_rankers:ease",
    "als": "babelrec.eval.cf_rankers:als",
    "rp3beta": "babelrec.eval.cf_rankers:rp3beta",
    "sequence": "babelrec.eval.cf_rankers:sequence",
    "hybrid": "babelrec.eval.cf_rankers:HybridEvalRanker",
}


def test_pyproject_declares_the_entry_points() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text("utf-8"))
    declared = pyproject["project"]["entry-points"]["babelrec.eval_rankers"]
    assert {k: declared[k] for k in CF_ENTRY_POINTS} == CF_ENTRY_POINTS


def test_unknown_options_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        build_ranker("hybrid", {"collaborative": "svd"})
    with pytest.raises(ConfigError):
        build_ranker("ease", {"alpha": 1})
    with pytest.raises(ConfigError):
        build_ranker("hybrid", {"folds": 1})


def test_the_gru_alone_is_an_eval_ranker_tuned_on_the_training_users(context: EvalContext) -> None:
    grid = {"epochs": [2, 4], "dim": [8], "batch_size": [16]}
    ranker = build_ranker("gru4rec", {"grid": grid})
    ranker.prepare(context)
    stats = ranker.stats()
    assert stats["tuned epochs"] in (2.0, 4.0) and 0 <= stats["validation ndcg@10"] <= 1
    case = context.test_cases[0]
    scores = ranker.score(case, context)
    assert len(scores) == len(case.candidates) and all(np.isfinite(scores))
