from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from babelrec.cli import app
from babelrec.errors import CatalogError, DatasetError
from babelrec.eval.dataset import load_dataset, write_dataset
from babelrec.io.interactions import (
    InteractionRow,
    parse_interactions,
    parse_timestamp,
    read_interactions,
)
from babelrec.models import Item
from babelrec.rank.training import examples_from_interactions

T0 = datetime(2020, 1, 1, tzinfo=UTC)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_unix_seconds_and_iso_times_mean_the_same_instant(tmp_path: Path) -> None:
    rows = read_interactions(
        write(
            tmp_path / "log.csv",
            "user_id,item_id,timestamp,rating\n"
            "u1,a,1577836800,4\n"
            "u1,b,2020-01-01T00:00:00,\n"  # naive: UTC
            "u1,c,2020-01-01T00:00:00Z,3.5\n"
            "u1,d,2020-01-01T08:00:00+08:00,\n"
            "u1,e,1577836800.5,\n",
        )
    )
    assert [r.timestamp for r in rows[:4]] == [T0] * 4
    assert rows[4].timestamp == T0 + timedelta(milliseconds=500)
    assert rows[3].timestamp is not None and rows[3].timestamp.utcoffset() == timedelta(hours=8)
    assert [r.rating for r in rows] == [4.0, None, 3.5, None, None]


def test_columns_are_read_by_name_and_time_and_rating_are_optional(tmp_path: Path) -> None:
    reordered = read_interactions(
        write(tmp_path / "a.csv", "\ufeffrating,timestamp,item_id,user_id\n5,0,x,u\n")
    )
    assert reordered == [InteractionRow(user_id="u", item_id="x", timestamp=0, rating=5)]
    untimed = read_interactions(write(tmp_path / "b.csv", "user_id,item_id\nu,x\n\nu,y\n"))
    assert [(r.item_id, r.timestamp, r.rating) for r in untimed] == [
        ("x", None, None),
        ("y", None, None),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("user,item\nu,x\n", "missing user_id, item_id"),
        ("user_id,item_id,when\nu,x,1\n", "unknown when"),
        ("user_id,item_id,item_id\nu,x,y\n", "repeated item_id"),
        ("", "empty file"),
    ],
)
def test_a_bad_header_names_the_columns(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "log.csv", text)
    expected = f"interactions file {re.escape(str(path))}: 1 bad rows: line 1: .*{message}"
    with pytest.raises(CatalogError, match=expected):
        read_interactions(path)


def test_the_dataset_format_requires_the_timestamp_column() -> None:
    [(line, problem)] = list(parse_interactions("user_id,item_id\nu,x\n", require_timestamp=True))
    assert line == 1 and isinstance(problem, str) and "missing timestamp" in problem


def test_bad_rows_are_named_by_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "log.csv",
        "user_id,item_id,timestamp,rating\n"
        "u1,a,1577836800,4\n"
        "u1,b,yesterday,\n"  # line 3
        "u1,c\n"  # line 4
        '"u1","multi\nline",1,\n'  # a quoted field spanning lines 5-6 is fine
        "u1,d,,\n"  # line 7: empty time in a timed log
        " ,e,1,\n"  # line 8: blank user
        "u1,f,1,nan\n"  # line 9
        "u1,g,inf,\n"  # line 10
        "u1,h,1,\n",
    )
    with pytest.raises(CatalogError) as info:
        read_interactions(path)
    message = str(info.value)
    assert message.startswith(f"interactions file {path}: 6 bad rows: line 3: timestamp")
    assert "'yesterday' is neither ISO 8601" in message
    assert "line 4: 2 fields, expected 4" in message
    assert "line 7: timestamp: empty" in message
    assert "line 8: user_id: Value error, must not be blank" in message
    assert "line 9: rating: Value error, must be a finite number" in message
    assert "and 1 more" in message and "\n" not in message  # the CLI prints errors on one line
    lines = [line for line, row in parse_interactions(path.read_text()) if isinstance(row, str)]
    assert lines == [3, 4, 7, 8, 9, 10]


def test_a_missing_or_non_utf8_file_is_a_catalog_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="does not exist"):
        read_interactions(tmp_path / "none.csv")
    (tmp_path / "latin.csv").write_bytes("user_id,item_id\nu,caf\xe9\n".encode("latin-1"))
    with pytest.raises(CatalogError, match="latin.csv is not UTF-8"):
        read_interactions(tmp_path / "latin.csv")


@given(
    moment=st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    offset_minutes=st.integers(min_value=-12 * 60, max_value=14 * 60),
)
def test_every_written_form_of_a_time_reads_back_as_that_instant(
    moment: datetime, offset_minutes: int
) -> None:
    moment = moment.replace(microsecond=0)
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    forms = [
        str(int(moment.timestamp())),
        moment.isoformat(),
        moment.replace(tzinfo=None).isoformat(),
        moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        local.isoformat(),
    ]
    assert {parse_timestamp(form) for form in forms} == {moment}


def test_examples_follow_time_not_file_order() -> None:
    vectors = {i: np.eye(3, dtype=np.float32)[n] for n, i in enumerate("abc")}
    rows = [
        InteractionRow(user_id="u", item_id="c", timestamp="2020-01-03T00:00:00"),
        InteractionRow(user_id="u", item_id="a", timestamp="1577836800"),
        InteractionRow(user_id="u", item_id="b", timestamp="2020-01-02T00:00:00Z"),
    ]
    assert [e.positive for e in examples_from_interactions(rows, vectors)] == ["b", "c"]
    untimed = [InteractionRow(user_id="u", item_id=i) for i in "cab"]
    assert [e.positive for e in examples_from_interactions(untimed, vectors)] == ["a", "b"]


def test_train_accepts_the_interactions_csv_that_the_dataset_writer_produces(
    tmp_path: Path,
) -> None:
    """Regression (issue 11): `babelrec train` rejected write_dataset's ISO timestamps."""
    items = [
        Item(id=f"i{n}", title=f"story {n} on topic {n % 3}", language="en") for n in range(12)
    ]
    catalog = write(
        tmp_path / "catalog.jsonl", "\n".join(json.dumps(i.model_dump()) for i in items)
    )
    interactions = [
        InteractionRow(
            user_id=f"u{u}", item_id=f"i{(u + t) % 12}", timestamp=T0 + timedelta(hours=t), rating=t
        )
        for u in range(6)
        for t in range(4)
    ]
    write_dataset(tmp_path / "ds", items=items, interactions=interactions)
    log = tmp_path / "ds" / "interactions.csv"
    assert "2020-01-01T01:00:00+00:00" in log.read_text()  # what the writer really writes

    # the eval loader and train's reader see the same rows
    assert read_interactions(log) == load_dataset(tmp_path / "ds").interactions == interactions

    runner = CliRunner()
    common = ["--data-dir", str(tmp_path / "store"), "--embedder", "hashing"]
    assert runner.invoke(app, ["ingest", str(catalog), *common]).exit_code == 0
    result = runner.invoke(app, ["train", str(log), "--epochs", "2", "--bilinear-only", *common])
    assert result.exit_code == 0, result.output
    assert "trained shared weights on 18 examples (0 unknown item ids ignored)" in result.output


def test_train_reports_a_bad_row_in_one_line_naming_file_and_line(tmp_path: Path) -> None:
    log = write(tmp_path / "log.csv", "user_id,item_id,timestamp\nu,a,1\nu,b,soon\n")
    args = ["train", str(log), "--data-dir", str(tmp_path), "--embedder", "hashing"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert f"interactions file {log}: 1 bad rows: line 3: timestamp" in " ".join(
        result.output.split()
    )


ids = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1)
ids = ids.filter(str.strip)


@given(
    rows=st.lists(
        st.builds(
            InteractionRow,
            user_id=ids,
            item_id=ids,
            timestamp=st.datetimes(
                min_value=datetime(1900, 1, 1),
                max_value=datetime(2200, 1, 1),
                timezones=st.just(UTC),
            ),
            rating=st.none() | st.floats(allow_nan=False, allow_infinity=False, width=32),
        ),
        max_size=8,
    )
)
def test_what_the_dataset_writer_writes_the_reader_reads_back(rows: list[InteractionRow]) -> None:
    with TemporaryDirectory() as tmp:
        items = [Item(id=i, title="t") for i in dict.fromkeys(r.item_id for r in rows)]
        write_dataset(tmp, items=items, interactions=rows)
        assert read_interactions(Path(tmp) / "interactions.csv", require_timestamp=True) == rows


def test_the_dataset_writer_refuses_a_row_without_time(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="has no timestamp"):
        write_dataset(tmp_path, items=[], interactions=[InteractionRow(user_id="u", item_id="i")])
