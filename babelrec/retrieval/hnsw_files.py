"""Zeroing the slots of an embedded Chroma store's HNSW files that hold no index data.

When Chroma creates an HNSW index it writes the index's whole first capacity (100 elements) to
`length.bin` and `data_level0.bin` from buffers it never zeroed (chroma-core/chroma#7688). Every
slot past the live elements is whatever the process had freed there before: an API key from an
LLM request, another user's chat message, up to 170 KB of it for 384-d vectors. A store below
Chroma's sync threshold (1,000 writes) never rewrites those files, so they stay on disk.

Chroma never reads a slot past the element count in the file's header, and writes a slot itself
(header first, then the slot) when an element takes it. So after each write to an embedded store
`scrub_unused_slots` zeroes those slots. The caller holds `store_lock` for the store around its
writes and the scrub, so no write of this process persists a slot while it is zeroed. A Chroma
server's files are the server process's own memory, never this one's, and are left alone.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

# The start of chroma-core/hnswlib's `persistHeader`: the version (int32), then size_t fields
# offsetLevel0, max_elements, cur_element_count, size_data_per_element.
_HEADER = struct.Struct("<iQQQQ")
_KNOWN_VERSION = 1
_LENGTH_SLOT = 4  # one float32 vector norm per element
_READ_CHUNK = 1 << 20

_locks: dict[Path, threading.RLock] = {}
_locks_guard = threading.Lock()
_clean: dict[Path, tuple[bytes, int, int, int, int]] = {}
_warned: set[Path] = set()


def store_lock(store_dir: Path) -> threading.RLock:
    """The lock this process's writes to the embedded store at `store_dir` hold."""
    key = store_dir.resolve()
    with _locks_guard:
        return _locks.setdefault(key, threading.RLock())


@dataclass(frozen=True)
class _Segment:
    folder: Path
    header: bytes
    count: int
    element_size: int


def _read_segment(header_file: Path) -> _Segment | None:
    """The segment's live element count and element size, or None (with one warning) when the
    header is not the format this module knows: a newer Chroma's files are left untouched."""
    header = header_file.read_bytes()
    if not header:
        return None  # another process creating the segment: its files hold nothing yet
    if len(header) >= _HEADER.size:
        version, _, capacity, count, element_size = _HEADER.unpack_from(header)
        if version == _KNOWN_VERSION and count <= capacity and element_size > 0:
            return _Segment(header_file.parent, header, count, element_size)
    if header_file not in _warned:
        _warned.add(header_file)
        logger.warning(
            "cannot read the HNSW header %s (a newer Chroma's format?); its unused slots are not "
            "zeroed and may hold fragments of this process's memory",
            header_file,
        )
    return None


def _zero_tail(path: Path, start: int) -> int:
    """Zero `path` from byte `start` to its end where it is not zero already; bytes zeroed."""
    zeroed = 0
    with path.open("r+b") as file:
        file.seek(start)
        offset = start
        while chunk := file.read(_READ_CHUNK):
            if chunk.count(0) != len(chunk):
                file.seek(offset)
                file.write(bytes(len(chunk)))
                zeroed += len(chunk)
            offset += len(chunk)
        if zeroed:
            file.flush()
            os.fsync(file.fileno())
    return zeroed


def _fingerprint(segment: _Segment) -> tuple[bytes, int, int, int, int]:
    files = [segment.folder / name for name in ("length.bin", "data_level0.bin")]
    stats = [f.stat() for f in files]
    return (
        segment.header,
        stats[0].st_size,
        stats[0].st_mtime_ns,
        stats[1].st_size,
        stats[1].st_mtime_ns,
    )


def scrub_unused_slots(store_dir: Path) -> int:
    """Zero the slots past the live elements in every HNSW segment of the embedded store at
    `store_dir`; returns the bytes zeroed. A segment unchanged since its last scrub is skipped."""
    zeroed = 0
    for header_file in sorted(store_dir.glob("*/header.bin")):
        try:
            segment = _read_segment(header_file)
            if segment is None or _clean.get(segment.folder) == _fingerprint(segment):
                continue
            zeroed += _zero_tail(segment.folder / "length.bin", segment.count * _LENGTH_SLOT)
            zeroed += _zero_tail(
                segment.folder / "data_level0.bin", segment.count * segment.element_size
            )
            _clean[segment.folder] = _fingerprint(segment)
        except FileNotFoundError:
            continue  # a segment being created or dropped: the next write scrubs it
        except OSError as exc:
            logger.warning(
                "cannot zero the unused slots of the HNSW segment %s (%s); they may hold "
                "fragments of this process's memory",
                header_file.parent,
                exc,
            )
    return zeroed
