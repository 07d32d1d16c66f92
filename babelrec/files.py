"""Writing a file whole or not at all.

A process killed while writing a file in place leaves part of it, and the next run reads that
part: a resumed evaluation, a model, a cache entry. `write_atomic` writes beside the file and
renames over it, so a reader, or the next run after a kill, sees the old file or the new one.
The temporary a killed writer left behind is removed by the next write of the same file, once
its process is gone and it is an hour old (a writer on another host sharing the folder has a pid
this host does not know, so age alone guards its temporary); `remove_stale_scratch` does the same
for the scratch folders of writers that build a folder of files.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import time
from pathlib import Path

STALE_AFTER_S = 3600.0


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
    remove_stale_temporaries(path)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, owned by another user
        return True
    return True


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporaries of `path` that killed writers left (their process gone, an hour
    old); returns those removed."""
    removed = []
    cutoff = time.time() - STALE_AFTER_S
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 2 :].split(".")[0]
        with contextlib.suppress(OSError):
            if pid.isdigit() and tmp.stat().st_mtime < cutoff and not _process_exists(int(pid)):
                tmp.unlink()
                removed.append(tmp)
    return removed


def remove_stale_scratch(parent: Path, prefix: str) -> list[Path]:
    """Remove the folders `parent/<prefix>*` that nothing has written to for an hour (a killed
    writer's scratch); returns those removed."""
    removed = []
    cutoff = time.time() - STALE_AFTER_S
    for folder in parent.glob(f"{prefix}*"):
        with contextlib.suppress(OSError):
            entries = [folder, *folder.rglob("*")]
            if folder.is_dir() and max(e.stat().st_mtime for e in entries) < cutoff:
                shutil.rmtree(folder)
                removed.append(folder)
    return removed
