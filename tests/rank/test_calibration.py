from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from babelrec.culture_settings import CalibrationSettings
from babelrec.models import Candidate, Item, StageScores, UserProfile
from babelrec.rank.calibration import calibrate_candidates, divergence, greedy_calibrate

LANGS = ["en", "zh", "es", None]
REGIONS = ["US", "CN", "ES", "MX", None]


@st.composite
def lists(draw: st.DrawFn) -> tuple[list[float], dict[str, list[str | None]], dict]:
    n = draw(st.integers(1, 25))
    relevance = sorted(draw(st.lists(st.floats(-5, 5), min_size=n, max_size=n)), reverse=True)
    languages = draw(st.lists(st.sampled_from(LANGS), min_size=n, max_size=n))
    regions = draw(st.lists(st.sampled_from(REGIONS), min_size=n, max_size=n))
    targets = {
        "language": draw(st.dictionaries(st.sampled_from(LANGS[:3]), st.floats(0.01, 1))),
        "region": draw(st.dictionaries(st.sampled_from(REGIONS[:4]), st.floats(0.01, 1))),
    }
    return relevance, {"language": languages, "region": regions}, targets


@settings(max_examples=150, deadline=None)
@given(lists(), st.floats(0, 1), st.integers(0, 30), st.sampled_from(["js", "kl"]))
def test_the_order_is_a_permutation_whose_head_comes_from_the_input(
    case: tuple, weight: float, size: int, kind: str
) -> None:
    relevance, labels, targets = case
    out = greedy_calibrate(relevance, labels, targets, weight=weight, size=size, kind=kind)  # type: ignore[arg-type]
    n = len(relevance)
    assert sorted(out.order) == list(range(n))
    assert out.size == min(size, n)
    # the places after the calibrated head keep the input order
    tail = out.order[out.size :]
    assert tail == sorted(tail)


@settings(max_examples=100, deadline=None)
@given(lists(), st.integers(1, 30))
def test_weight_zero_keeps_the_input_order(case: tuple, size: int) -> None:
    relevance, labels, targets = case
    out = greedy_calibrate(relevance, labels, targets, weight=0.0, size=size)
    assert out.order == list(range(len(relevance)))


@settings(max_examples=150, deadline=None)
@given(lists(), st.integers(1, 30), st.sampled_from(["js", "kl"]))
def test_at_full_weight_divergence_never_grows(case: tuple, size: int, kind: str) -> None:
    relevance, labels, targets = case
    out = greedy_calibrate(relevance, labels, targets, weight=1.0, size=size, kind=kind)  # type: ignore[arg-type]
    if out.dimensions:
        assert out.divergence_after is not None and out.divergence_before is not None
        assert out.divergence_after <= out.divergence_before + 1e-12


@settings(max_examples=150, deadline=None)
@given(lists(), st.floats(0, 1), st.integers(1, 30), st.sampled_from([None, 1.0, 1.5, 3.0]))
def test_relevance_order_shows_the_same_head_by_relevance_and_pool_bounds_it(
    case: tuple, weight: float, size: int, pool: float | None
) -> None:
    relevance, labels, targets = case
    run = {"weight": weight, "size": size, "pool": pool}
    greedy = greedy_calibrate(relevance, labels, targets, **run)  # type: ignore[arg-type]
    shown = greedy_calibrate(relevance, labels, targets, order="relevance", **run)  # type: ignore[arg-type]
    head = shown.order[: shown.size]
    assert set(head) == set(greedy.order[: greedy.size])  # the same set: the same divergence
    assert shown.divergence_after == greedy.divergence_after
    assert [relevance[i] for i in head] == sorted((relevance[i] for i in head), reverse=True)
    if pool is not None:  # only the first ceil(pool * size) may enter the head
        assert max(head, default=0) < max(shown.size, math.ceil(pool * shown.size))
    if pool == 1.0:
        assert head == list(range(shown.size))
    # a page at a time: every page holds greedy's picks for it, by relevance
    paged = greedy_calibrate(relevance, labels, targets, order="relevance", page=3, **run)  # type: ignore[arg-type]
    for start in range(0, paged.size, 3):
        page = paged.order[start : min(start + 3, paged.size)]
        assert set(page) == set(greedy.order[start : min(start + 3, greedy.size)])
        assert page == sorted(page)


@settings(max_examples=100, deadline=None)
@given(lists(), st.floats(0, 1), st.integers(1, 30))
def test_rank_relevance_reads_only_the_first_stage_order(
    case: tuple, weight: float, size: int
) -> None:
    relevance, labels, targets = case
    run = {"weight": weight, "size": size, "relevance_scale": "rank"}
    out = greedy_calibrate(relevance, labels, targets, **run)  # type: ignore[arg-type]
    # any strictly increasing transform of distinct scores gives the same order
    spread = [float(-i) for i in range(len(relevance))]
    assert greedy_calibrate(spread, labels, targets, **run).order == out.order  # type: ignore[arg-type]
    scaled = [x * 1e3 - 7 for x in spread]
    assert greedy_calibrate(scaled, labels, targets, **run).order == out.order  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(lists(), st.floats(0, 1), st.integers(1, 30), st.sampled_from(["js", "kl"]))
def test_relative_scale_never_makes_the_objective_or_the_divergence_worse(
    case: tuple, weight: float, size: int, kind: str
) -> None:
    relevance, labels, targets = case
    run = {"weight": weight, "size": size, "kind": kind, "divergence_scale": "relative"}
    out = greedy_calibrate(relevance, labels, targets, **run)  # type: ignore[arg-type]
    assert sorted(out.order) == list(range(len(relevance)))
    if out.dimensions:
        # the input's head has the most relevance, so a head kept over it diverges no more
        assert out.divergence_after is not None and out.divergence_before is not None
        assert out.divergence_after <= out.divergence_before + 1e-12


def test_relative_scale_is_the_absolute_weight_rescaled_by_the_input_divergence() -> None:
    """Relative at weight w is absolute at the w' with w' / (1 - w') = (w / (1 - w)) / D0, D0
    the input head's divergence: the same picks, whatever the divergence's scale."""
    rng = np.random.default_rng(0)
    compared = 0
    for _ in range(200):
        n, size = int(rng.integers(12, 40)), int(rng.integers(3, 11))
        relevance = sorted(rng.normal(size=n).tolist(), reverse=True)
        regions: list[str | None] = [str(r) for r in rng.choice(["US", "KR", "FR", "JP"], n)]
        shares = rng.dirichlet(np.ones(4))
        target = {"region": dict(zip(["US", "KR", "FR", "JP"], shares.tolist(), strict=True))}
        weight = float(rng.uniform(0.05, 0.95))
        run = {"size": size, "relevance_scale": "rank"}
        relative = greedy_calibrate(relevance, {"region": regions}, target, weight=weight,
                                    divergence_scale="relative", **run)  # type: ignore[arg-type]  # fmt: skip
        before = relative.divergence_before
        assert before is not None
        if before < 1e-6:
            continue
        odds = weight / (1 - weight) / before
        absolute = greedy_calibrate(relevance, {"region": regions}, target,
                                    weight=odds / (1 + odds), **run)  # type: ignore[arg-type]  # fmt: skip
        assert relative.order == absolute.order
        compared += 1
    assert compared > 150
    # on one list, relative calibration at a modest weight moves a small divergence that the
    # absolute scale at the same weight leaves alone
    relevance = [1.0 - i / 20 for i in range(20)]
    regions = ["US"] * 9 + ["KR"] + ["US"] * 5 + ["KR"] * 5
    target = {"region": {"US": 0.8, "KR": 0.2}}
    run = {"weight": 0.1, "size": 10, "relevance_scale": "rank"}
    kept = greedy_calibrate(relevance, {"region": regions}, target, **run)  # type: ignore[arg-type]
    moved = greedy_calibrate(relevance, {"region": regions}, target, divergence_scale="relative",
                             **run)  # type: ignore[arg-type]  # fmt: skip
    assert kept.order[:10] == list(range(10))
    assert moved.divergence_after == pytest.approx(0.0, abs=1e-12)
    assert kept.divergence_after == kept.divergence_before and kept.divergence_before > 0.01


def test_calibration_moves_the_head_toward_the_target() -> None:
    relevance = [1.0, 0.99, 0.98, 0.97, 0.5, 0.49, 0.48, 0.47]
    languages: list[str | None] = ["en"] * 4 + ["zh"] * 4
    out = greedy_calibrate(
        relevance, {"language": languages}, {"language": {"en": 0.5, "zh": 0.5}}, weight=1.0,
        size=4,
    )  # fmt: skip
    head = [languages[i] for i in out.order[:4]]
    assert head.count("zh") == 2 and head.count("en") == 2
    assert out.divergence_after == pytest.approx(0.0, abs=1e-9)
    assert out.divergence_before is not None and out.divergence_before > 0.3


def test_missing_labels_are_reported_not_skipped() -> None:
    out = greedy_calibrate(
        [3.0, 2.0, 1.0],
        {"language": ["en", None, "zh"], "region": [None, None, None]},
        {"language": {"en": 0.5, "zh": 0.5}, "region": {"US": 1.0}},
        weight=0.5,
        size=2,
    )
    assert out.dimensions == ["language"]
    assert any("no candidate has a region" in n for n in out.notes)
    assert any("1 of 3 candidates have no language" in n for n in out.notes)


def test_a_list_cannot_meet_the_target_by_avoiding_labelled_items() -> None:
    """Unlabelled items count as the average candidate (here mostly US), not as a perfect
    match: a uniform target pulls the labelled minority up instead of burying it."""
    regions: list[str | None] = [None] * 6 + ["US"] * 3 + ["FR", "KR"] + [None] * 20
    relevance = [1.0 - i / 100 for i in range(11)] + [0.0] * 20  # a close head, a far tail
    target = {"region": {"US": 1 / 3, "FR": 1 / 3, "KR": 1 / 3}}
    out = greedy_calibrate(relevance, {"region": regions}, target, weight=0.9, size=5)
    head = {regions[i] for i in out.order[:5]}
    assert {"FR", "KR"} <= head
    nothing = greedy_calibrate([1.0, 2.0], {"region": [None, None]}, {}, weight=0.5, size=2)
    assert nothing.order == [1, 0]  # by relevance, and it says why
    assert nothing.dimensions == [] and nothing.notes


def test_divergences_are_zero_on_equal_distributions_and_bounded() -> None:
    p = np.array([0.5, 0.5])
    assert divergence(p, p)[0] == pytest.approx(0.0)
    assert divergence(p, np.array([1.0, 0.0]), "js")[0] <= 1.0
    assert divergence(np.array([1.0, 0.0]), np.array([0.0, 1.0]), "kl", 0.01)[0] > 1.0


def candidate(i: str, language: str | None, region: str | None, score: float) -> Candidate:
    return Candidate(
        item=Item(id=i, title=i, language=language, region=region),
        scores=StageScores(retrieval=score, final=score),
    )


def test_openness_decides_the_target_and_users_who_ask_nothing_are_left_alone() -> None:
    pool = [candidate(f"en{i}", "en", "US", 1 - i / 100) for i in range(6)] + [
        candidate(f"zh{i}", "zh", None, 0.5 - i / 100) for i in range(6)
    ]
    config = CalibrationSettings(weight=1.0, dimensions=["language"])
    cold = UserProfile(language="zh")
    same, calibration = calibrate_candidates(cold, pool, [], config, size=4)
    assert same == pool and calibration.outcome.dimensions == []  # asked nothing
    always = CalibrationSettings(weight=1.0, dimensions=["language"], mode="always")
    _, calibration = calibrate_candidates(cold, pool, [], always, size=4)
    assert calibration.outcome.dimensions == []  # no history: too cold even for "always"
    off = CalibrationSettings(mode="off")
    assert calibrate_candidates(cold, pool, [], off, size=4, openness=0.0)[0] == pool
    own, _ = calibrate_candidates(cold, pool, [], config, size=4, openness=0.0)
    assert [c.item.language for c in own[:4]] == ["zh"] * 4
    explore, calibration = calibrate_candidates(cold, pool, [], config, size=4, openness=1.0)
    assert [c.item.language for c in explore[:4]].count("en") == 2
    assert calibration.targets["language"] == pytest.approx({"en": 0.5, "zh": 0.5})
    asked = UserProfile(language="zh", openness=0.0)
    by_profile, calibration = calibrate_candidates(asked, pool, [], config, size=4)
    assert calibration.openness == 0.0 and by_profile == own
    region_only = CalibrationSettings(weight=0.9, dimensions=["region"])
    _, calibration = calibrate_candidates(asked, pool, [], region_only, size=4)
    assert "region affinity is unknown" in calibration.notes[0]
