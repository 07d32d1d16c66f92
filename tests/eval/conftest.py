"""Eval fixtures: the shared datasets, real (the root `eval_data_dir`) or small files in the
same formats (`small_data_dir`, from `fixtures.build_shared_data`), converted once a session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from babelrec.eval.converters import ConversionReport, convert

from .fixtures import build_shared_data

Converted = Callable[[str], tuple[ConversionReport, Path]]


def _converter(data_dir: Path, root: Path) -> Converted:
    cache: dict[str, tuple[ConversionReport, Path]] = {}

    def get(name: str) -> tuple[ConversionReport, Path]:
        if name not in cache:
            out = root / name
            cache[name] = (convert(name, data_dir, out, seed=0), out)
        return cache[name]

    return get


@pytest.fixture(scope="session")
def converted(eval_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Converted:
    """`converted(name)` -> (report, dataset dir) from the real data, converting on first use."""
    return _converter(eval_data_dir, tmp_path_factory.mktemp("converted"))


@pytest.fixture(scope="session")
def small_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A shared-data folder of small files in the real formats (no licensed data)."""
    return build_shared_data(tmp_path_factory.mktemp("small-shared-data"))


@pytest.fixture(scope="session")
def converted_small(small_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Converted:
    """As `converted`, from `small_data_dir`."""
    return _converter(small_data_dir, tmp_path_factory.mktemp("converted-small"))
