"""Writing a file whole or not at all.

A process killed while writing a file in place leaves part of it, and the next run reads that
part: a resumed evaluation, a model, a cache entry. `write_atomic` writes beside the file and
renames over it, so a reader, or the next run after a kill, sees the old file or the new one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def write_atomic(path: Path, data: str | bytes, *, encoding: str = "utf-8") -> None:
    """Write `data` (text in `encoding`, or bytes) to `path`, making its folder; the old file, if
    any, stays whole until the new one is complete."""
    payload = data.encode(encoding) if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("xb") as handle:  # the usual mode (umask applies), never another's file
            handle.write(payload)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
