"""What every converter shares: the report it returns, and checks on the shared data paths."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from babelrec.errors import DatasetError
from babelrec.files import write_atomic

REPORT_FILE = "conversion_report.json"


class ConversionReport(BaseModel):
    """What a converter wrote, and what it left out and why (counts per reason)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    data_dir: str
    out_dir: str
    seed: int
    content_hash: str
    counts: dict[str, int] = Field(description="Rows written per kind: items, users, ...")
    dropped: dict[str, int] = Field(
        default_factory=dict, description="Rows or entries left out, per reason."
    )
    notes: dict[str, int | float | str] = Field(
        default_factory=dict, description="Other facts, e.g. matched films."
    )

    def save(self) -> None:
        """Store the report beside the dataset (it is not part of the content hash)."""
        path = Path(self.out_dir) / REPORT_FILE
        write_atomic(path, json.dumps(self.model_dump(), ensure_ascii=False, indent=2) + "\n")


def require(data_dir: Path, relative: str) -> Path:
    """The path of a shared data file, or a `DatasetError` naming where it was looked for."""
    path = data_dir / relative
    if not path.is_file():
        raise DatasetError(
            f"Evaluation data file not found: {path}. Pass the shared data directory "
            "(the one holding mind/, xmind_zh/, kmrd/, ml100k/), e.g. ../shared/data."
        )
    return path


def dropped_counts(counter: Counter[str]) -> dict[str, int]:
    """Nonzero counts, largest first."""
    return {reason: n for reason, n in counter.most_common() if n}
