"""Opening a SQLite file that several processes or threads share.

`sqlite3.connect(timeout=...)` makes a statement wait for a lock, but SQLite does not call its
busy handler when `PRAGMA journal_mode=WAL` finds another connection switching the same new
file: that statement fails at once with "database is locked". Two processes starting on a fresh
cache directory hit it (two `babelrec ingest` into one server did). `connect_shared` retries the
set-up for as long as the timeout, so every opener gets a working connection.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

#: SQLite's primary result codes for a lock held elsewhere.
_LOCK_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _is_lock_error(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _LOCK_CODES


def connect_shared(
    path: Path,
    schema: str,
    *,
    wal: bool = False,
    timeout: float = 30.0,
    check_same_thread: bool = True,
) -> sqlite3.Connection:
    """A connection to `path` (its folder made) with `schema` (idempotent SQL) applied.

    `wal` switches the file to write-ahead logging, so readers never wait for a writer. Raises
    `OSError` or `sqlite3.Error` when the file cannot be opened, is not a database, or stays
    locked for `timeout` seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=timeout, check_same_thread=check_same_thread)
    deadline = time.monotonic() + timeout
    pause = 0.005
    try:
        while True:
            try:
                if wal:
                    conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(schema)
                return conn
            except sqlite3.OperationalError as exc:
                if not _is_lock_error(exc) or time.monotonic() + pause > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 0.1)
    except BaseException:
        conn.close()
        raise
