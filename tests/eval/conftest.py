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


#: The eval rankers of `babelrec.eval.cf_rankers`, as pyproject declares their entry points.
CF_ENTRY_POINTS = {
    "itemknn": "babelrec.eval.cf_rankers:itemknn",
    "ease": "babelrec.eval.cf_rankers:ease",
    "als": "babelrec.eval.cf_rankers:als",
    "hybrid": "babelrec.eval.cf_rankers:HybridEvalRanker",
}


@pytest.fixture(scope="session", autouse=True)
def cf_rankers_registered() -> None:
    """An editable install reads entry points when installed: until the environment is
    reinstalled from this pyproject, register the collaborative rankers as it declares them
    (tests/eval/test_cf_rankers.py checks that the two agree)."""
    from babelrec.registry import EVAL_RANKERS

    for name, target in CF_ENTRY_POINTS.items():
        if name not in EVAL_RANKERS.names():
            EVAL_RANKERS.register(name, target)
