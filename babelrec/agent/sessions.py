"""Conversation state kept in SQLite, so a restarted process continues a session.

One row per session holds the state as JSON; a second table logs the turns (the tool-calling
path replays recent turns to the model). Each call opens its own connection: the CLI and a
library user may hold the same file, and SQLite's locking is what keeps them consistent.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from babelrec.agent.state import ConversationState
from babelrec.errors import BabelrecError
from babelrec.sqlite_file import connect_shared

SESSIONS_FILE = "sessions.sqlite"
_TIMEOUT = 10.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL,
    text TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (session_id, seq)
);
"""


class SessionStore:
    """Sessions by id in one SQLite file (`DATA_DIR/sessions.sqlite` by default)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            connect_shared(path, _SCHEMA, timeout=_TIMEOUT).close()
        except (OSError, sqlite3.Error) as exc:
            raise BabelrecError(
                f"cannot open the session store {path}: {exc}; check --data-dir is writable"
            ) from exc

    @classmethod
    def in_dir(cls, data_dir: Path) -> SessionStore:
        return cls(data_dir / SESSIONS_FILE)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=_TIMEOUT)
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def load(self, session_id: str) -> ConversationState | None:
        with self._connect() as conn:
            row = conn.execute("SELECT state FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return ConversationState.model_validate_json(row[0]) if row else None

    def save(self, session_id: str, state: ConversationState) -> None:
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO sessions (id, state, updated) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET state = excluded.state, updated = excluded.updated",
                (session_id, state.model_dump_json(), time.time()),
            )

    def log(self, session_id: str, role: Literal["user", "assistant"], text: str) -> None:
        with self._connect() as conn:
            (seq,) = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM turns WHERE session_id = ?", (session_id,)
            ).fetchone()
            conn.execute(
                "INSERT INTO turns (session_id, seq, role, text, at) VALUES (?, ?, ?, ?, ?)",
                (session_id, seq, role, text, time.time()),
            )

    def turns(self, session_id: str, last: int = 20) -> list[tuple[str, str]]:
        """The last `last` (role, text) turns of a session, oldest first."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT role, text FROM turns WHERE session_id = ? ORDER BY seq DESC LIMIT ?",
                (session_id, last),
            ).fetchall()
        return [(str(role), str(text)) for role, text in reversed(rows)]

    def delete(self, session_id: str) -> None:
        with self._connect() as conn:
            conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            conn.execute("DELETE FROM turns WHERE session_id = ?", (session_id,))

    def ids(self) -> list[str]:
        with self._connect() as conn:
            rows = conn.execute("SELECT id FROM sessions ORDER BY updated DESC").fetchall()
        return [str(r[0]) for r in rows]
