"""Eval fixtures: each shared dataset converted once per session (uses the root `eval_data_dir`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from babelrec.eval.converters import ConversionReport, convert

Converted = Callable[[str], tuple[ConversionReport, Path]]


@pytest.fixture(scope="session")
def converted(eval_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Converted:
    """`converted(name)` -> (report, dataset dir), converting on first use only."""
    cache: dict[str, tuple[ConversionReport, Path]] = {}
    root = tmp_path_factory.mktemp("converted")

    def get(name: str) -> tuple[ConversionReport, Path]:
        if name not in cache:
            out = root / name
            cache[name] = (convert(name, eval_data_dir, out, seed=0), out)
        return cache[name]

    return get
