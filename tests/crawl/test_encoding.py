from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from babelrec.crawl.encoding import canonical, declared_charsets, decode

JA = "今年の桜は例年より早く咲き、多くの人々が公園で花見を楽しみました。" * 4
ZH = "第三十届北京国际图书博览会今天在北京开幕，来自六十多个国家和地区的出版商参加了。" * 4
FR = "Le château domine la mer depuis des siècles, été comme hiver. Où êtes-vous ? " * 3
RU = "Привет, мир! Это тестовая страница на русском языке о метро и городе. " * 3
KO = "서울에서 오늘 큰 축제가 열렸습니다. 많은 시민들이 참여했습니다. " * 3


@pytest.mark.parametrize(
    ("text", "sent_as", "content_type", "meta"),
    [
        (JA, "shift_jis", "text/html; charset=utf-8", "utf-8"),  # header and meta both wrong
        (JA, "shift_jis", "text/html", None),  # nothing declared
        (ZH, "gb18030", "text/html", "gb2312"),  # declared as the GB2312 subset
        (ZH, "gb18030", "text/html; charset=utf-8", None),
        (FR, "utf-8", "text/html; charset=ISO-8859-1", "iso-8859-1"),  # the common mislabel
        (FR, "cp1252", "text/html; charset=utf-8", None),
        (RU, "cp1251", "text/html", "windows-1251"),  # declared right, single byte
        (KO, "euc-kr", "text/html", "euc-kr"),
    ],
)
def test_pages_decode_as_written_whatever_they_declare(
    text: str, sent_as: str, content_type: str, meta: str | None
) -> None:
    html = f'<html><head><meta charset="{meta}"></head><body><p>{text}</p>' if meta else text
    decoded = decode(html.encode(sent_as), content_type)
    assert text in decoded.text


def test_mislabelling_is_reported() -> None:
    assert decode(FR.encode("utf-8"), "text/html; charset=iso-8859-1").mislabelled
    assert not decode(FR.encode("cp1252"), "text/html; charset=windows-1252").mislabelled
    assert not decode(b"plain ascii", "text/html; charset=iso-8859-1").mislabelled


def test_declared_charsets_header_first_then_document_widened_to_supersets() -> None:
    body = b'<?xml version="1.0" encoding="Shift_JIS"?><meta charset="gbk">'
    assert declared_charsets(body, "text/xml; charset=ISO-8859-1") == ["cp1252", "cp932", "gb18030"]
    assert canonical("no-such-charset") is None


def test_a_byte_order_mark_wins() -> None:
    assert decode("\ufeffÉté".encode("utf-16-le"), "text/html; charset=utf-8").text.endswith("Été")


MULTIBYTE = ["utf-8", "shift_jis", "gb18030", "euc-kr", "big5"]


@settings(max_examples=200, deadline=None)
@given(text=st.text(min_size=1, max_size=200), charset=st.sampled_from(MULTIBYTE))
def test_any_text_declared_in_its_multibyte_charset_round_trips(text: str, charset: str) -> None:
    """Bytes sent in the multi-byte charset the header names decode to the text, unless they
    are also valid UTF-8 (then UTF-8 wins, by design)."""
    try:
        body = text.encode(charset)
    except UnicodeEncodeError:
        return
    decoded = decode(body, f"text/html; charset={charset}")
    try:
        as_utf8: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        as_utf8 = None
    # The WHATWG superset may map a few characters differently (Shift_JIS "¢" reads as cp932's
    # fullwidth "￠", as browsers show it).
    expected = body.decode(canonical(charset) or charset)
    assert decoded.text == (as_utf8 if as_utf8 is not None else expected)


@settings(max_examples=100, deadline=None)
@given(text=st.text(min_size=1, max_size=300))
def test_utf8_is_always_read_as_utf8_whatever_is_declared(text: str) -> None:
    for declared in ("iso-8859-1", "shift_jis", "utf-8", "nonsense"):
        assert decode(text.encode("utf-8"), f"text/html; charset={declared}").text == text
