"""Content digests of files: what a derived artefact's identity is made from."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

_CHUNK = 1 << 22


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@lru_cache(maxsize=4096)
def cached_file_sha256(path: Path, size: int, mtime_ns: int) -> str:
    """`file_sha256`, computed once per (path, size, mtime) in this process."""
    return file_sha256(path)
