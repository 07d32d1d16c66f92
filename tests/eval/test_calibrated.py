"""The `calibrated` eval ranker: a base ranker's list re-ranked at an openness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from babelrec.eval.calibrated import CalibratedEvalRanker
from babelrec.eval.dataset import Dataset
from babelrec.eval.metrics import evaluate
from babelrec.eval.protocols import EvalCase
from babelrec.eval.rankers import EvalContext
from babelrec.models import Item
from babelrec.registry import EVAL_RANKERS


def _context() -> tuple[EvalContext, EvalCase]:
    items = {
        f"us{i}": Item(id=f"us{i}", title=f"us {i}", language="en", region="US") for i in range(8)
    } | {f"kr{i}": Item(id=f"kr{i}", title=f"kr {i}", language="ko", region="KR") for i in range(8)}
    rng = np.random.default_rng(0)
    vectors = {i: rng.normal(size=8) for i in items}
    user = np.ones(8)
    for n, i in enumerate(sorted(items, key=lambda i: (i[:2] != "us", i))):
        vectors[i] = user * (2.0 - n / 10) + rng.normal(scale=0.01, size=8)  # US films first
    dataset = Dataset(
        path=Path("."), items=items, interactions=[], users={}, impressions=[], file_hashes={},
        content_hash="x",
    )  # fmt: skip
    history = ["us0", "kr0", "kr1", "us1"]  # half Korean
    candidates = [i for i in items if i not in history]
    case = EvalCase(
        case_id="c", user_id="u", history=history, candidates=candidates, positives={"kr3"},
        user_language="en", user_region="US",
    )  # fmt: skip
    return EvalContext(dataset=dataset, vectors=vectors, train_cases=[]), case


def test_openness_zero_calibrates_toward_the_history() -> None:
    context, case = _context()
    base = EVAL_RANKERS.get("cosine")()
    calibrated = EVAL_RANKERS.get("calibrated")(
        base="cosine", openness=0.0, weight=0.99, size=4, dimensions=["region"]
    )
    assert isinstance(calibrated, CalibratedEvalRanker) and not calibrated.pointwise
    calibrated.prepare(context)
    scores = {
        "base": base.score(case, context),
        "calibrated": calibrated.score(case, context),
    }
    items = context.dataset.items
    js = {
        name: evaluate([case], {"c": s}, items, k=4).mean["calibration_js@4"]
        for name, s in scores.items()
    }
    assert js["base"] > 0.2  # the base shows US films only
    assert js["calibrated"] <= 0.5 * js["base"]
    assert calibrated.stats()["target_js_after"] < calibrated.stats()["target_js_before"]
    assert sorted(scores["calibrated"]) == sorted(float(n) for n in range(1, 13))


def test_calibrated_rankers_over_one_base_share_it_prepared_once() -> None:
    context, case = _context()
    rankers = [
        EVAL_RANKERS.get("calibrated")(
            base="bilinear", base_options={"weights": "identity"}, openness=o, weight=0.99,
            size=4, dimensions=["region"], order="relevance",
        )
        for o in (0.0, 1.0)
    ]  # fmt: skip
    for ranker in rankers:
        ranker.prepare(context)
    assert rankers[0].base is rankers[1].base
    assert rankers[0].base is context.prepared_ranker("bilinear", {"weights": "identity"})
    # each keeps its own figures: scoring through one does not count for the other
    rankers[0].score(case, context)
    assert "target_js_before" in rankers[0].stats()
    assert "target_js_before" not in rankers[1].stats()


def test_a_half_life_decays_the_history_by_its_age_at_the_cases_time() -> None:
    """The Korean films were seen two years before the case, the US ones the day before: with a
    30-day half-life the target is the recent (US) history, so the list keeps its US films;
    without decay the old Korean half pulls Korean films up."""
    context, case = _context()
    at = datetime(2020, 1, 1, tzinfo=UTC)
    old, recent = at - timedelta(days=730), at - timedelta(days=1)
    timed = case.model_copy(update={"history_times": [recent, old, old, recent], "at": at})

    def korean_shown(half_life: float | None) -> int:
        ranker = EVAL_RANKERS.get("calibrated")(
            base="cosine", openness=0.0, weight=0.99, size=4, dimensions=["region"],
            half_life_days=half_life, stated_weight=0.0,
        )  # fmt: skip
        ranker.prepare(context)
        scores = ranker.score(timed, context)
        top = sorted(range(len(scores)), key=lambda i: -scores[i])[:4]
        return sum(timed.candidates[i].startswith("kr") for i in top)

    assert korean_shown(None) == 2  # half the history is Korean
    assert korean_shown(30.0) == 0  # the Korean half is two years old
