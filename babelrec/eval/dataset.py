"""babelrec's canonical evaluation dataset: a directory of plain files, validated on load.

Format (one directory per dataset; UTF-8 everywhere):

- ``items.jsonl`` (required): one `babelrec.models.Item` per line: ``id``, ``title``, ``text``,
  ``language`` (ISO 639-1), ``region`` (ISO 3166-1 alpha-2 of origin), ``category``, ``tags``,
  ``metadata`` (flat string/number/bool values). Item ids are unique.
- ``interactions.csv`` (required): header ``user_id,item_id,timestamp,rating``, read by
  `babelrec.io.interactions` (the reader ``babelrec train`` uses too). ``timestamp`` is
  ISO 8601 (an offset is recommended; a naive time is read as UTC) or Unix seconds; ``rating`` may
  be empty (implicit feedback) and the column may be left out. A user may interact with an item
  more than once. The file may hold only the header (news datasets keep clicks in impressions).
- ``users.jsonl`` (optional): ``id``, ``language``, ``region``. When present, every user named in
  interactions and impressions must be listed.
- ``impressions.jsonl`` (optional): ``id``, ``user_id``, ``history`` (item ids the user had clicked
  before, oldest first), ``candidates`` (item ids shown, no duplicates), ``labels`` (0/1 per
  candidate, 1 = clicked), ``timestamp`` (optional).
- ``conversion_report.json`` (optional, written by converters): provenance; not part of the hash.

Every referenced item id must be in ``items.jsonl``. Rows are validated by strict pydantic models
(unknown fields are errors). `load_dataset` collects every bad row as a `Problem` (file, line,
message); by default it then raises `DatasetError` listing the first few, and with
``strict=False`` it skips the bad rows and returns them in `Dataset.problems`.

`Dataset.content_hash` is a sha256 over the data files' names and sha256 digests, for reports.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from babelrec.errors import DatasetError
from babelrec.io.catalog import item_from_row
from babelrec.io.interactions import InteractionRow, parse_interactions
from babelrec.models import Item

__all__ = [
    "Dataset",
    "ImpressionRow",
    "InteractionRow",
    "Problem",
    "UserRow",
    "load_dataset",
    "write_dataset",
]

logger = logging.getLogger(__name__)

ITEMS_FILE = "items.jsonl"
INTERACTIONS_FILE = "interactions.csv"
USERS_FILE = "users.jsonl"
IMPRESSIONS_FILE = "impressions.jsonl"
DATA_FILES = (ITEMS_FILE, INTERACTIONS_FILE, USERS_FILE, IMPRESSIONS_FILE)
INTERACTION_COLUMNS = ("user_id", "item_id", "timestamp", "rating")
MAX_LISTED_PROBLEMS = 5


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _code(value: str | None, upper: bool) -> str | None:
    if value is None or not value.strip():
        return None
    return value.strip().upper() if upper else value.strip().lower()


class UserRow(_Row):
    """One line of ``users.jsonl``: a user's locale."""

    id: str = Field(min_length=1)
    language: str | None = Field(default=None, description="ISO 639-1 code.")
    region: str | None = Field(default=None, description="ISO 3166-1 alpha-2 code.")

    @field_validator("language")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return _code(value, upper=False)

    @field_validator("region")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return _code(value, upper=True)


class ImpressionRow(_Row):
    """One line of ``impressions.jsonl``: what a user was shown, and which of it they clicked."""

    id: str = Field(min_length=1)
    user_id: str = Field(min_length=1)
    history: list[str] = Field(default_factory=list)
    candidates: list[str] = Field(min_length=1)
    labels: list[Literal[0, 1]]
    timestamp: datetime | None = None

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return _utc(value)

    @model_validator(mode="after")
    def _consistent(self) -> ImpressionRow:
        if len(self.labels) != len(self.candidates):
            raise ValueError(
                f"{len(self.labels)} labels for {len(self.candidates)} candidates; "
                "give one 0/1 label per candidate"
            )
        if len(set(self.candidates)) != len(self.candidates):
            raise ValueError("candidates contain duplicates")
        return self

    @property
    def positives(self) -> set[str]:
        return {c for c, label in zip(self.candidates, self.labels, strict=True) if label}


@dataclass(frozen=True)
class Problem:
    """A row that failed validation: where it is and what is wrong with it."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class Dataset:
    """A loaded dataset. Items keep file order; `problems` lists rows skipped (strict=False)."""

    path: Path
    items: dict[str, Item]
    interactions: list[InteractionRow]
    users: dict[str, UserRow]
    impressions: list[ImpressionRow]
    file_hashes: dict[str, str]
    content_hash: str
    problems: list[Problem] = field(default_factory=list)

    def user_locale(self, user_id: str) -> tuple[str | None, str | None]:
        """The user's (language, region), or (None, None) when the dataset has no users file."""
        user = self.users.get(user_id)
        return (user.language, user.region) if user else (None, None)


def _errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']}" if where else err["msg"])
    return "; ".join(parts)


def _hash_combined(file_hashes: dict[str, str]) -> str:
    combined = hashlib.sha256()
    for name in sorted(file_hashes):
        combined.update(f"{name}\0{file_hashes[name]}\n".encode())
    return combined.hexdigest()


class _Loader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.file_hashes: dict[str, str] = {}

    def text(self, name: str) -> str | None:
        path = self.root / name
        if not path.is_file():
            return None
        raw = path.read_bytes()
        self.file_hashes[name] = hashlib.sha256(raw).hexdigest()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.problem(name, 0, f"not UTF-8 ({exc})")
            return ""

    def problem(self, name: str, line: int, message: str) -> None:
        self.problems.append(Problem(name, line, message))

    def jsonl(self, name: str, text: str) -> Iterable[tuple[int, object]]:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                self.problem(name, number, f"invalid JSON: {exc.msg}")

    def items(self, text: str) -> dict[str, Item]:
        items: dict[str, Item] = {}
        for number, data in self.jsonl(ITEMS_FILE, text):
            item = item_from_row(data)
            if isinstance(item, str):
                self.problem(ITEMS_FILE, number, item)
                continue
            if item.id in items:
                self.problem(ITEMS_FILE, number, f"duplicate item id {item.id!r}")
                continue
            items[item.id] = item
        return items

    def users(self, text: str) -> dict[str, UserRow]:
        users: dict[str, UserRow] = {}
        for number, data in self.jsonl(USERS_FILE, text):
            try:
                user = UserRow.model_validate(data)
            except ValidationError as exc:
                self.problem(USERS_FILE, number, _errors(exc))
                continue
            if user.id in users:
                self.problem(USERS_FILE, number, f"duplicate user id {user.id!r}")
                continue
            users[user.id] = user
        return users

    def interactions(
        self, text: str, items: dict[str, Item], users: dict[str, UserRow] | None
    ) -> list[InteractionRow]:
        rows: list[InteractionRow] = []
        for number, row in parse_interactions(text, require_timestamp=True):
            if isinstance(row, str):
                self.problem(INTERACTIONS_FILE, number, row)
            elif row.item_id not in items:
                self.problem(INTERACTIONS_FILE, number, f"unknown item id {row.item_id!r}")
            elif users is not None and row.user_id not in users:
                self.problem(INTERACTIONS_FILE, number, f"user {row.user_id!r} not in {USERS_FILE}")
            else:
                rows.append(row)
        return rows

    def impressions(
        self, text: str, items: dict[str, Item], users: dict[str, UserRow] | None
    ) -> list[ImpressionRow]:
        rows: list[ImpressionRow] = []
        seen: set[str] = set()
        for number, data in self.jsonl(IMPRESSIONS_FILE, text):
            try:
                row = ImpressionRow.model_validate(data)
            except ValidationError as exc:
                self.problem(IMPRESSIONS_FILE, number, _errors(exc))
                continue
            unknown = sorted({i for i in [*row.history, *row.candidates] if i not in items})
            if row.id in seen:
                self.problem(IMPRESSIONS_FILE, number, f"duplicate impression id {row.id!r}")
            elif unknown:
                self.problem(IMPRESSIONS_FILE, number, f"unknown item ids {unknown[:5]}")
            elif users is not None and row.user_id not in users:
                self.problem(IMPRESSIONS_FILE, number, f"user {row.user_id!r} not in {USERS_FILE}")
            else:
                seen.add(row.id)
                rows.append(row)
        return rows


def load_dataset(path: str | Path, *, strict: bool = True) -> Dataset:
    """Read and validate a dataset directory.

    With ``strict`` (the default) any bad row raises `DatasetError` naming the first few by file
    and line; otherwise bad rows are skipped and listed in `Dataset.problems`.
    """
    root = Path(path)
    if not root.is_dir():
        raise DatasetError(f"Dataset directory not found: {root}")
    loader = _Loader(root)
    items_text = loader.text(ITEMS_FILE)
    interactions_text = loader.text(INTERACTIONS_FILE)
    for name, text in ((ITEMS_FILE, items_text), (INTERACTIONS_FILE, interactions_text)):
        if text is None:
            raise DatasetError(f"{root / name} is missing; every dataset needs {name}")
    users_text = loader.text(USERS_FILE)
    impressions_text = loader.text(IMPRESSIONS_FILE)

    items = loader.items(items_text or "")
    users = loader.users(users_text) if users_text is not None else None
    interactions = loader.interactions(interactions_text or "", items, users)
    impressions = loader.impressions(impressions_text, items, users) if impressions_text else []

    if strict and loader.problems:
        listed = "\n".join(f"  {p}" for p in loader.problems[:MAX_LISTED_PROBLEMS])
        more = len(loader.problems) - MAX_LISTED_PROBLEMS
        tail = f"\n  ... and {more} more" if more > 0 else ""
        raise DatasetError(
            f"{len(loader.problems)} bad rows in dataset {root}:\n{listed}{tail}\n"
            "Fix the rows, or load with strict=False to skip them."
        )
    if loader.problems:
        logger.warning("Skipped %d bad rows in %s", len(loader.problems), root)
    return Dataset(
        path=root,
        items=items,
        interactions=interactions,
        users=users or {},
        impressions=impressions,
        file_hashes=dict(loader.file_hashes),
        content_hash=_hash_combined(loader.file_hashes),
        problems=loader.problems,
    )


def _format_rating(rating: float | None) -> str:
    if rating is None:
        return ""
    return str(int(rating)) if rating.is_integer() else repr(rating)


def write_dataset(
    out_dir: str | Path,
    *,
    items: Iterable[Item],
    interactions: Iterable[InteractionRow],
    users: Iterable[UserRow] | None = None,
    impressions: Iterable[ImpressionRow] | None = None,
) -> str:
    """Write a dataset directory in the canonical format and return its content hash.

    Optional files not given are removed, so a rewritten directory never mixes two conversions.
    """
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    file_hashes: dict[str, str] = {}

    def write(name: str, text: str) -> None:
        data = text.encode("utf-8")
        (root / name).write_bytes(data)
        file_hashes[name] = hashlib.sha256(data).hexdigest()

    def jsonl(rows: Iterable[BaseModel]) -> str:
        return "".join(row.model_dump_json() + "\n" for row in rows)

    write(ITEMS_FILE, jsonl(items))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # csv quotes only the line terminator's own characters: a bare "\r" in an id would end the
    # row when read back, so such rows are quoted in full (other rows keep their bytes and hashes)
    quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(INTERACTION_COLUMNS)
    for row in interactions:
        if row.timestamp is None:
            raise DatasetError(
                f"interaction {row.user_id!r} -> {row.item_id!r} has no timestamp; "
                f"every row of {INTERACTIONS_FILE} needs one"
            )
        timestamp = row.timestamp.isoformat()
        values = [row.user_id, row.item_id, timestamp, _format_rating(row.rating)]
        (quoted if "\r" in row.user_id + row.item_id else writer).writerow(values)
    write(INTERACTIONS_FILE, buffer.getvalue())
    for name, rows in ((USERS_FILE, users), (IMPRESSIONS_FILE, impressions)):
        if rows is None:
            (root / name).unlink(missing_ok=True)
        else:
            write(name, jsonl(rows))
    return _hash_combined(file_hashes)
