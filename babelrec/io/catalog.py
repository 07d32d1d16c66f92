"""Reading catalogs (JSONL or CSV) into validated `Item`s, with bad rows reported by line.

A row may carry unknown columns only under `metadata`; `tags` and `keywords` in CSV are `|`- or
`,`-separated. Rows without a language get one from `babelrec.i18n.langid`. `null` (JSONL) and
an empty cell (CSV) both mean "absent". A row is accepted only if the store can hold it as it
is: `NaN` and `Infinity`, which Python's json reads, are refused here with their line.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from babelrec.errors import CatalogError
from babelrec.models import Item

ITEM_FIELDS = set(Item.model_fields)
#: CSV columns that carry a translation of the item: title_zh, text_zh (JSONL has `translations`).
_TRANSLATED_COLUMN = re.compile(r"(title|text)_([a-z]{2,3})")


@dataclass(frozen=True)
class RowError:
    """A catalog row that could not be used, and why."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class CatalogRead:
    items: list[Item] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    languages_detected: int = 0


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "row"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def _refuse_constant(name: str) -> Any:
    raise ValueError(
        f"{name} is not a JSON number and cannot be stored; use a finite number or null"
    )


def _rows_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    with path.open(encoding="utf-8-sig") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line, parse_constant=_refuse_constant)
            except json.JSONDecodeError as exc:
                yield line_no, f"not valid JSON ({exc.msg})"
                continue
            except (ValueError, RecursionError) as exc:  # NaN, a 5,000-digit number, deep nesting
                yield line_no, str(exc) or type(exc).__name__
                continue
            yield line_no, row if isinstance(row, dict) else "a row must be a JSON object"


def _csv_row(raw: dict[str | None, Any]) -> dict[str, Any] | str:
    if None in raw:
        return "more values than columns"
    row: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    for key, value in raw.items():
        assert key is not None
        if value is None or value == "":
            continue
        if key in {"tags", "keywords"}:
            sep = "|" if "|" in value else ","
            row[key] = [t.strip() for t in value.split(sep) if t.strip()]
        elif match := _TRANSLATED_COLUMN.fullmatch(key):  # title_zh, text_zh: a translation
            field, language = match.groups()
            row.setdefault("translations", {}).setdefault(language, {})[field] = value
        elif key in ITEM_FIELDS:
            row[key] = value
        else:
            metadata[key] = value
    if metadata:
        row["metadata"] = metadata
    return row


def _rows_csv(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "id" not in reader.fieldnames:
            raise CatalogError(f"{path}: a CSV catalog needs a header row with at least id,title")
        for raw in reader:
            yield reader.line_num, _csv_row(raw)


def item_from_row(row: object) -> Item | str:
    """One catalog row (a parsed JSON object, or a CSV row from `_csv_row`) as an `Item`, or
    what is wrong with it. Every reader of catalog rows (ingest, the eval loader) uses this."""
    if not isinstance(row, dict):
        return "a row must be a JSON object"
    try:
        return Item.model_validate(row)
    except ValidationError as exc:
        return _validation_message(exc)


def read_catalog(path: Path, *, detect_language: bool = True) -> CatalogRead:
    """Read every row of a JSONL/CSV catalog; bad rows go to `errors`, never raise midway."""
    if not path.exists():
        raise CatalogError(f"catalog {path} does not exist")
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson", ".json"}:
        rows = _rows_jsonl(path)
    elif suffix in {".csv"}:
        rows = _rows_csv(path)
    else:
        raise CatalogError(f"{path}: unsupported catalog format {suffix!r}; use .jsonl or .csv")
    result = CatalogRead()
    seen: dict[str, int] = {}
    try:
        for line_no, row in rows:
            item = row if isinstance(row, str) else item_from_row(row)
            if isinstance(item, str):
                result.errors.append(RowError(line_no, item))
                continue
            if item.id in seen:
                result.errors.append(
                    RowError(line_no, f"duplicate id {item.id!r} (first on line {seen[item.id]})")
                )
                continue
            seen[item.id] = line_no
            result.items.append(item)
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path} is not UTF-8 text: {exc}") from exc
    if detect_language:
        result.languages_detected = fill_languages(result.items)
    return result


def fill_languages(items: list[Item]) -> int:
    """Detect the language of items that have none, in place; returns how many were found."""
    missing = [i for i, item in enumerate(items) if item.language is None]
    if not missing:
        return 0
    from babelrec.i18n.langid import detect_languages

    detected = detect_languages([items[i].embedding_text() for i in missing])
    for index, language in zip(missing, detected, strict=True):
        if language is not None:
            items[index] = items[index].model_copy(update={"language": language})
    return sum(1 for lang in detected if lang is not None)


def demo_catalog_path() -> Path:
    """The multilingual demo catalog shipped inside the package."""
    return Path(str(resources.files("babelrec") / "data" / "demo" / "catalog.jsonl"))
