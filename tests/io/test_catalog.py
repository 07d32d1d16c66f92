from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from babelrec.errors import CatalogError
from babelrec.io.catalog import read_catalog
from babelrec.models import Item


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


# -- null means absent; NaN and Infinity are refused at the door -------------------------------

OPTIONAL_FIELDS = ("text", "language", "region", "category", "tags", "metadata")
WORD = st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=12)
NULL_EXAMPLES = 80


def test_nan_and_infinity_are_refused_with_their_line(tmp_path: Path) -> None:
    rows = [
        '{"id": "a", "title": "ok", "metadata": {"popularity": 0.5}}',
        '{"id": "b", "title": "nan", "metadata": {"popularity": NaN}}',
        '{"id": "c", "title": "inf", "metadata": {"popularity": -Infinity}}',
        '{"id": "d", "title": "overflow", "metadata": {"popularity": 1e400}}',
        '{"id": "e", "title": "digits", "metadata": {"n": ' + "9" * 5000 + "}}",
    ]
    read = read_catalog(write(tmp_path / "c.jsonl", "\n".join(rows)), detect_language=False)
    assert [item.id for item in read.items] == ["a"]
    lines = {err.line: err.message for err in read.errors}
    assert set(lines) == {2, 3, 4, 5}
    assert "NaN" in lines[2] and "Infinity" in lines[3] and "inf" in lines[4]


def test_null_text_tags_and_metadata_keep_the_item(tmp_path: Path) -> None:
    """Issue 12: "text": null (MIND news without abstracts) made the row invalid."""
    row = {"id": "a", "title": "T", "text": None, "tags": [None, "x"], "metadata": {"k": None}}
    read = read_catalog(write(tmp_path / "c.jsonl", json.dumps(row)), detect_language=False)
    assert not read.errors
    assert read.items[0] == Item(id="a", title="T", tags=["x"])
    read = read_catalog(write(tmp_path / "n.jsonl", json.dumps({**row, "tags": None})))
    assert read.items[0].tags == [] and read.items[0].text == ""


def test_a_byte_order_mark_is_not_part_of_the_first_row(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"id": "a", "title": "T", "language": "en"}\n')
    assert [i.id for i in read_catalog(path).items] == ["a"]
    path = tmp_path / "c.csv"
    path.write_bytes(b"\xef\xbb\xbfid,title,language\na,T,en\n")
    assert [i.id for i in read_catalog(path).items] == ["a"]


@settings(max_examples=NULL_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.fixed_dictionaries(
        {
            "id": WORD,
            "title": WORD,
            "text": WORD,
            "language": st.sampled_from(["en", "zh", "ko", "ar"]),
            "region": st.sampled_from(["US", "CN", "KR"]),
            "category": WORD.map(str.lower),
            "tags": st.lists(WORD, min_size=1, max_size=3),
            "metadata": st.fixed_dictionaries({"extra": WORD}),
        }
    ),
    nulls=st.sets(st.sampled_from(OPTIONAL_FIELDS)),
    null_inside=st.booleans(),
)
def test_null_means_absent_in_jsonl_and_csv_alike(
    tmp_path_factory: pytest.TempPathFactory,
    base: dict[str, object],
    nulls: set[str],
    null_inside: bool,
) -> None:
    """Any optional field set to null (JSONL) or left empty (CSV) gives the item that omits it;
    so does a null metadata value or tag."""
    folder = tmp_path_factory.mktemp("nulls")
    omitted = {k: v for k, v in base.items() if k not in nulls}
    nulled = {**omitted, **dict.fromkeys(nulls)}
    if null_inside and "tags" not in nulls:
        nulled["tags"] = [None, *base["tags"]]  # type: ignore[misc]
    if null_inside and "metadata" not in nulls:
        nulled["metadata"] = {**base["metadata"], "gone": None}  # type: ignore[dict-item]
    lines = [json.dumps(omitted, ensure_ascii=False), json.dumps(nulled, ensure_ascii=False)]
    lines[1] = lines[1].replace(f'"id": {json.dumps(base["id"], ensure_ascii=False)}', '"id": "2"')
    jsonl = read_catalog(write(folder / "c.jsonl", "\n".join(lines)), detect_language=False)
    assert not jsonl.errors
    expected = jsonl.items[0]
    assert jsonl.items[1] == expected.model_copy(update={"id": "2"})

    header = ["id", "title", "text", "language", "region", "category", "tags", "extra"]
    cells = {**base, "tags": "|".join(base["tags"]), "extra": base["metadata"]["extra"]}  # type: ignore[index,arg-type]
    for name in nulls:
        cells["extra" if name == "metadata" else name] = ""
    text = ",".join(header) + "\n" + ",".join(str(cells[h]) for h in header) + "\n"
    csv_read = read_catalog(write(folder / "c.csv", text), detect_language=False)
    assert not csv_read.errors
    assert csv_read.items == [expected]


def test_catalog_rows_carry_translations_in_jsonl_and_csv(tmp_path: Path) -> None:
    """One schema for both formats (and the evaluation data): JSONL `translations`, CSV
    title_<lang> and text_<lang> columns."""
    row = {
        "id": "ko-1",
        "title": "부산 돼지국밥 골목",
        "language": "ko",
        "translations": {"zh": {"title": "釜山猪肉汤饭街", "text": "游客很多。"}},
    }
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    csv_path = tmp_path / "c.csv"
    csv_path.write_text(
        "id,title,language,title_zh,text_zh,title_en\n"
        "ko-1,부산 돼지국밥 골목,ko,釜山猪肉汤饭街,游客很多。,Busan pork soup alley\n",
        encoding="utf-8",
    )
    from_jsonl = read_catalog(jsonl).items[0]
    from_csv = read_catalog(csv_path).items[0]
    assert from_jsonl.translations["zh"].title == "釜山猪肉汤饭街"
    assert from_csv.translations["zh"] == from_jsonl.translations["zh"]
    assert from_csv.translations["en"].title == "Busan pork soup alley"
    assert not from_csv.metadata
