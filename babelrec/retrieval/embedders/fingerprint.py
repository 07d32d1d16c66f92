"""A model's identity is its content: a hash of every file of a model folder.

Two different models in folders of the same name (`run1/model`, `run2/model`), or a model
re-trained in place, get different fingerprints, so their vectors never share a store or an
embedding-cache entry. Hashing a few hundred MB takes a second or two, so each file's digest is
kept in a small SQLite table keyed by its absolute path, size and modification time: a model is
hashed once, and again only when one of its files changes.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from pathlib import Path

from babelrec.digest import file_sha256 as file_digest
from babelrec.sqlite_file import connect_shared

logger = logging.getLogger(__name__)

#: Characters of the hex digest that go into an embedder's identity.
SHORT = 12


def _model_files(folder: Path) -> list[Path]:
    """The regular files under `folder`, skipping hidden ones (`.git`, `.cache`, locks)."""
    files = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_file():
            files.append(path)
    return sorted(files, key=lambda p: p.relative_to(folder).as_posix())


class _DigestCache:
    """sha256 of files by (absolute path, size, mtime); safe to share between processes."""

    def __init__(self, path: Path) -> None:
        self._conn = connect_shared(
            path,
            "CREATE TABLE IF NOT EXISTS digests (path TEXT PRIMARY KEY, size INTEGER, "
            "mtime_ns INTEGER, digest TEXT);",
        )

    def digest(self, path: Path) -> str:
        stat = path.stat()
        key = str(path.resolve())
        row = self._conn.execute(
            "SELECT digest FROM digests WHERE path = ? AND size = ? AND mtime_ns = ?",
            (key, stat.st_size, stat.st_mtime_ns),
        ).fetchone()
        if row is not None:
            return str(row[0])
        value = file_digest(path)
        with self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO digests VALUES (?, ?, ?, ?)",
                (key, stat.st_size, stat.st_mtime_ns, value),
            )
        return value

    def close(self) -> None:
        self._conn.close()


def fingerprint(folder: Path, *, cache: Path | None = None) -> str:
    """The sha256 (hex) of a model folder: every file's relative path and content digest.

    `cache` is the SQLite file that remembers digests by path, size and mtime (None: hash
    everything every time)."""
    folder = Path(folder)
    digests: _DigestCache | None = None
    if cache is not None:
        try:
            digests = _DigestCache(cache)
        except (OSError, sqlite3.Error) as exc:  # a read-only home still gets an identity
            logger.warning("fingerprint cache %s unusable (%s); hashing without it", cache, exc)
    try:
        total = hashlib.sha256()
        for path in _model_files(folder):
            value = digests.digest(path) if digests is not None else file_digest(path)
            total.update(f"{path.relative_to(folder).as_posix()}\0{value}\n".encode())
        return total.hexdigest()
    finally:
        if digests is not None:
            digests.close()
