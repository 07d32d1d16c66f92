from __future__ import annotations

import json
from pathlib import Path

import pytest

from babelrec.errors import CatalogError
from babelrec.io.catalog import read_catalog


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_bad_rows_are_reported_by_line(tmp_path: Path) -> None:
    rows = [
        json.dumps({"id": "a", "title": "Good", "language": "en"}),
        "{not json",
        json.dumps({"id": "b"}),  # no title
        json.dumps({"id": "c", "title": "x", "colour": "red"}),  # unknown field
        "",
        json.dumps({"id": "a", "title": "dup", "language": "en"}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "d", "title": "Fine", "language": "fr"}),
    ]
    read = read_catalog(write(tmp_path / "c.jsonl", "\n".join(rows)))
    assert [item.id for item in read.items] == ["a", "d"]
    lines = {err.line: err.message for err in read.errors}
    assert set(lines) == {2, 3, 4, 6, 7}
    assert "JSON" in lines[2]
    assert "title" in lines[3]
    assert "colour" in lines[4]
    assert "duplicate" in lines[6] and "line 1" in lines[6]


def test_csv_with_tags_and_extra_columns(tmp_path: Path) -> None:
    text = "id,title,language,tags,price\nx,Phone,en,tech|mobile,199\ny,,en,,\n"
    read = read_catalog(write(tmp_path / "c.csv", text))
    assert len(read.items) == 1
    item = read.items[0]
    assert item.tags == ["tech", "mobile"]
    assert item.metadata == {"price": "199"}
    assert read.errors[0].line == 3


def test_missing_language_is_detected(tmp_path: Path) -> None:
    rows = [
        {"id": "1", "title": "El equipo gana la final de la copa en el último minuto"},
        {"id": "2", "title": "政府发布新的人工智能产业发展规划"},
        {"id": "3", "title": "서울에서 열린 전기차 배터리 박람회"},
    ]
    read = read_catalog(write(tmp_path / "c.jsonl", "\n".join(json.dumps(r) for r in rows)))
    assert [i.language for i in read.items] == ["es", "zh", "ko"]
    assert read.languages_detected == 3


def test_unsupported_or_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="does not exist"):
        read_catalog(tmp_path / "none.jsonl")
    with pytest.raises(CatalogError, match="unsupported"):
        read_catalog(write(tmp_path / "c.xml", "<x/>"))
    with pytest.raises(CatalogError, match="header"):
        read_catalog(write(tmp_path / "c.csv", "a,b\n1,2\n"))


def test_non_utf8_is_a_catalog_error(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes('{"id": "a", "title": "caf\xe9"}\n'.encode("latin-1"))
    with pytest.raises(CatalogError, match="UTF-8"):
        read_catalog(path)


def test_csv_keywords_are_split_like_tags(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,title,keywords\nx,Phone,5G|battery life\n", encoding="utf-8")
    assert read_catalog(path).items[0].keywords == ["5G", "battery life"]
