"""Reading interaction logs (who touched which item, when, how much they liked it).

One CSV format serves `babelrec train` and the evaluation datasets: a header naming the columns
``user_id``, ``item_id`` (required), ``timestamp`` and ``rating`` (optional, any order). A
timestamp is Unix seconds or ISO 8601 (a naive time is UTC); when the column is present every row
needs one. A rating may be empty (implicit feedback). Bad rows are reported by line.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from babelrec.errors import CatalogError

REQUIRED_COLUMNS = ("user_id", "item_id")
OPTIONAL_COLUMNS = ("timestamp", "rating")
MAX_LISTED_ERRORS = 5
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def parse_timestamp(value: object) -> datetime:
    """Unix seconds (number or numeric text) or ISO 8601 text as an aware UTC-or-offset time."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = _from_seconds(float(value))
    elif isinstance(value, str):
        text = value.strip()
        if _NUMBER.fullmatch(text):
            moment = _from_seconds(float(text))
        else:
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(
                    f"{value!r} is neither ISO 8601 (2020-01-31T12:00:00Z) nor Unix seconds"
                ) from None
    else:
        raise ValueError(f"{value!r} is not a time; give ISO 8601 or Unix seconds")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _from_seconds(seconds: float) -> datetime:
    if not math.isfinite(seconds):
        raise ValueError("Unix seconds must be a finite number")
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{seconds} Unix seconds is out of range") from None


class InteractionRow(BaseModel):
    """One interaction: a user rated, clicked or watched an item, at a time when known."""

    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1)
    item_id: str = Field(min_length=1, max_length=256)
    timestamp: datetime | None = Field(
        default=None, description="When (aware); None when the log has no times (file order)."
    )
    rating: float | None = Field(default=None, description="Explicit rating; None = implicit.")

    @field_validator("user_id", "item_id")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()  # as `Item.id`, so the ids of both files compare equal
        if not value:
            raise ValueError("must not be blank")
        return value

    @field_validator("timestamp", mode="before")
    @classmethod
    def _time(cls, value: object) -> datetime | None:
        return None if value is None else parse_timestamp(value)

    @field_validator("rating")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


def _message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']}" if where else err["msg"])
    return "; ".join(parts)


def _header_problem(header: list[str], require_timestamp: bool) -> str | None:
    required = [*REQUIRED_COLUMNS, *(["timestamp"] if require_timestamp else [])]
    allowed = {*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS}
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in allowed]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if not (missing or unknown or duplicated):
        return None
    wanted = ",".join(required) + "".join(f"[,{c}]" for c in OPTIONAL_COLUMNS if c not in required)
    details = [
        *([f"missing {', '.join(missing)}"] if missing else []),
        *([f"unknown {', '.join(unknown)}"] if unknown else []),
        *([f"repeated {', '.join(duplicated)}"] if duplicated else []),
    ]
    return f"header {','.join(header)!r} ({'; '.join(details)}); expected {wanted}"


def parse_interactions(
    text: str, *, require_timestamp: bool = False
) -> Iterator[tuple[int, InteractionRow | str]]:
    """Each data row of an interactions CSV as (line, row) or (line, what is wrong with it).

    A bad header is one (1, message) and nothing after it; blank lines are skipped.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = next(reader, None)
    if header is None:
        yield 1, "empty file; expected a header row such as user_id,item_id,timestamp,rating"
        return
    header = [h.strip() for h in header]
    problem = _header_problem(header, require_timestamp)
    if problem is not None:
        yield 1, problem
        return
    for values in reader:
        line = reader.line_num
        if not values or (len(values) == 1 and not values[0].strip()):
            continue
        if len(values) != len(header):
            yield line, f"{len(values)} fields, expected {len(header)} ({','.join(header)})"
            continue
        data = dict(zip(header, values, strict=True))
        if data.get("rating", "").strip() == "":
            data.pop("rating", None)
        if "timestamp" in data and not data["timestamp"].strip():
            yield line, "timestamp: empty; give ISO 8601 or Unix seconds"
            continue
        try:
            yield line, InteractionRow.model_validate(data)
        except ValidationError as exc:
            yield line, _message(exc)


def read_interactions(path: Path, *, require_timestamp: bool = False) -> list[InteractionRow]:
    """Every row of an interactions CSV, or a `CatalogError` naming the file and the bad lines."""
    if not path.is_file():
        raise CatalogError(f"interactions file {path} does not exist")
    try:
        text = path.read_bytes().decode("utf-8")  # no newline translation: "\r" in a quoted id
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path} is not UTF-8 text: {exc}") from exc
    rows: list[InteractionRow] = []
    errors: list[str] = []
    for line, row in parse_interactions(text, require_timestamp=require_timestamp):
        if isinstance(row, str):
            errors.append(f"line {line}: {row}")
        else:
            rows.append(row)
    if errors:
        listed = "; ".join(errors[:MAX_LISTED_ERRORS])
        more = len(errors) - MAX_LISTED_ERRORS
        tail = f"; ... and {more} more" if more > 0 else ""
        raise CatalogError(f"interactions file {path}: {len(errors)} bad rows: {listed}{tail}")
    return rows
