"""Converters from the shared public data to babelrec's canonical dataset format.

`convert(name, data_dir, out_dir, seed=...)` writes a dataset directory and returns a
`ConversionReport`: rows written, rows or entries dropped per reason, and facts such as matched
films. ``data_dir`` is the shared data directory (holding ``mind/``, ``xmind_zh/``, ``kmrd/``,
``ml100k/``); nothing is read from anywhere else. Original ids are kept.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from babelrec.errors import DatasetError
from babelrec.eval.converters.base import ConversionReport
from babelrec.registry import CONVERTERS

__all__ = ["ConversionReport", "Converter", "available_converters", "convert"]

logger = logging.getLogger(__name__)

Converter = Callable[[Path, Path, int], ConversionReport]


def available_converters() -> list[str]:
    """The registered dataset names (entry point group ``babelrec.converters``)."""
    return CONVERTERS.names()


def convert(
    name: str, data_dir: str | Path, out_dir: str | Path, *, seed: int = 0
) -> ConversionReport:
    """Convert the shared data named `name` into a dataset directory at `out_dir`."""
    converter: Converter = CONVERTERS.get(name)
    data_path = Path(data_dir)
    if not data_path.is_dir():
        raise DatasetError(
            f"Shared data directory not found: {data_path}. Pass the directory holding "
            "mind/, xmind_zh/, kmrd/ and ml100k/ (e.g. ../shared/data)."
        )
    started = time.perf_counter()
    report = converter(data_path, Path(out_dir), seed)
    report.save()
    logger.info("Converted %s in %.1fs: %s", name, time.perf_counter() - started, report.counts)
    return report
