from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from babelrec.models import HistoryEntry, Item, UserProfile
from babelrec.rank.affinity import estimate_affinity, target_distribution

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def item(i: str, language: str | None, region: str | None) -> Item:
    return Item(id=i, title=f"title {i}", language=language, region=region)


def test_history_and_the_stated_profile_blend() -> None:
    history = [item("a", "en", "US"), item("b", "en", "US"), item("c", "zh", "CN")]
    user = UserProfile(language="zh", region="CN", history=["a", "b", "c"])
    affinity = estimate_affinity(user, history, stated_weight=1.0)
    assert affinity.languages == pytest.approx({"en": 0.5, "zh": 0.5})
    assert affinity.regions == pytest.approx({"CN": 0.5, "US": 0.5})
    assert affinity.history_used == 3


def test_old_history_counts_less_with_a_half_life() -> None:
    history = [item("old", "en", None), item("new", "ja", None)]
    user = UserProfile(
        language="ko",
        history=[
            HistoryEntry(item_id="old", timestamp=NOW - timedelta(days=30)),
            HistoryEntry(item_id="new", timestamp=NOW),
        ],
    )
    decayed = estimate_affinity(user, history, NOW, half_life_days=30, stated_weight=0)
    assert decayed.languages == pytest.approx({"en": 1 / 3, "ja": 2 / 3})
    flat = estimate_affinity(user, history, NOW, stated_weight=0)
    assert flat.languages == pytest.approx({"en": 0.5, "ja": 0.5})


def test_no_history_is_the_stated_profile_and_an_unknown_region_stays_empty() -> None:
    affinity = estimate_affinity(UserProfile(language="es"), [])
    assert affinity.languages == {"es": 1.0}
    assert affinity.regions == {}  # never a guess
    with pytest.raises(ValueError, match="language or region"):
        affinity.of("category")


def test_target_blends_affinity_with_uniform_over_what_is_available() -> None:
    target = target_distribution({"zh": 0.8, "de": 0.2}, ["zh", "en", "en"], openness=0.5)
    # "de" is not available: the affinity is renormalised over zh, en first
    assert target == pytest.approx({"en": 0.25, "zh": 0.75})
    assert target_distribution({"zh": 1.0}, [], 0.3) == {}
    assert target_distribution({"de": 1.0}, ["en", "zh"], 0.0) == {"en": 0.5, "zh": 0.5}
    with pytest.raises(ValueError, match="openness"):
        target_distribution({"zh": 1.0}, ["zh"], 1.5)


@given(
    st.dictionaries(st.sampled_from(["en", "zh", "es", "ja"]), st.floats(0.01, 10), min_size=1),
    st.lists(st.sampled_from(["en", "zh", "es", "ko"]), min_size=1),
    st.floats(0, 1),
)
def test_targets_are_distributions(
    affinity: dict[str, float], available: list[str], openness: float
) -> None:
    target = target_distribution(affinity, available, openness)
    assert set(target) == set(available)
    assert sum(target.values()) == pytest.approx(1.0)
    assert all(v >= 0 for v in target.values())


@given(
    st.lists(
        st.tuples(st.sampled_from(["en", "ko", "zh"]), st.integers(0, 3650)),
        min_size=1,
        max_size=12,
    ),
    st.integers(0, 20_000),
    st.sampled_from([7.0, 30.0, 365.0]),
    st.floats(0.0, 3.0),
)
def test_decay_weighs_history_items_by_relative_age_not_by_how_old_the_history_is(
    rows: list[tuple[str, int]], shift_days: int, half_life: float, stated: float
) -> None:
    """Shifting the whole history back in time changes nothing (even by decades, where the raw
    weights would underflow): the history keeps its item count against the stated profile, and
    a history with no timestamps is the undecayed estimate."""
    items = [item(f"i{n}", language, None) for n, (language, _) in enumerate(rows)]

    def user(shift: int, timed: bool = True) -> UserProfile:
        return UserProfile(
            language="es",
            history=[
                HistoryEntry(
                    item_id=f"i{n}",
                    timestamp=NOW - timedelta(days=age + shift) if timed else None,
                )
                for n, (_, age) in enumerate(rows)
            ],
        )

    recent = estimate_affinity(user(0), items, NOW, half_life_days=half_life, stated_weight=stated)
    old = estimate_affinity(
        user(shift_days), items, NOW, half_life_days=half_life, stated_weight=stated
    )
    assert old.languages == pytest.approx(recent.languages)
    if stated > 0:  # the stated language keeps its share however old the history is
        share = stated / (stated + len(rows))
        assert recent.languages["es"] == pytest.approx(share)
    untimed = estimate_affinity(
        user(0, timed=False), items, NOW, half_life_days=half_life, stated_weight=stated
    )
    flat = estimate_affinity(user(0), items, NOW, stated_weight=stated)
    assert untimed.languages == pytest.approx(flat.languages)
