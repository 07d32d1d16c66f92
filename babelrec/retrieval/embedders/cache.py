"""An on-disk cache of embeddings keyed by a hash of (embedder, kind, text).

Lives outside the clone (default `~/.cache/babelrec/embeddings`) so a fresh clone, a rerun of
an evaluation or a re-ingest of unchanged items embeds nothing.

The cache only saves time: a file that cannot be opened, is not a database, or fails a read or a
write turns the cache off for this process with one warning naming the file, and the embedder
goes on computing every vector.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from babelrec.sqlite_file import connect_shared

logger = logging.getLogger(__name__)

_SCHEMA = "CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB);"


def text_key(embedder_id: str, kind: str, text: str) -> str:
    # surrogatepass: a lone surrogate (valid in a Python str) still gets its own key
    raw = f"{embedder_id}\x1f{kind}\x1f{text}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw).hexdigest()


class EmbeddingCache:
    """SQLite key-value store of float32 vectors; safe to share between processes."""

    def __init__(self, path: Path, dimension: int, *, timeout: float = 30.0) -> None:
        """`timeout`: seconds to wait for another process's lock before turning the cache off."""
        self.path = path
        self.dimension = dimension
        self._conn: sqlite3.Connection | None = None
        try:
            self._conn = connect_shared(
                path, _SCHEMA, wal=True, timeout=timeout, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            self._turn_off(exc)

    @property
    def usable(self) -> bool:
        return self._conn is not None

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        if self._conn is None:
            return found
        try:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    f"SELECT key, vec FROM vectors WHERE key IN ({marks})", chunk
                ).fetchall()
                for key, blob in rows:
                    vec = np.frombuffer(blob, dtype=np.float32)
                    if vec.shape == (self.dimension,):
                        found[key] = vec
        except sqlite3.Error as exc:
            self._turn_off(exc)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        if self._conn is None:
            return
        rows = [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()]
        try:
            with self._conn:
                self._conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
        except sqlite3.Error as exc:
            self._turn_off(exc)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _turn_off(self, exc: BaseException) -> None:
        logger.warning(
            "embedding cache %s is unusable (%s: %s); embedding without it in this process "
            "(delete the file to start a fresh cache)",
            self.path,
            type(exc).__name__,
            exc,
        )
        self.close()
