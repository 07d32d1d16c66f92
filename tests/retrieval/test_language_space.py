from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from babelrec.retrieval.language_space import (
    LanguageSpace,
    LanguageStats,
    fit_from_vectors,
    fit_space,
    language_key,
)

DIM = 16


def two_languages(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shared topics; each language adds its own offset. Returns zh, en (parallel) and topics."""
    rng = np.random.default_rng(seed)
    topics = rng.normal(size=(n, DIM))
    offset_zh, offset_en = rng.normal(size=DIM) * 3, rng.normal(size=DIM) * 3
    zh = topics + offset_zh + 0.1 * rng.normal(size=(n, DIM))
    en = topics + offset_en + 0.1 * rng.normal(size=(n, DIM))
    return zh, en, topics


def stats_of(vectors: np.ndarray, languages: list[str | None]) -> LanguageStats:
    stats = LanguageStats(DIM)
    stats.add(vectors, languages)
    return stats


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(["zh", "en", "ko", None]), min_size=1, max_size=30),
    st.integers(0, 2**31),
)
def test_stats_add_then_remove_is_exact_and_order_free(
    languages: list[str | None], seed: int
) -> None:
    vectors = np.random.default_rng(seed).normal(size=(len(languages), DIM))
    stats = stats_of(vectors[: len(languages) // 2], languages[: len(languages) // 2])
    stats.add(vectors[len(languages) // 2 :], languages[len(languages) // 2 :])
    whole = stats_of(vectors, languages)
    assert stats.counts == whole.counts
    for key in whole.sums:
        np.testing.assert_allclose(stats.sums[key], whole.sums[key], atol=1e-9)
    stats.remove(vectors, languages)
    assert stats.counts == {} and stats.sums == {}
    again = LanguageStats.from_json(whole.to_json())
    assert again.counts == whole.counts
    assert all(np.array_equal(again.sums[k], whole.sums[k]) for k in whole.sums)


def test_removing_what_was_never_added_is_refused() -> None:
    stats = stats_of(np.ones((1, DIM)), ["zh"])
    with pytest.raises(ValueError, match="more"):
        stats.remove(np.ones((2, DIM)), ["zh", "zh"])


def test_language_keys() -> None:
    assert language_key(" ZH ") == "zh"
    assert language_key(None) == language_key("") == ""


@pytest.mark.parametrize(
    "method", ["center", "lsar", "center+lsar", "center+mean", "center+lsar+mean", "abtt", "lir"]
)
def test_every_method_brings_parallel_texts_together(method: str) -> None:
    zh, en, _ = two_languages()
    vectors = np.concatenate([zh, en])
    languages: list[str | None] = ["zh"] * len(zh) + ["en"] * len(en)
    space = fit_from_vectors(vectors, languages, method)  # type: ignore[arg-type]
    out = space.transform(vectors, languages)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    raw = LanguageSpace.identity(DIM).transform(vectors, languages)
    n = len(zh)

    def twin_rank(matrix: np.ndarray) -> float:
        """Mean rank of each zh text's English twin among all English texts."""
        sims = matrix[:n] @ matrix[n:].T
        return float((sims > sims.diagonal()[:, None]).sum(axis=1).mean())

    def same_language_share(matrix: np.ndarray) -> float:
        """Share of each zh text's 10 nearest neighbours that are Chinese."""
        sims = matrix[:n] @ matrix.T
        np.fill_diagonal(sims[:, :n], -np.inf)
        top = np.argsort(-sims, axis=1)[:, :10]
        return float((top < n).mean())

    assert same_language_share(raw) > 0.95  # the problem: language beats topic
    if method in ("center", "center+lsar", "center+mean", "center+lsar+mean", "lir"):
        assert same_language_share(out) < 0.7
        assert twin_rank(out) < 1.0
    assert twin_rank(out) <= twin_rank(raw)


def test_lsar_basis_is_orthonormal_and_spans_the_mean_difference() -> None:
    zh, en, _ = two_languages()
    stats = stats_of(np.concatenate([zh, en]), ["zh"] * len(zh) + ["en"] * len(en))
    space = fit_space(stats, "center+lsar")
    assert space.basis.shape == (1, DIM)  # two languages: one direction
    np.testing.assert_allclose(space.basis @ space.basis.T, np.eye(1), atol=1e-9)
    difference = stats.sums["zh"] / stats.counts["zh"] - stats.sums["en"] / stats.counts["en"]
    residual = difference - (space.basis.T @ (space.basis @ difference))
    assert np.linalg.norm(residual) < 1e-6 * np.linalg.norm(difference)


def test_one_language_catalog_only_centres() -> None:
    zh, _, _ = two_languages()
    stats = stats_of(zh, ["zh"] * len(zh))
    space = fit_space(stats, "center+lsar")
    assert space.basis.shape[0] == 0
    out = space.transform(zh, ["zh"] * len(zh))
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=0.1)


def test_a_language_with_a_handful_of_items_is_shrunk_toward_the_global_mean() -> None:
    zh, en, _ = two_languages()
    few = en[:3]
    stats = stats_of(np.concatenate([zh, few]), ["zh"] * len(zh) + ["en"] * 3)
    space = fit_space(stats, "center", shrinkage=20.0)
    own_mean = few.mean(axis=0)
    center = space.center_of("en")
    # a plain mean of three items would centre them onto their own mean and erase them
    assert np.linalg.norm(center - own_mean) > 0.5 * np.linalg.norm(own_mean - zh.mean(axis=0))
    out = space.transform(few, ["en"] * 3)
    assert np.all(np.isfinite(out))
    # the three still tell apart: pairwise cosines are not all one
    assert (out @ out.T)[np.triu_indices(3, 1)].max() < 0.99


def test_unknown_and_unseen_languages_use_the_global_mean() -> None:
    zh, en, _ = two_languages()
    stats = stats_of(
        np.concatenate([zh, en, zh[:5]]), ["zh"] * len(zh) + ["en"] * len(en) + [None] * 5
    )
    space = fit_space(stats, "center+lsar")
    np.testing.assert_allclose(space.center_of(None), stats.global_mean())
    np.testing.assert_allclose(space.center_of("fr"), stats.global_mean())
    assert "" not in space.languages


def test_empty_stats_and_none_are_identity() -> None:
    assert fit_space(LanguageStats(DIM), "center+lsar").is_identity
    zh, _, _ = two_languages(5)
    space = fit_space(stats_of(zh, ["zh"] * 5), "none")
    out = space.transform(zh, ["zh"] * 5)
    np.testing.assert_allclose(out, zh / np.linalg.norm(zh, axis=1, keepdims=True), rtol=1e-5)


def test_transform_one_matches_transform() -> None:
    zh, en, _ = two_languages(50)
    stats = stats_of(np.concatenate([zh, en]), ["zh"] * 50 + ["en"] * 50)
    space = fit_space(stats, "center+lsar")
    np.testing.assert_allclose(
        space.transform_one(zh[3], "zh"), space.transform(zh, ["zh"] * 50)[3]
    )
    with pytest.raises(ValueError, match="languages"):
        space.transform(zh, ["zh"])


def test_the_mean_anchor_keeps_the_centred_order_and_a_shared_component() -> None:
    zh, en, _ = two_languages()
    vectors = np.concatenate([zh, en])
    languages: list[str | None] = ["zh"] * len(zh) + ["en"] * len(en)
    stats = stats_of(vectors, languages)
    anchored = fit_space(stats, "center+lsar+mean")
    assert anchored.anchor is not None and anchored.anchor_weight > 0
    # the same centring and projection (the anchor's direction included), without the anchor
    plain = LanguageSpace(
        "center+lsar", anchored.centers, anchored.fallback, anchored.basis, anchored.languages
    )
    a, b = plain.transform(vectors, languages), anchored.transform(vectors, languages)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    # every vector has the same component along the anchor
    np.testing.assert_allclose(b @ anchored.anchor, (b @ anchored.anchor)[0], atol=1e-5)
    # cosines are an increasing affine map of those without the anchor: the same order
    w2 = anchored.anchor_weight**2
    for query in (3, 7, 250):
        np.testing.assert_allclose(b @ b[query], (a @ a[query] + w2) / (1 + w2), atol=1e-5)
    # the search vector has no anchor component
    assert abs(float(anchored.search_vector(b[query]) @ anchored.anchor)) < 1e-6
