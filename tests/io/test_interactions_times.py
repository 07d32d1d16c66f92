"""Reading interaction logs: unix seconds or ISO 8601 times, bad rows named by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from babelrec.errors import CatalogError
from babelrec.io.interactions import read_interactions


def test_unix_and_iso_times_read_alike(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(
        "user_id,item_id,timestamp,rating\n"
        "u,a,1494128040,7\n"
        "u,b,2017-05-07T03:34:00+00:00,\n"
        "u,c,2017-05-07T03:34:00,\n",
        encoding="utf-8",
    )
    rows = read_interactions(log)
    assert [r.timestamp.timestamp() for r in rows if r.timestamp] == [1494128040.0] * 3


def test_a_bad_time_names_its_line(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text("user_id,item_id,timestamp\nu,a,1\nu,b,yesterday\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="line 3.*yesterday"):
        read_interactions(log)
