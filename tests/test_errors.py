from __future__ import annotations

import babelrec.errors as errors
from babelrec.errors import BabelrecError, CatalogRowError, StoredItemError


def _subclasses(cls: type[BabelrecError]) -> list[type[BabelrecError]]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def test_every_error_names_its_source() -> None:
    """A data error never reads as a settings error: each class says where it comes from."""
    classes = [c for c in _subclasses(BabelrecError) if c.__module__ == errors.__name__]
    assert len(classes) >= 15
    for cls in classes:
        assert cls.source != BabelrecError.source, cls
    assert errors.ConfigError.source == "setting"
    assert errors.CatalogError.source == "catalog row"
    assert StoredItemError.source == "stored item"
    assert errors.LLMOutputError.source == "LLM answer"


def test_data_errors_say_which_row_or_item() -> None:
    row = CatalogRowError("c.jsonl", 7, "metadata.popularity: NaN")
    assert str(row).startswith("c.jsonl:7: ") and row.line == 7
    stored = StoredItemError("n1", "/data/chroma", "title: too short")
    assert "'n1'" in str(stored) and "/data/chroma" in str(stored) and "setting" not in str(stored)
