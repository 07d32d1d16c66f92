"""Bytes to text for web pages whose declared charset may be wrong.

Order of trust: a byte-order mark; then valid UTF-8 (non-ASCII bytes that decode as UTF-8 are
almost never another encoding, and "declared Latin-1, sent UTF-8" is the commonest mislabel);
then the declared charsets (HTTP header, then `<meta>` / XML declaration) when they decode the
bytes cleanly; then charset_normalizer's detection. Names follow the WHATWG Encoding Standard's
supersets (Latin-1 is read as windows-1252, GB2312/GBK as GB18030, Shift_JIS as cp932).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import charset_normalizer

_META = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([-\w.:]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([-\w.:]+)""", re.I)
_HEADER = re.compile(r"""charset\s*=\s*["']?\s*([-\w.:]+)""", re.I)
_SUPERSETS = {
    "latin-1": "cp1252",
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    declared: str | None
    mislabelled: bool  # a charset was declared and the bytes were not in it


def canonical(name: str | None) -> str | None:
    """The Python codec for a charset label, widened to its WHATWG superset; None if unknown."""
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None
    return _SUPERSETS.get(codec, codec)


def declared_charsets(body: bytes, content_type: str | None) -> list[str]:
    """Charsets the response claims: HTTP header first, then the document's own declaration."""
    found: list[str | None] = []
    if content_type and (match := _HEADER.search(content_type)):
        found.append(canonical(match.group(1)))
    head = body[:4096]
    for pattern in (_XML_DECL, _META):
        if in_doc := pattern.search(head):
            found.append(canonical(in_doc.group(1).decode("ascii", errors="ignore")))
    return list(dict.fromkeys(name for name in found if name))


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _single_byte(encoding: str) -> bool:
    try:
        return len("\u00e9\u4e2d".encode(encoding, errors="replace")) <= 2
    except LookupError:
        return False


def decode(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode a response body as its author meant it, whatever its headers say."""
    declared = declared_charsets(body, content_type)
    first = declared[0] if declared else None
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return Decoded(body.decode(encoding, errors="replace"), encoding, first, False)
    text = _strict(body, "utf-8")
    if text is not None:
        mislabelled = bool(first) and first != "utf-8" and not body.isascii()
        return Decoded(text, "utf-8", first, mislabelled)
    for encoding in declared:
        if encoding == "utf-8":
            continue
        if _single_byte(encoding):
            # Every byte string decodes in a single-byte charset: ask whether it reads well.
            match = charset_normalizer.from_bytes(body, cp_isolation=[encoding]).best()
            text = str(match) if match is not None else None
        else:
            text = _strict(body, encoding)
        if text is not None:
            return Decoded(text, encoding, first, encoding != first)
    best = charset_normalizer.from_bytes(body).best()
    if best is not None:
        encoding = canonical(best.encoding) or best.encoding
        text = _strict(body, encoding) or str(best)
        return Decoded(text, encoding, first, bool(first))
    fallback = first or "cp1252"
    return Decoded(body.decode(fallback, errors="replace"), fallback, first, False)
